"""Comparing policy designs for one city: the table a budget proposal needs.

``run_designs`` runs each design (a scenario file, or a named variant inside
one) with replications against its own no-policy counterfactual, every design
on the same seeds (so the same households and random numbers: differences
between designs are the designs'), and ``comparison_table`` puts one row per
design. ``COLUMN_NOTES`` (English) and ``COLUMN_NOTES_ZH`` define every column
precisely; tables and reports print them. In short:

* outlay by funding level and in total, the budget, merchant co-funding (yuan, mean over replications);
* extra 社零 (mean and 90% interval) and the growth it adds (percentage points);
* net and gross leverage;
* probability that the target is met, with and without the policy (share of replications);
* cost per extra 0.1 percentage point of 社零 growth: outlay / (100 x uplift / baseline / 0.1);
* share of household benefit (voucher value and subsidies received) going to the
  poorest 40% of households and to rural households;
* pulled forward and paid back within the horizon: (highest cumulative extra
  sales - cumulative extra sales at the end) / highest, on the mean path over
  replications and outside cars and appliances (whose sales come in lumps), so 0
  means no payback and 1 means every extra yuan was given back;
* the date each tool's budget ran out (median, range, in how many replications).

Designs for different cities cannot be compared; a design without the target
the table is judged by is refused before anything runs (``--no-target`` drops
the column, ``--target NAME`` picks the target).
"""

from __future__ import annotations

import datetime as dt
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.commands import CommandError
from model.outputs import describe_commit
from model.runner import RunResult, run_scenario
from model.scenario import Scenario, display_title, load_scenario, variant_names
from model.sectors import FUNDING_LEVELS

#: Percentage points of 社零 growth the cost column prices.
COST_STEP_PP = 0.1
#: Money columns are shown in 万元 (10,000 yuan), the unit of budget documents.
YUAN_PER_DISPLAY_UNIT = 1e4

#: Column notes in English, printed under the table and in the report ("outlay_*" covers each funding level).
COLUMN_NOTES = {
    "design": "the design: the file name for a file's own design, the variant name for a [variants.NAME] table",
    "budget_total": "sum of the budgets of the design's tools, yuan (what the plan sets aside, not what is spent)",
    "outlay_*": "government outlay by funding level, yuan: what each level actually paid over the horizon "
                "(vouchers redeemed, subsidies, rewards), by each tool's funding shares; mean over replications",
    "outlay_total": "government outlay of all levels, yuan; mean over replications",
    "merchant_cofunding": "discounts merchants funded themselves (企业让利), yuan; not government outlay; mean",
    "extra_retail_sales": "extra 社零 caused by the policy: 社零 with the policy minus 社零 of the no-policy run on "
                          "the same households and random numbers, over the whole horizon, yuan; mean over replications, "
                          "and p05-p95 is the 90% interval over replications",
    "extra_growth_pp": "extra 社零 ÷ no-policy 社零 over the horizon × 100: percentage points of growth the policy adds",
    "net_leverage": "extra 社零 ÷ government outlay: 社零 caused per yuan spent; mean over replications",
    "gross_leverage": "all spending in transactions a tool paid for ÷ outlay (the 拉动比 governments publish; it "
                      "includes spending that would have happened anyway, so it is not causal); mean",
    "target": "the target the design is judged by (name in the scenario's [targets] table)",
    "target_probability": "share of replications in which the target is met with the policy (coarse with few replications)",
    "target_probability_without_policy": "share of replications in which the target is met without any policy",
    "target_contribution_pp": "what the plan adds to the target's indicator, percentage points: policy minus "
                              "no-policy growth (growth targets, each on the simulated prior period of the same "
                              "replication), policy minus no-policy share (share targets) or the policy level's "
                              "excess over the no-policy level, % (level and count targets); mean, and "
                              "p05-p95 the 90% interval over replications",
    "cost_per_0.1pp": "outlay ÷ (extra_growth_pp ÷ 0.1), yuan: the outlay per extra 0.1 percentage point of 社零 "
                      "growth, from the means; blank when extra 社零 is not positive",
    "benefit_poorest_40pct": "share of household benefit (voucher value, subsidies and discounts households "
                             "received) going to the poorest 40% of households (income quintiles Q1 and Q2); mean",
    "benefit_rural": "share of household benefit going to rural households; mean",
    "paid_back_share": "(highest cumulative extra sales - cumulative extra sales at the end) ÷ highest, on the "
                       "cumulative path averaged over replications: the part of the extra sales that was only "
                       "pulled forward and paid back (bought less later) within the horizon. 0: none paid back; "
                       "1: all of it or more (extra sales at the end at or below zero). Payback after the horizon "
                       "is not seen, so end the horizon some months after the programme. Blank when extra sales never rise above zero",
    "budget_runs_out": "date each tool's pool was exhausted: median over the replications where it ran out, the "
                       "earliest to latest date in brackets when they differ, and in how many replications it ran "
                       "out; blank when every pool lasted",
}

