"""`run.py run SCENARIO`: run a scenario against its no-policy counterfactual and write the results."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import warnings
from pathlib import Path

from model.commands import (PROJECT_ROOT, add_behaviour_argument, add_workers_argument, check_scale, positive_fraction,
                            positive_int, seed_arg)
from model.output_folder import check_output_folder, claim_output_folder
from model.scenario import load_scenario

DEFAULT_SCALE = 0.05
#: Replications a run makes unless told: enough for every figure to carry a 90% interval over replications and
#: for a target's probability to the nearest 10% (the same as ``compare``'s default); one replication shows single
#: draws whose precision nothing measures.
DEFAULT_REPLICATIONS = 10


def _figure(value) -> float | None:
    if isinstance(value, dict):
        return value.get("mean")
    return value


def _estimate(value, unit: float) -> dict:
    """A summary figure (a number, or {mean, p05, p95} over replications) as a display estimate."""
    if isinstance(value, dict) and "mean" in value:
        n = 2 if value["p95"] != value["p05"] else 1
        return {"mean": value["mean"] / unit, "low": value["p05"] / unit, "high": value["p95"] / unit, "n": n}
    return {"mean": None if value is None else value / unit, "low": None, "high": None, "n": 1}


def _money(value, unit: float, unit_name: str) -> str:
    from model.reporting.numbers import fmt_estimate

    e = _estimate(value, unit)
    if e["mean"] is None:
        return "—"
    text = fmt_estimate(e, "en")
    # An interval that rounds to the mean is not printed (it differed only in float noise, e.g. a budget paid
    # in full in every replication), and the unit must still follow the figure.
    return text.replace(" (", f" {unit_name} (90%: ", 1) if " (" in text else f"{text} {unit_name}"


def _yi(value) -> str:
    """社零 levels in 亿元 (100 million yuan)."""
    return _money(value, 1e8, "亿元")


def _wan(value) -> str:
    """Budgets, outlays and effects in 万元 (10,000 yuan)."""
    return _money(value, 1e4, "万元")


def _ratio(value) -> str:
    from model.reporting.numbers import fmt_estimate

    e = _estimate(value, 1.0)
    if e["mean"] is None:
        return "—"
    return fmt_estimate(e, "en").replace(" (", " (90%: ", 1)


def _target_value(indicator: str, value) -> str:
    """A target's value with its unit: growth and shares in %, counts in units, levels in 亿元, per person in yuan."""
    v = _figure(value)
    if v is None:
        return "—"
    if indicator.endswith("_growth"):
        return f"{100 * v:+.2f}%"
    if indicator == "share_stores_open_24h":
        return f"{100 * v:.1f}%"
    if indicator == "above_quota_new_units":
        return f"{v:,.0f} units"
    if indicator.startswith("consumption_per_capita"):
        return f"{v:,.0f} yuan per person"
    return f"{v / 1e8:,.2f} 亿元"


def _target_estimate(indicator: str, value) -> str:
    """A simulated target value with its 90% interval over replications, in the target's unit."""
    from model.reporting.numbers import fmt_estimate

    if indicator.endswith("_growth") or indicator == "share_stores_open_24h":
        unit, name = 0.01, "%"
    elif indicator == "above_quota_new_units":
        unit, name = 1.0, " units"
    elif indicator.startswith("consumption_per_capita"):
        unit, name = 1.0, " yuan per person"
    else:
        unit, name = 1e8, " 亿元"
    e = _estimate(value, unit)
    if e["mean"] is None:
        return "—"
    text = fmt_estimate(e, "en")
    return text.replace(" (", f"{name} (90%: ", 1) if e["n"] > 1 else f"{text}{name}"


def _pp(value) -> str:
    """Percentage points with the 90% interval over replications."""
    from model.reporting.numbers import fmt_estimate

    e = _estimate(value, 1.0)
    if e["mean"] is None:
        return "—"
    text = fmt_estimate(e, "en")
    return text.replace(" (", " pp (90%: ", 1) if e["n"] > 1 else f"{text} pp"


def _probability(met, reps: int) -> str:
    if isinstance(met, dict):
        k = round(met["probability"] * reps)
        return f"{k} of {reps} replications ({met['probability']:.0%})"
    return "met" if met else "not met" if met is not None else "—"


