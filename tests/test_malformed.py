"""Malformed scenario files are refused before anything runs: file, field, reason and what is accepted.

``tests/malformed/`` holds one file per class of bad input (each a copy of the example city with one
fault; its header names the field and the reason expected). Hypothesis then mutates the valid example
(wrong types, out-of-range and non-finite numbers, misspelt keys): every mutant is either refused with
a message naming the file and a field, or loads and runs with its accounting identities holding.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLE, ROOT
from model.scenario import ScenarioError, load_scenario, scenario_from_dict
from model.scenario_schema import MAX_FILE_BYTES, SCHEMA_FILE, json_schema, read_toml, schema_text

import run as run_cli

CORPUS = sorted((ROOT / "tests" / "malformed").glob("*.toml"))


def expectation(path: Path) -> tuple[str, str]:
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    field = next(line for line in lines if line.startswith("# expect-field: ")).split(": ", 1)[1]
    reason = next(line for line in lines if line.startswith("# expect-reason: ")).split(": ", 1)[1]
    return field, reason


def run_main(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli.main(args)
    return code, out.getvalue(), err.getvalue()


def test_the_corpus_covers_every_class_of_the_issue():
    names = {p.stem for p in CORPUS}
    assert len(names) >= 35
    for expected in ("budget_inf", "households_inf", "households_1e12", "not_utf8", "deep_nesting", "city_typo",
                     "scenario_typo", "target_typo", "condition_typo", "behaviour_negative_mpc",
                     "behaviour_probability_7", "dealer_reward_inf", "allowance_inf", "dealer_top_n_huge", "target_inf",
                     "condition_outside_horizon", "variant_unknown_field", "visitors_inf", "income_1e300",
                     "behaviour_nan", "households_fraction"):
        assert expected in names


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_each_malformed_file_is_refused_naming_file_and_field(path, tmp_path):
    field, reason = expectation(path)
    out = tmp_path / "out"
    code, stdout, stderr = run_main(["run", str(path), "--out", str(out), "--quiet"])
    assert code == 2, stderr
    message = stderr.strip().splitlines()[-1]
    assert message.startswith(f"error: {path}"), message
    assert f": {field}: " in message and reason in message, message
    assert "Traceback" not in stderr and stdout == ""
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_refusals_are_clean_in_a_separate_process(tmp_path):
    """A few of the worst, as a user meets them: a process that exits 2 with one line and no traceback."""
    for name in ("deep_nesting", "households_1e12", "not_utf8"):
        path = ROOT / "tests" / "malformed" / f"{name}.toml"
        proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "run", str(path), "--out", str(tmp_path / "o")],
                              capture_output=True, text=True, timeout=120)
        field, reason = expectation(path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert f"{path}: {field}: " in proc.stderr and reason in proc.stderr
        assert not (tmp_path / "o").exists()


def test_folders_and_oversized_files_are_named(tmp_path):
    folder = tmp_path / "plan.toml"
    folder.mkdir()
    code, _, err = run_main(["run", str(folder), "--out", str(tmp_path / "o")])
    assert code == 2 and f"{folder}: (file): {folder} is a folder; accepted: a TOML file" in err
    calibrated = tmp_path / "calibrated.toml"
    calibrated.write_text(EXAMPLE.read_text(encoding="utf-8").replace(
        'end_date = "2023-12-31"\n', 'end_date = "2023-12-31"\ncalibration = "plan.toml"\n', 1), encoding="utf-8")
    code, _, err = run_main(["run", str(calibrated), "--out", str(tmp_path / "o")])
    assert code == 2 and "(scenario.calibration = plan.toml): (file):" in err and "is a folder" in err
    big = tmp_path / "big.toml"
    big.write_text(EXAMPLE.read_text(encoding="utf-8") + "#" * MAX_FILE_BYTES, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"big.toml: \(file\): [\d,]+ bytes; accepted: a TOML file of at most"):
        read_toml(big)
    assert not (tmp_path / "o").exists()


def test_every_variant_is_checked_when_the_file_loads(tmp_path):
    path = ROOT / "tests" / "malformed" / "variant_unknown_field.toml"
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)  # the base design is asked for, and the bad variant still refuses the file
    assert str(err.value).startswith(f"{path} (variant bigger): city.househlds: unknown field")
    good = ROOT / "scenarios" / "examples" / "small_city_designs.toml"
    assert load_scenario(good).tools and load_scenario(good, variant="double_budget").tools


# ------------------------------------------------------------------ mutations


def example() -> dict:
    with open(EXAMPLE, "rb") as handle:
        return tomllib.load(handle)


def leaves(node, path=()):
    """(path, value) of every number, text and date in a raw scenario, and of every table key."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), value
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaves(value, (*path, i))


LEAF_PATHS = [p for p, v in leaves(example())]
BAD_VALUES = st.one_of(
    st.sampled_from([math.inf, -math.inf, math.nan, 1e300, -1e300, 1e15, -1.0, 0, 2.5, True, "", "text", [], {},
                     [1, 2], {"value": 1, "sorce": "x"}, {"value": math.nan, "assumption": "x"}]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-10**20, max_value=10**20),
    st.text(max_size=5),
)


