"""Bad scenarios are refused before anything runs, naming the file, the field and the reason."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import tomllib

from conftest import EXAMPLE, ROOT
from model.scenario import ScenarioError, load_scenario, scenario_from_dict


def example() -> dict:
    with open(EXAMPLE, "rb") as handle:
        return tomllib.load(handle)


def refuse(raw: dict, field: str, reason: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw, "my_city.toml")
    message = str(info.value)
    assert message.startswith("my_city.toml: ")
    assert field in message, message
    assert reason in message, message


def test_example_loads_with_every_number_sourced():
    scenario = load_scenario(EXAMPLE)
    assert scenario.unsourced == ()
    assert set(scenario.tools) == {"spring_vouchers", "car_subsidy", "night_allowance"}


def test_missing_field():
    raw = example()
    del raw["tools"]["spring_vouchers"]["face_value_yuan"]
    refuse(raw, "tools.spring_vouchers.face_value_yuan", "missing required field")
    raw = example()
    del raw["city"]["households"]
    refuse(raw, "city.households", "missing required field")


def test_wrong_type():
    raw = example()
    raw["tools"]["spring_vouchers"]["budget_yuan"] = "two million"
    refuse(raw, "tools.spring_vouchers.budget_yuan", "expected a number")
    raw = example()
    raw["tools"]["spring_vouchers"]["start_date"] = "next spring"
    refuse(raw, "tools.spring_vouchers.start_date", "expected a date")


def test_threshold_below_face_value():
    raw = example()
    raw["tools"]["spring_vouchers"]["threshold_yuan"] = 15
    refuse(raw, "tools.spring_vouchers.threshold_yuan", "below the face value")


def test_date_outside_horizon():
    raw = example()
    raw["tools"]["car_subsidy"]["end_date"] = "2024-03-01"
    refuse(raw, "tools.car_subsidy.end_date", "outside the scenario horizon")


def test_negative_budget():
    raw = example()
    raw["tools"]["night_allowance"]["budget_yuan"] = -5
    refuse(raw, "tools.night_allowance.budget_yuan", "-5 is out of range; accepted: a finite number from 0 to 1e+12 (yuan)")


def test_more_vouchers_than_the_budget_covers():
    raw = example()
    raw["tools"]["spring_vouchers"]["quantity"] = 10**7
    refuse(raw, "tools.spring_vouchers.quantity", "more than the budget")


def test_unknown_fields_and_sectors():
    raw = example()
    raw["tools"]["spring_vouchers"]["face_valu_yuan"] = 5
    refuse(raw, "tools.spring_vouchers.face_valu_yuan", "unknown field")
    raw = example()
    raw["tools"]["spring_vouchers"]["sectors"] = ["restaurants"]
    refuse(raw, "tools.spring_vouchers.sectors", "'restaurants' is not one of")
    raw = example()
    raw["behaviour"] = {"windfall_mpc_maxx": 0.5}
    refuse(raw, "behaviour.windfall_mpc_maxx", "unknown field (did you mean 'windfall_mpc_max'?)")
    raw = example()
    raw["behaviour"] = {"windfall_mpc_max": "high"}
    refuse(raw, "behaviour.windfall_mpc_max", "expected a number, got str 'high'")


def test_funding_shares_must_sum_to_one():
    raw = example()
    raw["tools"]["car_subsidy"]["funding_shares"] = {"city": 0.5, "county": 0.4}
    refuse(raw, "tools.car_subsidy.funding_shares", "sum to 1")


def test_user_scenario_with_bare_numbers_runs_but_lists_them():
    raw = example()
    raw["tools"]["spring_vouchers"]["budget_yuan"] = 1500000
    scenario = scenario_from_dict(copy.deepcopy(raw), "user.toml")
    assert "tools.spring_vouchers.budget_yuan" in scenario.unsourced


def test_cli_refuses_bad_scenario_and_writes_nothing(tmp_path):
    raw_text = EXAMPLE.read_text(encoding="utf-8").replace('threshold_yuan = { value = 60', 'threshold_yuan = { value = 10')
    bad = tmp_path / "bad.toml"
    bad.write_text(raw_text, encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "run", str(bad), "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "bad.toml: tools.spring_vouchers.threshold_yuan: threshold 10 is below the face value 20" in proc.stderr
    assert not out.exists()


def test_cli_refuses_to_overwrite_results(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    keep = out / "summary.json"
    keep.write_text("earlier results", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "run", str(EXAMPLE), "--out", str(out), "--quiet",
                           "--scale", "0.01"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "not empty" in proc.stderr
    assert keep.read_text(encoding="utf-8") == "earlier results"
