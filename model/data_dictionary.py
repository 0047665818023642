"""What every output file holds: the README.md data dictionary written into each output folder.

``COLUMNS`` describes each column of each table a run writes, with its unit;
``UNIT_NAMES`` gives the name a column is written under, so a column's name
carries its unit (``_yuan``, ``_count``) wherever the name alone would not say it.
``run_readme`` documents a run folder, ``comparison_readme`` a comparison or
report folder (which holds one run folder per design under ``runs/``).
"""

from __future__ import annotations

import pandas as pd

#: In-memory column name → the name written to the output files (units in the name).
UNIT_NAMES = {
    "retail_sales_baseline": "retail_sales_baseline_yuan",
    "retail_sales_policy": "retail_sales_policy_yuan",
    "retail_sales_uplift": "retail_sales_uplift_yuan",
    "issued": "vouchers_issued_count", "redeemed": "vouchers_redeemed_count", "expired": "vouchers_expired_count",
    "outstanding": "vouchers_outstanding_count",
    "night_merchants_open_policy": "night_merchants_open_policy_count",
    "night_merchants_open_baseline": "night_merchants_open_baseline_count",
    "cars_sold_policy": "cars_sold_policy_count", "cars_sold_baseline": "cars_sold_baseline_count",
    "appliances_sold_policy": "appliances_sold_policy_count", "appliances_sold_baseline": "appliances_sold_baseline_count",
    "lodging_policy": "lodging_policy_yuan", "lodging_baseline": "lodging_baseline_yuan",
    "tickets_policy": "tickets_policy_yuan", "tickets_baseline": "tickets_baseline_yuan",
    "households": "households_count",
}

WEIGHTS = ("Counts and amounts are for the whole city: each simulated household stands for 1/scale households "
           "(scale in manifest.json), so counts can be fractional.")

#: file → (what it is, {column as written: meaning and unit})
COLUMNS: dict[str, tuple[str, dict[str, str]]] = {
    "daily_retail.parquet": (
        "社零 (retail sales of consumer goods, goods retail plus catering, as the statistics bureau counts it) by day, "
        "with and without the policy, in eight breakdowns. For each date and replication, the rows of ONE dimension "
        "sum to the row of dimension `total`; summing the whole file counts 社零 eight times. Filter on `dimension` "
        "first (e.g. `dimension == \"total\"` for the city, `\"sector\"` for sectors).",
        {"date": "day (calendar date)",
         "replication": "replication number, 0-based; replication r uses seed (root seed, r)",
         "dimension": "the breakdown: total, sector, channel (in_shop/online), size_class (above_quota/below_quota "
                      "merchants), location (district/urban or rural), district, urban_rural, income_quintile",
         "category": "the group within the dimension. In location, district, urban_rural and income_quintile, "
                     "'visitors' is spending by visitors to the city and 'institutions' purchases by government and "
                     "firms (cars), so that every dimension sums to the total",
         "retail_sales_baseline_yuan": "社零 without any policy (the counterfactual on the same households and random numbers), yuan",
         "retail_sales_policy_yuan": "社零 with the policy, yuan",
         "retail_sales_uplift_yuan": "policy minus baseline, yuan"}),
    "daily_outlay.parquet": (
        "Government outlay by day, tool and funding level. Summing all rows of a replication gives that "
        "replication's government_outlay in summary.json.",
        {"date": "day", "replication": "replication number", "tool": "the tool's name in the scenario ([tools.NAME])",
         "level": "funding level: central, province, city or county", "outlay_yuan": "paid that day, yuan"}),
    "daily_vouchers.parquet": (
        "Voucher flows by day and voucher tool. " + WEIGHTS,
        {"date": "day", "replication": "replication number", "tool": "voucher tool",
         "vouchers_issued_count": "vouchers issued that day, count",
         "vouchers_redeemed_count": "vouchers redeemed that day, count",
         "vouchers_expired_count": "vouchers that expired unused that day, count",
         "vouchers_outstanding_count": "vouchers held and not yet used or expired at the end of the day, count",
         "gross_spending_yuan": "whole tickets of transactions that used a voucher, yuan",
         "induced_spending_yuan": "the part of those tickets above what the household planned to spend anyway, yuan"}),
    "daily_activity.parquet": (
        "Other daily activity, with and without the policy. " + WEIGHTS,
        {"date": "day", "replication": "replication number",
         "night_merchants_open_policy_count": "merchants open late that night, with the policy",
         "night_merchants_open_baseline_count": "the same without any policy",
         "cars_sold_policy_count": "cars sold that day, with the policy", "cars_sold_baseline_count": "without",
         "appliances_sold_policy_count": "appliances sold, with the policy", "appliances_sold_baseline_count": "without",
         "lodging_policy_yuan": "lodging revenue (not in 社零), with the policy, yuan", "lodging_baseline_yuan": "without, yuan",
         "tickets_policy_yuan": "ticket revenue (not in 社零), with the policy, yuan", "tickets_baseline_yuan": "without, yuan",
         "merchant_cofunding_yuan": "discounts merchants funded themselves (企业让利), yuan"}),
    "household_distribution.parquet": (
        "Who gains, by household group (policy run): one row per replication, dimension and group. The groups of "
        "one dimension cover all households once. A household's gain is what it received: vouchers redeemed "
        "(face value with the merchant's part), purchase subsidies with their merchant discounts, and night-market "
        "discounts spread over each area's households by their everyday spending.",
        {"replication": "replication number",
         "dimension": "income_decile (D1 poorest to D10), income_quintile (Q1 to Q5), urban_rural",
         "group": "the group", "households_count": "households represented (weighted)",
         "household_share": "share of all households (fraction)",
         "gain_per_household_yuan": "average gain per household over the horizon, yuan",
         "gain_share_of_income": "the group's gains ÷ its disposable income over the horizon (fraction)",
         "share_better_off": "share of the group's households that received a voucher, subsidy or discount of their own",
         "income_per_household_yuan": "average household disposable income over the horizon, yuan",
         "gain_share": "the group's share of all households' gains (fraction)"}),
    "summary.json": (
        "Headline figures (money in yuan, shares as fractions). With several replications each number is "
        "{mean, p05, p95}: the mean and the 5th and 95th percentiles over replications, which differ only in "
        "their random numbers; a yes/no figure becomes {probability}: the share of replications where it holds. "
        "`figures` in the file defines each uplift and leverage figure; the indicators below are in scenarios/FORMAT.md.",
        {"tools.*.pacing": "for tools whose budget is released in tranches or capped per merchant: paid_by_tranche "
                           "(yuan, by release date), lapsed (yuan left in tranches closed without carry-over), "
                           "merchants_at_cap and merchants_paid (counts of merchants, simulated ones)",
         "above_quota_units": "限额以上 merchants: at_base (count of merchants at or above the threshold in the base "
                              "year) and new_units by horizon year (count entering, policy and baseline)",
         "districts": "by district: retail_sales_baseline, retail_sales_policy, retail_sales_uplift (yuan, bought by "
                      "its households) and uplift_share (fraction of its baseline)",
         "county_ranking": "rank by uplift_share (1 = largest), rewarded (yes/no; across replications a "
                           "probability), reward_outlay (yuan, not in government_outlay)",
         "stores_open_24h": "convenience_stores (count of merchants) and the share of them open 24 hours (fraction) "
                            "on the last night (share_at_end) and on average (share_mean), policy and baseline",
         "seller_online_retail": "网络零售额 as the statistics count it: online sales by the city's own sellers to buyers "
                                 "anywhere over the horizon (policy, baseline, uplift, yuan) and local_seller_share, "
                                 "the share of residents' online purchases bought from them (fraction); only for cities "
                                 "with [city.online_sellers]"}),
    "replications.json": ("The same figures for each replication, as a list; every mean in summary.json is "
                          "computed from it.", {}),
    "manifest.json": ("How to reproduce the run: the scenario as run, seeds, scale, households simulated, "
                      "package versions, git commit, command.", {}),
}


