"""Net effect independent of where the run stops.

Pull-forward paybacks and durable dips fall after a programme ends; a run that
stopped at ``end_date`` would drop those after it, so a plan ending on 31
December would look better than the same plan run six months longer. Every run
simulates past the last tool's end for the payback window, on the same
streams, and reports both the horizon's figure and the one with payback.
"""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import build, small_city
from model.economy import payback_end_date
from model.runner import run_scenario

TOOLS = {
    "v": {"kind": "voucher", "sectors": ["catering", "daily_goods"], "face_value_yuan": 20, "threshold_yuan": 60,
          "budget_yuan": 400000, "start_date": "2023-04-07", "end_date": "2023-05-31", "release_every_days": 7,
          "validity_days": 7},
    "cars": {"kind": "car_subsidy", "subsidy_per_car_yuan": 8000, "budget_yuan": 2e6, "start_date": "2023-05-01",
             "end_date": "2023-06-15"},
}


def _summary(end: str):
    scenario = build(small_city(households=20000, end=end, tools=TOOLS))
    return run_scenario(scenario, scale=0.5, seed=4, tool_breakdown=False).summary


def test_payback_window_runs_a_year_past_the_last_tool():
    scenario = build(small_city(end="2023-06-30", tools=TOOLS))
    assert payback_end_date(scenario) == dt.date(2023, 6, 15) + dt.timedelta(days=365)
    assert payback_end_date(build(small_city(end="2023-06-30"))) == dt.date(2023, 6, 30)


def test_net_leverage_with_payback_does_not_depend_on_end_date(documented_behaviour):
    # documented behaviour: the payback end below is derived from its values (the year's minimum window)
    short = _summary("2023-06-30")
    longer = _summary("2023-12-31")  # six months later
    assert short["payback_end_date"] == longer["payback_end_date"] == "2024-06-14"
    assert short["payback_end_dates"] == longer["payback_end_dates"] == ["2024-06-14"]
    # The horizon figures differ: the dip after the car programme falls inside the longer horizon only.
    assert short["retail_sales_uplift"] != pytest.approx(longer["retail_sales_uplift"], rel=0.01)
    # With payback, both runs count the same days on the same streams.
    assert longer["net_leverage_with_payback"] == pytest.approx(short["net_leverage_with_payback"], rel=1e-9)
    assert longer["retail_sales_uplift_with_payback"] == pytest.approx(short["retail_sales_uplift_with_payback"], rel=1e-9)
    # Targets and the reported series stay on the horizon.
    assert short["retail_sales_baseline"] < 0.6 * longer["retail_sales_baseline"]
    assert short["retail_sales_uplift_with_payback"] != pytest.approx(short["retail_sales_uplift"], rel=0.01)
    assert "payback_end_date" in short["figures"]["retail_sales_uplift_with_payback"]
