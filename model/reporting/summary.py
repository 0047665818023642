"""What a budget proposal's first page says: which design, whether it meets the targets, what the money buys, who gains.

Every figure here is computed from the designs' per-replication summaries and
their ``household_distribution`` tables, and carries its 90% interval over
replications where it has one:

* ``recommend``: the design with the highest probability of meeting the target
  the designs are judged by; among equals, the one that pays least public money
  per extra yuan of 社零 (without a target: the cheapest per extra yuan). Designs
  whose extra 社零 is not above zero in most replications are never preferred on cost.
* ``target_verdicts``: for each target the model can evaluate, the required value,
  the simulated value with and without the plan, and the share of replications
  meeting it with and without the plan.
* ``cost_per_extra_yuan``: outlay ÷ extra 社零, per replication.
* ``distribution``: per group (income decile or quintile, urban or rural), the
  share of households, average gain per household (yuan), gain as a share of
  income, share of households better off and share of all gains, averaged over replications.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.reporting.compare import Design
from model.reporting.numbers import WAN, YI, estimate
from model.scenario import display_title

#: Target indicators shown as a growth rate, a share (in %), a count, or per person (the rest are levels in yuan).
GROWTH = ("retail_sales_growth", "online_retail_growth", "seller_online_retail_growth")
SHARE = ("share_stores_open_24h",)
COUNT = ("above_quota_new_units",)
PER_PERSON = ("consumption_per_capita_urban", "consumption_per_capita_rural")

def tool_title(design: Design, name: str, lang: str) -> str:
    """A tool's name in words: its ``title``/``title_en``, else its kind's label from the tool registry."""
    from model import tools as tool_kinds

    table = design.scenario.raw.get("tools", {}).get(name, {})
    kind = design.scenario.tools[name].kind
    known = tool_kinds.kinds().get(kind)
    label = (known.label_zh if lang == "zh" else known.label_en) if known is not None else kind
    return display_title(table, lang, label)


def target_title(design: Design, name: str, lang: str) -> str:
    """A target's name in words: its ``title``/``title_en``, else its description (zh) or name."""
    table = design.scenario.raw.get("targets", {}).get(name, {})
    fallback = design.scenario.targets[name].description or name if lang == "zh" else name
    return display_title(table, lang, fallback)


def evaluable_targets(design: Design) -> list[str]:
    """Targets the model can evaluate, in the file's order."""
    return [n for n, t in design.scenario.targets.items() if t.indicator != "out_of_scope"]


def target_display(indicator: str, value: float | None, lang: str = "zh") -> tuple[float | None, str]:
    """A target value in display units: (number, unit) — growth and shares in %, counts of units (家), levels
    in 亿元, per person in 元."""
    if value is None:
        return None, ""
    if indicator in GROWTH or indicator.endswith("_growth") or indicator in SHARE:
        return 100.0 * value, "%"
    if indicator in COUNT:
        return value, "家" if lang == "zh" else "units"
    if indicator in PER_PERSON:
        return value, "元"
    return value / YI, "亿元"


@dataclass
class Verdict:
    """One target judged on one design.

    Attributes:
        name: the target's key; title: its name in words; indicator: what it measures.
        required: the value it asks for (display units); unit: "%", "亿元", "元" or a count's "家"/"units".
        with_plan, without_plan: simulated value estimates (display units).
        p_with, p_without: share of replications meeting it; replications: how many.
        contribution_pp: what the plan adds, percentage points (``summary.contribution_pp``), as an estimate.
    """

    name: str
    title: str
    indicator: str
    required: float | None
    unit: str
    with_plan: dict
    without_plan: dict
    p_with: float | None
    p_without: float | None
    replications: int
    contribution_pp: dict | None = None


