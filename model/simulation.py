"""Simulating a design with its counterfactual: the policy run, the no-policy run and each tool alone.

``simulate_replication`` runs, for one replication, the scenario with all its tools and the same
scenario with none, on the same household population and the same random streams, so their
difference is the policy's effect. When the scenario has several tools it also runs each tool
alone against the same counterfactual, which gives each tool's own uplift and, by difference, how
much the tools add when combined (``interaction``).

A growth target is judged against the simulated prior period of the same replication. Where that
period starts before the horizon, ``prior_period_run`` simulates the days from its start to the
day before the horizon with no tools (no tool acts before the horizon, so the policy run and the
counterfactual share it), on the same households and the same draw of the 社零 trend, with random
streams of its own for its daily draws.

The population, the counterfactual and the prior period do not depend on the design (only on the
scenario's city, dates, conditions and behaviour, the scale, the streams, and of the design its payback
end and prior period's first day), so a process makes them once per replication and every later design
takes them from ``model/counterfactual_cache.py``, read-only: compare's designs, the dashboard's updates and
a sweep's settings of a tool simulate only their policy runs. The results are bit-identical to fresh ones
(``tests/test_counterfactual_cache.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from typing import Callable

from model import counterfactual_cache
from model.economy import CityEconomy, build_population
from model.parameters.ensemble import behaviour_for_replication
from model.rng import RandomStreams
from model.scenario import Scenario
from model.trend import RetailTrend, TrendPath


@dataclass
class PairResult:
    """One replication: the policy run, the counterfactual and each tool alone."""

    policy: CityEconomy
    baseline: CityEconomy
    tool_alone: dict[str, CityEconomy]
    streams: RandomStreams
    seconds: float
    behaviour: str = "documented values (model/parameters/behaviour.toml)"
    prior: CityEconomy | None = None


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


def intervals_cover(labels: list[str], scenario: Scenario | None = None) -> str:
    """What the 90% intervals over replications span, given each replication's behaviour and the scenario's
    社零 trend (whether each replication draws its own trend path, ``model/trend.py``)."""
    trend = scenario.city.retail_trend if scenario is not None else None
    drawn = ""
    if trend is not None and trend.uncertain:
        drawn = (f"; what the 社零 trend leaves open: each replication draws its own trend path (forecast error "
                 f"sd {trend.forecast_error_sd:.3f} a year from the base year {scenario.city.base_year}, base-year "
                 f"level sd {trend.base_sd:.3f})")
    elif scenario is not None:
        drawn = "; not the trend's uncertainty (the scenario gives none: every replication has the same trend)"
    if any(label.startswith("ensemble set") for label in labels):
        sets = len(set(labels))
        return (f"sampling noise and behavioural uncertainty: replication r ran estimated behaviour set r "
                f"({sets} distinct sets){drawn}")
    if drawn.startswith("; what"):
        return (f"sampling noise{drawn}; every replication ran the same behaviour "
                f"({labels[0] if labels else 'documented'})")
    return (f"sampling noise only: every replication ran the same behaviour "
            f"({labels[0] if labels else 'documented'}){drawn}")


def prior_period_start(scenario: Scenario) -> dt.date | None:
    """The first day before the horizon that a growth target's prior period needs, or None."""
    starts = [t.prior_period[0] for t in scenario.targets.values() if t.prior_period is not None]
    first = min(starts, default=None)
    return first if first is not None and first < scenario.start else None


def prior_period_days(scenario: Scenario) -> int:
    """Days the prior-period run simulates (0 when no growth target reaches before the horizon)."""
    first = prior_period_start(scenario)
    return 0 if first is None else (scenario.start - first).days


def prior_period_scenario(scenario: Scenario) -> Scenario | None:
    """The scenario the prior-period run simulates: the days before the horizon, no tools, no targets; or None."""
    first = prior_period_start(scenario)
    if first is None:
        return None
    return dataclasses.replace(scenario, start=first, end=scenario.start - dt.timedelta(days=1), tools={}, targets={})


