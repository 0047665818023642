"""Accounting identities: property tests over random scenarios and tool settings, and tamper tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import build, small_city
from model.accounting import AccountingError, check_accounts
from model.economy import CityEconomy
from model.rng import RandomStreams
from model.simulation import simulate_replication
from model.summary import daily_frames, replication_summary

DAYS = ["2023-03-01", "2023-03-10", "2023-03-20", "2023-04-05", "2023-04-20"]


@st.composite
def tool_settings(draw):
    """A random mix of tools with random designs, dates and budgets."""
    tools = {}
    dates = sorted(draw(st.lists(st.sampled_from(DAYS), min_size=2, max_size=2, unique=True)))
    common = {"start_date": dates[0], "end_date": dates[1]}
    levels = draw(st.sampled_from([{"city": 1.0}, {"province": 0.3, "city": 0.3, "county": 0.4}, {"county": 1.0}]))
    if draw(st.booleans()):
        face = draw(st.sampled_from([5.0, 10.0, 20.0, 50.0]))
        threshold = draw(st.sampled_from([0.0, face, 3 * face, 10 * face]))
        tools["voucher"] = {
            "kind": "voucher", **common, "funding_shares": levels,
            "sectors": draw(st.lists(st.sampled_from(["catering", "daily_goods", "night_market", "fuel", "appliances", "cars"]),
                                     min_size=1, max_size=3, unique=True)),
            "face_value_yuan": face, "threshold_yuan": threshold,
            "budget_yuan": draw(st.sampled_from([0.0, 2000.0, 50000.0, 400000.0])),
            "allocation": draw(st.sampled_from(["first_come", "lottery", "allocated"])),
            "eligibility": draw(st.sampled_from(["all", "rural", "low_income", "elderly"])),
            "channel": draw(st.sampled_from(["app", "paper"])),
            "validity_days": draw(st.integers(1, 20)),
            "release_every_days": draw(st.integers(1, 14)),
            "merchant_cofunding_share": draw(st.sampled_from([0.0, 0.5])),
            "usable_online": draw(st.booleans()),
            "coupons_per_claim": draw(st.sampled_from([1, 1, 3])),
            "stored_value": threshold == 0.0 and draw(st.booleans()),
        }
    if draw(st.booleans()):
        tools["cars"] = {"kind": "car_subsidy", **common, "funding_shares": levels,
                         "subsidy_per_car_yuan": draw(st.sampled_from([1000.0, 5000.0, 20000.0])),
                         "budget_yuan": draw(st.sampled_from([0.0, 10000.0, 1e6, 1e8])),
                         "requires_scrappage": draw(st.booleans()), "scrappage_min_age_years": 5.0,
                         "dealer_top_n": draw(st.integers(0, 4)), "dealer_reward_yuan": 20000.0}
    if draw(st.booleans()):
        tools["appliances"] = {"kind": "appliance_trade_in", **common, "subsidy_rate": 0.15,
                               "max_subsidy_per_item_yuan": draw(st.sampled_from([0.0, 300.0])),
                               "min_item_age_years": draw(st.sampled_from([0.0, 6.0])),
                               "merchant_discount_rate": draw(st.sampled_from([0.0, 0.1])),
                               "budget_yuan": draw(st.sampled_from([0.0, 5000.0, 1e6]))}
    if draw(st.booleans()):
        tools["night"] = {"kind": "night_market", **common,
                          "allowance_per_merchant_night_yuan": draw(st.sampled_from([0.0, 30.0])),
                          "night_allowance_per_m2": draw(st.sampled_from([0.0, 0.5])),
                          "consumer_discount_face_yuan": draw(st.sampled_from([0.0, 10.0])),
                          "consumer_discount_threshold_yuan": 50.0,
                          "budget_yuan": draw(st.sampled_from([0.0, 3000.0, 1e6]))}
    if draw(st.booleans()):
        tools["tourism"] = {"kind": "tourism_voucher", **common, "face_value_yuan": 50.0,
                            "budget_yuan": draw(st.sampled_from([0.0, 1000.0, 200000.0]))}
    if draw(st.booleans()):
        face = draw(st.sampled_from([0.0, 50.0]))
        tools["local_trips"] = {"kind": "resident_tourism", **common, "face_value_yuan": face,
                                "budget_yuan": draw(st.sampled_from([0.0, 2000.0, 100000.0])) if face else 0.0,
                                "trips_per_household_per_year": 2.0,
                                "ticket_discount_share": draw(st.sampled_from([0.0, 0.5])),
                                "campaign_trip_uplift_share": draw(st.sampled_from([0.0, 0.1])),
                                "trip_lodging_yuan": 200.0, "trip_tickets_yuan": 100.0, "trip_catering_yuan": 150.0,
                                "trip_goods_yuan": 50.0}
    if draw(st.booleans()):
        tools["sports"] = {"kind": "sports_voucher", **common, "face_value_yuan": 20.0,
                           "spend_per_use_yuan": draw(st.sampled_from([20.0, 100.0])),
                           "goods_share": draw(st.sampled_from([0.0, 0.3])),
                           "budget_yuan": draw(st.sampled_from([0.0, 1000.0, 50000.0]))}
    if draw(st.booleans()):
        tools["quota"] = {"kind": "purchasing_quota", **common, "budget_yuan": 0.0,
                          "purchases_yuan_per_year": draw(st.sampled_from([1e6, 1e8])), "quota_share": 0.3,
                          "local_seller_share": draw(st.sampled_from([0.2, 0.9])), "local_share_before": 0.6}
    if draw(st.booleans()):
        bus = draw(st.sampled_from([0.0, 500.0]))
        tools["access"] = {"kind": "night_access", **common, "budget_yuan": 5000.0 if bus else 0.0,
                           "bus_subsidy_per_night_yuan": bus, "bus_saving_per_visit_yuan": 2.0,
                           "stall_cost_reduction_share": draw(st.sampled_from([0.0, 0.5])),
                           "parking_saving_per_visit_yuan": draw(st.sampled_from([0.0, 3.0]))}
    if draw(st.booleans()):
        tools["promo"] = {"kind": "firm_promotion", **common, "budget_yuan": 0.0,
                          "sectors": draw(st.lists(st.sampled_from(["daily_goods", "catering", "fuel", "appliances"]),
                                                   min_size=1, max_size=2, unique=True)),
                          "discount_share": draw(st.sampled_from([0.05, 0.3])), "participating_sales_share": 0.5}
    if draw(st.booleans()):
        tools["market"] = {"kind": "morning_market", **common, "market_share_of_spending": 0.1,
                           "discount_face_yuan": 5.0, "discount_threshold_yuan": draw(st.sampled_from([5.0, 30.0])),
                           "budget_yuan": draw(st.sampled_from([0.0, 500.0, 100000.0]))}
    return tools


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tools=tool_settings(), seed=st.integers(0, 2**16), households=st.sampled_from([3000, 12000]))
def test_accounting_holds_for_random_scenarios(tools, seed, households):
    raw = small_city(households=households, start="2023-02-15", end="2023-05-15", tools=tools)
    pair = simulate_replication(build(raw), 0.5, RandomStreams.from_seed(seed), tool_breakdown=False)
    # The run checked its own books (check_accounts raises AccountingError, failing this test, when an identity
    # breaks: each identity has its tamper test below and in test_stock_flow.py). Here: what the reports add up,
    # computed by code other than the books' own totals.
    summary = replication_summary(pair)
    for model in (pair.policy, pair.baseline):
        assert model.households.savings_yuan.min() >= -1e-6
    frames = daily_frames(pair, 0)
    retail = frames["daily_retail"]
    total = retail[retail.dimension == "total"]["retail_sales_policy"].sum()
    assert total == pytest.approx(summary["retail_sales_policy"], rel=1e-9)
    for dimension in ("sector", "channel", "size_class", "location", "income_quintile"):
        part = retail[retail.dimension == dimension]["retail_sales_policy"].sum()
        assert part == pytest.approx(total, rel=1e-9), dimension
    assert frames["daily_outlay"]["outlay_yuan"].sum() == pytest.approx(summary["government_outlay"], rel=1e-9, abs=1e-6)


def _finished_model(tools):
    raw = small_city(households=5000, start="2023-03-01", end="2023-04-30", tools=tools)
    scenario = build(raw)
    return CityEconomy(scenario, scale=1.0, streams=RandomStreams.from_seed(1)).run()


def test_overspent_pool_is_caught():
    model = _finished_model({"cars": {"kind": "car_subsidy", "subsidy_per_car_yuan": 5000.0, "budget_yuan": 20000.0,
                                      "start_date": "2023-03-01", "end_date": "2023-04-30"}})
    fund = model.funds["cars"]
    assert fund.paid_yuan <= fund.budget_yuan
    fund.paid_by_level["city"] += fund.budget_yuan
    fund.paid_by_payee["household"] += fund.budget_yuan
    with pytest.raises(AccountingError, match="exceeds budget"):
        check_accounts(model)


def test_outlay_that_differs_from_payments_is_caught():
    model = _finished_model({"cars": {"kind": "car_subsidy", "subsidy_per_car_yuan": 5000.0, "budget_yuan": 1e7,
                                      "start_date": "2023-03-01", "end_date": "2023-04-30"}})
    model.funds["cars"].paid_by_payee["household"] -= 1000.0
    with pytest.raises(AccountingError, match="differs from payments"):
        check_accounts(model)


def test_lost_voucher_is_caught():
    model = _finished_model({"v": {"kind": "voucher", "sectors": ["catering"], "face_value_yuan": 10.0,
                                   "threshold_yuan": 30.0, "budget_yuan": 20000.0, "start_date": "2023-03-01",
                                   "end_date": "2023-03-20"}})
    programme = model.tool_effects["v"]
    assert programme.status.size > 0
    programme.status[0] = 7  # neither redeemed, expired nor outstanding
    with pytest.raises(AccountingError, match="vouchers issued"):
        check_accounts(model)


def test_negative_savings_and_broken_breakdowns_are_caught():
    model = _finished_model({})
    model.households.savings_yuan[0] = -5.0
    with pytest.raises(AccountingError, match="savings went negative"):
        check_accounts(model)
    model.households.savings_yuan[0] = 0.0
    model.books.retail[3, 0, 0, 0, 0] += 100.0
    with pytest.raises(AccountingError, match="breakdowns"):
        check_accounts(model)


def test_benefit_paid_to_households_matches_the_cells_and_tampering_is_caught():
    from model.distribution import household_gains_yuan

    model = _finished_model({"v": {"kind": "voucher", "sectors": ["catering"], "face_value_yuan": 10.0,
                                   "threshold_yuan": 30.0, "budget_yuan": 20000.0, "start_date": "2023-03-01",
                                   "end_date": "2023-03-20"}})
    books, hh = model.books, model.households
    redeemed = int((model.tool_effects["v"].status == 1).sum()) if hasattr(model.tool_effects["v"], "status") else None
    # Every redeemed voucher is booked to its holder at its face value; cell and household books agree.
    assert books.household_benefit_by_row.sum() * hh.weight == pytest.approx(books.household_benefit.sum())
    assert household_gains_yuan(model).sum() * hh.weight == pytest.approx(books.household_benefit[:hh.n_cells].sum())
    assert books.household_benefit_by_row.sum() > 0 and redeemed != 0
    check_accounts(model)
    books.household_benefit_by_row[0] += books.household_benefit.sum()
    with pytest.raises(AccountingError, match="benefit paid to households"):
        check_accounts(model)


def test_no_fund_pays_past_its_pool():
    """A tiny car budget runs out on the first subsidised sale that would overdraw it."""
    model = _finished_model({"cars": {"kind": "car_subsidy", "subsidy_per_car_yuan": 5000.0, "budget_yuan": 12000.0,
                                      "start_date": "2023-03-01", "end_date": "2023-04-30"}})
    fund = model.funds["cars"]
    assert fund.paid_yuan == pytest.approx(10000.0)  # two cars' worth; the third would overdraw
    assert fund.exhausted_day is not None
    assert np.isclose(fund.daily_outlay.sum(), fund.paid_yuan)
