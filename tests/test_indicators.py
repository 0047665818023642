"""Indicators the plans set targets on that are not 社零 itself (issue 11, item 3).

* 网络零售额 of the city's own sellers (``model/rules/online_sellers.py``), against a hand-computed case
  and inside a tiny run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from conftest import build, small_city
from model.city import OnlineSellerSettings
from model.economy import CityEconomy
from model.rng import RandomStreams
from model.rules import online_sellers as rule
from model.scenario import ScenarioError
from model.simulation import simulate_replication
from model.summary import evaluate_target, replication_summary

# ------------------------------------------------------------------ 网络零售额 (seller side)

SELLERS = {"base_yuan": {"value": 2.0e7, "assumption": "test"}, "base_year": 2022,
           "resident_buyer_share": {"value": 0.25, "assumption": "test"},
           "outside_growth_per_year": {"value": 0.10, "assumption": "test"},
           "outside_growth_sigma": {"value": 0.0, "assumption": "test"}}


def test_seller_online_retail_by_hand():
    # Statistic 1.0e8 in 2021, residents buy 25% of it, the model expects residents to buy 2.0e9 online in 2021:
    # λ = 0.25 x 1.0e8 / 2.0e9 = 0.0125. Outside buyers: 0.75e8 a year, +10% a year from 2021-07-01.
    settings = OnlineSellerSettings(base_yuan=1.0e8, base_year=2021, resident_buyer_share=0.25,
                                    outside_growth_per_year=0.10, outside_growth_sigma=0.05)
    share = rule.local_seller_share(settings, 2.0e9)
    assert share == pytest.approx(0.0125, rel=1e-12)
    dates = [dt.date(2021, 7, 1), dt.date(2022, 7, 1)]   # 0 and 365 days after the statistic's middle
    resident = np.array([4.0e6, 6.0e6])
    daily = rule.local_sellers_online_sales(resident, dates, settings, share, growth_shock=0.0)
    day0 = 0.0125 * 4.0e6 + 0.75e8 / 365.25                       # 50,000 + 205,338.81...
    day1 = 0.0125 * 6.0e6 + 0.75e8 / 365.25 * 1.10 ** (365 / 365.25)
    assert daily == pytest.approx([day0, day1], rel=1e-12)
    assert daily[0] == pytest.approx(255_338.809, abs=1e-3)
    # A growth shock of +1 standard deviation: outside buyers grow 15% instead of 10%.
    shocked = rule.local_sellers_online_sales(resident, dates, settings, share, growth_shock=1.0)
    assert shocked[1] - 0.0125 * 6.0e6 == pytest.approx(0.75e8 / 365.25 * 1.15 ** (365 / 365.25), rel=1e-12)
    assert shocked[0] == pytest.approx(day0, rel=1e-12)


def test_a_statistic_larger_than_residents_could_buy_is_refused():
    settings = OnlineSellerSettings(base_yuan=1.0e9, base_year=2021, resident_buyer_share=0.5,
                                    outside_growth_per_year=0.0)
    with pytest.raises(ValueError, match="resident_buyer_share"):
        rule.local_seller_share(settings, 4.0e8)


def _city_with_sellers(**extra) -> dict:
    raw = small_city(households=4000, start="2023-01-01", end="2023-03-31", **extra)
    raw["city"]["online_sellers"] = dict(SELLERS)
    raw["targets"] = {"online": {"indicator": "seller_online_retail_level", "period": "2023-01-01..2023-03-31",
                                 "value": {"value": 5e6, "assumption": "test"}}}
    return raw


def test_seller_online_retail_in_a_run_follows_residents_purchases():
    voucher = {"v": {"kind": "voucher", "sectors": ["daily_goods"], "face_value_yuan": 20.0, "threshold_yuan": 60.0,
                     "budget_yuan": 300000.0, "start_date": "2023-02-01", "end_date": "2023-02-28"}}
    scenario = build(_city_with_sellers(tools=voucher))
    pair = simulate_replication(scenario, 0.5, RandomStreams.from_seed(5))
    pol, base = pair.policy, pair.baseline
    sellers_p, sellers_b = rule.online_sellers_of(pol), rule.online_sellers_of(base)
    assert sellers_p.share == sellers_b.share            # fixed before the run: the same with or without policy
    expected = rule.expected_resident_online_yuan(base, 2022)
    assert sellers_p.share == pytest.approx(0.25 * 2.0e7 / expected, rel=1e-12)
    n_cells = pol.households.n_cells
    resident_p = rule.resident_online_daily(pol.books, n_cells)
    resident_b = rule.resident_online_daily(base.books, n_cells)
    # The policy moves 网络零售额 by λ times what it moves residents' online purchases, nothing else.
    np.testing.assert_allclose(sellers_p.daily(pol) - sellers_b.daily(base), sellers_p.share * (resident_p - resident_b),
                               rtol=0, atol=1e-6)
    # Size: a quarter's outside buyers are 0.75 x 2.0e7 x 90/365.25 x 1.1^~0.6, about 3.9e6 yuan; residents'
    # part is 0.25 x 2.0e7 over a year of the model's expectation, a quarter of it about 1.2e6.
    quarter = float(sellers_b.daily(base).sum())
    outside = float(rule.outside_daily_yuan(sellers_b.settings, base.dates, 0.0).sum())
    assert outside == pytest.approx(0.75 * 2.0e7 / 365.25 * sum(1.1 ** ((d - dt.date(2022, 7, 1)).days / 365.25)
                                                                 for d in base.dates), rel=1e-12)
    assert 3.7e6 < outside < 4.1e6
    assert 0.6e6 < quarter - outside < 2.0e6
    value = evaluate_target(scenario.targets["online"], base)
    assert value == pytest.approx(quarter, rel=1e-12)
    # A growth target divides by the same indicator over the prior period, in the same replication.
    from model.summary import _indicator_sum
    growth = dataclasses.replace(scenario.targets["online"], indicator="seller_online_retail_growth")
    assert _indicator_sum(growth, base, dt.date(2023, 2, 1), dt.date(2023, 2, 28)) == pytest.approx(
        float(sellers_b.daily(base)[31:59].sum()), rel=1e-12)
    summary = replication_summary(pair)["seller_online_retail"]
    assert summary["baseline"] == pytest.approx(quarter, rel=1e-12)
    assert summary["uplift"] == pytest.approx(float(sellers_p.share * (resident_p - resident_b).sum()), rel=1e-9, abs=1e-6)


def test_seller_online_target_needs_the_statistic():
    raw = _city_with_sellers()
    del raw["city"]["online_sellers"]
    with pytest.raises(ScenarioError, match="online_sellers"):
        build(raw)


def test_outside_growth_shock_is_its_own_stream():
    # The shock comes from its own stream: the runs' other draws, hence the counterfactual, do not see it.
    scenario = build(_city_with_sellers())
    model = CityEconomy(scenario, scale=0.5, streams=RandomStreams.from_seed(9), active_tools=set())
    assert rule.online_sellers_of(model).growth_shock == float(
        RandomStreams.from_seed(9).get("online_sellers").standard_normal())


# ------------------------------------------------------------------ 限额以上 units

def _tiny_merchants_model(catering_growth: float, goods_growth: float, days: int = 365):
    """A finished-run stand-in: five merchants, one year of books with the sectors grown as given."""
    from types import SimpleNamespace

    from model.accounting import DailyBooks
    from model.merchants import MerchantPopulation
    from model.sectors import SECTOR_INDEX

    cat, goods = SECTOR_INDEX["catering"], SECTOR_INDEX["daily_goods"]
    sector = np.array([cat, cat, cat, goods, goods], dtype=np.int8)
    sales = np.array([1.9e6, 1.0e6, 2.5e6, 4.8e6, 6.0e6])
    merchants = MerchantPopulation(sector=sector, district=np.zeros(5, dtype=np.int16), annual_sales_yuan=sales,
                                   above_quota=sales >= np.array([2e6, 2e6, 2e6, 5e6, 5e6]),
                                   floor_area_m2=np.full(5, 60.0), late_cost_yuan=np.zeros(5),
                                   night_eligible=np.ones(5, dtype=bool))
    books = DailyBooks(days, 3)   # cells: one household cell, visitors, institutions
    books.retail[:, 0, cat, 0, 0] = 5.4e6 * catering_growth / 365.0
    books.retail[:, 1, goods, 1, 1] = 10.8e6 * goods_growth / 365.0      # visitors, online: counted too
    books.retail[:, 2, cat, 0, 0] = 9e9                                 # institutions' purchases: not counted
    return SimpleNamespace(merchants=merchants, institution_cell=2, books=books)


def test_above_quota_crossings_by_hand():
    from model.rules.above_quota import AboveQuota

    # Catering +6%: the 1.9m restaurant reaches 2.014m >= 2m (enters), the 1.0m one does not, the 2.5m one was
    # above already. Goods +5%: the 4.8m shop reaches 5.04m >= 5m (enters). Two entries, no exit.
    model = _tiny_merchants_model(1.06, 1.05)
    rule = AboveQuota(model)
    assert rule.share.tolist() == pytest.approx([1.9 / 5.4, 1.0 / 5.4, 2.5 / 5.4, 4.8 / 10.8, 6.0 / 10.8])
    assert rule.period_sales_yuan(model.books, 0, 364) == pytest.approx([2.014e6, 1.06e6, 2.65e6, 5.04e6, 6.3e6])
    assert rule.crossings(model.books, 0, 364) == (2, 0)
    assert rule.above_at_base() == 2
    # A quarter is annualised: the same daily sales over 91 days give the same crossings.
    assert rule.crossings(model.books, 0, 90) == (2, 0)
    # Catering -6%: the 2.5m restaurant stays above (2.35m); goods -20%: the 6.0m shop falls to 4.8m (exits).
    down = _tiny_merchants_model(0.94, 0.80)
    assert AboveQuota(down).crossings(down.books, 0, 364) == (0, 1)


def test_above_quota_units_in_a_run():
    from model.rules.above_quota import above_quota_of, new_units_by_year

    voucher = {"v": {"kind": "voucher", "sectors": ["catering"], "face_value_yuan": 30.0, "threshold_yuan": 90.0,
                     "budget_yuan": 2e6, "start_date": "2023-01-10", "end_date": "2023-03-20"}}
    raw = small_city(households=4000, start="2023-01-01", end="2023-03-31", tools=voucher)
    raw["targets"] = {"units": {"indicator": "above_quota_new_units", "period": "2023-01-01..2023-03-31",
                                "value": {"value": 3, "assumption": "test"}}}
    scenario = build(raw)
    pair = simulate_replication(scenario, 0.5, RandomStreams.from_seed(2))
    pol, base = pair.policy, pair.baseline
    rule = above_quota_of(pol)
    assert rule.above_at_base() == int(pol.merchants.above_quota.sum())   # the base matches the books' size classes
    entries_p = rule.crossings(pol.books, 0, 89)[0]
    entries_b = above_quota_of(base).crossings(base.books, 0, 89)[0]
    assert evaluate_target(scenario.targets["units"], pol) == entries_p
    summary = replication_summary(pair)["above_quota_units"]
    assert summary["new_units"]["2023"] == {"policy": entries_p, "baseline": entries_b}
    assert new_units_by_year(pol) == {"2023": entries_p}
    # The voucher raises catering sales, so no fewer restaurants cross; goods merchants cross alike in both runs.
    assert entries_p >= entries_b
    from model.sectors import SECTOR_INDEX
    goods = rule.sector == SECTOR_INDEX["daily_goods"]
    p_sales, b_sales = rule.period_sales_yuan(pol.books, 0, 89), above_quota_of(base).period_sales_yuan(base.books, 0, 89)
    catering = rule.sector == SECTOR_INDEX["catering"]
    assert (p_sales[catering] > b_sales[catering]).all()
    assert np.abs(p_sales[goods] / b_sales[goods] - 1).max() < 0.05


# ------------------------------------------------------------------ 24-hour stores

def test_24_hour_store_state_by_hand():
    from model.merchants import NIGHTS_OPEN_FOR_24H, convenience_stores
    from model.rules.night_economy import nights_in_a_row, stores_open_24h
    from model.sectors import SECTOR_INDEX

    assert NIGHTS_OPEN_FOR_24H == 28
    previous = np.array([0, 27, 5, 27, 40])
    tonight = np.array([True, True, False, True, True])
    nights = nights_in_a_row(previous, tonight)
    assert nights.tolist() == [1, 28, 0, 28, 41]
    goods, catering = SECTOR_INDEX["daily_goods"], SECTOR_INDEX["catering"]
    convenience = convenience_stores(np.array([goods, goods, goods, catering, goods]),
                                     np.array([80.0, 150.0, 90.0, 60.0, 450.0]))
    assert convenience.tolist() == [True, True, True, False, False]   # a restaurant and a 450 m² shop are not
    assert stores_open_24h(convenience, nights) == 1                   # only the shop at its 28th night


def test_share_of_stores_open_24_hours_in_a_run():
    from model.summary import _share_open_24h

    night = {"n": {"kind": "night_market", "start_date": "2023-01-01", "end_date": "2023-03-31", "budget_yuan": 1e7,
                   "allowance_per_merchant_night_yuan": 60.0, "sectors": ["daily_goods"]}}
    raw = small_city(households=4000, start="2023-01-01", end="2023-03-31", tools=night)
    raw["targets"] = {"h24": {"indicator": "share_stores_open_24h", "period": "2023-01-01..2023-03-31",
                              "value": {"value": 0.5, "assumption": "test"}}}
    scenario = build(raw)
    pair = simulate_replication(scenario, 0.5, RandomStreams.from_seed(3))
    pol, base = pair.policy, pair.baseline
    stores = int(pol.night.convenience.sum())
    assert stores > 20
    for model in (pol, base):
        assert (model.books.stores_open_24h[:27] == 0).all()    # nobody has 28 nights yet
        assert (model.books.stores_open_24h <= model.books.night_merchants_open).all()
    # With 60 yuan a night for every shop open late, more shops keep late hours every night.
    assert pol.books.stores_open_24h[-1] > base.books.stores_open_24h[-1]
    share = evaluate_target(scenario.targets["h24"], pol)
    assert share == pytest.approx(pol.books.stores_open_24h[-1] / stores, rel=1e-12)
    assert 0.0 <= share <= 1.0
    summary = replication_summary(pair)["stores_open_24h"]
    assert summary["convenience_stores"] == stores
    assert summary["share_at_end"]["baseline"] == pytest.approx(_share_open_24h(base, base.horizon_days - 1))


# ------------------------------------------------------------------ results by county, ranking with rewards

def test_county_ranking_by_hand():
    from model.summary import county_ranking

    districts = {"甲": {"uplift_share": 0.010}, "乙": {"uplift_share": 0.030}, "丙": {"uplift_share": -0.002},
                 "丁": {"uplift_share": 0.020}}
    out = county_ranking(districts, top_n=2, reward_yuan=500000.0)
    assert out["rank"] == {"甲": 3, "乙": 1, "丙": 4, "丁": 2}
    assert out["rewarded"] == {"甲": False, "乙": True, "丙": False, "丁": True}
    assert out["reward_outlay"] == 1_000_000.0
    assert county_ranking(districts, 1, None)["reward_outlay"] is None


def test_results_by_county_in_a_run():
    from model.summary import combine_replications

    voucher = {"v": {"kind": "voucher", "sectors": ["catering", "daily_goods"], "face_value_yuan": 20.0,
                     "threshold_yuan": 60.0, "budget_yuan": 400000.0, "start_date": "2023-01-10",
                     "end_date": "2023-02-20", "districts": ["乡镇"]}}
    raw = small_city(households=4000, start="2023-01-01", end="2023-03-31", tools=voucher)
    raw["county_ranking"] = {"top_n": 1, "reward_yuan": {"value": 300000, "assumption": "test"}}
    scenario = build(raw)
    summaries = []
    for seed in (1, 2):
        pair = simulate_replication(scenario, 0.5, RandomStreams.from_seed(seed, seed - 1))
        s = replication_summary(pair)
        summaries.append(s)
        districts = s["districts"]
        assert set(districts) == {"城区", "乡镇"}
        # The districts' households make up all of the households' 社零: the breakdown adds up.
        pol, base = pair.policy, pair.baseline
        n = pol.households.n_cells
        total_uplift = float(pol.books.retail[:, :n].sum() - base.books.retail[:, :n].sum())
        assert sum(d["retail_sales_uplift"] for d in districts.values()) == pytest.approx(total_uplift, rel=1e-9)
        # Only 乡镇's households hold vouchers: its uplift share is the larger, and it takes the one reward.
        assert districts["乡镇"]["uplift_share"] > 0.002 > abs(districts["城区"]["uplift_share"])
        assert s["county_ranking"] == {"rank": {"城区": 2, "乡镇": 1}, "rewarded": {"城区": False, "乡镇": True},
                                       "reward_outlay": 300000.0}
    combined = combine_replications(summaries)["county_ranking"]
    assert combined["rewarded"]["乡镇"] == {"probability": 1.0}
    assert combined["rank"]["城区"]["mean"] == 2.0


def test_county_ranking_input_is_checked():
    raw = small_city()
    raw["county_ranking"] = {"top_n": 3}
    with pytest.raises(ScenarioError, match="county_ranking.top_n"):
        build(raw)   # three rewards for two districts


def test_share_and_count_targets_are_reported_in_their_own_units():
    """A share target's contribution is a difference of shares (2% of stores open 24 hours against 1% adds one
    point, not 100%); growth of the city's own sellers is a rate; a count is in units, not 亿元."""
    from types import SimpleNamespace

    from model.commands.run import _target_estimate, _target_value
    from model.reporting.summary import target_display
    from model.summary import contribution_pp

    share = SimpleNamespace(indicator="share_stores_open_24h")
    assert contribution_pp(share, 0.02, 0.01) == pytest.approx(1.0)
    level = SimpleNamespace(indicator="retail_sales_level")
    assert contribution_pp(level, 102.0, 100.0) == pytest.approx(2.0)
    count = SimpleNamespace(indicator="above_quota_new_units")
    assert contribution_pp(count, 15.0, 12.0) == pytest.approx(25.0)
    assert target_display("share_stores_open_24h", 0.5) == (50.0, "%")
    assert target_display("seller_online_retail_growth", 0.10) == (pytest.approx(10.0), "%")
    assert target_display("above_quota_new_units", 12, "zh") == (12, "家")
    assert target_display("above_quota_new_units", 12, "en") == (12, "units")
    assert target_display("seller_online_retail_level", 1.82e8) == (pytest.approx(1.82), "亿元")
    assert _target_value("share_stores_open_24h", 0.5) == "50.0%"
    assert _target_value("above_quota_new_units", 12) == "12 units"
    assert _target_estimate("share_stores_open_24h", {"mean": 0.0199, "p05": 0.0058, "p95": 0.0363}) == "2% (90%: 1 to 4)"