def _set(raw: dict, path: tuple, value) -> None:
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _misspell(key: str, how: int, at: int) -> str:
    at %= max(len(key), 1)
    if how == 0:
        return key[:at] + key[at + 1:]  # a letter left out
    if how == 1:
        return key[:at] + key[at] + key[at:]  # a letter doubled
    return key[:at] + key[at + 1:at + 2] + key[at:at + 1] + key[at + 2:]  # two letters swapped


def refused_or_runs(raw: dict) -> None:
    try:
        scenario = scenario_from_dict(raw, "mutant.toml")
    except ScenarioError as exc:
        message = str(exc)
        assert message.startswith("mutant.toml") and exc.field_path and exc.reason, message
        return
    from model.accounting import check_accounts
    from model.rng import RandomStreams
    from model.runner import simulate_replication

    pair = simulate_replication(scenario, min(1.0, 300 / scenario.city.households), RandomStreams.from_seed(1),
                                tool_breakdown=False)
    for model in (pair.policy, pair.baseline):
        check_accounts(model)
        assert math.isfinite(float(model.books.retail.sum()))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(LEAF_PATHS), value=BAD_VALUES)
def test_wrong_values_are_refused_or_run(path, value):
    raw = example()
    _set(raw, path, value)
    refused_or_runs(raw)


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(LEAF_PATHS), how=st.integers(0, 2), at=st.integers(0, 40))
def test_misspelt_keys_are_refused_with_a_suggestion(path, how, at):
    raw = example()
    parent = raw
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    wrong = _misspell(key, how, at)
    if wrong == key or wrong in parent:
        return
    parent[wrong] = parent.pop(key)
    if path[0] in ("tools", "targets") and len(path) == 2:
        refused_or_runs(raw)  # a tool or target's own name is the user's to choose
        return
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(raw, "mutant.toml")
    assert str(err.value).startswith("mutant.toml: ")


def test_a_misspelt_key_names_the_key_it_was_meant_to_be():
    raw = example()
    raw["tools"]["car_subsidy"]["dealer_reward_yaun"] = raw["tools"]["car_subsidy"].pop("dealer_reward_yuan")
    with pytest.raises(ScenarioError, match=r"tools.car_subsidy.dealer_reward_yaun: unknown field "
                                            r"\(did you mean 'dealer_reward_yuan'\?\)"):
        scenario_from_dict(raw, "x.toml")


# ------------------------------------------------------------------ the schema and its ranges


def test_the_shipped_json_schema_is_current():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), \
        "scenarios/scenario.schema.json is out of date: python -m model.scenario_schema"


def test_the_json_schema_accepts_every_scenario_and_refuses_a_typo():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())

    def as_json(node):
        return json.loads(json.dumps(node, default=str))

    for path in sorted((ROOT / "scenarios").glob("*.toml")) + sorted((ROOT / "scenarios" / "examples").glob("*.toml")):
        with open(path, "rb") as handle:
            raw = as_json(tomllib.load(handle))
        assert not list(validator.iter_errors(raw)), path
    raw = as_json(example())
    raw["city"]["non_household_retail_shar"] = 0.1
    raw["behaviour"] = {"voucher_claim_interest": 7}
    problems = {tuple(e.absolute_path) for e in validator.iter_errors(raw)}
    assert ("city",) in problems and ("behaviour", "voucher_claim_interest") in problems


def test_behaviour_overrides_take_the_documented_valid_ranges():
    from model.parameters import BEHAVIOUR_FILE, read_parameter_file

    from model.scenario_schema import behaviour_model

    entries = read_parameter_file(BEHAVIOUR_FILE, require_range=True)
    assert set(behaviour_model().model_fields) == set(entries)
    for name, entry in entries.items():
        valid = entry["valid_range"]
        probe = valid.max + max(1.0, abs(valid.max))
        raw = example()
        raw["behaviour"] = {name: probe if not isinstance(entry["value"], dict)
                            else {next(iter(entry["value"])): probe}}
        with pytest.raises(ScenarioError, match=f"is out of range; accepted: .* to {re.escape(f'{valid.max:g}')}"):
            scenario_from_dict(raw, "x.toml")


def test_every_numeric_tool_setting_has_a_range():
    from model import tools
    from model.tools.base import _field_type

    for kind in tools.kinds().values():
        for f in kind.settings_fields():
            if _field_type(kind.settings, f.name) in (int, float, int | None):
                assert f.metadata["minimum"] is not None and f.metadata["maximum"] is not None, (kind.name, f.name)


def test_a_whole_number_written_with_a_point_is_still_a_count():
    raw = copy.deepcopy(example())
    raw["city"]["households"] = 100000.0
    raw["tools"]["car_subsidy"]["dealer_top_n"] = 3.0
    scenario = scenario_from_dict(raw, "x.toml")
    assert scenario.city.households == 100000 and scenario.tools["car_subsidy"].dealer_top_n == 3


def test_sweep_files_are_read_the_same_way(tmp_path):
    from model.sweeps import SweepError, load_sweep

    folder = tmp_path / "sweep.toml"
    folder.mkdir()
    with pytest.raises(SweepError, match=r"sweep.toml: \(file\): .* is a folder; accepted: a TOML file"):
        load_sweep(folder)
    latin = tmp_path / "latin.toml"
    latin.write_bytes('[sweep]\nname = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(SweepError, match=r"latin.toml: \(file\): not UTF-8 text: byte 0xe9 on line 2"):
        load_sweep(latin)