TARGET_MEANING = {
    "retail_sales_growth": "社零 growth on the simulated prior period (same replication) at least", "retail_sales_level": "社零 at least",
    "online_retail_growth": "online retail growth at least", "online_retail_level": "online retail at least",
    "tourism_revenue_level": "tourism revenue at least",
    "seller_online_retail_growth": "网络零售额 (the city's own sellers) growth on the simulated prior period at least",
    "seller_online_retail_level": "网络零售额 (the city's own sellers) at least",
    "share_stores_open_24h": "share of convenience stores open 24 hours at least",
    "above_quota_new_units": "new 限额以上 units (base-year merchants crossing the threshold) at least",
    "consumption_per_capita_urban": "urban consumption per person at least",
    "consumption_per_capita_rural": "rural consumption per person at least",
}


def print_summary(summary: dict, out_dir: Path, scenario=None) -> None:
    """A short human-readable summary of a run: 社零 levels in 亿元, money in 万元, targets in words."""
    reps = summary["replications"]
    print(f"\n{summary['title']}  {summary['start_date']} to {summary['end_date']}"
          f"  scale {summary['scale']}  seed {summary['seed']}  replications {reps}")
    if reps > 1:
        print(f"  (90%: the 5th to 95th percentile over {reps} replications; what they cover is said at the end)")
    else:
        print("  (one replication: single draws with no interval, so how far each figure can be trusted is not "
              "measured; run with --replications 10 or more for 90% intervals)")
    print(f"  社零 without policy (retail_sales_baseline): {_yi(summary['retail_sales_baseline'])}")
    print(f"  社零 with policy    (retail_sales_policy):   {_yi(summary['retail_sales_policy'])}")
    print(f"  extra 社零          (retail_sales_uplift):   {_wan(summary['retail_sales_uplift'])}")
    print(f"  government outlay   (government_outlay):     {_wan(summary['government_outlay'])}")
    print(f"  gross leverage 拉动比 (voucher/subsidy transactions ÷ outlay): {_ratio(summary['gross_leverage'])}")
    print(f"  net leverage (extra 社零 caused within the horizon ÷ outlay): {_ratio(summary['net_leverage'])}")
    ends = summary.get("payback_end_dates") or [summary["payback_end_date"]]
    until = ends[0] if len(ends) == 1 else f"{ends[0]} to {ends[-1]}, each replication to its own"
    print(f"  net leverage with payback (to {until}):    "
          f"{_ratio(summary['net_leverage_with_payback'])}")
    tools = summary["tools"]
    if len(tools) > 1 and not any("uplift" in tool for tool in tools.values()):
        print(f"  each tool's own extra 社零: not computed (add --tool-breakdown: {len(tools)} more simulations per "
              "replication, each tool alone against the same counterfactual)")
    for name, tool in tools.items():
        line = f"    {name} [{tool['kind']}]: outlay {_wan(tool['outlay'])}"
        if "uplift" in tool:
            line += f", extra 社零 {_wan(tool['uplift'])}, net leverage {_ratio(tool.get('net_leverage'))}"
        exhausted = tool.get("budget_exhausted_date")
        if exhausted:
            line += f", budget ran out {exhausted}"
        print(line)
    targets = summary.get("targets", {})
    out_of_scope = [name for name, t in targets.items() if t["indicator"] == "out_of_scope"]
    for name, t in targets.items():
        if name in out_of_scope:
            continue
        title = ""
        if scenario is not None:
            table = scenario.raw.get("targets", {}).get(name, {})
            title = table.get("title_en") or table.get("title") or ""
        meaning = TARGET_MEANING.get(t["indicator"], t["indicator"])
        ind = t["indicator"]
        print(f"  target {name}{f' ({title})' if title else ''}: {meaning} {_target_value(ind, t.get('target'))}")
        print(f"    simulated: {_target_estimate(ind, t.get('policy'))} with the plan, "
              f"{_target_estimate(ind, t.get('baseline'))} without")
        print(f"    met: with the plan {_probability(t.get('met'), reps)}; "
              f"without {_probability(t.get('met_without_policy'), reps)}; "
              f"the plan adds {_pp(t.get('contribution_pp'))}")
    if out_of_scope:
        if len(out_of_scope) == len(targets):
            print(f"  no target can be evaluated: all {len(out_of_scope)} are outside the model's scope (see summary.json)")
        else:
            print(f"  targets outside the model's scope (see summary.json): {', '.join(out_of_scope)}")
    if "intervals_cover" in summary:
        print(f"  intervals cover {summary['intervals_cover']}")
    print(f"  written to {out_dir} (README.md there describes every file and column)")


