"""Benchmark: one simulated year of a Tianjin-sized city at scale 1, policy and counterfactual.

Target (issue 2): about 5.5 million households, one year, policy run and
no-policy counterfactual together in under 2 minutes on the 2-core machine and
under 6 GB of memory. Reports household-days per second and peak memory
(resident set size of this process). Run:

    python benchmarks/bench_scale.py [--households 5500000] [--scale 1.0] [--days 365]

Record the result in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import copy
import resource
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.simulation import simulate_replication  # noqa: E402
from model.rng import RandomStreams  # noqa: E402
from model.scenario import scenario_from_dict  # noqa: E402


def tianjin_sized(households: float, days: int) -> dict:
    """The example city scaled to a Tianjin-sized population, with every kind of tool switched on."""
    with open(ROOT / "scenarios" / "examples" / "small_city.toml", "rb") as handle:
        raw = tomllib.load(handle)
    raw = copy.deepcopy(raw)
    raw["scenario"]["name"] = "benchmark-tianjin-sized"
    import datetime as dt
    start = dt.date(2023, 1, 1)
    raw["scenario"]["end_date"] = (start + dt.timedelta(days=days - 1)).isoformat()
    factor = households / 100000
    raw["city"]["households"] = {"value": households, "assumption": "benchmark: Tianjin has about 5.5 million households"}
    raw["city"]["income_per_capita_yuan"] = {"urban": 51000, "rural": 28000}
    raw["city"]["visitors"]["visitors_per_year"] = {"value": 8e5 * factor, "assumption": "benchmark"}
    for name, tool in raw["tools"].items():
        budget = tool["budget_yuan"]["value"] if isinstance(tool["budget_yuan"], dict) else tool["budget_yuan"]
        tool["budget_yuan"] = budget * factor
        for key in ("start_date", "end_date"):
            if tool[key] > raw["scenario"]["end_date"]:
                tool[key] = raw["scenario"]["end_date"]
    raw.pop("targets", None)
    return raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=float, default=5.5e6)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    scenario = scenario_from_dict(tianjin_sized(args.households, args.days), "benchmark")
    started = time.perf_counter()
    pair = simulate_replication(scenario, args.scale, RandomStreams.from_seed(args.seed), tool_breakdown=False)
    seconds = time.perf_counter() - started
    rows = pair.policy.households.n
    household_days = rows * scenario.days * 2
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"households simulated: {rows:,} (scale {args.scale}), days: {scenario.days}, runs: 2 (policy + counterfactual)")
    print(f"wall time: {seconds:.1f} s; household-days per second: {household_days / seconds:,.0f}; peak memory: {peak_gb:.2f} GB")
    print(f"retail_sales_baseline: {pair.baseline.books.retail.sum() / 1e8:,.1f} 亿元; "
          f"uplift: {(pair.policy.books.retail.sum() - pair.baseline.books.retail.sum()) / 1e8:,.2f} 亿元")
    return 0


if __name__ == "__main__":
    sys.exit(main())
