"""Every behaviour parameter has a documented valid range; overrides outside it are refused before anything runs."""

from __future__ import annotations

import copy
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLE
from model.parameters import BEHAVIOUR_FILE, BehaviourParameters, ParameterRangeError, read_parameter_file
from model.scenario import ScenarioError, scenario_from_dict

DEFAULTS = BehaviourParameters.default()


def example() -> dict:
    with open(EXAMPLE, "rb") as handle:
        return tomllib.load(handle)


def refuse(raw: dict, field: str, *fragments: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw, "my_city.toml")
    message = str(info.value)
    assert message.startswith("my_city.toml: ") and field in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_every_parameter_documents_a_range_holding_its_value():
    with open(BEHAVIOUR_FILE, "rb") as handle:
        entries = tomllib.load(handle)
    assert set(entries) == set(DEFAULTS.as_dict())
    for name, entry in entries.items():
        r = entry["valid_range"]
        assert set(r) == {"min", "max", "reason"} and r["min"] < r["max"] and len(r["reason"]) > 10, name
        values = entry["value"].values() if isinstance(entry["value"], dict) else [entry["value"]]
        assert all(r["min"] <= v <= r["max"] for v in values), name
        assert DEFAULTS.ranges[name].min == r["min"] and DEFAULTS.ranges[name].max == r["max"]


def test_a_parameter_file_without_ranges_or_with_its_value_outside_is_refused(tmp_path):
    text = BEHAVIOUR_FILE.read_text(encoding="utf-8")
    missing = tmp_path / "no_range.toml"
    missing.write_text(text.replace('valid_range = { min = 0.0, max = 1.0, reason = "value per yuan of goods bought: '
                                    'none to their full price" }\n', ""), encoding="utf-8")
    with pytest.raises(ValueError, match="'topup_value_share' needs valid_range"):
        read_parameter_file(missing, require_range=True)
    outside = tmp_path / "outside.toml"
    outside.write_text(text.replace("[topup_value_share]\nvalue = 0.6", "[topup_value_share]\nvalue = 1.6"),
                       encoding="utf-8")
    with pytest.raises(ValueError, match=r"documented value of topup_value_share \(1.6\) is outside"):
        read_parameter_file(outside, require_range=True)


def test_scenario_overrides_outside_the_range_are_refused_with_the_range_and_reason():
    raw = example()
    raw["behaviour"] = {"topup_value_share": 1.2}
    refuse(raw, "behaviour.topup_value_share", "1.2 is out of range; accepted: a finite number from 0 to 1", "full price")
    raw = example()
    raw["behaviour"] = {"pull_forward_share": {"catering": -0.1}}
    refuse(raw, "behaviour.pull_forward_share.catering", "-0.1 is out of range; accepted: a finite number from 0 to 1")
    raw = example()
    raw["behaviour"] = {"windfall_spending_days": {"value": 0, "assumption": "spent at once"}}
    refuse(raw, "behaviour.windfall_spending_days", "0 is out of range; accepted: a whole number from 1 to 730")
    raw = example()
    raw["behaviour"] = {"windfall_mpc_min": 0.6, "windfall_mpc_max": 0.5}
    refuse(raw, "behaviour.windfall_mpc_min", "above windfall_mpc_max")
    raw = example()
    raw["city"]["car_price_yuan"] = {"value": 5_000_000, "assumption": "supercars"}
    refuse(raw, "city.car_price_yuan", "out of range; accepted: a finite number from 10000 to 2e+06")


def test_overrides_at_the_range_ends_are_accepted():
    raw = example()
    raw["behaviour"] = {"topup_value_share": 1.0, "voucher_loss_aversion": 1.0, "pull_forward_share": {"catering": 0.0}}
    scenario = scenario_from_dict(copy.deepcopy(raw), "my_city.toml")
    assert scenario.behaviour.topup_value_share == 1.0
    assert scenario.behaviour.pull_forward_share["catering"] == 0.0
    assert scenario.behaviour.pull_forward_share["daily_goods"] == DEFAULTS.pull_forward_share["daily_goods"]


def test_valid_range_by_path():
    assert DEFAULTS.valid_range("pull_forward_share.catering") is DEFAULTS.ranges["pull_forward_share"]
    for bad in ("pull_forward_share", "pull_forward_share.cars_and_boats", "topup_value_share.x", "nothing"):
        with pytest.raises(KeyError):
            DEFAULTS.valid_range(bad)


SCALARS = sorted(n for n, v in DEFAULTS.as_dict().items() if isinstance(v, float))


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(SCALARS), value=st.floats(-1e7, 1e7, allow_nan=False))
def test_an_override_is_accepted_exactly_when_inside_its_range(name, value):
    valid = DEFAULTS.ranges[name]
    order_broken = ((name == "windfall_mpc_min" and value > DEFAULTS.windfall_mpc_max)
                    or (name == "windfall_mpc_max" and value < DEFAULTS.windfall_mpc_min))
    if valid.min <= value <= valid.max and not order_broken:
        assert getattr(DEFAULTS.with_overrides({name: value}), name) == value
    else:
        with pytest.raises(ParameterRangeError) as info:
            DEFAULTS.with_overrides({name: value})
        inside = valid.min <= value <= valid.max
        assert info.value.path == ("windfall_mpc_min" if inside else name)