def prior_period_run(scenario: Scenario, scale: float, streams: RandomStreams, *,
                     population=None, trend=None, progress: Callable[[int], None] | None = None) -> CityEconomy | None:
    """The no-policy run of the days before the horizon that growth targets compare with, or None.

    Args:
        scenario: the scenario (with the behaviour of this replication).
        scale, streams: those of the replication; the run's daily draws use ``streams.child("prior_period")``.
        population: the replication's households (built from ``streams`` when not given).
        trend: the replication's draw of the 社零 trend (``CityEconomy.trend``; drawn from ``streams`` when not given).
    """
    before = prior_period_scenario(scenario)
    if before is None:
        return None
    if population is None:
        population = build_population(scenario, scale, streams)
    if trend is None:
        city = scenario.city
        trend = TrendPath.draw(city.retail_trend or RetailTrend(city.income_growth_per_year), city.base_year, streams)
    return CityEconomy(before, scale=scale, streams=streams.child("prior_period"), active_tools=set(),
                       population=population, trend=trend).run(progress)


def simulate_replication(scenario: Scenario, scale: float, streams: RandomStreams, *, tool_breakdown: bool = True,
                         progress: Callable[[int], None] | None = None, behaviour: str | None = None,
                         keep_counterfactual: bool = True) -> PairResult:
    """Run the policy, the no-policy counterfactual, and (with several tools) each tool alone.

    ``keep_counterfactual`` false: the no-policy work is neither taken from nor kept in this process's cache
    (for callers whose every call has behaviour of its own, e.g. the estimation, which would only fill it).

    The behaviour is that of replication ``streams.replication`` (``replication_behaviour``), chosen here
    unless ``behaviour`` is given: then ``scenario`` already carries it and ``behaviour`` says which it is
    (a worker process runs what its parent chose, ``model/runner.py``).
    """
    started = time.perf_counter()
    if behaviour is None:
        scenario, behaviour = replication_behaviour(scenario, streams.replication)
    # The population, the counterfactual and the prior period are the same for every design: made once per
    # process and replication (model/counterfactual_cache.py), read-only when kept.
    keep = keep_counterfactual
    population = counterfactual_cache.population(scenario, scale, streams, keep)
    baseline = counterfactual_cache.baseline(scenario, scale, streams, population, progress, keep)
    policy = CityEconomy(scenario, scale=scale, streams=streams, population=population).run(progress)
    prior = counterfactual_cache.prior(scenario, scale, streams, population, baseline.trend, progress, keep)
    alone = {}
    if tool_breakdown and len(scenario.tools) > 1:
        for name in scenario.tools:
            alone[name] = CityEconomy(scenario, scale=scale, streams=streams, active_tools={name},
                                      population=population).run(progress)
    return PairResult(policy, baseline, alone, streams, time.perf_counter() - started, behaviour, prior)


def days_per_replication(scenario: Scenario, tool_breakdown: bool) -> int:
    """Days one replication simulates: each of its runs to the payback end, and the prior period.

    ``scenario`` must carry the replication's own behaviour (``replication_behaviour``): the payback
    end depends on behaviour parameters (shopping delays, pull-forward window), so replications running
    different ensemble sets simulate different numbers of days.
    """
    from model.economy import payback_end_date

    days = (payback_end_date(scenario) - scenario.start).days + 1
    return days * runs_per_replication(scenario, tool_breakdown) + prior_period_days(scenario)


@dataclass(frozen=True)
class ReplicationPlan:
    """What replication r of a run simulates, known before it runs.

    Attributes:
        scenario: the scenario with the replication's own behaviour (``replication_behaviour``).
        behaviour: which behaviour that is.
        payback_end: the last day its runs simulate (``economy.payback_end_date``, which depends on the behaviour).
        days: the days it simulates in all (``days_per_replication``): a progress bar's share.
    """

    scenario: Scenario
    behaviour: str
    payback_end: dt.date
    days: int


def replication_plans(scenario: Scenario, replications: int, tool_breakdown: bool) -> list[ReplicationPlan]:
    """Each replication's behaviour, payback end and days, in replication order (the run, its header and the
    benchmarks all count from these)."""
    from model.economy import payback_end_date

    plans = []
    for r in range(replications):
        chosen, label = replication_behaviour(scenario, r)
        plans.append(ReplicationPlan(chosen, label, payback_end_date(chosen), days_per_replication(chosen, tool_breakdown)))
    return plans


def runs_per_replication(scenario: Scenario, tool_breakdown: bool) -> int:
    """How many model runs one replication takes."""
    return 2 + (len(scenario.tools) if tool_breakdown and len(scenario.tools) > 1 else 0)
