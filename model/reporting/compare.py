"""Comparing policy designs for one city: the table a budget proposal needs.

``compare_designs`` runs each design (a scenario file, or a named variant inside
one) with replications against its own no-policy counterfactual on the same
seeds, and ``comparison_table`` puts one row per design:

* outlay by funding level and merchant co-funding (yuan, mean over replications);
* extra 社零 (mean and 90% interval), net and gross leverage;
* probability that the target is met (share of replications);
* cost per extra 0.1 percentage point of 社零 growth: outlay / (100 x uplift / baseline / 0.1);
* share of household benefit (voucher value and subsidies received) going to the
  poorest 40% of households and to rural households;
* pulled forward and paid back within the horizon: (highest cumulative extra
  sales - cumulative extra sales at the end) / highest, so 0 means no payback and
  1 means every extra yuan was later given back;
* the date each tool's budget ran out (in how many replications).

Designs for different cities cannot be compared; a design with no target when
the target column is asked for is refused, with the option to drop it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from model.commands import CommandError
from model.runner import RunResult, run_scenario
from model.scenario import Scenario, load_scenario, variant_names

#: Column notes, printed under the table and in the report.
COLUMN_NOTES = {
    "outlay_*": "government outlay by funding level, yuan (mean over replications)",
    "merchant_cofunding": "discounts merchants funded themselves (企业让利), yuan",
    "extra_retail_sales": "extra 社零 caused by the policy (policy minus no-policy run on the same random numbers), yuan; p05-p95 is the 90% interval over replications",
    "net_leverage": "extra 社零 ÷ government outlay",
    "gross_leverage": "all spending in transactions a tool paid for ÷ outlay (the 拉动比 governments publish; not causal)",
    "target_probability": "share of replications in which the target is met",
    "cost_per_0.1pp": "outlay per extra 0.1 percentage point of 社零 growth over the horizon, yuan",
    "benefit_poorest_40pct": "share of household benefit (voucher value, subsidies, discounts received) going to the poorest 40% of households",
    "benefit_rural": "share of household benefit going to rural households",
    "paid_back_share": "(highest cumulative extra sales - cumulative extra sales at the end) / highest: the part pulled forward and paid back within the horizon",
    "budget_runs_out": "date each tool's pool was exhausted (in how many replications); blank when it lasted",
}


@dataclass
class Design:
    """One design compared: its scenario and its run."""

    label: str
    scenario: Scenario
    result: RunResult


def parse_designs(specs: list[str]) -> list[tuple[str, str | None]]:
    """Files (``path``) or variants (``path#variant``); one file alone with variants means all its variants.

    Raises:
        CommandError: nothing to compare.
    """
    out: list[tuple[str, str | None]] = []
    for spec in specs:
        path, _, variant = spec.partition("#")
        out.append((path, variant or None))
    if len(out) == 1 and out[0][1] is None:
        names = variant_names(out[0][0])
        if names:
            out = [(out[0][0], None)] + [(out[0][0], name) for name in names]
    if len(out) < 2:
        raise CommandError(f"{specs[0]}: give two or more scenarios, or one file with [variants.NAME] tables")
    return out


def load_designs(specs: list[str]) -> list[tuple[str, Scenario]]:
    """Load every design before anything runs, and refuse designs for different cities."""
    loaded = []
    for path, variant in parse_designs(specs):
        scenario = load_scenario(path, variant=variant)
        loaded.append((variant or Path(path).stem, scenario))
    cities = {s.city.name for _, s in loaded}
    if len(cities) > 1:
        raise CommandError("designs for different cities cannot be compared: " +
                           ", ".join(f"{label} ({s.city.name})" for label, s in loaded))
    return loaded


def target_name(scenario: Scenario, wanted: str | None) -> str | None:
    """The target a design is judged by: the one named, or the last-listed target the model can evaluate
    (in multi-period plans that is the final period's)."""
    evaluable = [n for n, t in scenario.targets.items() if t.indicator != "out_of_scope"]
    if wanted is not None:
        return wanted if wanted in evaluable else None
    return evaluable[-1] if evaluable else None


def run_designs(loaded: list[tuple[str, Scenario]], *, scale: float, seed: int, replications: int,
                target: str | None, need_target: bool, progress: bool = False) -> list[Design]:
    """Run every design (after checking each has the target the table needs)."""
    if need_target:
        for label, scenario in loaded:
            if target_name(scenario, target) is None:
                what = f"target '{target}'" if target else "a target the model can evaluate"
                raise CommandError(f"{scenario.origin}: design {label} has no {what}; "
                                   "name one with --target, or leave the column out with --no-target")
    designs = []
    for label, scenario in loaded:
        result = run_scenario(scenario, scale=scale, seed=seed, replications=replications, tool_breakdown=False,
                              progress=progress)
        designs.append(Design(label, scenario, result))
    return designs


def cumulative_uplift(result: RunResult) -> pd.DataFrame:
    """Cumulative extra 社零 by day and replication (columns: date, replication, cumulative_uplift)."""
    retail = result.frames["daily_retail"]
    total = retail[retail["dimension"] == "total"].sort_values(["replication", "date"])
    total = total.assign(cumulative_uplift=total.groupby("replication")["retail_sales_uplift"].cumsum())
    return total[["date", "replication", "cumulative_uplift"]]


def paid_back_share(result: RunResult) -> float:
    """Mean over replications of (peak cumulative uplift - final) / peak; 0 where the peak is not positive."""
    shares = []
    for _, group in cumulative_uplift(result).groupby("replication"):
        path = group["cumulative_uplift"].to_numpy()
        peak = path.max(initial=0.0)
        shares.append((peak - path[-1]) / peak if peak > 0 else 0.0)
    return float(np.mean(shares))


def _mean(values: list[float | None]) -> float | None:
    nums = [v for v in values if v is not None]
    return float(np.mean(nums)) if nums else None


def comparison_table(designs: list[Design], target: str | None, need_target: bool) -> pd.DataFrame:
    """One row per design with the columns described in ``COLUMN_NOTES``."""
    levels = sorted({lvl for d in designs for r in d.result.replications for lvl in r["government_outlay_by_level"]})
    rows = []
    for d in designs:
        reps = d.result.replications
        uplift = np.array([r["retail_sales_uplift"] for r in reps])
        baseline = np.array([r["retail_sales_baseline"] for r in reps])
        outlay = np.array([r["government_outlay"] for r in reps])
        row = {"design": d.label, "title": d.scenario.title}
        for level in levels:
            row[f"outlay_{level}"] = float(np.mean([r["government_outlay_by_level"].get(level, 0.0) for r in reps]))
        row["outlay_total"] = float(outlay.mean())
        row["merchant_cofunding"] = float(np.mean([r["merchant_cofunding"] for r in reps]))
        row["extra_retail_sales"] = float(uplift.mean())
        row["extra_retail_sales_p05"] = float(np.percentile(uplift, 5))
        row["extra_retail_sales_p95"] = float(np.percentile(uplift, 95))
        row["net_leverage"] = _mean([r["net_leverage"] for r in reps])
        row["gross_leverage"] = _mean([r["gross_leverage"] for r in reps])
        if need_target:
            name = target_name(d.scenario, target)
            row["target"] = name
            row["target_probability"] = float(np.mean([bool(r["targets"][name]["met"]) for r in reps]))
        growth_pp = 100.0 * uplift.mean() / baseline.mean() if baseline.mean() else 0.0
        row["cost_per_0.1pp"] = float(outlay.mean() / (growth_pp / 0.1)) if growth_pp > 0 else None
        row["benefit_poorest_40pct"] = _mean([(r["benefit_share"]["Q1"] or 0) + (r["benefit_share"]["Q2"] or 0)
                                              if r["benefit_share"]["Q1"] is not None else None for r in reps])
        row["benefit_rural"] = _mean([r["benefit_share"]["rural"] for r in reps])
        row["paid_back_share"] = paid_back_share(d.result)
        runs_out = []
        for tool in d.scenario.tools:
            dates = [r["tools"][tool]["budget_exhausted_date"] for r in reps if r["tools"][tool]["budget_exhausted_date"]]
            if dates:
                runs_out.append(f"{tool}: {min(dates)} ({len(dates)}/{len(reps)})")
        row["budget_runs_out"] = "; ".join(runs_out)
        rows.append(row)
    return pd.DataFrame(rows)


def table_markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, yuan in 万元 for reading, with the column notes."""
    shown = table.copy()
    for col in shown.columns:
        if col.startswith("outlay_") or col.startswith("extra_retail_sales") or col in ("merchant_cofunding", "cost_per_0.1pp"):
            shown[col] = shown[col].map(lambda v: "" if v is None or pd.isna(v) else f"{v / 1e4:,.1f}")
    for col in ("net_leverage", "gross_leverage"):
        shown[col] = shown[col].map(lambda v: "" if v is None or pd.isna(v) else f"{v:.2f}")
    for col in ("target_probability", "benefit_poorest_40pct", "benefit_rural", "paid_back_share"):
        if col in shown:
            shown[col] = shown[col].map(lambda v: "" if v is None or pd.isna(v) else f"{v:.0%}")
    header = "| " + " | ".join(shown.columns) + " |\n|" + "---|" * len(shown.columns) + "\n"
    body = "".join("| " + " | ".join(str(v) for v in row) + " |\n" for row in shown.itertuples(index=False))
    notes = "\nAmounts in 万元 (10,000 yuan).\n\n" + "".join(f"- `{k}`: {v}\n" for k, v in COLUMN_NOTES.items())
    return header + body + notes
