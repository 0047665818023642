"""Check that a speed change moves no result: hash every books array and summary of the city plans and the golden city.

Runs each city plan (``scenarios/*.toml``) at a small scale with two replications and the per-tool
breakdown, the golden tiny city (``tests/golden_run.py``) and the benchmark's Tianjin-sized city
(``benchmarks/bench_scale.py``) at a small scale, and prints one SHA-256 per item and one over all of
them. What is hashed: every array and number of every run's books (policy, counterfactual, prior period,
each tool alone; ``books_with_payback``, every simulated day), the households' state at the end (savings,
durables' ages and ownership), the durable markets' stocks and ledgers, each replication's summary and
the combined summary and daily tables ``run_scenario`` returns. Floats are hashed by their bytes, so two
runs hash the same only if every figure is bit-identical. Run it before and after a change (at the
commit before, e.g. in ``git worktree add /tmp/wt-before <commit>``) and compare the last line:

    python benchmarks/hash_runs.py [--scale 0.005] [--replications 2] [--only pingliang,golden]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from model.rng import RandomStreams  # noqa: E402
from model.runner import run_scenario  # noqa: E402
from model.scenario import load_scenario, scenario_from_dict  # noqa: E402
from model.simulation import simulate_replication  # noqa: E402
from model.summary import replication_summary  # noqa: E402


def feed(h: "hashlib._Hash", value, seen: set[int] | None = None) -> None:
    """Feed ``value`` into ``h``: arrays by dtype, shape and bytes, floats by their bytes, containers in order."""
    if isinstance(value, np.ndarray) and value.dtype.hasobject:
        feed(h, value.tolist())  # the objects, not their addresses
    elif isinstance(value, np.ndarray):
        h.update(f"nd{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (float, np.floating)):
        h.update(b"f" + np.float64(value).tobytes())
    elif isinstance(value, (bool, np.bool_, int, np.integer)):
        h.update(f"i{int(value)}".encode())
    elif value is None or isinstance(value, str):
        h.update(f"s{value!r}".encode())
    elif isinstance(value, dict):
        h.update(f"d{len(value)}".encode())
        for key in sorted(value, key=str):
            feed(h, str(key))
            feed(h, value[key])
    elif isinstance(value, (list, tuple)):
        h.update(f"l{len(value)}".encode())
        for item in value:
            feed(h, item)
    elif isinstance(value, pd.DataFrame):
        feed(h, list(map(str, value.columns)))
        for column in value.columns:
            feed(h, value[column].to_numpy())
    elif dataclasses.is_dataclass(value) or hasattr(value, "__dict__"):
        feed(h, {k: v for k, v in vars(value).items() if not k.startswith("_")})
    else:
        h.update(f"o{value!r}".encode())


def digest(value) -> str:
    h = hashlib.sha256()
    feed(h, value)
    return h.hexdigest()


def model_state(model) -> dict:
    """What a run leaves behind that feeds a result: its books of every day, households, durable stocks."""
    hh = model.households
    state = {"books": model.books_with_payback,
             "households": {name: getattr(hh, name) for name in ("savings_yuan", "car_purchase_day", "owns_car",
                                                                  "appliance_purchase_day")},
             "savings_ledger": model.savings_ledger,
             "deferred": (model.deferred.scheduled_total_yuan, model.deferred.lost_to_floor_yuan),
             "dealers": [(d.rewards_yuan, vars(d)) for d in model.car_dealers]}
    for market in (model.car_market, model.appliance_market):
        # The stocks in their order: the order decides which draw a planned purchase gets and who is paid first.
        state[market.kind] = {"ledger": market.ledger, "planned": market.planned, "in_market": market.in_market,
                              "plans": [market.plan_rows, market.plan_items, market.plan_day, market.plan_draws],
                              "pool": [market.pool_rows, market.pool_items, market.pool_progress, market.pool_draws]}
    for name, fund in sorted(model.funds.items()):
        state[f"fund {name}"] = fund
    return state


def pair_items(label: str, pair) -> dict[str, str]:
    items = {f"{label} policy": digest(model_state(pair.policy)),
             f"{label} baseline": digest(model_state(pair.baseline)),
             f"{label} summary": digest(replication_summary(pair))}
    if pair.prior is not None:
        items[f"{label} prior"] = digest(model_state(pair.prior))
    for name, model in sorted(pair.tool_alone.items()):
        items[f"{label} alone {name}"] = digest(model_state(model))
    return items


def city_plan(path: Path, scale: float, replications: int) -> dict[str, str]:
    scenario = load_scenario(path)
    result = run_scenario(scenario, scale=scale, seed=0, replications=replications, tool_breakdown=True,
                          keep_models=True, workers=1)
    items = {}
    for r, pair in enumerate(result.pairs):
        items.update(pair_items(f"{path.stem} r{r}", pair))
    items[f"{path.stem} combined summary"] = digest(result.summary)
    items[f"{path.stem} daily tables"] = digest(result.frames)
    return items


def golden() -> dict[str, str]:
    import golden_run

    figures = golden_run.golden_figures()
    return {"golden figures": digest(figures)}


def golden_models() -> dict[str, str]:
    import golden_run
    from conftest import build, small_city

    raw = small_city(households=3000, start="2023-02-01", end="2023-06-30", tools=golden_run.TOOLS)
    scenario = dataclasses.replace(build(raw), behaviour_choice="documented")
    pair = simulate_replication(scenario, golden_run.SCALE, RandomStreams.from_seed(golden_run.SEED), tool_breakdown=True)
    return pair_items("golden", pair)


def bench_city(scale: float) -> dict[str, str]:
    import bench_scale

    scenario = scenario_from_dict(bench_scale.tianjin_sized(5.5e6, 365), "benchmark")
    pair = simulate_replication(scenario, scale, RandomStreams.from_seed(0), tool_breakdown=False)
    return pair_items("bench_scale", pair)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.005, help="scale of the city plans (default 0.005)")
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--bench-scale", type=float, default=0.002,
                        help="scale of the benchmark's Tianjin-sized city (default 0.002: 11,000 households)")
    parser.add_argument("--only", default=None, help="comma-separated: plan names, 'golden', 'bench'")
    args = parser.parse_args()
    only = None if args.only is None else set(args.only.split(","))
    jobs = [(p.stem, lambda p=p: city_plan(p, args.scale, args.replications))
            for p in sorted((ROOT / "scenarios").glob("*.toml"))]
    jobs += [("golden", golden), ("golden", golden_models), ("bench", lambda: bench_city(args.bench_scale))]
    everything = hashlib.sha256()
    for name, job in jobs:
        if only is not None and name not in only:
            continue
        started = time.perf_counter()
        items = job()
        for key, value in items.items():
            print(f"{value[:16]}  {key}")
            everything.update(f"{key}={value}\n".encode())
        print(f"# {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(f"{everything.hexdigest()}  ALL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