def target_verdicts(design: Design, lang: str) -> list[Verdict]:
    """Every evaluable target of a design with its simulated values and probabilities."""
    reps = design.result.replications
    out = []
    for name in evaluable_targets(design):
        t = design.scenario.targets[name]
        entries = [r["targets"][name] for r in reps]
        required, unit = target_display(t.indicator, t.value, lang)

        def values(key):
            return [target_display(t.indicator, e[key], lang)[0] for e in entries if e[key] is not None]
        met = [e["met"] for e in entries if e["met"] is not None]
        met0 = [e["met_without_policy"] for e in entries if e["met_without_policy"] is not None]
        out.append(Verdict(name, target_title(design, name, lang), t.indicator, required, unit,
                           estimate(values("policy")), estimate(values("baseline")),
                           float(np.mean(met)) if met else None, float(np.mean(met0)) if met0 else None, len(reps),
                           estimate([e.get("contribution_pp") for e in entries])))
    return out


def money(design: Design) -> dict:
    """Outlay, extra 社零 (万元) and cost per extra yuan (yuan of outlay per yuan of extra 社零) as estimates."""
    reps = design.result.replications
    outlay = [r["government_outlay"] for r in reps]
    uplift = [r["retail_sales_uplift"] for r in reps]
    positive = [u > 0 for u in uplift]
    cost = [o / u for o, u in zip(outlay, uplift) if u > 0] if all(positive) else []
    return {"outlay": estimate(outlay, WAN), "uplift": estimate(uplift, WAN), "budget":
            sum(t.budget_yuan for t in design.scenario.tools.values()) / WAN,
            "cost_per_yuan": estimate(cost) if cost and sum(outlay) > 0 else None,
            "not_positive": sum(1 for p in positive if not p), "replications": len(reps),
            "growth_pp": estimate([100.0 * u / r["retail_sales_baseline"] for u, r in zip(uplift, reps)
                                   if r["retail_sales_baseline"]])}


def _cost_key(design: Design) -> float:
    m = money(design)
    if m["outlay"]["mean"] in (None, 0):
        return float("inf")
    if m["uplift"]["mean"] is None or m["uplift"]["mean"] <= 0 or m["not_positive"] * 2 > m["replications"]:
        return float("inf")
    return m["outlay"]["mean"] / m["uplift"]["mean"]


def recommend(designs: list[Design], target: str | None) -> tuple[Design, dict]:
    """The recommended design and the figures behind the choice.

    Returns:
        (design, why) where why has "by" ("target" or "cost"), "probability", "cost", "tied" (other designs
        with the same probability) and "overlap" (designs whose extra-社零 interval overlaps the chosen one's).
    """
    def probability(d: Design) -> float:
        if target is None:
            return 0.0
        met = [r["targets"][target]["met"] for r in d.result.replications if r["targets"][target]["met"] is not None]
        return float(np.mean(met)) if met else 0.0

    ranked = sorted(designs, key=lambda d: (-probability(d), _cost_key(d), designs.index(d)))
    best = ranked[0]
    p = probability(best)
    tied = [d for d in designs if d is not best and probability(d) == p]
    lo, hi = money(best)["uplift"]["low"], money(best)["uplift"]["high"]
    overlap = [d for d in designs if d is not best and money(d)["uplift"]["n"] > 1
               and not (money(d)["uplift"]["high"] < lo or money(d)["uplift"]["low"] > hi)]
    return best, {"by": "target" if target else "cost", "probability": p if target else None,
                  "cost": _cost_key(best), "tied": tied, "overlap": overlap}


def distribution(design: Design) -> pd.DataFrame:
    """Gains by group averaged over replications (see ``model.distribution``); empty when the run has none."""
    frame = design.result.frames.get("household_distribution")
    if frame is None or frame.empty:
        return pd.DataFrame()
    cols = ["households", "household_share", "gain_per_household_yuan", "gain_share_of_income", "share_better_off",
            "income_per_household_yuan", "gain_share"]
    out = frame.groupby(["dimension", "group"], sort=False)[cols].mean().reset_index()
    spread = frame.groupby(["dimension", "group"], sort=False)["gain_per_household_yuan"]
    out["gain_per_household_low"] = spread.quantile(0.05).to_numpy()
    out["gain_per_household_high"] = spread.quantile(0.95).to_numpy()
    return out


def overall_better_off(design: Design) -> float | None:
    """Share of all households better off (mean over replications)."""
    d = distribution(design)
    if d.empty:
        return None
    area = d[d["dimension"] == "urban_rural"]
    return float((area["share_better_off"] * area["household_share"]).sum())