def load_with_warnings(path: str):
    """Load a scenario (``FILE`` or ``FILE#VARIANT``), printing a warning that lists any number without a source."""
    file, _, variant = str(path).partition("#")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario = load_scenario(file, variant=variant or None)
    if scenario.unsourced:
        print(f"warning: {path}: {len(scenario.unsourced)} number(s) have no source or assumption: "
              + ", ".join(scenario.unsourced), file=sys.stderr)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return scenario


def command_run(args: argparse.Namespace) -> int:
    from model.runner import run_scenario

    if args.out:
        check_output_folder(args.out)  # a bad --out fails before the scenario is even read
    scenario = dataclasses.replace(load_with_warnings(args.scenario), behaviour_choice=args.behaviour)
    check_scale(args.scale, scenario.city.households, scenario.name)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out) if args.out else PROJECT_ROOT / "results" / f"{scenario.name.replace('/', '-')}-{stamp}"
    with claim_output_folder(out_dir) as folder:  # checked and locked before the simulation
        if not args.quiet:
            from model.runner import runs_per_replication

            per = runs_per_replication(scenario, args.tool_breakdown)
            what = "the plan and its no-policy counterfactual" + (
                f", and each of its {len(scenario.tools)} tools alone" if per > 2 else "")
            from model.simulation import prior_period_days, replication_plans

            # Every simulation runs past the horizon to the payback end, so the bar counts those days too; the
            # payback end depends on each replication's behaviour, so the days differ between replications.
            prior = prior_period_days(scenario)
            plans = replication_plans(scenario, args.replications, args.tool_breakdown)
            ends = sorted({p.payback_end for p in plans})
            spans = sorted({(end - scenario.start).days + 1 for end in ends})
            days = f"{spans[0]}" if len(spans) == 1 else f"{spans[0]} to {spans[-1]}"
            until = f"{ends[0]}" if len(ends) == 1 else f"{ends[0]} to {ends[-1]}, by each replication's behaviour"
            total = sum(p.days for p in plans)
            before = (f", plus {prior} days before the horizon (no policy) for the prior period growth targets "
                      "are judged against" if prior else "")
            print(f"{scenario.title}: {args.replications} replication(s) x {per} simulations ({what}) = "
                  f"{args.replications * per} simulations of {days} days ({scenario.days} in the plan's horizon, "
                  f"then to {until} for what is paid back after it){before}; the progress bar counts "
                  f"simulated days ({total:,})", file=sys.stderr)
        result = run_scenario(scenario, scale=args.scale, seed=args.seed, replications=args.replications,
                              tool_breakdown=args.tool_breakdown, progress=not args.quiet,
                              workers=args.workers)
        written = result.write(folder)
    print_summary(result.summary, written, scenario)
    return 0


def register(sub) -> None:
    """Add the `run` command."""
    p = sub.add_parser("run", help="run a scenario against its no-policy counterfactual")
    p.add_argument("scenario", help="scenario file (TOML), e.g. scenarios/examples/small_city.toml, or FILE#VARIANT "
                                    "for a [variants.VARIANT] table in it")
    p.add_argument("--scale", type=positive_fraction, default=DEFAULT_SCALE,
                   help=f"share of households simulated, outputs weighted to city size (default {DEFAULT_SCALE}); "
                        "at least 300 households must be sampled")
    p.add_argument("--seed", type=seed_arg, default=0, help="root random seed, 0 to 2**63-1 (default 0)")
    p.add_argument("--replications", type=positive_int, default=DEFAULT_REPLICATIONS,
                   help=f"independent replications (default {DEFAULT_REPLICATIONS}: every figure with a 90%% interval)")
    p.add_argument("--out", help="output folder (default results/<scenario>-<timestamp>/)")
    p.add_argument("--tool-breakdown", action=argparse.BooleanOptionalAction, default=False,
                   help="also run each tool alone against the same counterfactual, for each tool's own extra 社零 "
                        "(one more simulation per tool and replication; default off)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_behaviour_argument(p)
    add_workers_argument(p)
    p.set_defaults(func=command_run)
