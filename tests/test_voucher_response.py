"""Household responses to vouchers (model/rules/voucher_response.py): trips made to use a voucher, earmarked value."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import build, small_city
from model.rng import RandomStreams
from model.rules.voucher_response import (earmarked_trade_up_yuan, expected_shortfall_yuan, voucher_is_labelled,
                                          voucher_trip_worthwhile)
from model.simulation import simulate_replication
from model.sectors import FLOW_SECTORS, SECTOR_INDEX, SECTORS

# Sizes here were derived by hand from the documented behaviour values (model/parameters/behaviour.toml), and
# comparisons across replications need one behaviour, not ensemble set r in replication r: run on those values.
pytestmark = pytest.mark.usefixtures("documented_behaviour")


def test_expected_shortfall_is_the_mean_gap_below_the_threshold():
    rng = np.random.default_rng(0)
    sigma = 0.7
    for mean in (20.0, 40.0, 90.0):
        baskets = mean * np.exp(sigma * rng.standard_normal(400_000) - sigma ** 2 / 2)
        simulated = np.maximum(40.0 - baskets, 0.0).mean()
        assert expected_shortfall_yuan(40.0, np.array([mean]), sigma)[0] == pytest.approx(simulated, rel=0.01, abs=0.02)


def test_a_voucher_trip_is_made_when_the_face_value_beats_its_cost_and_the_unvalued_top_up():
    big = np.array([5000.0])  # a basket far above the threshold: nothing to top up
    assert voucher_trip_worthwhile(np.array([10.0]), np.array([0.0]), 40.0, big, 0.5, np.array([0.5]), 9.0)[0]
    assert not voucher_trip_worthwhile(np.array([10.0]), np.array([0.0]), 40.0, big, 0.5, np.array([0.5]), 11.0)[0]
    # Waiting for a planned transaction that would use it anyway is worth 60% of the face value.
    assert not voucher_trip_worthwhile(np.array([10.0]), np.array([0.6]), 40.0, big, 0.5, np.array([0.5]), 5.0)[0]
    # A 20-yuan basket (hardly spread) must be topped up by 20 yuan, half of it unvalued: it costs 10.
    small = np.array([20.0])
    assert not voucher_trip_worthwhile(np.array([9.9]), np.array([0.0]), 40.0, small, 0.01, np.array([0.5]), 0.0)[0]
    assert voucher_trip_worthwhile(np.array([10.1]), np.array([0.0]), 40.0, small, 0.01, np.array([0.5]), 0.0)[0]


def test_earmarked_value_is_a_share_of_what_the_voucher_saves():
    np.testing.assert_allclose(earmarked_trade_up_yuan(20.0, np.array([0.0, 5.0, 25.0]), 0.5), [10.0, 7.5, 0.0])
    np.testing.assert_allclose(earmarked_trade_up_yuan(20.0, np.array([0.0, 5.0]), 0.0), [0.0, 0.0])


def test_only_a_voucher_for_some_sectors_carries_a_label():
    assert voucher_is_labelled(("catering",), SECTORS)
    assert not voucher_is_labelled(tuple(SECTORS), SECTORS)
    assert not voucher_is_labelled(("daily_goods", "catering", "appliances", "cars", "fuel", "night_market"), SECTORS)


# ------------------------------------------------------------------ in the model

def _pair(behaviour: dict, tool: dict, scale: float = 1.0):
    raw = small_city(tools={"v": tool})
    raw["behaviour"] = behaviour
    return simulate_replication(build(raw), scale, RandomStreams.from_seed(5), tool_breakdown=False)


COUPON = {"kind": "voucher", "sectors": ["catering", "daily_goods"], "face_value_yuan": 10, "threshold_yuan": 40,
          "budget_yuan": 200000, "start_date": "2023-03-03", "end_date": "2023-03-31", "release_every_days": 7,
          "validity_days": 7}


def _window_uplift(pair, sectors=("catering", "daily_goods")) -> float:
    days = slice(61, 61 + 35)  # 3 March to the last expiry
    idx = [SECTOR_INDEX[s] for s in sectors]
    return float(pair.policy.books.retail[days][:, :, idx].sum() - pair.baseline.books.retail[days][:, :, idx].sum())


def test_earmarked_saving_is_spent_in_the_voucher_sectors_within_its_window():
    none = _pair({"voucher_earmark_share": 0.0}, COUPON)
    full = _pair({"voucher_earmark_share": 1.0}, COUPON)
    cn, cf = none.policy.books.vouchers["v"], full.policy.books.vouchers["v"]
    # Earmarking changes what is bought, not who redeems: the same redemptions, on the same random numbers.
    np.testing.assert_array_equal(cn.redeemed, cf.redeemed)
    trade_up = float(cf.induced_spending_yuan.sum() - cn.induced_spending_yuan.sum())
    assert float(cf.gross_spending_yuan.sum() - cn.gross_spending_yuan.sum()) == pytest.approx(trade_up, rel=1e-9)
    # Per redemption it adds something, never more than the face value.
    per_redemption = trade_up / cf.redeemed.sum()
    assert 0.5 < per_redemption <= 10.0, per_redemption
    # It lands in the voucher's sectors within the window; only the cash it no longer leaves is missing later.
    extra_in_window = _window_uplift(full) - _window_uplift(none)
    assert 0.75 * trade_up < extra_in_window <= 1.01 * trade_up, (extra_in_window, trade_up)


def test_a_costly_trip_means_fewer_redemptions_and_less_extra_spending_per_yuan():
    cheap = _pair({"voucher_trip_cost_yuan": 0.0, "voucher_attention_per_day": 0.5}, COUPON)
    dear = _pair({"voucher_trip_cost_yuan": 200.0, "voucher_attention_per_day": 0.5}, COUPON)

    def rate(pair):
        c = pair.policy.books.vouchers["v"]
        return c.redeemed.sum() / c.issued.sum()

    def per_yuan(pair):
        return _window_uplift(pair) / pair.policy.funds["v"].paid_yuan

    assert rate(cheap) > rate(dear) + 0.1, (rate(cheap), rate(dear))
    # Trips buy whole baskets: each yuan redeemed on one brings several yuan of spending.
    assert per_yuan(cheap) > 1.5 * per_yuan(dear), (per_yuan(cheap), per_yuan(dear))


def test_response_per_yuan_is_largest_among_low_spenders():
    """Ant Group/PKU report: about 5.0 yuan of new spending per yuan among low spenders, 2.6 among high.

    Nothing in the rules names a spending group: a low spender's ordinary basket rarely reaches the threshold,
    so its coupon needs a top-up or a trip made for it (several yuan per yuan); a high spender's more often
    goes on a basket already above it and adds only the earmarked trade-up (half the face value here).
    """
    pair = _pair({}, COUPON)
    effect = pair.policy.tool_effects["v"]
    hh = pair.policy.households
    holders = np.unique(effect.holder)
    cols = [FLOW_SECTORS.index("catering"), FLOW_SECTORS.index("daily_goods")]
    usual = hh.flow_spend_day_yuan[holders][:, cols].sum(axis=1) / hh.size[holders]
    third = np.digitize(usual, np.quantile(usual, [1 / 3, 2 / 3]))
    per_yuan = []
    for k in range(3):
        rows = holders[third == k]
        per_yuan.append(effect.induced_by_row[rows].sum() / effect.value_used_by_row[rows].sum())
    low, middle, high = per_yuan
    # 2.8, 2.4 and 1.8 yuan per yuan on this seed (5.0, 3.9 and 2.6 in the report).
    assert 2.0 < low < 4.5 and 1.0 < high < 3.5, per_yuan
    assert low > middle > high and low > 1.3 * high, per_yuan
    # Induced spending per holder is what the books hold: the rows add up to the tool's daily counts.
    assert effect.induced_by_row.sum() * hh.weight == pytest.approx(
        pair.policy.books.vouchers["v"].induced_spending_yuan.sum(), rel=1e-9)