COLUMN_NOTES_ZH = {
    "design": "方案：情景文件本身的方案用文件名，[variants.名称] 变体用变体名",
    "budget_total": "各政策工具预算之和（元）：计划安排的资金，不是实际支出",
    "outlay_*": "各级财政实际支出（元）：模拟期内核销的消费券、发放的补贴和奖励，按各工具的资金分担比例分到各级；各次模拟的平均值",
    "outlay_total": "各级财政实际支出合计（元）；平均值",
    "merchant_cofunding": "商户自行让利的金额（企业让利，元），不计入财政支出；平均值",
    "extra_retail_sales": "政策带来的新增社零（元）：有政策与无政策（同一批家庭、同一组随机数）在整个模拟期的社零之差；"
                          "平均值，p05–p95 为各次模拟的90%区间",
    "extra_growth_pp": "新增社零 ÷ 无政策社零 × 100：政策使模拟期社零多增长的百分点",
    "net_leverage": "净拉动比 = 新增社零 ÷ 财政支出：每元财政资金实际带来的社零；平均值",
    "gross_leverage": "总拉动比 = 用券或享受补贴的交易总额 ÷ 财政支出，即通常公布的“拉动比”，包含本来就会发生的消费，不是因果效应；平均值",
    "target": "评价方案所用的目标（情景 [targets] 表中的名称）",
    "target_probability": "有政策时目标达成的模拟次数占比（重复次数少时较粗略）",
    "target_probability_without_policy": "无政策时目标也能达成的模拟次数占比",
    "target_contribution_pp": "方案对目标指标的贡献（百分点）：增长目标为有无政策增速之差（均较同一次模拟的上年同期），"
                              "比重目标为有无政策比重之差，水平与单位数目标为有政策较无政策高出的百分比；平均值，p05–p95 为各次模拟的90%区间",
    "cost_per_0.1pp": "每拉动0.1个百分点社零增速的财政成本（元）= 财政支出 ÷（extra_growth_pp ÷ 0.1），用平均值计算；新增社零不为正时留空",
    "benefit_poorest_40pct": "家庭得到的好处（消费券面值、补贴和优惠）中，收入最低40%家庭（Q1、Q2）所占比例；平均值",
    "benefit_rural": "家庭得到的好处中农村家庭所占比例；平均值",
    "paid_back_share": "（累计新增社零的最高值 − 期末累计新增社零）÷ 最高值，按各次模拟平均的累计曲线计算：新增销售中只是提前购买、"
                       "随后少买而在模拟期内抵消的部分。0 表示没有回落，1 表示全部回落甚至更多（期末累计新增社零不大于零）。"
                       "模拟期结束后的回落看不到，模拟期应在政策结束后再延续几个月。新增社零从未为正时留空",
    "budget_runs_out": "各工具资金池用完的日期：用完的各次模拟的中位数，不同时括号内为最早至最晚日期，并注明几次模拟中用完；都未用完时留空",
}

