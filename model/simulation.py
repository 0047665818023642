"""Simulating a design with its counterfactual: the policy run, the no-policy run and each tool alone.

``simulate_replication`` runs, for one replication, the scenario with all its tools and the same
scenario with none, on the same household population and the same random streams, so their
difference is the policy's effect. When the scenario has several tools it also runs each tool
alone against the same counterfactual, which gives each tool's own uplift and, by difference, how
much the tools add when combined (``interaction``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

from model.economy import CityEconomy, build_population
from model.parameters.ensemble import behaviour_for_replication
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
    behaviour: str = "documented values (model/parameters/behaviour.toml)"


def replication_behaviour(scenario: Scenario, replication: int) -> tuple[Scenario, str]:
    """The scenario with the behaviour replication ``replication`` runs with, and which behaviour that is.

    Replication r uses set r of the estimated ensemble (``scenario.behaviour_choice``
    'ensemble'), the point estimate ('point') or the documented values; a
    scenario's own [behaviour] overrides always win (model/parameters/ensemble.py).
    """
    behaviour, label = behaviour_for_replication(scenario.behaviour, replication, scenario.behaviour_choice)
    if behaviour is scenario.behaviour:
        return scenario, label
    return dataclasses.replace(scenario, behaviour=behaviour), label


def intervals_cover(labels: list[str]) -> str:
    """What the 90% intervals over replications span, given each replication's behaviour."""
    if any(label.startswith("ensemble set") for label in labels):
        sets = len(set(labels))
        return (f"sampling noise and behavioural uncertainty: replication r ran estimated behaviour set r "
                f"({sets} distinct sets)")
    return f"sampling noise only: every replication ran the same behaviour ({labels[0] if labels else 'documented'})"


def simulate_replication(scenario: Scenario, scale: float, streams: RandomStreams, *, tool_breakdown: bool = True,
                         progress: Callable[[int], None] | None = None) -> PairResult:
    """Run the policy, the no-policy counterfactual, and (with several tools) each tool alone.

    The behaviour is that of replication ``streams.replication`` (``replication_behaviour``).
    """
    started = time.perf_counter()
    scenario, behaviour = replication_behaviour(scenario, streams.replication)
    population = build_population(scenario, scale, streams)
    baseline = CityEconomy(scenario, scale=scale, streams=streams, active_tools=set(), population=population).run(progress)
    policy = CityEconomy(scenario, scale=scale, streams=streams, population=population).run(progress)
    alone = {}
    if tool_breakdown and len(scenario.tools) > 1:
        for name in scenario.tools:
            alone[name] = CityEconomy(scenario, scale=scale, streams=streams, active_tools={name},
                                      population=population).run(progress)
    return PairResult(policy, baseline, alone, streams, time.perf_counter() - started, behaviour)


def runs_per_replication(scenario: Scenario, tool_breakdown: bool) -> int:
    """How many model runs one replication takes."""
    return 2 + (len(scenario.tools) if tool_breakdown and len(scenario.tools) > 1 else 0)
