"""Indicators the plans set targets on that are not 社零 itself (issue 11, item 3).

* 网络零售额 of the city's own sellers (``model/rules/online_sellers.py``), against a hand-computed case
  and inside a tiny run.
"""

from __future__ import annotations

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
                                 "value": {"value": 5e6, "assumption": "test"}},
                      "online_growth": {"indicator": "seller_online_retail_growth", "period": "2023-01-01..2023-03-31",
                                        "value": {"value": 0.1, "assumption": "test"},
                                        "base_value_yuan": {"value": 4.5e6, "assumption": "test"}}}
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
    assert evaluate_target(scenario.targets["online_growth"], base) == pytest.approx(quarter / 4.5e6 - 1, rel=1e-12)
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
