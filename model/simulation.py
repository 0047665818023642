"""Simulating a design with its counterfactual: the policy run, the no-policy run and each tool alone.

``simulate_replication`` runs, for one replication, the scenario with all its tools and the same
scenario with none, on the same household population and the same random streams, so their
difference is the policy's effect. When the scenario has several tools it also runs each tool
alone against the same counterfactual, which gives each tool's own uplift and, by difference, how
much the tools add when combined (``interaction``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from model.economy import CityEconomy, build_population
from model.rng import RandomStreams
from model.scenario import Scenario


@dataclass
class PairResult:
    """One replication: the policy run, the counterfactual and each tool alone."""

    policy: CityEconomy
    baseline: CityEconomy
    tool_alone: dict[str, CityEconomy]
    streams: RandomStreams
    seconds: float


def simulate_replication(scenario: Scenario, scale: float, streams: RandomStreams, *, tool_breakdown: bool = True,
                         progress: Callable[[int], None] | None = None) -> PairResult:
    """Run the policy, the no-policy counterfactual, and (with several tools) each tool alone."""
    started = time.perf_counter()
    population = build_population(scenario, scale, streams)
    baseline = CityEconomy(scenario, scale=scale, streams=streams, active_tools=set(), population=population).run(progress)
    policy = CityEconomy(scenario, scale=scale, streams=streams, population=population).run(progress)
    alone = {}
    if tool_breakdown and len(scenario.tools) > 1:
        for name in scenario.tools:
            alone[name] = CityEconomy(scenario, scale=scale, streams=streams, active_tools={name},
                                      population=population).run(progress)
    return PairResult(policy, baseline, alone, streams, time.perf_counter() - started)


def runs_per_replication(scenario: Scenario, tool_breakdown: bool) -> int:
    """How many model runs one replication takes."""
    return 2 + (len(scenario.tools) if tool_breakdown and len(scenario.tools) > 1 else 0)
