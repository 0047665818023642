"""Sports vouchers (``model/tools/sports_voucher.py``): sizes checked against hand-derived values."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import small_city
from model.accounting import AccountingError, check_accounts
from model.parameters import BehaviourParameters
from model.rng import RandomStreams
from model.scenario import ScenarioError, scenario_from_dict
from model.simulation import simulate_replication
from model.summary import replication_summary

MAY = slice(30, 61)  # 2023-05-01..2023-05-31 from a 2023-04-01 start


def sports(**settings):
    tool = {"kind": "sports_voucher", "start_date": "2023-05-01", "end_date": "2023-05-31", "budget_yuan": 20_000,
            "face_value_yuan": 20, "spend_per_use_yuan": 100, "goods_share": 0.25}
    tool.update(settings)
    return tool


def run(tool, seed=2, scale=1.0, behaviour=None):
    raw = small_city(households=2000, start="2023-04-01", end="2023-06-30", tools={"sports": tool}, visitors=False)
    if behaviour:
        raw["behaviour"] = behaviour
    return simulate_replication(scenario_from_dict(raw), scale, RandomStreams.from_seed(seed), tool_breakdown=False)


def test_vouchers_bring_new_purchases_whose_services_are_outside_retail_and_goods_inside():
    p = BehaviourParameters.default()
    pair = run(sports())
    counts = pair.policy.books.vouchers["sports"]
    # 1,000 vouchers (20,000 / 20) evenly over May's 31 days; a share used and paid at face value.
    assert counts.issued[MAY] == pytest.approx(np.full(31, 1000 / 31), rel=1e-12)
    used = 1000 * p.service_voucher_redemption_rate
    assert counts.redeemed.sum() == pytest.approx(used, rel=1e-12)
    assert pair.policy.funds["sports"].paid_yuan == pytest.approx(used * 20, rel=1e-12)
    # A 20-yuan voucher on a 100-yuan purchase: elasticity 1 x 20% = 20% of those purchases are new.
    new_share = p.service_voucher_price_elasticity * 20 / 100
    new = used * 100 * new_share  # 14,000 yuan at the default redemption rate of 0.7
    summary = replication_summary(pair)
    entry = summary["tools"]["sports"]
    assert entry["sports"]["new_purchase_share"] == pytest.approx(new_share)
    # A quarter of it is sports goods (社零), the rest services outside 社零.
    assert summary["retail_sales_uplift"] == pytest.approx(0.25 * new, rel=1e-9)
    assert entry["sports"]["new_services_outside_retail"] == pytest.approx(0.75 * new, rel=1e-9)
    assert summary["non_retail_uplift"] == {"lodging": 0.0, "tickets": 0.0}
    # Supported: the goods part of every purchase that used one; the services part apart.
    assert entry["supported_sales"] == pytest.approx(0.25 * used * 100, rel=1e-9)
    assert entry["supported_non_retail_sales"] == pytest.approx(0.75 * used * 100, rel=1e-9)
    assert pair.policy.books.household_benefit.sum() == pytest.approx(used * 20, rel=1e-9)


def test_a_voucher_worth_the_whole_purchase_makes_every_purchase_new_but_no_more():
    # Elasticity 2 x a voucher worth all of the purchase would be 200% new: capped at all of them.
    entry = replication_summary(run(sports(spend_per_use_yuan=20, goods_share=0.0),
                                    behaviour={"service_voucher_price_elasticity": 2.0}))["tools"]["sports"]
    assert entry["sports"]["new_purchase_share"] == 1.0
    used = 1000 * BehaviourParameters.default().service_voucher_redemption_rate
    assert entry["sports"]["new_services_outside_retail"] == pytest.approx(used * 20, rel=1e-9)


def test_pool_is_never_overdrawn_and_the_identities_catch_tampering():
    pair = run(sports(quantity=50, budget_yuan=1_000))
    model = pair.policy
    assert model.funds["sports"].paid_yuan <= 1_000 * (1 + 1e-12)
    check_accounts(model)
    effect = model.tool_effects["sports"]
    effect.new_services_yuan += 50.0
    with pytest.raises(AccountingError, match="new spending booked"):
        check_accounts(model)
    effect.new_services_yuan -= 50.0
    model.funds["sports"].paid_by_payee["merchant"] += 20.0
    with pytest.raises(AccountingError, match="differs from payments"):
        check_accounts(model)


@pytest.mark.parametrize("change,field", [
    ({"quantity": 2000}, "quantity"),
    ({"spend_per_use_yuan": 10}, "spend_per_use_yuan"),
    ({"goods_share": 1.2}, "goods_share"),
    ({"face_value_yuan": 0}, "face_value_yuan"),
])
def test_bad_settings_are_refused_naming_the_field(change, field):
    raw = small_city(households=2000, start="2023-04-01", end="2023-06-30", tools={"sports": sports(**change)})
    with pytest.raises(ScenarioError, match=f"tools.sports.{field}"):
        scenario_from_dict(raw)
