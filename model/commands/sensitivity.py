"""`run.py sensitivity RESULTS`: Sobol or Morris sensitivity indices of a finished sweep.

    python run.py sensitivity results/sweeps/small-city-vouchers-sobol
    python run.py sensitivity scenarios/sweeps/small_city_sobol.toml      # the sweep's default results folder
    python run.py sensitivity RESULTS --output net_leverage --out /tmp/s

Prints the indices, and saves ``sensitivity.csv``, ``sensitivity.json`` and
``sensitivity.png`` in the results folder (or ``--out``). A Sobol sweep gives
first-order and total indices with confidence intervals; a Morris sweep gives
mu*, mu and sigma. Outputs are averaged over each point's replications first.
See ``model/sensitivity.py``.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from model.commands import CommandError, positive_fraction, positive_int


def analyse_and_report(folder: Path, outputs: list[str] | None, out_dir: str | None, *, conf_level: float = 0.95,
                       resamples: int = 1000) -> int:
    """Analyse a results folder, print the indices and save them; returns the exit status."""
    from model import sensitivity

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SALib divides by zero variance on constant bootstrap draws
        result = sensitivity.analyse(folder, outputs, conf_level=conf_level, num_resamples=resamples)
    print(sensitivity.format_result(result))
    paths = sensitivity.write(result, out_dir)
    print("\n  saved " + ", ".join(str(p) for p in paths.values()))
    return 0


def command_sensitivity(args: argparse.Namespace) -> int:
    target = Path(args.results)
    if target.is_file() and target.suffix == ".toml":
        from model.sweeps import default_folder, load_sweep

        folder = default_folder(load_sweep(target))
    else:
        folder = target
    if not (folder / "sweep.json").is_file():
        raise CommandError(f"{folder}: not a sweep results folder (no sweep.json); run `python run.py sweep FILE` first")
    if args.conf_level >= 1:
        raise CommandError("--conf-level must be below 1")
    return analyse_and_report(folder, args.output, args.out, conf_level=args.conf_level, resamples=args.resamples)


def register(sub) -> None:
    """Add the `sensitivity` command."""
    p = sub.add_parser("sensitivity", help="Sobol or Morris sensitivity indices of a finished sweep",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="a sweep results folder, or a sweep file (its default results folder)")
    p.add_argument("--output", action="append", metavar="PATH", help="an output to analyse (repeatable; default all)")
    p.add_argument("--out", help="folder for sensitivity.csv/.json/.png (default: the results folder)")
    p.add_argument("--conf-level", type=positive_fraction, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--resamples", type=positive_int, default=1000, help="bootstrap resamples (default 1000)")
    p.set_defaults(func=command_sensitivity)
