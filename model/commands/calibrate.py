"""`run.py calibrate CITY`: fit a city's household spending fields to its base-year statistics.

Writes ``calibration/fitted/<city>.toml`` (the fitted [city] fields, which a
scenario loads with ``[scenario] calibration = "../calibration/fitted/<city>.toml"``)
and ``calibration/fitted/<city>-fit.csv`` (target, statistic, simulated, error,
source), and prints the table. See ``calibration/fit.py`` for the method.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.commands import PROJECT_ROOT, CommandError, check_scale, positive_fraction, positive_int, seed_arg
from model.output_folder import check_output_file


def display_path(path: Path) -> str:
    """A path as written in tables and fitted files: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def command_calibrate(args: argparse.Namespace) -> int:
    from calibration.fit import (CalibrationError, FITTED_DIR, base_year_targets, city_scenario_path, fit_city,
                                 format_table, read_raw_scenario, write_result)
    from calibration.statistics import STATISTICS_FILE, StatisticsError, cities, read_statistics
    from model.scenario import scenario_from_dict

    city_key = args.city.lower()
    try:
        path = Path(args.scenario) if args.scenario else city_scenario_path(city_key)
        statistics = read_statistics(Path(args.statistics) if args.statistics else STATISTICS_FILE)
    except (CalibrationError, StatisticsError) as exc:
        raise CommandError(str(exc)) from None
    if city_key not in cities(statistics):
        known = ", ".join(c for c in cities(statistics) if c != "china")
        raise CommandError(f"no statistics for city {city_key!r} in {args.statistics or STATISTICS_FILE}; "
                           f"cities there: {known}")
    raw = read_raw_scenario(path)
    origin = display_path(path)
    scenario = scenario_from_dict(raw, origin)
    if args.scale is not None:
        check_scale(args.scale, scenario.city.households, scenario.name)
    out_dir = Path(args.out_dir) if args.out_dir else FITTED_DIR
    check_output_file(out_dir / f"{city_key}.toml", "--out-dir", replace=True)  # before the fitting runs
    targets, notes = base_year_targets(city_key, scenario, statistics)
    if not targets:
        raise CommandError(f"no base-year ({scenario.city.base_year}) statistics for {city_key}: " + "; ".join(notes))
    quiet = args.quiet

    def progress(line: str) -> None:
        if not quiet:
            print(line, file=sys.stderr, flush=True)

    if not quiet:
        print(f"calibrating {city_key} to {len(targets)} base-year statistics ({scenario.city.base_year})",
              file=sys.stderr)
    try:
        result = fit_city(raw, targets, city_key=city_key, origin=origin, seed=args.seed, scale=args.scale,
                          replications=args.replications, progress=progress)
    except CalibrationError as exc:
        raise CommandError(str(exc)) from None
    result.notes[:0] = notes
    toml_path, csv_path = write_result(result, out_dir)
    print(format_table(result))
    print(f"  wrote {toml_path} and {csv_path}")
    if not result.converged:
        print("warning: some statistics are not reproduced within tolerance (MISS above); see the notes",
              file=sys.stderr)
        return 1
    return 0


def register(sub) -> None:
    """Add the `calibrate` command."""
    p = sub.add_parser("calibrate", help="fit a city's spending fields so the no-policy run reproduces its base-year statistics")
    p.add_argument("city", help="city key: lhasa, diqing, tianjin, pingliang or guangyuan")
    p.add_argument("--scenario", help="scenario file (default scenarios/CITY.toml)")
    p.add_argument("--statistics", help="statistics CSV (default calibration/data/city_statistics.csv)")
    p.add_argument("--out-dir", help="folder for CITY.toml and CITY-fit.csv (default calibration/fitted/)")
    p.add_argument("--seed", type=seed_arg, default=0, help="root seed of the fitting runs (default 0)")
    p.add_argument("--replications", type=positive_int, default=3,
                   help="replications averaged per evaluation (default 3; the check uses the next 3)")
    p.add_argument("--scale", type=positive_fraction, default=None,
                   help="share of households simulated (default: about 40,000 households)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=command_calibrate)
