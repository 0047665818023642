"""The no-policy work kept per replication and process (``model/counterfactual_cache.py``).

A design run after another in the same process takes the replication's population, counterfactual
and prior period from the cache. These tests hold:

* every books array, summary and daily table of a run with a warm cache bit-identical to a run with an
  empty one, for designs differing in a budget and in a tool setting (and the cache did hit);
* the key changing with everything the no-policy runs depend on (a city figure, a condition, the
  behaviour set, scale, seed, replication, the payback end through a tool's end date, the prior period
  through a target) and not with a budget; with a key that leaves out the payback end or the behaviour,
  the bit-identity check fails (tamper tests);
* the cache hitting in the worker processes for compare's designs and the dashboard's updates
  (replication r always runs in worker r mod W, ``model/runner.py``).
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util

import pytest

from conftest import ROOT, build, small_city
from model import counterfactual_cache as cc
from model.rng import RandomStreams
from model.runner import ReplicationPool, run_scenario
from model.scenario import Scenario
from model.simulation import replication_behaviour, simulate_replication
from test_workers import TOOLS  # the same two tools, vouchers and a car subsidy

_spec = importlib.util.spec_from_file_location("hash_runs", ROOT / "benchmarks" / "hash_runs.py")
hash_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hash_runs)

SCALE = 0.5


def city(tools: dict | None = None, **changes) -> dict:
    """A small city with two tools and a growth target whose prior period lies before the horizon."""
    raw = small_city(households=3000, start="2023-02-01", end="2023-03-31", tools=tools or TOOLS)
    raw["targets"] = {"growth": {"indicator": "retail_sales_growth", "period": "2023-02-01..2023-03-31",
                                 "value": {"value": 0.05, "assumption": "test"}, "description": "test target"}}
    for path, value in changes.items():
        section, name = path.split(".")
        raw[section][name] = value
    return raw


def with_tool(raw: dict, tool: str, **fields) -> dict:
    out = copy.deepcopy(raw)
    out["tools"][tool].update(fields)
    return out


def results(scenario: Scenario) -> dict[str, str]:
    """A hash of every books array, state, summary and daily table of a two-replication run in this process."""
    run = run_scenario(scenario, scale=SCALE, seed=3, replications=2, keep_models=True, workers=1)
    items = {}
    for r, pair in enumerate(run.pairs):
        assert pair.prior is not None  # the prior period is part of what is compared
        items.update(hash_runs.pair_items(f"r{r}", pair))
    items["summary"] = hash_runs.digest(run.summary)
    items["daily tables"] = hash_runs.digest(run.frames)
    return items


def check_warm_equals_cold(first: Scenario, second: Scenario, cache: cc.CounterfactualCache) -> dict[str, str]:
    """``second`` run after ``first`` (the cache warm) gives what it gives with an empty cache, and did hit."""
    cache.clear()
    results(first)
    warm = results(second)
    assert cache.stats.hits.get("baseline") == 2 and cache.stats.hits.get("prior") == 2, cache.stats
    cache.clear()
    cold = results(second)
    assert cache.stats.hits == {}
    different = [k for k in cold if warm[k] != cold[k]]
    assert not different, f"warm and cold runs differ in {different}"
    return cold


BASE = city()


def test_a_warm_cache_gives_bit_identical_results_for_another_budget_and_another_tool_setting(counterfactual_cache):
    budget = with_tool(BASE, "vouchers", budget_yuan=132000.0)
    setting = with_tool(BASE, "cars", subsidy_per_car_yuan=9000.0)
    a = check_warm_equals_cold(build(BASE), build(budget), counterfactual_cache)
    b = check_warm_equals_cold(build(budget), build(setting), counterfactual_cache)
    # The designs differ where it matters (their policy runs), not in their counterfactuals.
    assert a["r0 policy"] != b["r0 policy"] and a["r0 baseline"] == b["r0 baseline"]


def test_kept_runs_are_read_only_and_a_hit_carries_the_asking_design(counterfactual_cache):
    first, second = build(BASE), build(with_tool(BASE, "vouchers", budget_yuan=132000.0))
    run_scenario(first, scale=SCALE, seed=3, keep_models=True, workers=1)
    pair = run_scenario(second, scale=SCALE, seed=3, keep_models=True, workers=1).pairs[0]
    assert counterfactual_cache.stats.hits["baseline"] == 1
    assert pair.baseline.scenario is pair.policy.scenario  # the design's own scenario, as a fresh run has
    assert pair.prior.scenario.start < second.start
    with pytest.raises(ValueError, match="read-only"):
        pair.baseline.books.retail[0, 0, 0, 0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        pair.prior.households.savings_yuan[0] = 1.0


# ---------------------------------------------------------------- the key


def keys(scenario: Scenario, scale: float = SCALE, seed: int = 3, replication: int = 0) -> tuple:
    streams = RandomStreams.from_seed(seed, replication)
    return (cc.population_key(scenario, scale, streams), cc.baseline_key(scenario, scale, streams),
            cc.prior_key(scenario, scale, streams))


def test_every_scenario_field_is_either_keyed_or_ignored_with_a_reason():
    fields = {f.name for f in dataclasses.fields(Scenario)}
    assert fields == set(cc.KEYED_FIELDS) | set(cc.IGNORED_FIELDS)
    assert not set(cc.KEYED_FIELDS) & set(cc.IGNORED_FIELDS)
    assert all(reason for _, reason in cc.IGNORED_FIELDS.values())


def test_the_key_changes_with_each_dependency_and_not_with_a_budget():
    base = build(BASE)
    k = keys(base)
    # Unchanged: a budget, a subsidy, the scenario's name and file (they are not in the no-policy runs).
    assert keys(build(with_tool(BASE, "vouchers", budget_yuan=999.0))) == k
    assert keys(build(with_tool(BASE, "cars", subsidy_per_car_yuan=9000.0))) == k
    assert keys(dataclasses.replace(base, name="other", origin="elsewhere.toml", title="另一个")) == k
    # Changed: everything of the replication.
    differ = {
        "a city figure": keys(build(city(**{"city.household_size": {"value": 2.9, "assumption": "test"}}))),
        "a condition": keys(build({**BASE, "conditions": {"lockdown": {
            "applies_to": "demand", "schedule": [{"start": "2023-03-01", "end": "2023-03-10",
                                                  "multiplier": {"value": 0.8, "assumption": "test"}}]}}})),
        "scale": keys(base, scale=0.25),
        "seed": keys(base, seed=4),
        "replication": keys(base, replication=1),
        "behaviour": keys(dataclasses.replace(base, behaviour=dataclasses.replace(
            base.behaviour, common_daily_shock_sigma=base.behaviour.common_daily_shock_sigma * 1.1))),
    }
    for what, changed in differ.items():
        assert all(a != b for a, b in zip(changed, k)), what
    # The behaviour set a replication runs (ensemble set r) is in the key.
    set0, set1 = replication_behaviour(base, 0)[0], replication_behaviour(base, 1)[0]
    if set0.behaviour != set1.behaviour:
        assert keys(set0)[1] != keys(set1)[1]
    # The payback end (a tool's end date) changes the counterfactual's key only; the prior period's first day
    # (a target's period) the prior run's only.
    later = keys(build(with_tool(BASE, "cars", end_date="2023-03-20")))
    assert later[0] == k[0] and later[1] != k[1] and later[2] == k[2]
    earlier_target = copy.deepcopy(BASE)
    earlier_target["targets"]["growth"]["period"] = "2023-02-10..2023-03-31"
    moved = keys(build(earlier_target))
    assert moved[1] == k[1] and moved[2] != k[2]


def test_a_key_without_the_payback_end_would_give_wrong_results(counterfactual_cache, monkeypatch):
    later = build(with_tool(BASE, "cars", end_date="2023-03-20"))
    assert keys(build(BASE))[1] != keys(later)[1]  # with the real key the second design misses: nothing to compare
    monkeypatch.setattr(cc, "baseline_key", lambda s, scale, streams: ("baseline", cc.fingerprint(s, scale, streams)))
    with pytest.raises(AssertionError, match="differ"):
        check_warm_equals_cold(build(BASE), later, counterfactual_cache)


def test_a_key_without_the_behaviour_would_give_wrong_results(counterfactual_cache, monkeypatch):
    base = dataclasses.replace(build(BASE), behaviour_choice="documented")
    shaky = dataclasses.replace(base, behaviour=dataclasses.replace(
        base.behaviour, common_daily_shock_sigma=base.behaviour.common_daily_shock_sigma * 1.5))
    assert keys(base)[1] != keys(shaky)[1]  # with the real key the second design misses: nothing to compare
    blank = cc.no_policy_part
    monkeypatch.setattr(cc, "no_policy_part", lambda s: dataclasses.replace(blank(s), behaviour=None))
    with pytest.raises(AssertionError, match="differ"):
        check_warm_equals_cold(base, shaky, counterfactual_cache)


# ---------------------------------------------------------------- hits in the worker processes


def worker_hits(workers: int) -> int:
    """Counterfactual hits so far, summed over the shared pool's worker processes."""
    return sum(s["hits"].get("baseline", 0) for s in ReplicationPool.shared(workers).each_worker(cc.stats))


