"""`run.py sweep SWEEP_FILE`: run a sweep's replications over its design points, locally or on a Dask cluster.

    python run.py sweep scenarios/sweeps/small_city_grid.toml             # local pool, one process per core
    python run.py sweep FILE --scheduler tcp://HOST:8786                  # an existing Dask cluster
    python run.py sweep FILE --rerun 17                                   # re-run one row exactly, compare
    python run.py sweep FILE --analyse                                    # then Sobol/Morris indices

Rows stream into ``results/sweeps/<name>/runs/`` (Parquet) as runs finish.
Stop it at any time (Ctrl-C); the same command resumes and skips finished
runs. A run whose model raised an error is recorded with it, and the command
then exits with status 1; ``--retry-failed`` runs those again. A run lost with
a Dask worker (the worker died or left) is not an error of the run: it is
submitted again. The sweep file format is described in ``model/sweeps/__init__.py``.

A Dask cluster on one machine, reachable only from it (every listener bound
to 127.0.0.1; give another interface's address to reach it from a network you trust):

    cd PROJECT && PYTHONPATH=. dask scheduler --host 127.0.0.1 --port 8786 --dashboard-address 127.0.0.1:8787
    cd PROJECT && PYTHONPATH=. dask worker tcp://127.0.0.1:8786 --host 127.0.0.1 --dashboard-address 127.0.0.1:0 --nworkers 2 --nthreads 1
    python run.py sweep FILE --scheduler tcp://127.0.0.1:8786

Dask's scheduler and workers run whatever code their clients send: never bind
them to an interface that untrusted machines can reach.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

from model.commands import CommandError, non_negative_int, positive_int, positive_number


def _number(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.6g}" if isinstance(value, float) else str(value)


def _print_rerun(result, out=None) -> None:
    out = out or sys.stdout
    new = result.new
    print(f"run {result.run_id}: point {new['point']}, replication {new['replication']}, "
          f"seed SeedSequence({new['seed_entropy']}, spawn_key={tuple(new['seed_spawn_key'])})", file=out)
    for key, value in new.items():
        if key.startswith("param."):
            print(f"  {key[6:]} = {value}", file=out)
    if new["status"] != "ok":
        print(f"  error: {new['error']}", file=out)
    for o in result.outputs:
        line = f"  {o}: {_number(new[f'out.{o}'])}"
        if result.stored is not None:
            line += f"   (stored: {_number(result.stored[f'out.{o}'])})"
        print(line, file=out)
    if result.stored is None:
        print("  not yet in the results: ran from the design and the sweep's seed", file=out)
    else:
        print(f"  identical to the stored row: {'yes' if result.identical else 'NO'}", file=out)


def _behaviour_note(spec) -> str:
    """Which behaviour the sweep's replications ran: replication r of every point runs estimated set r."""
    from model.parameters import BehaviourParameters
    from model.parameters.ensemble import behaviour_for_replication
    from model.simulation import intervals_cover

    labels = [behaviour_for_replication(BehaviourParameters.default(), r)[1] for r in range(spec.replications)]
    return (f"replication r of every point ran the behaviour of replication r; intervals over replications cover "
            f"{intervals_cover(labels)} (behaviour parameters the sweep varies are its own)")


def command_sweep(args: argparse.Namespace) -> int:
    from model.sweeps import EngineError, SchedulerUnreachable, default_folder, load_sweep, rerun, run_sweep
    from model.sweeps.store import error_summary

    spec = load_sweep(args.sweep_file)
    folder = Path(args.out) if args.out else default_folder(spec)
    if args.rerun is not None:
        if not (folder / "sweep.json").is_file():
            raise CommandError(f"{folder}: no results of this sweep yet; run it first (or give --out)")
        result = rerun(folder, args.rerun)
        _print_rerun(result)
        return 0 if result.identical is not False else 1
    for f in spec.fields:
        if not f.note:
            print(f"warning: {spec.origin}: vary {f.path} gives no source or assumption for its range", file=sys.stderr)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # SALib's and scipy's sampler notes; the spec checks them
            report = run_sweep(spec, folder, scheduler=args.scheduler, workers=args.workers,
                               connect_timeout=args.connect_timeout, retry_failed=args.retry_failed,
                               max_runs=args.max_runs, progress=not args.quiet)
    except SchedulerUnreachable as exc:
        raise CommandError(f"--scheduler {args.scheduler}: {exc}") from None
    except EngineError as exc:
        raise CommandError(str(exc)) from None
    except KeyboardInterrupt:
        print(f"\nstopped: finished runs are saved in {folder}; run the same command to resume", file=sys.stderr)
        return 130
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if report.ran == 0 and report.complete:
        print(f"{spec.name}: all {report.runs_total} runs already in {folder}")
    else:
        rate = report.ran / report.seconds if report.seconds > 0 else 0.0
        print(f"{spec.name}: {report.ran} runs in {report.seconds:,.1f} s ({rate:,.2f} runs/s) on {report.engine}; "
              f"{report.already_done + report.ran} of {report.runs_total} done; results in {folder / 'runs'}")
    if not report.complete:
        print(f"  {report.runs_total - report.already_done - report.ran} runs left: run the same command to continue")
    print(f"  {_behaviour_note(spec)}")
    errors = error_summary(folder)
    if errors:
        failed = sum(n for _, n in errors)
        print(f"error: {failed} of {report.runs_total} runs failed ({report.failed} this time), {len(errors)} distinct "
              f"error(s); most common:", file=sys.stderr)
        for message, count in errors[:5]:
            print(f"    {count} x {message}", file=sys.stderr)
        print(f"  fix the cause, then run them again: python run.py sweep {args.sweep_file}"
              f"{f' --out {args.out}' if args.out else ''} --retry-failed", file=sys.stderr)
        return 1
    if not report.complete:
        return 0
    if args.analyse:
        from model.commands.sensitivity import analyse_and_report

        if spec.design not in ("sobol", "morris"):
            print(f"note: --analyse: sensitivity indices need a sobol or morris design; {spec.name} is {spec.design}")
            return 0

        return analyse_and_report(folder, None, None)
    return 0


def register(sub) -> None:
    """Add the `sweep` command."""
    p = sub.add_parser("sweep", help="run a sweep file's replications over its design (local pool or Dask)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sweep_file", help="sweep file (TOML), e.g. scenarios/sweeps/small_city_grid.toml")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786 "
                                                          "(default: a local process pool); start the scheduler "
                                                          "and workers bound to 127.0.0.1 or a trusted interface, "
                                                          "as shown above")
    p.add_argument("--workers", type=positive_int, help="local worker processes (default: one per core; 1 runs in "
                                                        "this process)")
    p.add_argument("--out", help="results folder (default results/sweeps/<name>/)")
    p.add_argument("--max-runs", type=positive_int, help="stop after this many runs (rerun to continue)")
    p.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    p.add_argument("--rerun", type=non_negative_int, metavar="RUN_ID", help="re-run one run in this process from its stored row "
                                                               "and compare its outputs")
    p.add_argument("--analyse", "--analyze", action="store_true", help="compute sensitivity indices when done "
                                                                       "(sobol and morris designs)")
    p.add_argument("--connect-timeout", type=positive_number("seconds"), default=10.0,
                   help="seconds to wait for the Dask scheduler and its workers (default 10)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=command_sweep)
