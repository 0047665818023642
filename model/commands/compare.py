"""`run.py compare` and `run.py report`: compare designs for one city; write a table, charts and a report.

    python run.py compare SCENARIO... [--replications R] [--scale F] [--seed N] [--target NAME | --no-target]
                                      [--lang zh|en] [--formats png,svg,pdf] [--out DIR]
    python run.py report SCENARIO...  (same options; adds report.html and report.pdf)

SCENARIO is a file, or FILE#VARIANT for a [variants.VARIANT] table inside it;
one file alone compares its base design with all its variants. Everything is
checked (files, cities, targets, fonts, the output folder) before anything runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from pathlib import Path

from model.commands import (PROJECT_ROOT, CommandError, add_behaviour_argument, add_workers_argument, check_scale,
                            positive_fraction, positive_int, seed_arg)
from model.output_folder import OutputFolderError, check_output_folder

FORMATS = ("png", "svg", "pdf")


def _formats(text: str) -> tuple[str, ...]:
    """argparse type: a comma-separated subset of png, svg, pdf."""
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise argparse.ArgumentTypeError(f"expected some of {', '.join(FORMATS)} separated by commas, got {text!r}")
    return chosen


def _run(args: argparse.Namespace, report: bool) -> int:
    import matplotlib.pyplot as plt

    from model.reporting import report as writer
    from model.reporting.charts import all_charts
    from model.reporting.compare import check_targets, comparison_table, load_designs, parse_designs, run_designs, text_table
    from model.reporting.proposal import judged_target
    from model.reporting.fonts import FontError, use_fonts

    try:
        use_fonts(args.lang)
    except FontError as exc:
        raise CommandError(str(exc)) from None
    if args.out:
        check_output_folder(args.out)
    loaded = [(label, dataclasses.replace(s, behaviour_choice=args.behaviour)) for label, s in load_designs(args.scenarios)]
    for _, scenario in loaded:
        check_scale(args.scale, scenario.city.households, scenario.name)
    need_target = not args.no_target
    if report and need_target and args.target is None and not any(
            t.indicator != "out_of_scope" for _, s in loaded for t in s.targets.values()):
        # A plan whose targets are all outside the model's scope: the report says so instead of refusing.
        need_target = False
    if need_target:
        check_targets(loaded, args.target)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else PROJECT_ROOT / "results" / f"{'report' if report else 'compare'}-{stamp}"
    # Check the folder before the runs, so a bad --out fails at once (writing it is atomic, model/output_folder.py).
    check_output_folder(out)
    if not args.quiet:
        print(header(loaded, args.replications, args.scale, report), file=sys.stderr)
    designs = run_designs(loaded, scale=args.scale, seed=args.seed, replications=args.replications,
                          target=args.target, need_target=need_target, progress=not args.quiet,
                          sources=parse_designs(args.scenarios), workers=args.workers)
    charts: dict = {}
    try:
        table = comparison_table(designs, args.target, need_target)
        charts = all_charts(designs, args.lang, target=args.target, show_target=need_target)
        if report:
            target = judged_target(designs, args.target) if need_target else None
            written = writer.write_report(out, designs, table, charts, args.lang, target)
        else:
            written = writer.write_comparison(out, table, charts, designs, args.lang, args.formats)
    except (writer.ReportError, OutputFolderError):
        raise  # the report's own message; or --out filled by another run meanwhile (nothing of it is touched)
    except FontError as exc:
        kept = writer.keep_runs(out, designs)
        raise CommandError(f"{exc}; the runs are saved in {kept}") from None
    except Exception as exc:
        kept = writer.keep_runs(out, designs) if not out.exists() else out
        raise CommandError(f"writing failed ({type(exc).__name__}: {exc}); the runs are saved in {kept}") from exc
    finally:
        for fig in charts.values():
            plt.close(fig)
    print(text_table(table, args.lang))
    print(f"90% intervals cover {designs[0].result.summary.get('intervals_cover', 'sampling noise')}")
    print(f"written to {written}")
    return 0


def header(loaded, replications: int, scale: float, report: bool) -> str:
    """What is about to run: designs, simulations, and what the progress bars count."""
    from model.runner import runs_per_replication

    runs = sum(runs_per_replication(s, False) * replications for _, s in loaded)
    names = ", ".join(label for label, _ in loaded)
    return (f"{'report' if report else 'compare'}: {len(loaded)} design(s) [{names}], {replications} replication(s) "
            f"each at scale {scale}: {runs} simulations (each replication runs the design and its no-policy "
            "counterfactual); each progress bar counts simulated days of one design")


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenarios", nargs="+", help="scenario files, or FILE#VARIANT")
    p.add_argument("--replications", type=positive_int, default=10, help="replications per design (default 10)")
    p.add_argument("--scale", type=positive_fraction, default=0.05, help="share of households simulated (default 0.05)")
    p.add_argument("--seed", type=seed_arg, default=0, help="root seed, shared by every design (default 0)")
    add_behaviour_argument(p)
    add_workers_argument(p)
    p.add_argument("--target", help="target to judge the designs by (default: each design's last evaluable target, "
                                    "which must be the same for all)")
    p.add_argument("--no-target", action="store_true", help="leave out the target columns (for designs without a target)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of charts and tables (default zh)")
    p.add_argument("--out", help="output folder (default results/compare-<timestamp>/ or results/report-<timestamp>/)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def register(sub) -> None:
    """Add the `compare` and `report` commands."""
    p = sub.add_parser("compare", help="compare designs for one city: table (CSV, Markdown) and charts")
    _options(p)
    p.add_argument("--formats", type=_formats, default=FORMATS,
                   help="chart file formats, comma-separated (default png,svg,pdf)")
    p.set_defaults(func=lambda a: _run(a, report=False))
    p = sub.add_parser("report", help="compare designs and write an HTML and PDF report for a budget proposal")
    _options(p)
    p.set_defaults(func=lambda a: _run(a, report=True), formats=FORMATS)
