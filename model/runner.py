"""Running a scenario: its design with the counterfactual, replications, summary and outputs.

``run_scenario`` is the whole job of ``run.py run``: for each replication it simulates the
design with its no-policy counterfactual (``model/simulation.py``), summarises it
(``model/summary.py``), and returns a ``RunResult`` (``model/outputs.py``) that writes the
summary, daily tables and manifest in one step.
"""

from __future__ import annotations

import sys

import pandas as pd

from model.distribution import distribution_table
from model.outputs import RunResult, build_manifest
from model.economy import payback_end_date
from model.rng import RandomStreams
from model.scenario import Scenario
from model.simulation import intervals_cover, prior_period_days, runs_per_replication, simulate_replication
from model.summary import FIGURE_DEFINITIONS, combine_replications, daily_frames, replication_summary

__all__ = ["RunResult", "run_scenario"]


def run_scenario(scenario: Scenario, *, scale: float = 0.05, seed: int = 0, replications: int = 1,
                 tool_breakdown: bool = True, progress: bool = False, keep_models: bool = False) -> RunResult:
    """Run a scenario with its counterfactual, ``replications`` times.

    Args:
        scenario: a validated scenario.
        scale: share of households simulated (1 = all); outputs are weighted to city size.
        seed: root seed; replication r uses SeedSequence(seed, spawn_key=(r,)).
        replications: independent replications.
        tool_breakdown: also run each tool alone (when there are several) for per-tool uplift.
        progress: show a progress bar on standard error.
        keep_models: keep the model objects in ``RunResult.pairs`` (for tests and charts).
    """
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    streams = [RandomStreams.from_seed(seed, r) for r in range(replications)]
    simulated_days = (payback_end_date(scenario) - scenario.start).days + 1
    total_days = (simulated_days * runs_per_replication(scenario, tool_breakdown)
                  + prior_period_days(scenario)) * replications
    bar = None
    update = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total_days, unit="day", desc=f"{scenario.name} x{replications}", file=sys.stderr,
                   mininterval=0.5)
        update = bar.update
    summaries, frames, pairs, seconds = [], [], [], []
    households = None
    try:
        for r, st in enumerate(streams):
            pair = simulate_replication(scenario, scale, st, tool_breakdown=tool_breakdown, progress=update)
            households = pair.policy.households.n
            seconds.append(pair.seconds)
            summaries.append(replication_summary(pair))
            frames.append({**daily_frames(pair, r), "household_distribution": distribution_table(pair.policy, r)})
            if keep_models:
                pairs.append(pair)
    finally:
        if bar is not None:
            bar.close()
    combined = {name: pd.concat([f[name] for f in frames], ignore_index=True) for name in frames[0]}
    manifest = build_manifest(scenario, scale, seed, replications, streams, tool_breakdown)
    manifest["households_simulated"] = households
    # Run time is here, not in summary.json, so the summary is a function of scenario, seed, scale and replications.
    manifest["seconds_per_replication"] = seconds
    summary = {"scenario": scenario.name, "title": scenario.title, "city": scenario.city.name,
               "start_date": scenario.start.isoformat(), "end_date": scenario.end.isoformat(),
               "payback_end_date": payback_end_date(scenario).isoformat(), "figures": FIGURE_DEFINITIONS,
               "scale": scale, "seed": seed, "replications": replications, "currency": "yuan",
               "intervals_cover": intervals_cover(manifest["replication_behaviour"], scenario),
               **combine_replications(summaries)}
    return RunResult(scenario, summary, summaries, combined, manifest, pairs)
