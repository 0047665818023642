"""`run.py target SCENARIO --tool NAME`: the smallest budget for a tool that meets the plan's target with probability P.

Prints the curve from budget to probability and writes it as CSV. See
``model/planning/target.py`` for the search.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from model.commands import (PROJECT_ROOT, CommandError, add_workers_argument, check_scale, positive_fraction,
                            positive_int, positive_number, seed_arg)
from model.output_folder import check_output_file


def probability_arg(text: str) -> float:
    """argparse type: a probability in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability such as 0.9, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1] (a probability of 0 is met by any budget, "
                                         f"one above 1 by none), got {text}")
    return value


def command_target(args: argparse.Namespace) -> int:
    from model.planning.target import TargetSearchError, curve_csv, find_budget, format_curve, raw_with_variant
    from calibration.fit import atomic_write
    from model.scenario import read_scenario_file

    raw = read_scenario_file(args.scenario)
    try:
        raw = raw_with_variant(raw, args.variant, args.scenario)
    except TargetSearchError as exc:
        raise CommandError(str(exc)) from None
    from model.scenario import scenario_from_dict

    scenario = scenario_from_dict(raw, args.scenario)
    check_scale(args.scale, scenario.city.households, scenario.name)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else PROJECT_ROOT / "results" / f"target-{Path(args.scenario).stem}-{args.tool}-{stamp}.csv"
    check_output_file(out)

    def progress(point) -> None:
        if not args.quiet:
            print(f"  budget {point.budget_yuan / 1e4:,.1f} 万元: met in {point.met} of {point.replications} "
                  f"replications ({point.purpose})", file=sys.stderr, flush=True)

    if not args.quiet:
        budgets = args.curve_points + 2
        print(f"target: the smallest budget of tool {args.tool} that meets the target with probability "
              f"{args.probability:.0%}; each budget tried runs {args.replications} replication(s) x 2 simulations "
              f"(the plan and its no-policy counterfactual) at scale {args.scale}: about {budgets} budgets for the "
              f"curve, then a bisection over {args.grid_steps} steps. This takes a while; one line per budget tried.",
              file=sys.stderr, flush=True)
    try:
        result = find_budget(raw, args.tool, origin=args.scenario, target=args.target, probability=args.probability,
                             max_budget=args.max_budget, grid_steps=args.grid_steps, replications=args.replications,
                             scale=args.scale, seed=args.seed, curve_points=args.curve_points, progress=progress,
                             workers=args.workers)
    except TargetSearchError as exc:
        raise CommandError(str(exc)) from None
    atomic_write(out, curve_csv(result))
    print(format_curve(result))
    from model.simulation import intervals_cover, replication_behaviour

    labels = [replication_behaviour(scenario, r)[1] for r in range(args.replications)]
    print(f"  probabilities and 90% intervals cover {intervals_cover(labels)}")
    print(f"  curve written to {out}")
    return 0


def register(sub) -> None:
    """Add the `target` command."""
    p = sub.add_parser("target", help="smallest budget for one tool that meets the plan's target with probability P")
    p.add_argument("scenario", help="scenario file (TOML)")
    p.add_argument("--tool", required=True, help="the tool whose budget varies (its [tools.NAME])")
    p.add_argument("--target", help="the target (needed when the scenario has several)")
    p.add_argument("--variant", help="run this [variants.NAME] of the scenario file")
    p.add_argument("--probability", type=probability_arg, default=0.9,
                   help="required probability of meeting the target across replications (default 0.9)")
    p.add_argument("--max-budget", type=positive_number("an amount in yuan"), default=None,
                   help="largest budget searched, yuan (default ten times the plan's budget for the tool)")
    p.add_argument("--grid-steps", type=positive_int, default=20,
                   help="budgets from 0 to the bound in this many equal steps; the answer is exact to one step (default 20)")
    p.add_argument("--curve-points", type=int, default=4,
                   help="evenly spaced budgets run besides 0 and the bound, for the curve (default 4)")
    p.add_argument("--replications", type=positive_int, default=20, help="replications per budget (default 20)")
    p.add_argument("--scale", type=positive_fraction, default=0.05, help="share of households simulated (default 0.05)")
    p.add_argument("--seed", type=seed_arg, default=0, help="root seed; every budget uses the same replications (default 0)")
    p.add_argument("--out", help="CSV file for the curve (default results/target-<scenario>-<tool>-<time>.csv)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    add_workers_argument(p)
    p.set_defaults(func=command_target)
