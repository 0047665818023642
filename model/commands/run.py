"""`run.py run SCENARIO`: run a scenario against its no-policy counterfactual and write the results."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import warnings
from pathlib import Path

from model.commands import PROJECT_ROOT, CommandError, positive_fraction, positive_int
from model.scenario import load_scenario

DEFAULT_SCALE = 0.05


def _figure(value) -> float | None:
    if isinstance(value, dict):
        return value.get("mean")
    return value


def _yi(value) -> str:
    v = _figure(value)
    return "—" if v is None else f"{v / 1e8:,.3f} 亿元"


def _interval(value) -> str:
    if isinstance(value, dict) and "p05" in value:
        return f"  (90%: {value['p05'] / 1e8:,.3f} to {value['p95'] / 1e8:,.3f})"
    return ""


def _ratio(value) -> str:
    v = _figure(value)
    return "—" if v is None else f"{v:,.2f}"


def print_summary(summary: dict, out_dir: Path) -> None:
    """A short human-readable summary of a run."""
    print(f"\n{summary['title']}  {summary['start_date']} to {summary['end_date']}"
          f"  scale {summary['scale']}  seed {summary['seed']}  replications {summary['replications']}")
    print(f"  社零 without policy (retail_sales_baseline): {_yi(summary['retail_sales_baseline'])}")
    print(f"  社零 with policy    (retail_sales_policy):   {_yi(summary['retail_sales_policy'])}")
    print(f"  extra 社零          (retail_sales_uplift):   {_yi(summary['retail_sales_uplift'])}"
          f"{_interval(summary['retail_sales_uplift'])}")
    print(f"  government outlay   (government_outlay):     {_yi(summary['government_outlay'])}")
    print(f"  gross leverage 拉动比 (voucher/subsidy transactions ÷ outlay): {_ratio(summary['gross_leverage'])}")
    print(f"  net leverage (extra 社零 caused ÷ outlay):                    {_ratio(summary['net_leverage'])}")
    for name, tool in summary["tools"].items():
        line = f"    {name} [{tool['kind']}]: outlay {_yi(tool['outlay'])}"
        if "uplift" in tool:
            line += f", uplift {_yi(tool['uplift'])}, net leverage {_ratio(tool.get('net_leverage'))}"
        exhausted = tool.get("budget_exhausted_date")
        if exhausted:
            line += f", budget ran out {exhausted}"
        print(line)
    out_of_scope = [name for name, t in summary.get("targets", {}).items() if t["indicator"] == "out_of_scope"]
    for name, t in summary.get("targets", {}).items():
        if name in out_of_scope:
            continue
        met = t.get("met")
        if isinstance(met, dict):
            met = f"probability {met['probability']:.2f}"
        print(f"  target {name} ({t['indicator']}): target {t.get('target')}, simulated {_figure(t.get('policy'))}, met: {met}")
    if out_of_scope:
        print(f"  targets outside the model's scope (see summary.json): {', '.join(out_of_scope)}")
    print(f"  written to {out_dir}")


def load_with_warnings(path: str):
    """Load a scenario, printing a warning that lists any number without a source."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario = load_scenario(path)
    if scenario.unsourced:
        print(f"warning: {path}: {len(scenario.unsourced)} number(s) have no source or assumption: "
              + ", ".join(scenario.unsourced), file=sys.stderr)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return scenario


def command_run(args: argparse.Namespace) -> int:
    from model.runner import run_scenario

    scenario = load_with_warnings(args.scenario)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out) if args.out else PROJECT_ROOT / "results" / f"{scenario.name}-{stamp}"
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise CommandError(f"{out_dir}: output folder exists and is not empty; choose another --out")
    result = run_scenario(scenario, scale=args.scale, seed=args.seed, replications=args.replications,
                          tool_breakdown=not args.no_tool_breakdown, progress=not args.quiet)
    written = result.write(out_dir)
    print_summary(result.summary, written)
    return 0


def register(sub) -> None:
    """Add the `run` command."""
    p = sub.add_parser("run", help="run a scenario against its no-policy counterfactual")
    p.add_argument("scenario", help="scenario file (TOML), e.g. scenarios/examples/small_city.toml")
    p.add_argument("--scale", type=positive_fraction, default=DEFAULT_SCALE,
                   help=f"share of households simulated, outputs weighted to city size (default {DEFAULT_SCALE})")
    p.add_argument("--seed", type=int, default=0, help="root random seed (default 0)")
    p.add_argument("--replications", type=positive_int, default=1, help="independent replications (default 1)")
    p.add_argument("--out", help="output folder (default results/<scenario>-<timestamp>/)")
    p.add_argument("--no-tool-breakdown", action="store_true",
                   help="skip the extra runs that give each tool its own uplift")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=command_run)