#: Column headings (Chinese, English); "outlay_*" headings are built per level.
COLUMN_LABELS = {
    "design": ("方案", "Design"),
    "budget_total": ("预算合计", "Budget"),
    "outlay_total": ("财政支出合计", "Outlay, total"),
    "merchant_cofunding": ("商户让利", "Merchant co-funding"),
    "extra_retail_sales": ("新增社零（90%区间）", "Extra retail sales (90% interval)"),
    "extra_growth_pp": ("拉动社零增速（百分点）", "Extra retail sales growth (pp)"),
    "net_leverage": ("净拉动比", "Net leverage"),
    "gross_leverage": ("总拉动比", "Gross leverage"),
    "target": ("目标", "Target"),
    "target_probability": ("目标达成概率", "P(target met)"),
    "target_probability_without_policy": ("无政策时达成概率", "P(met without policy)"),
    "target_contribution_pp": ("方案贡献（百分点）", "Plan adds (pp)"),
    "cost_per_0.1pp": ("每0.1个百分点成本", "Cost per 0.1 pp"),
    "benefit_poorest_40pct": ("最低40%家庭受益占比", "Benefit to poorest 40%"),
    "benefit_rural": ("农村家庭受益占比", "Benefit to rural"),
    "paid_back_share": ("提前消费期内回落比例", "Pulled forward, paid back"),
    "budget_runs_out": ("预算用完日期", "Budget runs out"),
}
LEVEL_LABELS = {"central": ("中央", "central"), "province": ("省级", "province"), "city": ("市级", "city"),
                "county": ("县级", "county")}
#: Columns shown in tables (in order); the p05/p95 columns are shown inside extra_retail_sales.
SHOWN = ("design", "budget_total", "outlay_*", "outlay_total", "merchant_cofunding", "extra_retail_sales",
         "extra_growth_pp", "net_leverage", "gross_leverage", "target", "target_probability",
         "target_probability_without_policy", "target_contribution_pp", "cost_per_0.1pp", "benefit_poorest_40pct",
         "benefit_rural", "paid_back_share", "budget_runs_out")
MONEY_COLUMNS = ("budget_total", "outlay_total", "merchant_cofunding", "extra_retail_sales", "cost_per_0.1pp")
SHARE_COLUMNS = ("target_probability", "target_probability_without_policy", "benefit_poorest_40pct",
                 "benefit_rural", "paid_back_share")


@dataclass
class Design:
    """One design compared: its scenario and its run.

    Attributes:
        label: short unique name (file stem or variant name) for tables and legends.
        scenario: the validated scenario.
        result: its run with replications.
        file: the scenario file.
        variant: the variant name, or None for the file's own design.
    """

    label: str
    scenario: Scenario
    result: RunResult
    file: str = ""
    variant: str | None = None

    def title(self, lang: str) -> str:
        """The design's name in words: its variant's or plan's ``title`` (zh) or ``title_en`` (en)."""
        return display_title(self.scenario.raw.get("scenario"), lang, self.label)


def parse_designs(specs: list[str]) -> list[tuple[str, str | None]]:
    """Files (``path``) or variants (``path#variant``); one file alone with variants means all its variants,
    and one file without variants is that plan alone (against no policy, which every design is run against).

    Raises:
        CommandError: nothing to compare, or the same design twice.
    """
    out: list[tuple[str, str | None]] = []
    for spec in specs:
        path, _, variant = spec.partition("#")
        out.append((path, variant or None))
    if len(out) == 1 and out[0][1] is None:
        names = variant_names(out[0][0])
        if names:
            out = [(out[0][0], None)] + [(out[0][0], name) for name in names]
    if not out:
        raise CommandError("give a scenario file, FILE#VARIANT, or several of them")
    seen = set()
    for path, variant in out:
        key = (str(Path(path).resolve()), variant)
        if key in seen:
            raise CommandError(f"{path}{'#' + variant if variant else ''}: the same design is named twice")
        seen.add(key)
    return out


def load_designs(specs: list[str]) -> list[tuple[str, Scenario]]:
    """Load every design before anything runs, and refuse designs for different cities.

    Raises:
        ScenarioError: a file or variant that does not load (names the file and field).
        CommandError: designs for different cities.
    """
    loaded = []
    for path, variant in parse_designs(specs):
        scenario = load_scenario(path, variant=variant)
        loaded.append((variant or Path(path).stem, scenario))
    labels = [label for label, _ in loaded]
    if len(set(labels)) != len(labels):
        # Two files with the same stem, or a variant named like a file: make every label unique.
        loaded = [(f"{label}-{i + 1}" if labels.count(label) > 1 else label, s) for i, (label, s) in enumerate(loaded)]
    cities: dict[str, list[str]] = {}
    for label, s in loaded:
        cities.setdefault(s.city.name, []).append(f"{label} ({s.origin})")
    if len(cities) > 1:
        raise CommandError("designs for different cities cannot be compared in one table: " +
                           "; ".join(f"{city}: {', '.join(items)}" for city, items in cities.items()) +
                           "; compare each city's designs separately")
    return loaded