def unit_names(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its columns named as written to files (units in the names)."""
    return frame.rename(columns={k: v for k, v in UNIT_NAMES.items() if k in frame.columns})


def _file_section(name: str) -> list[str]:
    what, cols = COLUMNS[name]
    out = [f"## {name}", "", what, ""]
    if cols:
        out += ["| column | meaning and unit |", "|---|---|"]
        out += [f"| `{c}` | {m} |" for c, m in cols.items()]
        out.append("")
    return out


def run_readme(files: list[str]) -> str:
    """README.md for a run folder holding ``files``."""
    out = ["# What this folder holds", "",
           "One scenario run against its no-policy counterfactual (same households, same random numbers). "
           "Money is in yuan, shares are fractions. " + WEIGHTS, ""]
    for name in COLUMNS:
        if name in files:
            out += _file_section(name)
    return "\n".join(out) + "\n"


def comparison_readme(designs, charts: list[str], report: bool) -> str:
    """README.md for a comparison or report folder."""
    from model.reporting.report import COLUMN_SOURCES

    out = ["# What this folder holds", "",
           "A comparison of policy designs for one city, every design run on the same seeds.", ""]
    if report:
        out += ["- `report.pdf`: the report (A4), typeset by Typst from `report.typ`; `report.html`: the same as one "
                "self-contained web page.",
                "- `sources.csv`: the source or assumption of every input number (columns: designs, field, kind "
                "[source/assumption], text).", ""]
    out += ["- `comparison.csv`: one row per design; money in yuan, shares as fractions (columns below). "
            "`comparison.md`: the same table for reading, money in 万元, with the definition of every column.",
            "- `budgets.csv`: one row per design and tool: `budget_yuan`, `outlay_yuan` (mean over replications), "
            "`replications_ran_out` of `replications`, and the earliest, median and latest date the pool ran out "
            "(blank when it lasted).",
            "- `charts/<chart>.png|svg|pdf`: the charts; `charts/<chart>.csv`: the data each draws "
            "(`series`, `x`, `y`, in the units on the chart's axes)." if charts else "",
            "- `runs/<design>/`: each design's run; its own README.md describes every file and column.", "",
            "## comparison.csv columns", "", "| column | computed from (per-replication summary) |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in COLUMN_SOURCES.items()]
    if designs:
        out += ["", "## Designs", ""] + [f"- `{d.label}`: {d.title('en')} ({d.file or d.scenario.origin}"
                                          f"{'#' + d.variant if d.variant else ''})" for d in designs]
    return "\n".join(line for line in out) + "\n"
