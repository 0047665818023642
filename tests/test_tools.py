"""Policy tool kinds: the registry, declared settings and their schema, and a kind added at test time."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass

import jsonschema
import numpy as np
import pytest

from conftest import ROOT, small_city
from model import tools
from model.dashboard.state import controls_for
from model.rng import RandomStreams
from model.simulation import simulate_replication
from model.summary import replication_summary
from model.scenario import ScenarioError, scenario_from_dict
from model.tools.base import BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, setting, settings_schema

SHIPPED_KINDS = {"voucher", "car_subsidy", "appliance_trade_in", "night_market", "tourism_voucher"}


def test_registry_finds_every_module_in_the_package():
    names = {p.stem for p in (ROOT / "model" / "tools").glob("*.py") if p.stem not in ("__init__", "base")}
    assert set(tools.kinds()) == names
    assert SHIPPED_KINDS <= names


@pytest.mark.parametrize("name", sorted(SHIPPED_KINDS))
def test_every_setting_is_declared_with_unit_description_and_default_once(name):
    kind = tools.get(name)
    assert kind.label_zh and kind.label_en and kind.summary
    fields = kind.settings_fields()
    assert fields
    for f in fields:
        assert f.metadata["description"], f.name
        assert "unit" in f.metadata, f.name
    declared = {f.name for f in fields} | {"budget_yuan"}
    for control in kind.controls:
        assert control.field in declared, control.field


def _tool_tables():
    for path in sorted((ROOT / "scenarios").glob("*.toml")) + sorted((ROOT / "scenarios" / "examples").glob("*.toml")):
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
        for name, table in raw.get("tools", {}).items():
            yield f"{path.name}:{name}", table


@pytest.mark.parametrize("where,table", list(_tool_tables()))
def test_shipped_tools_satisfy_their_kinds_json_schema(where, table):
    schema = settings_schema(tools.get(table["kind"]))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(_json_ready(table), schema)


def _json_ready(value):
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def test_schema_refuses_what_the_reader_refuses():
    schema = settings_schema(tools.get("voucher"))
    good = {"kind": "voucher", "start_date": "2023-03-01", "end_date": "2023-03-31", "budget_yuan": 1000,
            "sectors": ["catering"], "face_value_yuan": {"value": 10, "source": "test"}}
    jsonschema.validate(good, schema)
    for bad in ({"face_value_yuan": 0}, {"validity_days": 0}, {"allocation": "raffle"}, {"colour": "red"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, **bad}, schema)
        raw = small_city(households=2000, start="2023-03-01", end="2023-03-31", tools={"v": {**good, **bad}})
        with pytest.raises(ScenarioError):
            scenario_from_dict(raw)


def test_defaults_are_the_declared_ones():
    raw = small_city(households=2000, start="2023-03-01", end="2023-03-31", tools={
        "v": {"kind": "voucher", "sectors": ["catering"], "face_value_yuan": 10, "budget_yuan": 1000,
              "start_date": "2023-03-01", "end_date": "2023-03-31"}})
    tool = scenario_from_dict(raw).tools["v"]
    declared = {f.name: f.default for f in tools.get("voucher").settings_fields()}
    assert tool.validity_days == declared["validity_days"] == 7
    assert tool.quantity == 100  # derived: budget / face value
    assert tool.channel == declared["channel"]


# ------------------------------------------------------------------ a kind built at test time


@dataclass(frozen=True, kw_only=True)
class RentRelief(Tool):
    """Rent relief paid to merchants every day of the tool, with no effect on what anyone buys."""

    relief_per_day_yuan: float = setting(unit="yuan per day", minimum=0, exclusive_minimum=True,
                                         description="paid to merchants each day")


class RentReliefEffect(ToolEffect):
    def end_of_day(self, day: int) -> None:
        if self.acts_on(day):
            self.fund.pay(self.tool.relief_per_day_yuan, "merchant", day)

    def summary(self, entry):
        entry["relief_days"] = int(np.count_nonzero(self.fund.daily_outlay))


RENT_RELIEF = ToolKind(name="rent_relief_test", settings=RentRelief, effect=RentReliefEffect, label_zh="租金减免",
                       label_en="rent relief", summary="a daily payment to merchants",
                       controls=(BUDGET_CONTROL, ControlSpec("relief_per_day_yuan", "每日减免", "relief per day (yuan)",
                                                             0.0, 1e6, always=True)))


@pytest.fixture
def rent_relief():
    tools.register(RENT_RELIEF)
    yield RENT_RELIEF
    tools.unregister(RENT_RELIEF.name)


def test_a_kind_registered_at_test_time_runs_and_is_summarised(rent_relief):
    relief = {"kind": "rent_relief_test", "relief_per_day_yuan": 1000.0, "budget_yuan": 25_500.0,
              "start_date": "2023-03-01", "end_date": "2023-03-31"}
    raw = small_city(households=3000, start="2023-02-20", end="2023-04-10", tools={"relief": relief})
    scenario = scenario_from_dict(raw)
    pair = simulate_replication(scenario, 1.0, RandomStreams.from_seed(3), tool_breakdown=False)
    summary = replication_summary(pair)
    entry = summary["tools"]["relief"]
    # 25 full days, then the last 500 yuan: the pool pays no more than it holds.
    assert entry["outlay"] == pytest.approx(25_500.0)
    assert entry["relief_days"] == 26
    assert entry["budget_exhausted_date"] == "2023-03-26"
    assert summary["retail_sales_uplift"] == 0.0  # it changes nobody's spending
    assert [c.path for c in controls_for(scenario)] == ["tools.relief.budget_yuan", "tools.relief.relief_per_day_yuan"]
    with pytest.raises(ScenarioError, match="relief_per_week_yuan: unknown field .did you mean 'relief_per_day_yuan'"):
        scenario_from_dict(small_city(tools={"relief": {**relief, "relief_per_week_yuan": 1}}))
    with pytest.raises(ScenarioError, match="relief_per_day_yuan: missing required field"):
        scenario_from_dict(small_city(tools={"relief": {k: v for k, v in relief.items() if k != "relief_per_day_yuan"}}))


def test_an_unregistered_kind_is_refused_naming_the_known_ones():
    raw = small_city(tools={"x": {"kind": "rent_relief_test", "budget_yuan": 1, "start_date": "2023-03-01",
                                  "end_date": "2023-03-02"}})
    with pytest.raises(ScenarioError, match="'rent_relief_test' is not a tool kind.*; accepted: .*voucher"):
        scenario_from_dict(raw)


def test_settings_are_frozen_dataclasses_of_tool():
    for kind in tools.kinds().values():
        assert issubclass(kind.settings, Tool)
        assert dataclasses.is_dataclass(kind.settings)


def test_no_module_outside_tools_names_a_kind_or_imports_one():
    """Reading, running, summarising, reporting and the dashboard go through the registry only.

    A string equal to a kind's name (other than a sector's, such as the sector ``night_market``) or an import
    of a kind's module anywhere in the project's code outside ``model/tools/`` fails this test.
    """
    import ast

    from model.sectors import SECTORS

    kind_names = set(tools.kinds()) - set(SECTORS)
    kind_modules = {f"model.tools.{name}" for name in tools.kinds()}
    offenders = []
    files = [p for folder in ("model", "calibration", "benchmarks") for p in (ROOT / folder).rglob("*.py")]
    files.append(ROOT / "run.py")
    for path in files:
        if (ROOT / "model" / "tools") in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in kind_names:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} names {node.value!r}")
            if isinstance(node, ast.ImportFrom) and node.module in kind_modules:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}")
            if isinstance(node, ast.ImportFrom) and node.module == "model.tools" and any(
                    a.name in tools.kinds() for a in node.names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports a kind module")
    assert offenders == []


def test_a_kind_with_an_undeclared_setting_is_refused():
    @dataclass(frozen=True, kw_only=True)
    class Bare(Tool):
        rate: float = 0.1  # no unit, range or description

    with pytest.raises(TypeError, match="setting rate is not declared"):
        tools.register(ToolKind(name="bare_test", settings=Bare, effect=ToolEffect, label_zh="无", label_en="bare"))
    assert "bare_test" not in tools.kinds()


def test_every_shipped_tools_table_is_one_registered_kind():
    schema = tools.tools_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in sorted((ROOT / "scenarios").glob("*.toml")) + sorted((ROOT / "scenarios" / "examples").glob("*.toml")):
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
        jsonschema.validate(_json_ready(raw.get("tools", {})), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"x": {"kind": "lottery_tickets", "start_date": "2023-01-01", "end_date": "2023-01-02",
                                   "budget_yuan": 1}}, schema)


def test_every_rule_and_tool_names_the_behaviour_parameters_it_reads():
    """Each rule's and tool kind's module docstring names every behaviour parameter its code reads, so a
    reader finds the evidence behind them (``behaviour.toml`` holds each one's reference or assumption)."""
    import ast

    from model.parameters import BehaviourParameters

    names = {f.name for f in dataclasses.fields(BehaviourParameters)} - {"sources"}
    files = sorted((ROOT / "model" / "rules").glob("*.py")) + sorted((ROOT / "model" / "tools").glob("*.py"))
    files.append(ROOT / "model" / "merchants.py")
    unnamed = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree) or ""
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in names:
                family = node.attr.rsplit("_", 1)[0] + "_*"
                if node.attr not in doc and family not in doc:
                    unnamed.append(f"{path.relative_to(ROOT)}: {node.attr}")
    assert sorted(set(unnamed)) == []
