"""Budget pacing for every tool kind (model/government.py, declared in model/tools/base.py): tranches released
over time, with or without carry-over, and per-merchant caps; the identities each run checks, with tamper tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import build, small_city
from model.accounting import AccountingError, check_accounts
from model.economy import CityEconomy
from model.government import GovernmentFund
from model.rng import RandomStreams
from model.scenario import ScenarioError

CITY = {"city": 1.0}


def _fund(carry: bool = True, cap: float | None = None) -> GovernmentFund:
    return GovernmentFund("t", 300.0, CITY, 40, releases=((0, 100.0), (10, 100.0), (20, 100.0)),
                          carry_over_unspent=carry, per_merchant_cap_yuan=cap)


def test_a_tranche_not_yet_released_cannot_be_spent():
    fund = _fund()
    assert fund.pay(150.0, "household", 0) == 100.0          # only the first 100 is released
    assert not fund.open_for_claims and fund.exhausted_day is None   # closed until the next release, not exhausted
    fund.begin_day(5)
    assert fund.pay_many(np.array([30.0]), "household", 5).tolist() == [0.0]
    fund.begin_day(10)
    assert fund.open_for_claims
    assert fund.pay_many(np.array([60.0, 60.0]), "household", 10).tolist() == [60.0, 0.0]  # 100 left, FCFS
    # A refused claim closes the pool until the next release, though 40 is left (as an exhausted pool is announced).
    assert fund.remaining_yuan == pytest.approx(40.0) and not fund.open_for_claims
    fund.begin_day(20)
    assert fund.remaining_yuan == pytest.approx(140.0)      # carry-over: 40 left of the second tranche + 100
    assert fund.pay(500.0, "household", 21) == pytest.approx(140.0)
    assert fund.exhausted_day == 21                         # nothing more to come: exhausted
    assert fund.paid_by_tranche.tolist() == [100.0, 60.0, 140.0]
    assert fund.pacing_problems() == []


def test_without_carry_over_a_tranche_lapses_at_the_next_release():
    fund = _fund(carry=False)
    assert fund.pay(60.0, "household", 0) == 60.0
    fund.begin_day(10)
    assert fund.lapsed_yuan == pytest.approx(40.0)
    assert fund.remaining_yuan == pytest.approx(100.0)      # not 140: the first tranche's 40 lapsed
    assert fund.pay(150.0, "household", 12) == pytest.approx(100.0)
    fund.begin_day(25)                                      # two releases' worth of days: the second lapses nothing
    assert fund.lapsed_yuan == pytest.approx(40.0)
    assert fund.pay(30.0, "household", 25) == 30.0
    assert fund.paid_yuan == pytest.approx(190.0)
    assert fund.pacing_problems() == []


def test_a_merchant_at_its_cap_receives_nothing_more():
    fund = GovernmentFund("t", 1000.0, CITY, 5, per_merchant_cap_yuan=100.0)
    each, paid = fund.pay_merchants(np.array([80.0, 50.0]), np.array([0, 1]), 0)
    assert each.tolist() == [80.0, 50.0] and paid == 130.0
    each, paid = fund.pay_merchants(np.array([80.0, 80.0]), np.array([0, 1]), 1)
    assert each.tolist() == [20.0, 50.0] and paid == 70.0   # both cut to their room under the cap
    each, paid = fund.pay_merchants(np.array([10.0, 5.0, 40.0]), np.array([0, 1, 3]), 2)
    assert each.tolist() == [0.0, 0.0, 40.0] and paid == 40.0
    assert fund.merchant_room(np.array([0, 1, 2, 3])).tolist() == [0.0, 0.0, 100.0, 60.0]
    assert fund.paid_by_merchant.tolist() == [100.0, 100.0, 0.0, 40.0]
    assert fund.paid_yuan == pytest.approx(240.0)
    assert fund.pacing_problems() == []


def test_pacing_identities_catch_tampering():
    fund = _fund(carry=False, cap=50.0)
    fund.pay_merchants(np.array([40.0]), np.array([2]), 0)
    fund.begin_day(10)
    assert fund.pacing_problems() == []
    fund.paid_by_merchant[2] = 55.0
    assert any("above the cap" in p for p in fund.pacing_problems())
    fund.paid_by_merchant[2] = 40.0
    fund.lapsed_yuan += 5.0
    assert any("lapsed" in p for p in fund.pacing_problems())
    fund.lapsed_yuan -= 5.0
    fund.paid_by_tranche[0] += 70.0   # the first tranche paid 110 of its 100
    problems = fund.pacing_problems()
    assert any("more than was released" in p for p in problems) and any("paid by tranche" in p for p in problems)


@settings(max_examples=60, deadline=None)
@given(carry=st.booleans(), cap=st.one_of(st.none(), st.floats(1.0, 200.0)),
       steps=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 4), st.floats(0.0, 120.0)), max_size=30))
def test_pacing_identities_hold_for_any_sequence_of_claims(carry, cap, steps):
    fund = _fund(carry=carry, cap=cap)
    for day, merchant, amount in sorted(steps):
        fund.begin_day(day)
        released = fund.released_yuan
        if merchant == 4:
            fund.pay_many(np.array([amount]), "household", day)
        else:
            fund.pay_merchants(np.array([amount]), np.array([merchant]), day)
        assert fund.paid_yuan <= released + 1e-9 - (0.0 if carry else fund.lapsed_yuan - 1e-9)
    assert fund.pacing_problems() == []
    assert fund.paid_yuan <= 300.0 + 1e-9
    if cap is not None:
        assert (fund.paid_by_merchant <= cap + 1e-9).all()


# ------------------------------------------------------------------ in a run, through the tool kinds

NIGHT = {"kind": "night_market", "start_date": "2023-01-01", "end_date": "2023-02-28", "budget_yuan": 40000.0,
         "allowance_per_merchant_night_yuan": 30.0, "sectors": ["catering", "night_market", "daily_goods"]}


def _run(tool: dict, seed: int = 4, households: int = 4000) -> CityEconomy:
    scenario = build(small_city(households=households, start="2023-01-01", end="2023-02-28", tools={"night": tool}))
    return CityEconomy(scenario, scale=0.5, streams=RandomStreams.from_seed(seed)).run()


def test_night_allowance_paid_in_yearly_style_tranches_and_capped_per_merchant():
    free = _run(NIGHT)
    # About 34 merchants open a night at 30 yuan: about 1,000 yuan a night, so 40,000 runs out in February.
    assert 31 < free.funds["night"].exhausted_day < 50
    paced = _run(dict(NIGHT, tranches=[{"release_date": "2023-01-01", "amount_yuan": 20000.0},
                                       {"release_date": "2023-02-01", "amount_yuan": 20000.0}],
                      carry_over_unspent=False))
    fund = paced.funds["night"]
    january, february = fund.daily_outlay[:31].sum(), fund.daily_outlay[31:59].sum()
    assert january == pytest.approx(20000.0, rel=1e-9)       # January's tranche, all of it, and no more
    assert february == pytest.approx(20000.0, rel=1e-9)      # the second tranche reopens the pool on 1 February
    assert fund.daily_outlay[25:31].sum() == 0.0 and fund.daily_outlay[31] > 0   # closed late January
    assert fund.lapsed_yuan == pytest.approx(0.0, abs=1e-6)
    assert paced.books.night_merchants_open[25:31].mean() < free.books.night_merchants_open[25:31].mean()
    # Per-merchant cap: 30 yuan a night, at most 300 per merchant, so no merchant is paid past its 10th night
    # (80 merchants x 300 = 24,000 at most: the pool never runs out).
    capped = _run(dict(NIGHT, per_merchant_cap_yuan=300.0))
    cfund = capped.funds["night"]
    assert cfund.paid_by_merchant.max() == pytest.approx(300.0)
    assert (cfund.paid_by_merchant <= 300.0 + 1e-9).all()
    at_cap = int((cfund.paid_by_merchant >= 300.0 - 1e-9).sum())
    assert at_cap > 0
    assert cfund.paid_yuan == pytest.approx(float(cfund.paid_by_merchant.sum()), rel=1e-9)
    # Merchants at their cap are offered nothing: the pool lasts longer than without the cap.
    assert cfund.exhausted_day is None and cfund.paid_yuan <= 80 * 300.0
    # In early February the uncapped pool still pays everyone; capped merchants past their 10th night are not offered.
    assert capped.books.night_merchants_open[32:40].mean() < free.books.night_merchants_open[32:40].mean()
    check_accounts(capped)
    cfund.paid_by_merchant[0] = 301.0
    with pytest.raises(AccountingError, match="above the cap"):
        check_accounts(capped)


def test_top_dealer_rewards_respect_the_cap():
    cars = {"kind": "car_subsidy", "start_date": "2023-01-01", "end_date": "2023-02-28", "budget_yuan": 5e6,
            "subsidy_per_car_yuan": 3000.0, "dealer_top_n": 3, "dealer_reward_yuan": 250000.0,
            "per_merchant_cap_yuan": 200000.0}
    model = _run(cars, households=20000)  # enough subsidised cars that at least three dealers sell some
    fund = model.funds["night"]
    rewards = sorted((d.rewards_yuan for d in model.car_dealers), reverse=True)
    assert rewards[:3] == pytest.approx([200000.0] * 3)     # 25万 claimed, 20万 paid: the cap
    assert fund.paid_by_merchant.max() == pytest.approx(200000.0)


def test_pacing_input_is_checked():
    bad = small_city(tools={"night": dict(NIGHT, tranches=[{"release_date": "2023-01-01", "amount_yuan": 10000.0}])})
    with pytest.raises(ScenarioError, match="tranches sum to"):
        build(bad)
    voucher = {"kind": "voucher", "sectors": ["catering"], "face_value_yuan": 10.0, "threshold_yuan": 30.0,
               "budget_yuan": 20000.0, "start_date": "2023-03-01", "end_date": "2023-03-20",
               "per_merchant_cap_yuan": 500.0}
    with pytest.raises(ScenarioError, match="per_merchant_cap_yuan"):
        build(small_city(tools={"v": voucher}))
    late = dict(NIGHT, end_date="2023-01-31", tranches=[{"release_date": "2023-01-01", "amount_yuan": 30000.0},
                                                         {"release_date": "2023-02-01", "amount_yuan": 30000.0}])
    with pytest.raises(ScenarioError, match="after the tool's end_date"):
        build(small_city(tools={"night": late}))
