"""Target search: the smallest budget for one tool that meets a plan's target with probability P."""

from __future__ import annotations

import copy

import pytest

from conftest import ROOT, build, run_py, small_city
from model.planning.target import TargetSearchError, curve_csv, find_budget, raw_with_budget
from model.runner import run_scenario

# Sizes here were derived by hand from the documented behaviour values (model/parameters/behaviour.toml), and
# comparisons across replications need one behaviour, not ensemble set r in replication r: run on those values.
pytestmark = pytest.mark.usefixtures("documented_behaviour")

SCALE = 0.25
REPLICATIONS = 5


def voucher_plan(target_value: float = 1.0e8) -> dict:
    """Two months of a small city with one threshold-voucher tool and a level target for the period."""
    raw = small_city(households=20000, start="2023-03-01", end="2023-04-30", visitors=False, tools={
        "v": {"kind": "voucher", "sectors": ["catering", "daily_goods"], "face_value_yuan": 20, "threshold_yuan": 60,
              "budget_yuan": 200000, "start_date": "2023-03-03", "end_date": "2023-03-31", "release_every_days": 7,
              "validity_days": 7}})
    raw["targets"] = {"spring": {"indicator": "retail_sales_level", "period": "2023-03-01..2023-04-30",
                                 "value": target_value, "description": "test target"}}
    return raw


@pytest.fixture(scope="module")
def baseline_levels() -> list[float]:
    """The period's 社零 without any tool in each replication (the same seeds the search uses)."""
    result = run_scenario(build(voucher_plan()).without_tools(), scale=SCALE, seed=0, replications=REPLICATIONS,
                          tool_breakdown=False)
    return sorted(r["retail_sales_baseline"] for r in result.replications)


def probability_met(raw: dict, budget: float) -> float:
    """Probability the target is met at ``budget``, computed by the core runner, independently of the search."""
    scenario = build(raw_with_budget(raw, "v", budget))
    summary = run_scenario(scenario, scale=SCALE, seed=0, replications=REPLICATIONS, tool_breakdown=False).summary
    return summary["targets"]["spring"]["met"]["probability"]


def test_found_budget_meets_the_target_and_one_step_lower_does_not(baseline_levels):
    # The middle replication needs 0.15% more 社零 than it has without the tool: reachable, but not for free
    # (the largest budget tried adds about 0.25%).
    raw = voucher_plan(target_value=baseline_levels[2] * 1.0015)
    result = find_budget(raw, "v", origin="test", probability=0.6, max_budget=800000, grid_steps=8,
                         replications=REPLICATIONS, scale=SCALE, seed=0, curve_points=1)
    assert result.status == "found", result.message()
    step = result.grid_step_yuan
    assert step == pytest.approx(100000)
    assert 0 < result.budget_yuan <= 800000
    assert probability_met(raw, result.budget_yuan) >= 0.6
    assert probability_met(raw, result.budget_yuan - step) < 0.6
    # The curve has the answer, the bound and budget 0, sorted by budget, and is written as CSV.
    budgets = [p.budget_yuan for p in result.points]
    assert budgets == sorted(budgets) and budgets[0] == 0 and budgets[-1] == 800000
    assert result.budget_yuan in budgets and result.budget_yuan - step in budgets
    text = curve_csv(result)
    assert text.splitlines()[0].startswith("tool,target,budget_yuan,probability")
    assert sum(1 for line in text.splitlines() if line.endswith(",yes")) == 1


def test_unreachable_target_is_reported_out_of_reach(baseline_levels):
    raw = voucher_plan(target_value=baseline_levels[-1] * 1.10)  # 10% above the best replication: no voucher does that
    result = find_budget(raw, "v", origin="test", probability=0.6, max_budget=800000, grid_steps=8,
                         replications=REPLICATIONS, scale=SCALE, seed=0, curve_points=1)
    assert result.status == "out_of_reach"
    assert result.budget_yuan is None
    assert "out of reach" in result.message() and "80 万元" in result.message()
    assert all(p.probability < 0.6 for p in result.points)


def test_budget_zero_is_the_answer_when_the_rest_of_the_plan_meets_the_target(baseline_levels):
    raw = voucher_plan(target_value=baseline_levels[0] * 0.9)
    result = find_budget(raw, "v", origin="test", probability=1.0, max_budget=400000, grid_steps=4,
                         replications=REPLICATIONS, scale=SCALE, seed=0, curve_points=0)
    assert result.status == "met_without_tool" and result.budget_yuan == 0


def test_fixed_quantity_and_batches_scale_with_the_budget():
    raw = voucher_plan()
    tool = raw["tools"]["v"]
    del tool["release_every_days"]
    tool["quantity"] = {"value": 8000, "assumption": "test"}
    tool["releases"] = [{"date": "2023-03-03", "quantity": 5000}, {"date": "2023-03-10", "quantity": 3000}]
    scaled = build(raw_with_budget(raw, "v", 100000))  # half the plan's 200000
    v = scaled.tools["v"]
    assert v.budget_yuan == 100000
    assert v.quantity == 4000
    assert [b.quantity for b in v.releases] == [2500, 1500]
    # The plan itself is untouched.
    assert raw["tools"]["v"]["quantity"]["value"] == 8000


@pytest.mark.parametrize("probability", [0.0, -0.2, 1.5])
def test_impossible_probability_is_an_error(probability):
    with pytest.raises(TargetSearchError, match="probability must be in"):
        find_budget(voucher_plan(), "v", origin="test", probability=probability, replications=1)


def test_unknown_tool_is_an_error_naming_it():
    with pytest.raises(TargetSearchError, match="no tool 'coupons'.*v"):
        find_budget(voucher_plan(), "coupons", origin="test", probability=0.5, replications=1)


def test_several_targets_need_a_name():
    raw = voucher_plan()
    raw["targets"]["other"] = copy.deepcopy(raw["targets"]["spring"])
    with pytest.raises(TargetSearchError, match="several targets.*--target"):
        find_budget(raw, "v", origin="test", probability=0.5, replications=1)
    with pytest.raises(TargetSearchError, match="no target 'third'"):
        find_budget(raw, "v", origin="test", target="third", probability=0.5, replications=1)


def test_command_line_errors_name_what_is_wrong(capsys):
    example = str(ROOT / "scenarios" / "examples" / "small_city.toml")
    code, _, stderr = run_py(capsys, "target", example, "--tool", "spring_vouchers", "--probability", "0")
    assert code == 2
    assert "--probability" in stderr and "(0, 1]" in stderr
    code, _, stderr = run_py(capsys, "target", example, "--tool", "nope")
    assert code == 2
    assert "no tool 'nope'" in stderr and "spring_vouchers" in stderr
