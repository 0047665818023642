"""One counterfactual, whatever the design: the no-policy run depends on the city, seed and scale only.

A planner compares designs against the same "no policy" line; if a subsidy
slider moved that line, part of every difference would be noise. The no-policy
run of two random designs of the same city, seed and scale must be
bit-identical: every booked sale, car and appliance, and every household's
savings at the horizon's end.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import build, small_city
from model.economy import CityEconomy
from model.rng import RandomStreams
from test_accounting import tool_settings


def _no_policy_run(tools: dict, seed: int):
    raw = small_city(households=4000, start="2023-02-15", end="2023-05-15", tools=tools)
    # Each replication draws its own 社零 trend path (model/trend.py): the draw must not depend on the design.
    raw["city"]["retail_sales_forecast_error_sd"] = {"value": 0.05, "assumption": "test"}
    raw["city"]["retail_sales_base_sd"] = {"value": 0.02, "assumption": "test"}
    scenario = build(raw)
    return CityEconomy(scenario, scale=0.5, streams=RandomStreams.from_seed(seed), active_tools=set()).run()


CARS = {"kind": "car_subsidy", "start_date": "2023-03-01", "end_date": "2023-04-20", "subsidy_per_car_yuan": 5000.0,
        "budget_yuan": 1e6}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(design_a=tool_settings(), design_b=tool_settings(), seed=st.integers(0, 2**16))
@example(design_a={"cars": CARS}, design_b={"cars": dict(CARS, subsidy_per_car_yuan=25000.0)}, seed=3)
def test_no_policy_run_is_identical_for_any_two_designs(design_a, design_b, seed):
    a = _no_policy_run(design_a, seed)
    b = _no_policy_run(design_b, seed)
    np.testing.assert_array_equal(a.books.retail, b.books.retail)
    np.testing.assert_array_equal(a.books.non_retail, b.books.non_retail)
    np.testing.assert_array_equal(a.books.cars_sold, b.books.cars_sold)
    np.testing.assert_array_equal(a.books.appliances_sold, b.books.appliances_sold)
    np.testing.assert_array_equal(a.savings_at_horizon_end, b.savings_at_horizon_end)