def target_name(scenario: Scenario, wanted: str | None) -> str | None:
    """The target a design is judged by: the one named, or the last-listed target the model can evaluate
    (in multi-period plans that is the final period's)."""
    evaluable = [n for n, t in scenario.targets.items() if t.indicator != "out_of_scope"]
    if wanted is not None:
        return wanted if wanted in evaluable else None
    return evaluable[-1] if evaluable else None


def check_targets(loaded: list[tuple[str, Scenario]], target: str | None) -> str | None:
    """The target every design is judged by, checked before anything runs.

    Raises:
        CommandError: a design without it, or designs whose default targets differ.
    """
    names = {}
    for label, scenario in loaded:
        name = target_name(scenario, target)
        if name is None:
            what = f"target '{target}'" if target else "a target the model can evaluate"
            raise CommandError(f"{scenario.origin}: design {label} has no {what}, which the 'probability the target "
                               "is met' column needs; add a [targets.NAME] table, name one with --target, "
                               "or leave the column out with --no-target")
        names[label] = name
    if len(set(names.values())) > 1:
        listed = ", ".join(f"{label}: {name}" for label, name in names.items())
        raise CommandError(f"the designs' targets differ ({listed}); choose the one to judge them by with --target NAME")
    return next(iter(names.values()), None)


def run_designs(loaded: list[tuple[str, Scenario]], *, scale: float, seed: int, replications: int,
                target: str | None, need_target: bool, progress: bool = False,
                sources: list[tuple[str, str | None]] | None = None, workers: int | None = None) -> list[Design]:
    """Run every design on the same seeds (after checking each has the target the table needs).

    Args:
        sources: (file, variant) of each design, for the report; taken from the scenarios when not given.
        workers: processes each design's replications run in (``run_scenario``'s default when None).
    """
    if need_target:
        check_targets(loaded, target)
    designs = []
    for i, (label, scenario) in enumerate(loaded):
        if progress:
            print(f"[{i + 1}/{len(loaded)}] {label}: {replications} replication(s) at scale {scale}", file=sys.stderr)
        result = run_scenario(scenario, scale=scale, seed=seed, replications=replications, tool_breakdown=False,
                              progress=progress, workers=workers)
        file, variant = sources[i] if sources else (scenario.origin, None)
        designs.append(Design(label, scenario, result, file, variant))
    return designs


# ------------------------------------------------------------------ figures


def cumulative_uplift(result: RunResult) -> pd.DataFrame:
    """Cumulative extra 社零 by day and replication (columns: date, replication, cumulative_uplift)."""
    retail = result.frames["daily_retail"]
    total = retail[retail["dimension"] == "total"].sort_values(["replication", "date"])
    total = total.assign(cumulative_uplift=total.groupby("replication")["retail_sales_uplift"].cumsum())
    return total[["date", "replication", "cumulative_uplift"]]


#: Sectors whose sales come in lumps (one simulated car stands for 1/scale cars): left out of the
#: paid-back share and counted in units by ``durables_brought_forward`` instead.
DURABLE_SECTORS = ("cars", "appliances")


def everyday_uplift(result: RunResult) -> pd.DataFrame:
    """Daily extra 社零 outside the durable sectors, by day and replication (columns: date, replication, uplift).

    Falls back to the whole-city series when the run has no sector breakdown.
    """
    retail = result.frames["daily_retail"]
    total = retail[retail["dimension"] == "total"][["date", "replication", "retail_sales_uplift"]]
    durables = retail[(retail["dimension"] == "sector") & retail["category"].isin(DURABLE_SECTORS)]
    if not durables.empty:
        lumpy = durables.groupby(["date", "replication"], as_index=False)["retail_sales_uplift"].sum()
        total = total.merge(lumpy, on=["date", "replication"], how="left", suffixes=("", "_durable")).fillna(0.0)
        total["retail_sales_uplift"] = total["retail_sales_uplift"] - total.pop("retail_sales_uplift_durable")
    return total.rename(columns={"retail_sales_uplift": "uplift"}).sort_values(["replication", "date"])


