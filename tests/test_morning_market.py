"""Morning-market discounts (``model/tools/morning_market.py``): sizes checked against hand-derived values."""

from __future__ import annotations

import math

import pytest

from conftest import small_city
from model.accounting import AccountingError, check_accounts
from model.parameters import BehaviourParameters
from model.rng import RandomStreams
from model.scenario import ScenarioError, scenario_from_dict
from model.sectors import SECTOR_INDEX
from model.simulation import simulate_replication
from model.summary import replication_summary

# Sizes here were derived by hand from the documented behaviour values (model/parameters/behaviour.toml), and
# comparisons across replications need one behaviour, not ensemble set r in replication r: run on those values.
pytestmark = pytest.mark.usefixtures("documented_behaviour")

GOODS = SECTOR_INDEX["daily_goods"]
FIRST = 30  # 2023-05-01 from a 2023-04-01 start


def market(**settings):
    tool = {"kind": "morning_market", "start_date": "2023-05-01", "end_date": "2023-05-31", "budget_yuan": 1e6,
            "market_share_of_spending": 0.2, "discount_face_yuan": 10, "discount_threshold_yuan": 50,
            "sectors": ["daily_goods"]}
    tool.update(settings)
    return tool


def run(tool, seed=8):
    raw = small_city(households=3000, start="2023-04-01", end="2023-06-30", tools={"market": tool}, visitors=False)
    return simulate_replication(scenario_from_dict(raw), 1.0, RandomStreams.from_seed(seed), tool_breakdown=False)


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def test_a_market_discount_pays_qualifying_transactions_and_raises_market_purchases():
    p = BehaviourParameters.default()
    pair = run(market())
    pol, base = pair.policy, pair.baseline
    n = pol.households.n_cells
    m, s = p.ticket_mean_yuan["daily_goods"], p.ticket_sigma
    count_share = _phi((math.log(m) - s * s / 2 - math.log(50)) / s)   # transactions of at least 50 yuan
    value_share = _phi((math.log(m) + s * s / 2 - math.log(50)) / s)
    # First morning: 20% of the households' in-shop goods are bought at the markets.
    market_sales = 0.2 * base.books.retail[FIRST, :n, GOODS, 0].sum()
    induced = market_sales * p.promotion_price_elasticity["daily_goods"] * 10 * count_share / m
    assert pol.books.retail[FIRST, :n, GOODS].sum() - base.books.retail[FIRST, :n, GOODS].sum() == pytest.approx(
        induced, rel=1e-9)
    # The pool pays 10 yuan on each qualifying transaction, induced ones included.
    paid_first = (market_sales + induced) / m * count_share * 10
    assert pol.funds["market"].daily_outlay[FIRST] == pytest.approx(paid_first, rel=1e-9)
    assert pol.books.supported_sales["market"][FIRST, GOODS] == pytest.approx((market_sales + induced) * value_share,
                                                                            rel=1e-9)
    entry = replication_summary(pair)["tools"]["market"]
    assert entry["morning_market"]["pulled_forward"] == pytest.approx(
        p.pull_forward_share["daily_goods"] * entry["morning_market"]["induced_sales"], rel=1e-12)
    assert entry["outlay"] == pytest.approx(10 * entry["morning_market"]["discounted_transactions"], rel=1e-12)


def test_the_pool_cuts_the_discounts_and_the_identity_catches_tampering():
    pair = run(market(budget_yuan=2_000))
    model = pair.policy
    assert model.funds["market"].paid_yuan <= 2_000 * (1 + 1e-12)
    assert model.funds["market"].exhausted_day is not None
    check_accounts(model)
    model.tool_effects["market"].transactions_paid += 5
    with pytest.raises(AccountingError, match="discount × transactions paid"):
        check_accounts(model)


@pytest.mark.parametrize("change,field", [
    ({"discount_threshold_yuan": 5}, "discount_threshold_yuan"),
    ({"sectors": ["fuel"]}, "sectors"),
    ({"market_share_of_spending": 1.5}, "market_share_of_spending"),
])
def test_bad_settings_are_refused_naming_the_field(change, field):
    raw = small_city(households=3000, start="2023-04-01", end="2023-06-30", tools={"market": market(**change)})
    with pytest.raises(ScenarioError, match=f"tools.market.{field}"):
        scenario_from_dict(raw)
