"""Residents' local tourism (``model/tools/resident_tourism.py``): sizes checked against hand-derived values."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import small_city
from model.accounting import AccountingError, check_accounts
from model.parameters import BehaviourParameters
from model.rng import RandomStreams
from model.scenario import ScenarioError, scenario_from_dict
from model.sectors import SECTOR_INDEX
from model.simulation import simulate_replication
from model.summary import replication_summary

HOUSEHOLDS = 2000
MAY = slice(30, 61)  # 2023-05-01..2023-05-31 from a 2023-04-01 start
LODGING, TICKETS, CATERING, GOODS = 200.0, 100.0, 150.0, 50.0
PRICE = LODGING + TICKETS + CATERING + GOODS


def local_trips(**settings):
    tool = {"kind": "resident_tourism", "start_date": "2023-05-01", "end_date": "2023-05-31", "budget_yuan": 100_000,
            "face_value_yuan": 50, "trip_lodging_yuan": LODGING, "trip_tickets_yuan": TICKETS,
            "trip_catering_yuan": CATERING, "trip_goods_yuan": GOODS}
    tool.update(settings)
    return tool


def run(tool, seed=1, scale=1.0):
    raw = small_city(households=HOUSEHOLDS, start="2023-04-01", end="2023-06-30", tools={"trips": tool})
    return simulate_replication(scenario_from_dict(raw), scale, RandomStreams.from_seed(seed), tool_breakdown=False)


def test_vouchers_bring_extra_trips_whose_meals_and_goods_are_partly_new_and_whose_lodging_is_not_retail():
    p = BehaviourParameters.default()
    pair = run(local_trips())
    pol, base = pair.policy, pair.baseline
    counts = pol.books.vouchers["trips"]
    # 2,000 vouchers (100,000 / 50) at an even pace over May's 31 days; 70% used and paid.
    assert counts.issued[MAY] == pytest.approx(np.full(31, 2000 / 31), rel=1e-12)
    used = 2000 * p.tourism_voucher_redemption_rate
    assert counts.redeemed.sum() == pytest.approx(used, rel=1e-12)
    assert pol.funds["trips"].paid_yuan == pytest.approx(used * 50, rel=1e-12)
    # Extra trips: elasticity x value handed out / a trip's spending = 0.6 x 100,000 / 500 = 120.
    extra = p.tourism_voucher_inflow_elasticity * 100_000 / PRICE
    summary = replication_summary(pair)
    entry = summary["tools"]["trips"]
    assert entry["resident_trips"]["extra_trips"] == pytest.approx(extra, rel=1e-9)
    # New 社零: the extra trips' meals and goods less the half bought at home anyway = 120 x 200 x 0.5 = 12,000.
    new_retail = extra * (CATERING + GOODS) * (1 - p.resident_trip_displaced_share)
    assert summary["retail_sales_uplift"] == pytest.approx(new_retail, rel=1e-9)
    cat = SECTOR_INDEX["catering"]
    catering_uplift = pol.books.retail[:, :, cat].sum() - base.books.retail[:, :, cat].sum()
    assert catering_uplift == pytest.approx(extra * CATERING * (1 - p.resident_trip_displaced_share), rel=1e-9)
    # Lodging and tickets outside 社零: the extra trips' 300 yuan each, in the non-retail books only.
    assert summary["non_retail_uplift"]["lodging"] == pytest.approx(extra * LODGING, rel=1e-9)
    assert summary["non_retail_uplift"]["tickets"] == pytest.approx(extra * TICKETS, rel=1e-9)
    # Supported: the meals and goods of trips that used a voucher; their lodging and tickets apart.
    assert entry["supported_sales"] == pytest.approx(used * (CATERING + GOODS), rel=1e-9)
    assert entry["supported_non_retail_sales"] == pytest.approx(used * (LODGING + TICKETS), rel=1e-9)
    # The voucher value reaches households, by cell.
    assert pol.books.household_benefit.sum() == pytest.approx(used * 50, rel=1e-9)


def test_venues_price_cuts_and_a_campaign_cost_no_public_money_and_lower_what_trips_made_anyway_pay():
    p = BehaviourParameters.default()
    tool = local_trips(budget_yuan=0, face_value_yuan=0, trips_per_household_per_year=3.65,
                       ticket_discount_share=0.5, lodging_discount_share=0.5, campaign_trip_uplift_share=0.1)
    pair = run(tool)
    pol = pair.policy
    assert pol.funds["trips"].paid_yuan == 0.0
    assert "trips" not in pol.books.vouchers
    # Trips made anyway: 3.65 x 2,000 / 365 = 20 a day. Price cut per trip: 0.5 x 200 + 0.5 x 100 = 150.
    anyway, cut = 20.0, 150.0
    extra_per_day = p.tourism_voucher_inflow_elasticity * anyway * cut / PRICE + 0.1 * anyway  # 3.6 + 2 = 5.6
    summary = replication_summary(pair)
    entry = summary["tools"]["trips"]
    assert entry["resident_trips"]["extra_trips"] == pytest.approx(31 * extra_per_day, rel=1e-9)
    # The venues pay for the cut on every resident's trip while it runs.
    assert entry["merchant_cofunding"] == pytest.approx(31 * (anyway + extra_per_day) * cut, rel=1e-9)
    # Lodging and tickets: the extra trips at half price, less the half the trips made anyway no longer pay.
    lodging = 31 * (extra_per_day * 0.5 * LODGING - anyway * 0.5 * LODGING)
    assert summary["non_retail_uplift"]["lodging"] == pytest.approx(lodging, rel=1e-9)
    assert summary["retail_sales_uplift"] == pytest.approx(
        31 * extra_per_day * (CATERING + GOODS) * (1 - p.resident_trip_displaced_share), rel=1e-9)
    assert entry["supported_sales"] == 0.0


def test_results_do_not_depend_on_the_simulated_scale():
    a = replication_summary(run(local_trips(), scale=1.0))
    b = replication_summary(run(local_trips(), scale=0.5))
    assert a["tools"]["trips"]["resident_trips"] == pytest.approx(b["tools"]["trips"]["resident_trips"], rel=1e-9)


def test_pool_is_never_overdrawn_and_the_identities_catch_tampering():
    pair = run(local_trips(quantity=100, budget_yuan=5_000))
    model = pair.policy
    assert model.funds["trips"].paid_yuan <= 5_000 * (1 + 1e-12)
    check_accounts(model)
    effect = model.tool_effects["trips"]
    effect.new_retail_yuan += 100.0
    with pytest.raises(AccountingError, match="new 社零 booked"):
        check_accounts(model)
    effect.new_retail_yuan -= 100.0
    model.books_with_payback.vouchers["trips"].expired[40] += 1.0
    with pytest.raises(AccountingError, match="vouchers issued"):
        check_accounts(model)


@pytest.mark.parametrize("change,field", [
    ({"quantity": 3000}, "quantity"),
    ({"face_value_yuan": 0}, "budget_yuan"),
    ({"trip_lodging_yuan": 0, "trip_tickets_yuan": 0, "trip_catering_yuan": 0, "trip_goods_yuan": 0}, "trip_catering_yuan"),
    ({"ticket_discount_share": 0.5}, "trips_per_household_per_year"),
    ({"ticket_discount_share": 1.5}, "ticket_discount_share"),
])
def test_bad_settings_are_refused_naming_the_field(change, field):
    raw = small_city(households=HOUSEHOLDS, start="2023-04-01", end="2023-06-30",
                     tools={"trips": local_trips(**change)})
    with pytest.raises(ScenarioError, match=f"tools.trips.{field}"):
        scenario_from_dict(raw)
