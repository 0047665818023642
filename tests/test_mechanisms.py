"""Mechanism tests: each policy tool moves the economy the way its rule says, against its counterfactual."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from conftest import build, small_city
from model.households import windfall_mpc
from model.parameters import BehaviourParameters
from model.rng import RandomStreams
from model.simulation import simulate_replication
from model.sectors import SECTOR_INDEX

# Sizes here were derived by hand from the documented behaviour values (model/parameters/behaviour.toml), and
# comparisons across replications need one behaviour, not ensemble set r in replication r: run on those values.
pytestmark = pytest.mark.usefixtures("documented_behaviour")


def run_pair(raw: dict, scale: float = 1.0, seed: int = 11):
    return simulate_replication(build(raw), scale, RandomStreams.from_seed(seed), tool_breakdown=False)


def sector_uplift(pair, sector: str, days: slice = slice(None)) -> float:
    i = SECTOR_INDEX[sector]
    return float(pair.policy.books.retail[days, :, i].sum() - pair.baseline.books.retail[days, :, i].sum())


def total_uplift(pair) -> float:
    return float(pair.policy.books.retail.sum() - pair.baseline.books.retail.sum())


def voucher(face: float, threshold: float, budget: float, sectors=("catering", "daily_goods"), **extra) -> dict:
    tool = {"kind": "voucher", "sectors": list(sectors), "face_value_yuan": face, "threshold_yuan": threshold,
            "budget_yuan": budget, "start_date": "2023-03-03", "end_date": "2023-03-31", "release_every_days": 7,
            "validity_days": 7}
    tool.update(extra)
    return tool


def test_counterfactual_shares_random_numbers_until_the_policy_starts():
    """Before a tool's first day the policy run and its counterfactual are identical, day by day."""
    pair = run_pair(small_city(tools={"v": voucher(20, 60, 400000)}), scale=0.5)
    first = (dt.date(2023, 3, 3) - dt.date(2023, 1, 1)).days
    before_p = pair.policy.books.retail[:first]
    before_b = pair.baseline.books.retail[:first]
    np.testing.assert_array_equal(before_p, before_b)
    assert pair.policy.books.retail[first:].sum() != pair.baseline.books.retail[first:].sum()


def test_threshold_voucher_moves_more_spending_per_yuan_than_a_no_threshold_voucher():
    """Same face value, same budget: the 满减 voucher induces top-ups; the cash-like one is mostly inframarginal."""
    budget = 600000
    with_threshold = run_pair(small_city(tools={"v": voucher(20, 60, budget)}))
    no_threshold = run_pair(small_city(tools={"v": voucher(20, 0, budget)}))
    lev_t = total_uplift(with_threshold) / with_threshold.policy.funds["v"].paid_yuan
    lev_n = total_uplift(no_threshold) / no_threshold.policy.funds["v"].paid_yuan
    assert total_uplift(with_threshold) != total_uplift(no_threshold)
    assert lev_t > 1.3 * lev_n, (lev_t, lev_n)
    # A no-threshold voucher valid in every sector for months is money: spending out of it is a fraction of its
    # value (a 7-day one is not: its expiry sends holders shopping).
    money = run_pair(small_city(tools={"v": voucher(20, 0, budget, sectors=("daily_goods", "catering", "appliances",
                                                                              "cars", "fuel", "night_market"),
                                                    validity_days=90)}))
    lev_m = total_uplift(money) / money.policy.funds["v"].paid_yuan
    assert 0.05 < lev_m < 1.0, lev_m
    # Threshold vouchers are used on transactions of at least the threshold.
    counts = with_threshold.policy.books.vouchers["v"]
    assert counts.gross_spending_yuan.sum() >= 60 * counts.redeemed.sum() * (1 - 1e-9)


def test_catering_voucher_moves_catering_and_not_appliances():
    pair = run_pair(small_city(tools={"v": voucher(30, 100, 600000, sectors=("catering",))}))
    catering = sector_uplift(pair, "catering")
    appliances = sector_uplift(pair, "appliances")
    assert catering > 0
    # Only the windfall part spreads to other sectors; appliances get a sliver of it.
    assert abs(appliances) < 0.05 * catering, (catering, appliances)
    daily = sector_uplift(pair, "daily_goods")
    assert daily < 0.5 * catering


def test_car_subsidy_pulls_purchases_forward_and_leaves_a_dip():
    tool = {"kind": "car_subsidy", "subsidy_rate": 0.1, "budget_yuan": 5e8,
            "start_date": "2023-04-01", "end_date": "2023-05-31"}
    pair = run_pair(small_city(households=50000, end="2023-10-31", tools={"cars": tool}))
    pol, base = pair.policy.books.cars_sold, pair.baseline.books.cars_sold
    start = (dt.date(2023, 4, 1) - dt.date(2023, 1, 1)).days
    end = (dt.date(2023, 5, 31) - dt.date(2023, 1, 1)).days + 1
    during = pol[start:end].sum() - base[start:end].sum()
    after = pol[end:end + 92].sum() - base[end:end + 92].sum()
    assert during > 0.1 * base[start:end].sum(), (during, base[start:end].sum())
    # Households already shopping buy sooner, so the pool is thinner for months after: a dip of at least a
    # tenth of the extra sales (sales on top of the pool, leaving it full, would leave no dip).
    assert after < -0.1 * during, (during, after)
    # Before the programme nothing differs.
    assert pol[:start].sum() == base[:start].sum()


