"""Benchmark: throughput of a 1,000-run sweep, the local process pool against a Dask LocalCluster.

The sweep is a Latin hypercube over three voucher and behaviour fields of the
small example city, one quarter (April to June 2023) at scale 0.005, two
replications per point. Both engines get the same number of worker processes
(one per core, one thread each); the Dask cluster's scheduler and workers talk
over TCP on loopback. Reports wall time and runs per second of each (including
starting the workers, after the up-front checks), and checks that both gave
identical rows. Run:

    python benchmarks/bench_sweep.py [--runs 1000] [--scale 0.005] [--workers N]

Takes about two minutes on the 2-core machine. Record the result in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.sweeps import load_sweep, read_results, run_sweep  # noqa: E402
from model.sweeps.engines import DaskEngine, LocalPool, code_fingerprint, default_workers  # noqa: E402

SWEEP = """
[sweep]
name = "bench-sweep"
scenario = "{scenario}"
design = "latin_hypercube"
samples = {points}
replications = 2
scale = {scale}
seed = 1000
outputs = ["retail_sales_uplift", "government_outlay", "net_leverage"]

[fixed]
"scenario.start_date" = "2023-04-01"
"scenario.end_date" = "2023-06-30"
"tools.car_subsidy.end_date" = "2023-06-30"
"tools.night_allowance.end_date" = "2023-06-30"
"targets.retail_growth_2023.period" = "2023-04-01..2023-06-30"

[[vary]]
field = "tools.spring_vouchers.face_value_yuan"
range = [10, 30]
integer = true
assumption = "benchmark"

[[vary]]
field = "behaviour.voucher_attention_per_day"
range = [0.1, 0.4]
assumption = "benchmark"

[[vary]]
field = "behaviour.topup_value_share"
range = [0.3, 0.9]
assumption = "benchmark"
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs in the sweep (even; default 1000)")
    parser.add_argument("--scale", type=float, default=0.005, help="share of households simulated (default 0.005)")
    parser.add_argument("--workers", type=int, default=default_workers(), help="worker processes (default: one per core)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        tmp = Path(tmp)
        path = tmp / "bench.toml"
        path.write_text(SWEEP.format(scenario=(ROOT / "scenarios/examples/small_city.toml").as_posix(),
                                     points=args.runs // 2, scale=args.scale), encoding="utf-8")
        spec = load_sweep(path)
        timings = {}
        code_before = code_fingerprint()

        started = time.perf_counter()
        report = run_sweep(spec, tmp / "pool", engine=LocalPool(args.workers))
        timings["local pool"] = (time.perf_counter() - started, report)

        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, protocol="tcp",
                               host="127.0.0.1", dashboard_address=None)
        try:
            started = time.perf_counter()
            engine = DaskEngine(cluster.scheduler_address)
            try:
                report = run_sweep(spec, tmp / "dask", engine=engine)
            finally:
                engine.close()
            timings["Dask LocalCluster"] = (time.perf_counter() - started, report)
        finally:
            cluster.close()

        a = read_results(tmp / "pool").drop(columns=["seconds"])
        b = read_results(tmp / "dask").drop(columns=["seconds"])
        same = a.drop(columns=["seed_spawn_key"]).equals(b.drop(columns=["seed_spawn_key"])) and \
            [list(k) for k in a["seed_spawn_key"]] == [list(k) for k in b["seed_spawn_key"]]
        per_run = read_results(tmp / "pool", ["seconds"])["seconds"].mean()
        code_changed = code_fingerprint() != code_before

    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; {args.runs} runs "
          f"(small example city, one quarter, scale {args.scale}), {args.workers} workers; "
          f"mean run time inside a worker {per_run:.3f} s")
    print("| engine | runs | failed | wall time (s) | runs/s |")
    print("| --- | --- | --- | --- | --- |")
    for name, (seconds, report) in timings.items():
        print(f"| {name} | {report.ran} | {report.failed} | {seconds:.1f} | {report.ran / seconds:.2f} |")
    print(f"identical rows from both engines: {'yes' if same else 'NO'}"
          + (" (note: the model code changed while the benchmark ran)" if code_changed else ""))
    print(f"load average at the end (other processes compete for the cores): {os.getloadavg()[0]:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