def test_compare_reuses_each_replications_counterfactual_in_its_worker():
    from model.reporting.compare import run_designs

    designs = [("plan", build(BASE)), ("more", build(with_tool(BASE, "vouchers", budget_yuan=240000.0)))]
    before = worker_hits(2)
    run_designs(designs[:1], scale=SCALE, seed=11, replications=4, target=None, need_target=False, workers=2)
    after_first = worker_hits(2)
    out = run_designs(designs, scale=SCALE, seed=11, replications=4, target=None, need_target=False, workers=2)
    # The second call's first design is the first call's (4 hits), its second design reuses them (4 more).
    assert after_first == before and worker_hits(2) == after_first + 8
    a, b = (d.result.summary["retail_sales_baseline"] for d in out)
    assert a == b


def test_two_dashboard_updates_reuse_the_counterfactual():
    from model.dashboard import state

    scenario = build(BASE)
    before = worker_hits(2)
    first = state.run_design(scenario, state.Settings("city", None, (), SCALE, 21, 4))
    overrides = {"tools.vouchers.budget_yuan": 132000.0}  # a planner's slider
    second = state.run_design(state.apply_overrides(scenario, overrides),
                              state.Settings("city", None, tuple(overrides.items()), SCALE, 21, 4))
    assert worker_hits(2) == before + 4
    assert first.summary["retail_sales_baseline"] == second.summary["retail_sales_baseline"]
    assert first.summary["government_outlay"] != second.summary["government_outlay"]


def test_the_evidence_runs_keep_nothing(counterfactual_cache, monkeypatch):
    """The estimation runs every study once per parameter set: its replications neither look up nor keep their
    no-policy work (a process would otherwise hold up to the bound of runs it never reuses)."""
    from calibration import evidence

    calls = []
    real = evidence.simulate_replication
    monkeypatch.setattr(evidence, "simulate_replication", lambda *a, **k: calls.append(k) or real(*a, **k))
    studies = evidence.read_evidence()
    scales = evidence.study_scales(studies, None)
    study = min(studies, key=lambda s: scales[s.name])
    evidence._replication(study, scales[study.name], 1, 0, None, "documented")
    assert calls and calls[0]["keep_counterfactual"] is False
    assert len(counterfactual_cache) == 0 and counterfactual_cache.stats.misses == {}
    # ... while a default call keeps them.
    scenario = build(BASE)
    simulate_replication(scenario, SCALE, RandomStreams.from_seed(3, 0), tool_breakdown=False)
    assert len(counterfactual_cache) >= 2