def test_night_allowance_raises_merchants_open_late():
    tool = {"kind": "night_market", "night_allowance_per_m2": 0.5, "max_allowance_per_merchant_night_yuan": 80,
            "budget_yuan": 1e8, "start_date": "2023-04-01", "end_date": "2023-05-31"}
    pair = run_pair(small_city(tools={"night": tool}), scale=0.5)
    start = (dt.date(2023, 4, 1) - dt.date(2023, 1, 1)).days
    end = (dt.date(2023, 5, 31) - dt.date(2023, 1, 1)).days + 1
    pol = pair.policy.books.night_merchants_open[start:end].mean()
    base = pair.baseline.books.night_merchants_open[start:end].mean()
    assert pol > 1.2 * base, (pol, base)
    assert sector_uplift(pair, "night_market", slice(start, end)) > 0
    # Part of the extra night spending is moved from daytime catering and shops.
    assert sector_uplift(pair, "catering", slice(start, end)) + sector_uplift(pair, "daily_goods", slice(start, end)) < 0


def test_appliance_trade_in_only_pays_households_with_an_old_item():
    tool = {"kind": "appliance_trade_in", "subsidy_rate": 0.15, "min_item_age_years": 8, "merchant_discount_rate": 0.05,
            "budget_yuan": 1e8, "start_date": "2023-03-01", "end_date": "2023-04-30"}
    pair = run_pair(small_city(tools={"app": tool}), scale=0.5)
    subsidised = pair.policy.books.subsidised_units["app"].sum()
    assert subsidised > 0
    # Each subsidised item is paid 15% of its price, and the merchant adds 5%.
    price = pair.policy.params.appliance_price_yuan
    assert pair.policy.funds["app"].paid_yuan == pytest.approx(0.15 * price * subsidised, rel=1e-9)
    assert pair.policy.books.merchant_cofunding["app"].sum() == pytest.approx(0.05 * price * subsidised, rel=1e-9)
    # Only items at least 8 years old: every subsidised buyer replaced an item that old.
    assert subsidised < pair.policy.books.appliances_sold[59:120].sum()
    # Raising the minimum age to beyond any item's age leaves nobody eligible.
    tool_old = dict(tool, min_item_age_years=40)
    nobody = run_pair(small_city(tools={"app": tool_old}), scale=0.5)
    assert nobody.policy.funds["app"].paid_yuan == 0


def test_tourism_voucher_raises_visits_and_lodging():
    tool = {"kind": "tourism_voucher", "face_value_yuan": 100, "budget_yuan": 2e6,
            "start_date": "2023-04-01", "end_date": "2023-04-30"}
    pair = run_pair(small_city(tools={"tour": tool}), scale=0.2)
    lodging = pair.policy.books.non_retail[:, 0].sum() - pair.baseline.books.non_retail[:, 0].sum()
    assert lodging > 0
    assert sector_uplift(pair, "catering") > 0
    # Extra visits: the inflow elasticity times vouchers handed out times face value over a visit's spending,
    # each visit spending 200 on lodging (small_city's visitors).
    p = pair.policy.params
    counts = pair.policy.books.vouchers["tour"]
    extra_visits = p.tourism_voucher_inflow_elasticity * counts.issued.sum() * 100 / (150 + 100 + 200 + 80)
    assert lodging == pytest.approx(200 * extra_visits, rel=1e-9)
    assert counts.redeemed.sum() == pytest.approx(p.tourism_voucher_redemption_rate * counts.issued.sum(), rel=1e-9)


def test_subsidy_stops_moving_purchases_once_the_pool_is_exhausted():
    """After the pool refuses a claim the programme is over: sales return to normal, then dip."""
    tool = {"kind": "appliance_trade_in", "subsidy_rate": 0.1, "max_subsidy_per_item_yuan": 400,
            "merchant_discount_rate": 0.05, "budget_yuan": 150000, "start_date": "2023-03-01", "end_date": "2023-06-30"}
    pair = run_pair(small_city(tools={"app": tool}))
    fund = pair.policy.funds["app"]
    # 400 yuan per item: the pool pays whole claims until fewer than 400 yuan are left.
    assert fund.exhausted_day is not None and 150000 - 400 < fund.paid_yuan <= 150000
    after = slice(fund.exhausted_day + 1, (dt.date(2023, 6, 30) - dt.date(2023, 1, 1)).days + 1)
    extra_after = pair.policy.books.appliances_sold[after].sum() - pair.baseline.books.appliances_sold[after].sum()
    assert extra_after <= 0, extra_after


