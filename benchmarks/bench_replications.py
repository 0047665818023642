"""Benchmark: what many replications of one design cost (issue 12).

Prints, for Pingliang (``scenarios/pingliang.toml``, no per-tool breakdown, as compare, target and the
dashboard run it), the cost per replication-day at batch sizes 1, 8, 32 and 128 and scales 0.005, 0.05
and 0.5, the ratio of 32 replications to one at scale 0.05 (issue 12's target: at most 4x), a dashboard
update (8 replications at about 20,000 households, Pingliang and Tianjin), the machine's load and the
date. A replication-day is one simulated calendar day of one replication: a replication simulates the
plan, its no-policy counterfactual and, for growth targets, the prior period, so Pingliang's replication
is 731 + 731 + 365 = 1,827 simulated days.

A combination whose estimated time (replications x the time of one) exceeds ``--cap`` seconds is
skipped and the table says so; ``--all`` runs every one. ``--profile`` runs cProfile over one batch
instead and prints where the time goes: top entries by cumulative and by own time, and own time summed
by file. Run:

    python benchmarks/bench_replications.py [--workers N] [--cap 180] [--all]
    python benchmarks/bench_replications.py --profile [--scale 0.05] [--replications 1]
    python benchmarks/bench_replications.py --scales 0.005 0.05 --batches 1   # single cells, with CPU time
    python benchmarks/bench_replications.py --dashboard-only   # the two dashboard updates only
    python benchmarks/bench_replications.py --compare-only     # three Pingliang designs, as compare runs them

Record the result in BENCHMARKS.md with the command, the date and the load printed.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import inspect
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.runner import run_scenario  # noqa: E402
from model.scenario import Scenario, load_scenario  # noqa: E402

BATCHES = (1, 8, 32, 128)
SCALES = (0.005, 0.05, 0.5)
RATIO_SCALE = 0.05
RATIO_BATCH = 32
DASHBOARD_CITIES = ("pingliang", "tianjin")
DASHBOARD_HOUSEHOLDS = 20_000
DASHBOARD_REPLICATIONS = 8
COMPARE_VARIANTS = (None, "rewards_on_top", "no_merchant_cap")
COMPARE_REPLICATIONS = 8
COMPARE_SCALE = 0.02


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes) and its cores, as printed with every figure."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def replication_days(scenario: Scenario, replications: int = 1) -> int:
    """Simulated days of the first ``replications`` replications without the per-tool breakdown (plan,
    counterfactual, prior period), each with the behaviour it runs: the payback end, hence the days, depends on
    it (before 2026-12-02 the documented behaviour's 1,827 days a replication were counted for every one, while
    Pingliang's replication 0 simulates 2,211, so figures per replication-day were about 1.2x too high)."""
    from model.simulation import replication_plans

    return sum(p.days for p in replication_plans(scenario, replications, False))


def run_kwargs(workers: int | None) -> dict:
    """``workers`` for run_scenario when it takes one (so the script also times code from before it did)."""
    if workers is None or "workers" not in inspect.signature(run_scenario).parameters:
        return {}
    return {"workers": workers}


def expected_workers(replications: int, workers: int | None) -> int:
    """Worker processes a batch will use (1 for code from before workers existed)."""
    if not run_kwargs(workers):
        return 1
    from model.runner import default_workers

    return min(workers or default_workers(replications), replications)


def _cache_clearer():
    """``counterfactual_cache.clear`` where the code has the cache (issue 12), else None (older code)."""
    try:
        from model import counterfactual_cache
    except ImportError:
        return None
    return getattr(counterfactual_cache, "clear", None)


def timed(scenario: Scenario, scale: float, replications: int, seed: int, workers: int | None) -> tuple[float, int]:
    """Wall time of ``run_scenario`` for one batch (summaries and daily tables included, nothing written), and
    the worker processes it used. A pool of workers is started before the clock starts, as a dashboard or a
    compare over several designs has it running already. The CPU time of this process is kept in
    ``timed.cpu_seconds`` (the whole batch's when it ran in this process)."""
    kwargs = run_kwargs(workers)
    clear = _cache_clearer()
    if clear is not None:  # a batch must simulate every replication, not reuse an earlier batch's counterfactuals
        clear()
    if kwargs and (workers or 2) > 1 and replications > 1:
        from model.runner import ReplicationPool, default_workers

        pool = ReplicationPool.shared(min(workers or default_workers(replications), replications))
        pool.warm()
        if clear is not None:
            pool.each_worker(clear)
    started, cpu = time.perf_counter(), time.process_time()
    result = run_scenario(scenario, scale=scale, seed=seed, replications=replications, tool_breakdown=False, **kwargs)
    timed.cpu_seconds = time.process_time() - cpu
    return time.perf_counter() - started, result.manifest.get("workers", 1)


def cost_table(scenario: Scenario, args) -> dict[tuple[float, int], float]:
    """Time every (scale, batch) the cap allows; print a row per scale as it finishes."""
    days = replication_days(scenario)
    measured: dict[tuple[float, int], float] = {}
    print(f"\nCost per replication-day, {scenario.name}, no per-tool breakdown, {days:,} simulated days in replication "
          f"0 (plan, counterfactual, prior period; each replication's own behaviour sets its days), workers "
          f"{args.workers or 'default'}")
    print("ms per replication-day = wall time / (replications x simulated days); in brackets the batch's wall time "
          "and the worker processes it used")
    print(f"{'scale':>7} {'households':>11} | " + " | ".join(f"{b:>18}" for b in args.batches) + " | load (1/5/15 min)")
    skipped = []
    cpu = []
    for scale in args.scales:
        cells = []
        one = None
        for batch in args.batches:
            must = (scale, batch) in ((RATIO_SCALE, 1), (RATIO_SCALE, RATIO_BATCH)) or batch == 1
            estimate = None if one is None else one * batch / expected_workers(batch, args.workers)
            if not (args.all or must) and estimate is not None and estimate > args.cap:
                cells.append(f"{'skipped':>18}")
                skipped.append(f"scale {scale} x {batch} (about {estimate:,.0f} s)")
                continue
            seconds, used = timed(scenario, scale, batch, args.seed, args.workers)
            if batch == 1:
                one = seconds
            if used == 1:
                cpu.append(f"scale {scale} x {batch}: {timed.cpu_seconds:.2f} s")
            measured[(scale, batch)] = seconds
            cells.append(f"{1e3 * seconds / replication_days(scenario, batch):>6.3f} ({seconds:>6.1f} s, {used}w)")
        rows = round(scenario.city.households * scale)
        print(f"{scale:>7} {rows:>11,} | " + " | ".join(cells) + f" | {load()}", flush=True)
    if skipped:
        print(f"skipped (estimated above --cap {args.cap:g} s; --all runs them): " + "; ".join(skipped))
    if cpu:
        print("CPU time of the batches run in this process (the fair figure on a shared machine): " + "; ".join(cpu))
    return measured


def pool_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of the shared pools' live worker processes so far."""
    from model.runner import ReplicationPool

    total = time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    for pool in list(ReplicationPool._shared.values()):
        executors = getattr(pool, "_executors", None) or [pool._executor]  # one executor before issue 12's affinity
        for executor in executors:
            for pid in list((getattr(executor, "_processes", None) or {}).keys()):
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def dashboard_updates(args) -> None:
    """Dashboard updates as the page makes them: the design run with its replications at ~20,000 households,
    then the same design with its first tool's budget 10% higher (a planner moving a slider)."""
    from model.dashboard import state

    print(f"\nDashboard update: {DASHBOARD_REPLICATIONS} replications at about {DASHBOARD_HOUSEHOLDS:,} households "
          f"(model/dashboard/state.py run_design; issue 12 target: under 2 s Pingliang, under 4 s Tianjin); the next "
          f"update changes the first tool's budget by 10%. CPU: this process and its worker processes")
    for city in DASHBOARD_CITIES:
        path = f"scenarios/{city}.toml"
        scenario = load_scenario(ROOT / path)
        scale = state.scale_for(scenario.city.households, DASHBOARD_HOUSEHOLDS)
        tool = next(iter(scenario.tools))
        overrides = {f"tools.{tool}.budget_yuan": scenario.tools[tool].budget_yuan * 1.1}
        designs = [(scenario, state.Settings(path, None, (), scale, state.DEFAULT_SEED, DASHBOARD_REPLICATIONS)),
                   (state.apply_overrides(scenario, overrides),
                    state.Settings(path, None, tuple(overrides.items()), scale, state.DEFAULT_SEED,
                                   DASHBOARD_REPLICATIONS))]
        times, cpus = [], []
        for design, settings in designs:  # the first update of a page also starts its worker processes
            started, cpu = time.perf_counter(), pool_cpu_seconds()
            result = state.run_design(design, settings)
            times.append(time.perf_counter() - started)
            cpus.append(pool_cpu_seconds() - cpu)
        print(f"  {city}: scale {scale:g} ({result.households_simulated:,} households), "
              f"{replication_days(scenario, DASHBOARD_REPLICATIONS):,} simulated days in {DASHBOARD_REPLICATIONS} replications: first update {times[0]:.1f} s "
              f"(CPU {cpus[0]:.1f} s), next ({tool} budget x1.1) {times[1]:.1f} s (CPU {cpus[1]:.1f} s)"
              f"  | load {load()}", flush=True)


def compare_designs(args) -> None:
    """Three Pingliang designs one after another, as ``run.py compare`` runs them: each design's wall and CPU
    time (this process and its workers; the pool started before the clock)."""
    from model.runner import ReplicationPool, default_workers

    replications = COMPARE_REPLICATIONS
    workers = min(args.workers or default_workers(replications), replications)
    print(f"\nCompare: Pingliang and its variants {', '.join(COMPARE_VARIANTS[1:])}, {replications} replications at "
          f"scale {COMPARE_SCALE}, {workers} worker(s), no per-tool breakdown")
    if workers > 1:
        ReplicationPool.shared(workers).warm()
    for variant in COMPARE_VARIANTS:
        design = load_scenario(ROOT / "scenarios/pingliang.toml", variant=variant)
        started, cpu = time.perf_counter(), pool_cpu_seconds()
        run_scenario(design, scale=COMPARE_SCALE, seed=args.seed, replications=replications, tool_breakdown=False,
                     **run_kwargs(workers))
        print(f"  {design.name}: {time.perf_counter() - started:.1f} s, CPU {pool_cpu_seconds() - cpu:.1f} s"
              f"  | load {load()}", flush=True)


def profile(scenario: Scenario, args) -> None:
    """cProfile one batch and print where the time goes."""
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    run_scenario(scenario, scale=args.scale, seed=args.seed, replications=args.replications, tool_breakdown=False,
                 **run_kwargs(1))  # one process: a profile of worker processes would show only the waiting
    profiler.disable()
    seconds = time.perf_counter() - started
    days = replication_days(scenario, args.replications)
    print(f"\nProfile: {scenario.name} at scale {args.scale}, {args.replications} replication(s), one process, "
          f"{days:,} simulated days: {seconds:.2f} s under the profiler ({1e3 * seconds / days:.3f} ms a day) "
          f"| load {load()}")
    stats = pstats.Stats(profiler)
    for order, title in (("cumulative", "cumulative time (a function and what it calls)"),
                         ("tottime", "own time (in the function itself)")):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(order).print_stats(args.top)
        body = text.getvalue()
        print(f"\nTop {args.top} by {title}:")
        print(body[body.index("   ncalls"):].rstrip())
    by_file: dict[str, float] = {}
    for (file, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        path = Path(file)
        if file == "~":
            key = "built-in calls (numpy's C methods and ufuncs, Python built-ins)"
        elif path.is_relative_to(ROOT):
            key = str(path.relative_to(ROOT))
        else:
            key = "numpy (Python-level)" if "numpy" in file else "Python library and other packages"
        by_file[key] = by_file.get(key, 0.0) + own
    total = sum(by_file.values())
    print("\nOwn time by file (a C call's time is its own line, not its caller's):")
    for key, own in sorted(by_file.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {own:7.2f} s  {100 * own / total:5.1f}%  {key}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/pingliang.toml", help="scenario file (default Pingliang)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes for replications (default: run_scenario's own default)")
    parser.add_argument("--cap", type=float, default=180.0,
                        help="skip a combination estimated to take longer than this many seconds (default 180)")
    parser.add_argument("--all", action="store_true", help="run every combination, however long")
    parser.add_argument("--no-dashboard", action="store_true", help="skip the dashboard-update timings")
    parser.add_argument("--dashboard-only", action="store_true", help="only the dashboard-update timings")
    parser.add_argument("--compare-only", action="store_true",
                        help="only three Pingliang designs run one after another, as compare runs them")
    parser.add_argument("--profile", action="store_true", help="profile one batch instead of the table")
    parser.add_argument("--scale", type=float, default=RATIO_SCALE, help="--profile: scale (default 0.05)")
    parser.add_argument("--replications", type=int, default=1, help="--profile: replications (default 1)")
    parser.add_argument("--top", type=int, default=25, help="--profile: entries per list (default 25)")
    parser.add_argument("--scales", type=float, nargs="+", default=SCALES,
                        help="the table's scales (default: all; with --batches, e.g. '--scales 0.005 --batches 1' "
                             "times one cell, without the 32-vs-1 ratio)")
    parser.add_argument("--batches", type=int, nargs="+", default=BATCHES, help="the table's batch sizes (default: all)")
    args = parser.parse_args()
    partial = tuple(args.scales) != SCALES or tuple(args.batches) != BATCHES
    scenario = load_scenario(ROOT / args.scenario)
    print(f"bench_replications: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load {load()}, "
          f"python {sys.version.split()[0]}")
    if args.profile:
        profile(scenario, args)
        return 0
    if args.compare_only:
        compare_designs(args)
        return 0
    if args.dashboard_only:
        dashboard_updates(args)
        print(f"\nfinished {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load {load()}")
        return 0
    measured = cost_table(scenario, args)
    if (RATIO_SCALE, 1) in measured and (RATIO_SCALE, RATIO_BATCH) in measured:
        one, many = measured[(RATIO_SCALE, 1)], measured[(RATIO_SCALE, RATIO_BATCH)]
        print(f"\n{RATIO_BATCH} replications vs 1 at scale {RATIO_SCALE}: {many:.1f} s / {one:.2f} s = "
              f"{many / one:.1f}x (issue 12 target: at most 4x)")
    if not (args.no_dashboard or partial):
        dashboard_updates(args)
    print(f"\nfinished {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
