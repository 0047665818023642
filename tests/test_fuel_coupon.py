"""Fuel coupons for self-driving visitors (``model/tools/fuel_coupon.py``): sizes checked against hand-derived values."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import small_city
from model.parameters import BehaviourParameters
from model.rng import RandomStreams
from model.scenario import ScenarioError, scenario_from_dict
from model.sectors import SECTOR_INDEX
from model.simulation import simulate_replication
from model.summary import replication_summary

SPEND_PER_VISIT = 150 + 100 + 200 + 80  # the test city's visitor spending table (yuan)
LODGING_PER_VISIT = 200
FUEL_PER_VISIT = 250.0
MAY = slice(120, 151)  # 2023-05-01..2023-05-31 from a 2023-01-01 start


def coupons(**settings):
    tool = {"kind": "fuel_coupon", "face_value_yuan": 100, "budget_yuan": 200_000, "self_drive_visitor_share": 0.4,
            "fuel_per_visit_yuan": FUEL_PER_VISIT, "start_date": "2023-05-01", "end_date": "2023-05-31"}
    tool.update(settings)
    return tool


def run(tool, seed=5):
    raw = small_city(households=2000, start="2023-01-01", end="2023-06-30", tools={"fuel": tool})
    return simulate_replication(scenario_from_dict(raw), 1.0, RandomStreams.from_seed(seed), tool_breakdown=False)


def test_coupons_are_handed_out_evenly_paid_when_used_and_bring_visits_that_buy_fuel():
    params = BehaviourParameters.default()
    pair = run(coupons())
    pol, base = pair.policy, pair.baseline
    counts = pol.books.vouchers["fuel"]
    # 2,000 coupons (200,000 / 100) over 31 days: far fewer than the drivers arriving, so all are handed out.
    assert counts.issued[MAY] == pytest.approx(np.full(31, 2000 / 31), rel=1e-12)
    assert counts.issued.sum() == pytest.approx(2000, rel=1e-12)
    used = 2000 * params.tourism_voucher_redemption_rate
    assert counts.redeemed.sum() == pytest.approx(used, rel=1e-12)
    assert pol.funds["fuel"].paid_yuan == pytest.approx(used * 100, rel=1e-12)
    # Extra visits: elasticity x value handed out / what a self-driving visit spends, fuel included.
    extra_visits = params.tourism_voucher_inflow_elasticity * 2000 * 100 / (SPEND_PER_VISIT + FUEL_PER_VISIT)
    lodging_uplift = pol.books.non_retail[:, 0].sum() - base.books.non_retail[:, 0].sum()
    assert lodging_uplift == pytest.approx(extra_visits * LODGING_PER_VISIT, rel=1e-9)
    fuel = SECTOR_INDEX["fuel"]
    fuel_uplift = pol.books.retail[:, pol.visitor_cell, fuel].sum() - base.books.retail[:, base.visitor_cell, fuel].sum()
    assert fuel_uplift == pytest.approx(extra_visits * FUEL_PER_VISIT, rel=1e-9)
    assert base.books.retail[:, base.visitor_cell, fuel].sum() == 0.0  # visitors' own fuel is in neither run
    summary = replication_summary(pair)
    # Nothing else changes: the uplift is the extra visits' catering, goods and fuel.
    assert summary["retail_sales_uplift"] == pytest.approx(extra_visits * (150 + 100 + FUEL_PER_VISIT), rel=1e-9)
    entry = summary["tools"]["fuel"]
    assert entry["kind"] == "fuel_coupon"
    # Supported 社零: the catering and goods of visits that used a coupon and the fuel it bought; their lodging
    # and tickets apart (never in 社零 figures).
    assert entry["supported_sales"] == pytest.approx(used * (150 + 100 + FUEL_PER_VISIT), rel=1e-9)
    assert entry["supported_non_retail_sales"] == pytest.approx(used * (SPEND_PER_VISIT - 150 - 100), rel=1e-9)
    assert entry["vouchers"]["redemption_rate"] == pytest.approx(params.tourism_voucher_redemption_rate)


def test_only_drivers_get_coupons():
    """With few drivers, a day's coupons are the drivers arriving that day, not the planned pace."""
    pair = run(coupons(self_drive_visitor_share=0.01))
    counts = pair.policy.books.vouchers["fuel"]
    visits_without_tool = pair.baseline.books.non_retail[MAY, 0] / LODGING_PER_VISIT
    assert counts.issued[MAY] == pytest.approx(0.01 * visits_without_tool, rel=1e-9)
    assert counts.issued[MAY].max() < 2000 / 31


def test_the_pool_never_pays_more_than_the_budget():
    pair = run(coupons(budget_yuan=30_000, quantity=300, face_value_yuan=100, end_date="2023-06-30"))
    fund = pair.policy.funds["fuel"]
    assert fund.paid_yuan <= 30_000 * (1 + 1e-12)
    assert pair.policy.books.vouchers["fuel"].issued.sum() <= 300 * (1 + 1e-12)


def test_bad_fuel_coupons_are_refused_naming_the_field():
    with pytest.raises(ScenarioError, match=r"tools\.fuel\.kind: a fuel_coupon needs \[city\.visitors\]"):
        scenario_from_dict(small_city(visitors=False, tools={"fuel": coupons()}))
    with pytest.raises(ScenarioError, match=r"tools\.fuel\.self_drive_visitor_share: 1\.5 is out of range; accepted: a finite number from 0 to 1"):
        scenario_from_dict(small_city(tools={"fuel": coupons(self_drive_visitor_share=1.5)}))
    with pytest.raises(ScenarioError, match=r"tools\.fuel\.quantity: 3000 coupons of 100 yuan exceed the budget"):
        scenario_from_dict(small_city(tools={"fuel": coupons(quantity=3000)}))
    with pytest.raises(ScenarioError, match=r"tools\.fuel\.fuel_per_visit_yuan: missing required field"):
        tool = coupons()
        del tool["fuel_per_visit_yuan"]
        scenario_from_dict(small_city(tools={"fuel": tool}))