def test_off_peak_power_price_needs_no_budget_and_opens_more_merchants():
    tool = {"kind": "night_market", "late_cost_reduction_share": 0.3, "budget_yuan": 0,
            "start_date": "2023-04-01", "end_date": "2023-05-31"}
    pair = run_pair(small_city(tools={"power": tool}), scale=0.5)
    start = (dt.date(2023, 4, 1) - dt.date(2023, 1, 1)).days
    end = (dt.date(2023, 5, 31) - dt.date(2023, 1, 1)).days + 1
    assert pair.policy.books.night_merchants_open[start:end].mean() > pair.baseline.books.night_merchants_open[start:end].mean()
    assert pair.policy.funds["power"].paid_yuan == 0


def test_windfall_propensity_falls_with_liquid_savings():
    """mpc = min + (max - min) exp(-savings months / scale): hand values at 0, 3 and 30 months of income."""
    p = BehaviourParameters.default()
    income = np.array([5000.0, 5000.0, 5000.0])
    mpc = windfall_mpc(np.array([0.0, 3 * 5000.0, 30 * 5000.0]), income, p)
    lo, hi, scale = p.windfall_mpc_min, p.windfall_mpc_max, p.windfall_mpc_savings_scale_months
    np.testing.assert_allclose(mpc, [hi, lo + (hi - lo) * np.exp(-3 / scale), lo + (hi - lo) * np.exp(-30 / scale)])
    assert mpc[0] > mpc[1] > mpc[2]


def test_voucher_schedules_pull_forward_and_windfall_spending():
    """A catering voucher schedules, for later days, the windfall households set aside and minus the
    pull-forward share of its induced spending: scheduled = windfall set aside − share × induced. With no
    earmarked value (no pricier items, which replace nothing later) all induced spending is pulled from later."""
    raw = small_city(tools={"v": voucher(20, 60, 600000, sectors=("catering",))})
    raw["behaviour"] = {"voucher_earmark_share": 0.0}
    pair = run_pair(raw)
    pol = pair.policy
    p = pol.params
    induced = pol.books_with_payback.vouchers["v"].induced_spending_yuan.sum()
    windfall = pol.savings_ledger.windfall_spent_yuan * pol.households.weight
    assert induced > 0 and windfall > 0
    expected = windfall - p.pull_forward_share["catering"] * induced
    assert pol.deferred.scheduled_total_yuan == pytest.approx(expected, rel=1e-9)
    # The windfall set aside is at most the highest propensity times the 20 yuan each voucher can save.
    redeemed = pol.books_with_payback.vouchers["v"].redeemed.sum() / pol.households.weight
    assert pol.savings_ledger.windfall_spent_yuan <= p.windfall_mpc_max * 20 * redeemed


def test_car_scrappage_subsidy_pays_only_for_old_cars():
    """A scrappage subsidy pays 5,000 yuan per car only to owners scrapping a car at least the minimum age."""
    tool = {"kind": "car_subsidy", "subsidy_per_car_yuan": 5000.0, "budget_yuan": 1e8, "requires_scrappage": True,
            "scrappage_min_age_years": 8.0, "start_date": "2023-03-01", "end_date": "2023-04-30"}
    pair = run_pair(small_city(households=20000, tools={"cars": tool}), scale=0.5)
    units = pair.policy.books.subsidised_units["cars"].sum()
    assert units > 0
    assert pair.policy.funds["cars"].paid_yuan == pytest.approx(5000.0 * units, rel=1e-9)
    # No car in the city is 40 years old: nobody qualifies.
    nobody = run_pair(small_city(households=20000, tools={"cars": dict(tool, scrappage_min_age_years=40.0)}), scale=0.5)
    assert nobody.policy.funds["cars"].paid_yuan == 0


def test_night_allowance_is_capped_per_merchant_night():
    """2 yuan per m² capped at 30 yuan a merchant-night: a night's outlay is at most 30 x merchants open late,
    and the cap binds (without it the same merchants would cost more)."""
    tool = {"kind": "night_market", "night_allowance_per_m2": 2.0, "max_allowance_per_merchant_night_yuan": 30.0,
            "budget_yuan": 1e8, "start_date": "2023-04-01", "end_date": "2023-04-30"}
    pair = run_pair(small_city(tools={"night": tool}), scale=0.5)
    pol = pair.policy
    outlay = pol.funds["night"].daily_outlay[: pol.horizon_days]
    opened = pol.books.night_merchants_open
    paid = outlay > 0
    assert paid.sum() == 30
    assert np.all(outlay[paid] <= 30.0 * opened[paid] + 1e-6)
    night = pol.night
    assert (2.0 * night.area > 30.0).mean() > 0.5  # most night-capable merchants are larger than 15 m²
