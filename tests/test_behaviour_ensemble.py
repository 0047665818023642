"""Replications draw their behaviour from the estimated ensemble (model/parameters/ensemble.py)."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import build, small_city
from model.parameters import BehaviourParameters
from model.parameters import ensemble as ens
from model.parameters.ensemble import EnsembleError, behaviour_for_replication, read_ensemble
from model.runner import run_scenario
from model.simulation import replication_behaviour


def write_estimate(folder, sets: list[dict[str, float]], point: dict[str, float]):
    folder.mkdir(parents=True, exist_ok=True)
    names = list(point)
    (folder / "behaviour_ensemble.csv").write_text(
        "set," + ",".join(names) + "\n" + "".join(f"{i}," + ",".join(str(s[n]) for n in names) + "\n"
                                                 for i, s in enumerate(sets)), encoding="utf-8")
    (folder / "behaviour_estimate.toml").write_text(
        "".join(f'["{n}"]\nvalue = {v}\n' for n, v in point.items()), encoding="utf-8")
    return read_ensemble(folder)


SETS = [{"topup_value_share": 0.1, "pull_forward_share.catering": 0.2},
        {"topup_value_share": 0.2, "pull_forward_share.catering": 0.3},
        {"topup_value_share": 0.3, "pull_forward_share.catering": 0.4}]
POINT = {"topup_value_share": 0.25, "pull_forward_share.catering": 0.15}


def test_replication_r_runs_set_r_cycling_and_the_point_and_documented_choices(tmp_path):
    e = write_estimate(tmp_path / "est", SETS, POINT)
    base = BehaviourParameters.default()
    for r in range(5):
        b, label = behaviour_for_replication(base, r, "ensemble", e)
        assert b.topup_value_share == SETS[r % 3]["topup_value_share"]
        assert b.pull_forward_share["catering"] == SETS[r % 3]["pull_forward_share.catering"]
        assert b.pull_forward_share["daily_goods"] == base.pull_forward_share["daily_goods"]
        assert label.startswith(f"ensemble set {r % 3} of 3")
    b, label = behaviour_for_replication(base, 4, "point", e)
    assert b.topup_value_share == 0.25 and label.startswith("point estimate")
    b, label = behaviour_for_replication(base, 4, "documented", e)
    assert b is base and label.startswith("documented")


def test_a_scenario_override_wins_over_the_ensemble(tmp_path):
    e = write_estimate(tmp_path / "est", SETS, POINT)
    mine = BehaviourParameters.default().with_overrides({"topup_value_share": 0.9, "pull_forward_share": {"catering": 0.5}})
    b, _ = behaviour_for_replication(mine, 1, "ensemble", e)
    assert b.topup_value_share == 0.9 and b.pull_forward_share["catering"] == 0.5


def test_without_a_committed_estimate_every_choice_runs_the_documented_values_and_says_so(monkeypatch):
    monkeypatch.setattr(ens, "committed_ensemble", lambda folder=None: None)
    base = BehaviourParameters.default()
    for choice in ens.CHOICES:
        b, label = behaviour_for_replication(base, 2, choice)
        assert b is base and label.startswith("documented values")
    with pytest.raises(ValueError, match="not one of"):
        behaviour_for_replication(base, 0, "best")


def test_a_broken_estimate_folder_is_refused(tmp_path):
    folder = tmp_path / "est"
    folder.mkdir()
    (folder / "behaviour_ensemble.csv").write_text("set,topup_value_share\n0,0.1\n", encoding="utf-8")
    with pytest.raises(EnsembleError, match="needs both"):
        read_ensemble(folder)
    (folder / "behaviour_estimate.toml").write_text('["voucher_loss_aversion"]\nvalue = 1.2\n', encoding="utf-8")
    with pytest.raises(EnsembleError, match="row 1 has parameters"):
        read_ensemble(folder)
    assert read_ensemble(tmp_path / "nothing") is None


def test_runs_draw_replications_from_the_ensemble_and_say_what_intervals_cover(tmp_path, monkeypatch):
    e = write_estimate(tmp_path / "est", SETS, POINT)
    monkeypatch.setattr(ens, "committed_ensemble", lambda folder=None: e)
    tool = {"kind": "voucher", "sectors": ["catering", "daily_goods"], "face_value_yuan": 10, "threshold_yuan": 40,
            "budget_yuan": 100000, "start_date": "2023-03-03", "end_date": "2023-03-31", "validity_days": 7}
    scenario = build(small_city(households=4000, end="2023-04-30", tools={"v": tool}))
    assert replication_behaviour(scenario, 1)[0].behaviour.topup_value_share == 0.2
    result = run_scenario(scenario, scale=1.0, seed=3, replications=2, tool_breakdown=False)
    assert [l.split(" (")[0] for l in result.manifest["replication_behaviour"]] == ["ensemble set 0 of 3",
                                                                                  "ensemble set 1 of 3"]
    assert result.summary["intervals_cover"].startswith("sampling noise and behavioural uncertainty")
    point = run_scenario(dataclasses.replace(scenario, behaviour_choice="point"), scale=1.0, seed=3, replications=2,
                         tool_breakdown=False)
    assert point.summary["intervals_cover"].startswith("sampling noise only")
    assert point.manifest["behaviour_choice"] == "point"


def test_evidence_writes_its_comparison_and_what_the_ranges_cover_as_json(tmp_path, monkeypatch, capsys):
    import json

    from calibration.evidence import main

    e = write_estimate(tmp_path / "est", [{"durable_shopping_days.cars": 60.0}, {"durable_shopping_days.cars": 120.0}],
                       {"durable_shopping_days.cars": 90.0})
    monkeypatch.setattr(ens, "committed_ensemble", lambda folder=None: e)
    out = tmp_path / "evidence.json"
    assert main(["--study", "car_subsidy", "--replications", "2", "--scale", "0.02", "--quiet", "--json", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["ranges_cover"].startswith("sampling noise and behavioural uncertainty")
    assert [l.split(" (")[0] for l in data["replication_behaviour"]] == ["ensemble set 0 of 2", "ensemble set 1 of 2"]
    (row,) = [r for r in data["rows"] if r["measure"] == "car_reversal_share"]
    assert row["published"] == "1" and row["replications"] == 2 and row["model_min"] <= row["model_mean"] <= row["model_max"]
    assert "behavioural uncertainty" in capsys.readouterr().out
    # An existing file is never overwritten.
    assert main(["--study", "car_subsidy", "--replications", "1", "--scale", "0.02", "--quiet", "--json", str(out)]) == 2
