"""The progress bar counts the days each replication actually simulates.

Each replication runs with its own behaviour (ensemble set r), and the payback end depends on behaviour
parameters (shopping delays, the pull-forward window), so replications simulate different numbers of days
(Pingliang: 731 to 923 days a run). ``days_per_replication`` must equal what ``simulate_replication``
steps through, which the runner's bar totals and advances by, or the bar overshoots its total (as it did:
10,518 of 8,406 days for the README's first command).
"""

from __future__ import annotations

from pathlib import Path

from model.rng import RandomStreams
from model.runner import run_scenario
from model.scenario import load_scenario
from model.simulation import days_per_replication, replication_behaviour, simulate_replication

ROOT = Path(__file__).resolve().parents[1]
SCALE = 0.0006  # about 360 households: the count of days does not depend on scale


def test_days_per_replication_is_what_each_replication_steps_through():
    scenario = load_scenario(ROOT / "scenarios" / "pingliang.toml")
    counted = []
    for r in range(3):
        chosen, label = replication_behaviour(scenario, r)
        steps = []
        simulate_replication(chosen, SCALE, RandomStreams.from_seed(0, r), tool_breakdown=False,
                             progress=steps.append, behaviour=label)
        assert len(steps) == days_per_replication(chosen, False), r
        counted.append(len(steps))
    # the replications' behaviour sets give different payback ends here, so one count for all would be wrong
    assert len(set(counted)) > 1, counted


def test_summary_names_each_replications_payback_end(capsys):
    scenario = load_scenario(ROOT / "scenarios" / "pingliang.toml")
    result = run_scenario(scenario, scale=SCALE, seed=0, replications=3, tool_breakdown=False, workers=1)
    ends = result.summary["payback_end_dates"]
    assert len(ends) > 1 and ends == sorted(ends)
    assert result.summary["payback_end_date"] == ends[-1]