def paid_back_share(result: RunResult) -> float | None:
    """(peak - final) / peak of the cumulative extra 社零 outside cars and appliances, averaged over replications,
    at most 1.

    Cars and appliances are left out: at a small scale one simulated car bought a month earlier
    (+300万, then -300万) would set the figure by itself; ``durables_brought_forward`` counts them in
    units instead. The mean path is used because the peak of each noisy replication would overstate
    the payback. None when the path never rises above zero.
    """
    daily = everyday_uplift(result)
    daily = daily.assign(cumulative=daily.groupby("replication")["uplift"].cumsum())
    mean_path = daily.groupby("date")["cumulative"].mean().sort_index().to_numpy()
    peak = float(mean_path.max(initial=0.0))
    if peak <= 0:
        return None
    return float(min((peak - mean_path[-1]) / peak, 1.0))


def durables_brought_forward(design: "Design") -> dict[str, dict[str, float]]:
    """Extra cars and appliances sold while the programmes ran and after the last one ended (units, mean over
    replications, with the units one simulated household stands for).

    A negative 'after' is purchases brought forward and missing later.
    """
    activity = design.result.frames.get("daily_activity")
    if activity is None or activity.empty or not design.scenario.tools:
        return {}
    end = pd.Timestamp(max(t.end for t in design.scenario.tools.values()))
    reps = max(int(activity["replication"].nunique()), 1)
    out = {}
    for item in ("cars", "appliances"):
        extra = activity[f"{item}_sold_policy"] - activity[f"{item}_sold_baseline"]
        during = float(extra[activity["date"] <= end].sum()) / reps
        after = float(extra[activity["date"] > end].sum()) / reps
        out[item] = {"during": during, "after": after}
    return out


def budget_exhaustion(design: Design) -> dict[str, dict[str, Any]]:
    """For each tool: in how many replications its pool ran out, and the earliest, median and latest date."""
    reps = design.result.replications
    out = {}
    for tool in design.scenario.tools:
        dates = sorted(r["tools"][tool]["budget_exhausted_date"] for r in reps if r["tools"][tool]["budget_exhausted_date"])
        entry: dict[str, Any] = {"ran_out": len(dates), "replications": len(reps), "earliest": None, "median": None,
                                 "latest": None}
        if dates:
            ordinals = [dt.date.fromisoformat(d).toordinal() for d in dates]
            entry.update(earliest=dates[0], latest=dates[-1],
                         median=dt.date.fromordinal(int(round(float(np.median(ordinals))))).isoformat())
        out[tool] = entry
    return out


def budget_runs_out_text(design: Design) -> str:
    """'tool: median (earliest–latest) (k/R)' for each tool whose pool ran out in any replication."""
    parts = []
    for tool, e in budget_exhaustion(design).items():
        if not e["ran_out"]:
            continue
        when = e["median"] + (f" ({e['earliest']}–{e['latest']})" if e["earliest"] != e["latest"] else "")
        parts.append(f"{tool}: {when} ({e['ran_out']}/{e['replications']})")
    return "; ".join(parts)


def _mean(values: list[float | None]) -> float | None:
    nums = [v for v in values if v is not None]
    return float(np.mean(nums)) if nums else None


def funding_levels(designs: list[Design]) -> list[str]:
    """Funding levels paying for any design, central first."""
    used = {lvl for d in designs for r in d.result.replications for lvl in r["government_outlay_by_level"]}
    return [lvl for lvl in FUNDING_LEVELS if lvl in used] + sorted(used - set(FUNDING_LEVELS))


