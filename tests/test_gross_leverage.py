"""Gross leverage (拉动比) that means what governments mean: each tool kind's supported sales are the sales it
paid for, and a transaction counts once in the scenario's total."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import build, small_city
from model.rng import RandomStreams
from model.simulation import simulate_replication
from model.summary import replication_summary
from model.sectors import SECTOR_INDEX

# Sizes here were derived by hand from the documented behaviour values (model/parameters/behaviour.toml), and
# comparisons across replications need one behaviour, not ensemble set r in replication r: run on those values.
pytestmark = pytest.mark.usefixtures("documented_behaviour")

NIGHT = SECTOR_INDEX["night_market"]
APRIL_MAY = {"start_date": "2023-04-01", "end_date": "2023-05-31"}


def _pair(tools: dict, households: int = 20000, scale: float = 0.5, seed: int = 11, behaviour: dict | None = None):
    raw = small_city(households=households, tools=tools)
    if behaviour:
        raw["behaviour"] = behaviour
    return simulate_replication(build(raw), scale, RandomStreams.from_seed(seed), tool_breakdown=False)


def _paid_nights(model, name: str) -> np.ndarray:
    return model.funds[name].daily_outlay[: model.horizon_days] > 0


def test_night_allowance_supports_the_sales_of_the_merchants_it_paid_not_the_whole_city():
    every_merchant = {"kind": "night_market", "allowance_per_merchant_night_yuan": 20.0, "budget_yuan": 1e8, **APRIL_MAY}
    stalls_only = dict(every_merchant, sectors=["night_market"])
    pair = _pair({"all": every_merchant})
    paid = _paid_nights(pair.policy, "all")
    night_sales = pair.policy.books.retail[:, :, NIGHT].sum(axis=(1, 2, 3))
    supported = pair.policy.books.supported_sales["all"][:, NIGHT]
    # Every open merchant received the allowance: all night sales on the nights it paid, nothing else.
    assert paid.sum() == 61
    np.testing.assert_allclose(supported[paid], night_sales[paid], rtol=1e-9)
    assert supported[~paid].sum() == 0
    # Stalls are a fraction of the night trade: only their sales are supported.
    pair = _pair({"stalls": stalls_only})
    paid = _paid_nights(pair.policy, "stalls")
    night_sales = pair.policy.books.retail[:, :, NIGHT].sum(axis=(1, 2, 3))
    share = pair.policy.books.supported_sales["stalls"][paid, NIGHT].sum() / night_sales[paid].sum()
    night = pair.policy.night
    open_now = night.margin * night.expected_revenue_per_share * night.share + 20.0 > night.cost
    stall_share = night.share[open_now & (night.sector == NIGHT)].sum() / night.share[open_now].sum()
    assert 0.02 < share < 0.9
    assert share == pytest.approx(stall_share, rel=0.15)


def test_tourism_voucher_supports_the_retail_spending_of_visits_that_used_one():
    tool = {"kind": "tourism_voucher", "face_value_yuan": 100, "budget_yuan": 2e6, **APRIL_MAY}
    pair = _pair({"tour": tool}, scale=0.2)
    summary = replication_summary(pair)["tools"]["tour"]
    used = pair.policy.books.vouchers["tour"].redeemed.sum()
    assert used > 0
    # small_city's visits spend 150 on catering and 100 on goods (社零), 200 on lodging and 80 on tickets (not).
    assert summary["supported_sales"] == pytest.approx(250.0 * used, rel=1e-9)
    assert summary["supported_non_retail_sales"] == pytest.approx(280.0 * used, rel=1e-9)


def test_a_car_paid_for_by_two_tools_counts_once_in_the_scenario_total():
    subsidy = {"kind": "car_subsidy", "subsidy_per_car_yuan": 5000.0, "budget_yuan": 1e8, **APRIL_MAY}
    voucher = {"kind": "voucher", "sectors": ["cars"], "face_value_yuan": 2000.0, "threshold_yuan": 50000.0,
               "budget_yuan": 4e7, "allocation": "allocated", "validity_days": 60, "channel": "paper",
               "release_every_days": 61, **APRIL_MAY}
    # Every eligible buyer claims the subsidy here, so a car paid by the voucher is also paid by the subsidy.
    take_up_all = {"durable_subsidy_take_up": {"value": {"cars": 1.0, "appliances": 1.0}, "assumption": "test"}}
    pair = _pair({"subsidy": subsidy, "voucher": voucher}, households=50000, scale=0.4, behaviour=take_up_all)
    pol = pair.policy
    price = pol.params.car_price_yuan
    w = pol.households.weight
    per_tool = {n: a[:, SECTOR_INDEX["cars"]].sum() for n, a in pol.books.supported_sales.items()}
    cars_vouchered = pol.books.vouchers["voucher"].redeemed.sum()
    cars_subsidised = pol.books.subsidised_units["subsidy"].sum()
    assert per_tool["subsidy"] == pytest.approx(price * cars_subsidised, rel=1e-9)
    assert per_tool["voucher"] == pytest.approx(price * cars_vouchered, rel=1e-9)
    # Every vouchered car in this design was bought during the subsidy, so every one was also subsidised.
    assert cars_vouchered > 5 * w
    total = pol.books.supported_any[:, SECTOR_INDEX["cars"]].sum()
    assert total == pytest.approx(price * cars_subsidised, rel=1e-9)
    summary = replication_summary(pair)
    assert summary["gross_leverage"] == pytest.approx(pol.books.supported_any.sum() / summary["government_outlay"])


def test_night_sales_paid_for_by_two_tools_count_once():
    """An allowance to every open merchant supports all night sales; a consumer discount on top supports
    some of the same transactions: the scenario counts each night sale once."""
    allowance = {"kind": "night_market", "allowance_per_merchant_night_yuan": 20.0, "budget_yuan": 1e8, **APRIL_MAY}
    discount = {"kind": "night_market", "consumer_discount_face_yuan": 10.0, "consumer_discount_threshold_yuan": 50.0,
                "budget_yuan": 1e8, **APRIL_MAY}
    pair = _pair({"allowance": allowance, "discount": discount})
    books = pair.policy.books
    paid = _paid_nights(pair.policy, "allowance") & _paid_nights(pair.policy, "discount")
    assert paid.sum() == 61
    night_sales = books.retail[:, :, NIGHT].sum(axis=(1, 2, 3))
    np.testing.assert_allclose(books.supported_any[paid, NIGHT], night_sales[paid], rtol=1e-9)
    by_discount = books.supported_sales["discount"][paid, NIGHT].sum()
    assert 0.05 * night_sales[paid].sum() < by_discount < night_sales[paid].sum()
