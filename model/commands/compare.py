"""`run.py compare` and `run.py report`: compare designs for one city; write a table, charts and a report.

    python run.py compare SCENARIO... [--replications R] [--scale F] [--seed N] [--target NAME | --no-target]
                                      [--lang zh|en] [--out DIR]
    python run.py report SCENARIO...  (same options; adds report.html and report.pdf)

SCENARIO is a file, or FILE#VARIANT for a [variants.VARIANT] table inside it;
one file alone compares its base design with all its variants.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from model.commands import PROJECT_ROOT, CommandError, positive_fraction, positive_int


def _run(args: argparse.Namespace, report: bool) -> int:
    import matplotlib.pyplot as plt

    from model.reporting.charts import all_charts
    from model.reporting.compare import comparison_table, load_designs, run_designs, table_markdown
    from model.reporting.fonts import FontError, use_cjk_font
    from model.reporting.report import prepare_folder, write_comparison, write_report

    try:
        use_cjk_font()
    except FontError as exc:
        raise CommandError(str(exc)) from None
    loaded = load_designs(args.scenarios)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else PROJECT_ROOT / "results" / f"{'report' if report else 'compare'}-{stamp}"
    # Check the folder before the runs, so a bad --out fails at once.
    probe = prepare_folder(out)
    probe.rmdir()
    need_target = not args.no_target
    designs = run_designs(loaded, scale=args.scale, seed=args.seed, replications=args.replications,
                          target=args.target, need_target=need_target, progress=not args.quiet)
    table = comparison_table(designs, args.target, need_target)
    charts = all_charts(designs, args.lang)
    written = (write_report if report else lambda o, d, t, c, lang: write_comparison(o, t, c))(
        out, designs, table, charts, args.lang)
    for fig in charts.values():
        plt.close(fig)
    print(table_markdown(table))
    print(f"written to {written}")
    return 0


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenarios", nargs="+", help="scenario files, or FILE#VARIANT")
    p.add_argument("--replications", type=positive_int, default=10, help="replications per design (default 10)")
    p.add_argument("--scale", type=positive_fraction, default=0.05, help="share of households simulated (default 0.05)")
    p.add_argument("--seed", type=int, default=0, help="root seed, shared by every design (default 0)")
    p.add_argument("--target", help="target to judge the designs by (default: each design's last evaluable target)")
    p.add_argument("--no-target", action="store_true", help="leave out the target column")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="chart language (default zh)")
    p.add_argument("--out", help="output folder (default results/compare-<timestamp>/ or results/report-<timestamp>/)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def register(sub) -> None:
    """Add the `compare` and `report` commands."""
    p = sub.add_parser("compare", help="compare designs for one city: table (CSV, Markdown) and charts")
    _options(p)
    p.set_defaults(func=lambda a: _run(a, report=False))
    p = sub.add_parser("report", help="compare designs and write an HTML and PDF report for a budget proposal")
    _options(p)
    p.set_defaults(func=lambda a: _run(a, report=True))