def comparison_table(designs: list[Design], target: str | None, need_target: bool) -> pd.DataFrame:
    """One row per design with the columns described in ``COLUMN_NOTES`` (money in yuan, shares as fractions)."""
    levels = funding_levels(designs)
    rows = []
    for d in designs:
        reps = d.result.replications
        uplift = np.array([r["retail_sales_uplift"] for r in reps])
        baseline = np.array([r["retail_sales_baseline"] for r in reps])
        outlay = np.array([r["government_outlay"] for r in reps])
        row: dict[str, Any] = {"design": d.label, "title": d.scenario.title,
                               "budget_total": float(sum(t.budget_yuan for t in d.scenario.tools.values()))}
        for level in levels:
            row[f"outlay_{level}"] = float(np.mean([r["government_outlay_by_level"].get(level, 0.0) for r in reps]))
        row["outlay_total"] = float(outlay.mean())
        row["merchant_cofunding"] = float(np.mean([r["merchant_cofunding"] for r in reps]))
        row["extra_retail_sales"] = float(uplift.mean())
        row["extra_retail_sales_p05"] = float(np.percentile(uplift, 5))
        row["extra_retail_sales_p95"] = float(np.percentile(uplift, 95))
        growth_pp = 100.0 * uplift.mean() / baseline.mean() if baseline.mean() else 0.0
        row["extra_growth_pp"] = float(growth_pp)
        row["net_leverage"] = _mean([r["net_leverage"] for r in reps])
        row["gross_leverage"] = _mean([r["gross_leverage"] for r in reps])
        if need_target:
            name = target_name(d.scenario, target)
            row["target"] = name
            row["target_probability"] = float(np.mean([bool(r["targets"][name]["met"]) for r in reps]))
            row["target_probability_without_policy"] = float(np.mean([bool(r["targets"][name]["met_without_policy"])
                                                                      for r in reps]))
            added = [r["targets"][name].get("contribution_pp") for r in reps]
            added = np.array([a for a in added if a is not None], dtype=float)
            row["target_contribution_pp"] = float(added.mean()) if added.size else None
            row["target_contribution_pp_p05"] = float(np.percentile(added, 5)) if added.size else None
            row["target_contribution_pp_p95"] = float(np.percentile(added, 95)) if added.size else None
        row["cost_per_0.1pp"] = float(outlay.mean() / (growth_pp / COST_STEP_PP)) if growth_pp > 0 else None
        row["benefit_poorest_40pct"] = _mean([(r["benefit_share"]["Q1"] or 0) + (r["benefit_share"]["Q2"] or 0)
                                              if r["benefit_share"]["Q1"] is not None else None for r in reps])
        row["benefit_rural"] = _mean([r["benefit_share"]["rural"] for r in reps])
        row["paid_back_share"] = paid_back_share(d.result)
        row["budget_runs_out"] = budget_runs_out_text(d)
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ presenting the table


def shown_columns(table: pd.DataFrame) -> list[str]:
    """The table's columns in display order (one per funding level where 'outlay_*' stands)."""
    out = []
    for key in SHOWN:
        if key == "outlay_*":
            out += [c for c in table.columns if c.startswith("outlay_") and c != "outlay_total"]
        elif key in table.columns:
            out.append(key)
    return out


def column_label(key: str, lang: str) -> str:
    """A column's heading, with its unit."""
    zh = lang == "zh"
    unit = "（万元）" if zh else " (10,000 yuan)"
    if key.startswith("outlay_") and key != "outlay_total":
        level = key[len("outlay_"):]
        name = LEVEL_LABELS.get(level, (level, level))
        return (f"{name[0]}财政支出" if zh else f"Outlay, {name[1]}") + unit
    label = COLUMN_LABELS[key][0 if zh else 1]
    if key == "extra_retail_sales":
        return "新增社零（万元，90%区间）" if zh else "Extra retail sales (10,000 yuan, 90% interval)"
    return label + unit if key in MONEY_COLUMNS else label


def column_note(key: str, lang: str) -> str:
    """A column's definition."""
    notes = COLUMN_NOTES_ZH if lang == "zh" else COLUMN_NOTES
    if key.startswith("outlay_") and key != "outlay_total":
        return notes["outlay_*"]
    return notes[key]


def format_value(table_row: pd.Series, key: str) -> str:
    """One cell as text: money in 万元, shares in percent, blanks for missing values."""
    value = table_row.get(key)
    if key == "extra_retail_sales":
        # Rounded to what the 90% interval supports (model.reporting.numbers).
        from model.reporting.numbers import decimals_of, fmt_number

        low, high = table_row["extra_retail_sales_p05"], table_row["extra_retail_sales_p95"]
        e = {"mean": value / YUAN_PER_DISPLAY_UNIT, "low": low / YUAN_PER_DISPLAY_UNIT,
             "high": high / YUAN_PER_DISPLAY_UNIT, "n": 2 if high > low else 1}
        d = decimals_of(e)
        if e["n"] == 1:
            return fmt_number(e["mean"], d)
        return f"{fmt_number(e['mean'], d)} ({fmt_number(e['low'], d)}–{fmt_number(e['high'], d)})"
    if key == "target_contribution_pp" and value is not None and not (isinstance(value, float) and np.isnan(value)):
        from model.reporting.numbers import decimals_of, fmt_number

        low, high = table_row.get("target_contribution_pp_p05"), table_row.get("target_contribution_pp_p95")
        e = {"mean": value, "low": low, "high": high, "n": 2 if high is not None and high > low else 1}
        d = decimals_of(e)
        if e["n"] == 1:
            return fmt_number(e["mean"], d)
        return f"{fmt_number(e['mean'], d)} ({fmt_number(e['low'], d)}–{fmt_number(e['high'], d)})"
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if key in MONEY_COLUMNS or key.startswith("outlay_"):
        return f"{value / YUAN_PER_DISPLAY_UNIT:,.1f}"
    if key in SHARE_COLUMNS:
        return f"{value:.0%}"
    if key == "extra_growth_pp":
        return f"{value:.3f}"
    if key in ("net_leverage", "gross_leverage"):
        return f"{value:.2f}"
    return str(value)


