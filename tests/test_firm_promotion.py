"""Firm-paid promotions (``model/tools/firm_promotion.py``): sizes checked against hand-derived values."""

from __future__ import annotations

import pytest

from conftest import small_city
from model.accounting import AccountingError, check_accounts
from model.parameters import BehaviourParameters
from model.rng import RandomStreams
from model.scenario import ScenarioError, scenario_from_dict
from model.sectors import SECTOR_INDEX
from model.simulation import simulate_replication
from model.summary import replication_summary

FUEL = SECTOR_INDEX["fuel"]
FIRST = 30  # 2023-05-01 from a 2023-04-01 start


def promotion(**settings):
    tool = {"kind": "firm_promotion", "start_date": "2023-05-01", "end_date": "2023-05-07", "budget_yuan": 0,
            "sectors": ["fuel"], "discount_share": 0.05, "participating_sales_share": 0.6}
    tool.update(settings)
    return tool


def run(tool, seed=6):
    raw = small_city(households=3000, start="2023-04-01", end="2023-06-30", tools={"promo": tool}, visitors=False)
    return simulate_replication(scenario_from_dict(raw), 1.0, RandomStreams.from_seed(seed), tool_breakdown=False)


def test_a_fuel_promotion_raises_fuel_bought_by_the_elasticity_times_the_discount_and_the_firms_pay():
    p = BehaviourParameters.default()
    pair = run(promotion())
    pol, base = pair.policy, pair.baseline
    n = pol.households.n_cells
    # First day: 60% of the fuel households buy is at firms taking 5% off; fuel demand's elasticity 0.26
    # gives 0.6 x 0.26 x 0.05 = 0.78% more of today's fuel.
    normal = base.books.retail[FIRST, :n, FUEL].sum()
    induced = 0.6 * p.promotion_price_elasticity["fuel"] * 0.05 * normal
    assert pol.books.retail[FIRST, :n, FUEL].sum() - normal == pytest.approx(induced, rel=1e-9)
    summary = replication_summary(pair)
    entry = summary["tools"]["promo"]["promotion"]
    # Half of the induced fuel (pull_forward_share.fuel) is bought less over the following weeks.
    assert entry["pulled_forward"] == pytest.approx(p.pull_forward_share["fuel"] * entry["induced_sales"], rel=1e-12)
    # (less what a cell could not give up because it bought no fuel that day: lost_to_floor is negative)
    deferred = pol.deferred
    assert summary["retail_sales_uplift_with_payback"] == pytest.approx(
        entry["induced_sales"] - entry["pulled_forward"] - deferred.lost_to_floor_yuan - deferred.unrealised_yuan,
        rel=1e-9)
    assert -deferred.lost_to_floor_yuan < 0.01 * entry["pulled_forward"]
    # The firms give 5% off every participating purchase, induced or not; no public money.
    assert summary["tools"]["promo"]["merchant_cofunding"] == pytest.approx(entry["firms_discount"], rel=1e-12)
    assert entry["firms_discount"] == pytest.approx(0.05 * (entry["induced_sales"] / (0.26 * 0.05) + entry["induced_sales"]),
                                                    rel=1e-9)
    assert summary["tools"]["promo"]["outlay"] == 0.0
    # Nothing but fuel moves on the promotion's first day.
    cat = SECTOR_INDEX["catering"]
    assert pol.books.retail[FIRST, :, cat].sum() == base.books.retail[FIRST, :, cat].sum()


def test_the_identities_catch_tampering():
    model = run(promotion()).policy
    check_accounts(model)
    model.books_with_payback.merchant_cofunding["promo"][FIRST] += 10.0
    with pytest.raises(AccountingError, match="firms' discounts booked"):
        check_accounts(model)
    model.books_with_payback.merchant_cofunding["promo"][FIRST] -= 10.0
    model.tool_effects["promo"].pulled_forward_yuan += 1e9
    with pytest.raises(AccountingError, match="pulled forward"):
        check_accounts(model)


@pytest.mark.parametrize("change,field", [
    ({"budget_yuan": 1000}, "budget_yuan"),
    ({"sectors": ["cars"]}, "sectors"),
    ({"discount_share": 0.8}, "discount_share"),
])
def test_bad_settings_are_refused_naming_the_field(change, field):
    raw = small_city(households=3000, start="2023-04-01", end="2023-06-30", tools={"promo": promotion(**change)})
    with pytest.raises(ScenarioError, match=f"tools.promo.{field}"):
        scenario_from_dict(raw)