def display_table(table: pd.DataFrame, lang: str) -> tuple[list[str], list[str], list[list[str]]]:
    """(column keys, headings, formatted rows) for people to read."""
    keys = shown_columns(table)
    return keys, [column_label(k, lang) for k in keys], [[format_value(row, k) for k in keys]
                                                          for _, row in table.iterrows()]


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table_markdown(table: pd.DataFrame, lang: str = "en", details: list[str] | None = None) -> str:
    """The table as Markdown (money in 万元), with how it was made and a note defining each column."""
    keys, headers, rows = display_table(table, lang)
    zh = lang == "zh"
    out = [("# 方案比较" if zh else "# Comparison of designs"), ""]
    out += [f"- {_md(line)}" for line in details or []]
    out += ["", "| " + " | ".join(_md(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]
    out += ["", "## 说明" if zh else "## Notes", "",
            "金额单位：万元。comparison.csv 中金额以元为单位，列名为下列英文键。" if zh else
            "Amounts in 万元 (10,000 yuan); comparison.csv has them in yuan under the keys below.", ""]
    for key in keys:
        out.append(f"- **{_md(column_label(key, lang))}** (`{key}`): {column_note(key, lang)}")
    return "\n".join(out) + "\n"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_table(table: pd.DataFrame, lang: str = "en") -> str:
    """The table for a terminal: one line per column, one text column per design, Chinese widths padded."""
    _, headers, rows = display_table(table, lang)
    lines = [[headers[i]] + [r[i] for r in rows] for i in range(len(headers))]
    widths = [max(_width(line[j]) for line in lines) for j in range(len(lines[0]))]
    out = []
    for i, line in enumerate(lines):
        out.append("  ".join(cell + " " * (widths[j] - _width(cell)) for j, cell in enumerate(line)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def run_details(designs: list[Design], lang: str) -> list[str]:
    """How the figures were made (city, scale, seed, replications, model version and commit), one line each."""
    manifest = designs[0].result.manifest
    summary = designs[0].result.summary
    version = manifest.get("model_version", "")
    commit = manifest.get("git_commit", "unknown")
    covers = summary.get("intervals_cover", "")
    behavioural = covers.startswith("sampling noise and behavioural uncertainty")
    if lang == "zh":
        return [f"城市：{designs[0].scenario.city.name}",
                f"模拟：抽样比例 {summary['scale']}，种子 {summary['seed']}，每个方案重复 {summary['replications']} 次；"
                "各方案使用相同种子（同一批家庭、同一组随机数）",
                ("90%区间涵盖抽样误差和行为参数的不确定性：第 r 次模拟使用估计的第 r 组家庭行为参数（calibration/estimated/）"
                 if behavioural else "90%区间只涵盖抽样误差：各次模拟使用同一组家庭行为参数"),
                f"模型版本 {version}，代码 {describe_commit(commit, 'zh')}，生成于 {manifest.get('created', '')}"]
    return [f"City: {designs[0].scenario.city.name}",
            f"Simulation: scale {summary['scale']}, seed {summary['seed']}, {summary['replications']} replication(s) "
            "per design; every design on the same seed (same households, same random numbers)",
            f"90% intervals cover {covers}" if covers else "90% intervals cover sampling noise",
            f"Model version {version}, code {describe_commit(commit, 'en')}, made {manifest.get('created', '')}"]
