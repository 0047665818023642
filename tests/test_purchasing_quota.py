"""Institutional purchasing quotas (``model/tools/purchasing_quota.py``): sizes against hand-derived values."""

from __future__ import annotations

import pytest

from conftest import small_city
from model.accounting import AccountingError, check_accounts
from model.rng import RandomStreams
from model.scenario import ScenarioError, scenario_from_dict
from model.sectors import SECTOR_INDEX
from model.simulation import simulate_replication
from model.summary import replication_summary


def quota(**settings):
    tool = {"kind": "purchasing_quota", "start_date": "2023-05-01", "end_date": "2023-05-31", "budget_yuan": 0,
            "purchases_yuan_per_year": 36_500_000, "quota_share": 0.3, "share_meeting_quota_before": 0.1,
            "compliance_share": 0.5, "local_seller_share": 0.8, "local_share_before": 0.5}
    tool.update(settings)
    return tool


def run(tool, seed=3):
    raw = small_city(households=2000, start="2023-04-01", end="2023-06-30", tools={"quota": tool}, visitors=False)
    return simulate_replication(scenario_from_dict(raw), 1.0, RandomStreams.from_seed(seed), tool_breakdown=False)


def test_quota_moves_purchases_and_changes_the_citys_sales_by_where_they_go():
    pair = run(quota())
    # 100,000 yuan a day covered; half the buyers comply and move 30% - 10% = 20%: 10,000 yuan a day.
    # The city's sellers get 80% of them instead of 50%: +3,000 yuan a day, 31 days.
    summary = replication_summary(pair)
    entry = summary["tools"]["quota"]
    assert entry["purchasing_quota"]["purchases_moved"] == pytest.approx(31 * 10_000, rel=1e-12)
    assert summary["retail_sales_uplift"] == pytest.approx(31 * 3_000, rel=1e-9)
    goods = SECTOR_INDEX["daily_goods"]
    pol, base = pair.policy, pair.baseline
    inst = pol.institution_cell
    assert (pol.books.retail[:, inst, goods].sum() - base.books.retail[:, inst, goods].sum()
            == pytest.approx(31 * 3_000, rel=1e-9))
    assert entry["outlay"] == 0.0 and entry["gross_leverage"] is None


def test_a_quota_sending_purchases_to_sellers_elsewhere_lowers_the_citys_sales():
    summary = replication_summary(run(quota(local_seller_share=0.2)))
    assert summary["retail_sales_uplift"] == pytest.approx(31 * 10_000 * (0.2 - 0.5), rel=1e-9)


def test_a_quota_already_met_moves_nothing():
    summary = replication_summary(run(quota(share_meeting_quota_before=0.4)))
    assert summary["tools"]["quota"]["purchasing_quota"]["purchases_moved"] == 0.0
    assert summary["retail_sales_uplift"] == 0.0


def test_the_identities_catch_tampering():
    model = run(quota()).policy
    check_accounts(model)
    effect = model.tool_effects["quota"]
    effect.local_change_yuan += 500.0
    with pytest.raises(AccountingError, match="sales change booked"):
        check_accounts(model)
    effect.local_change_yuan -= 500.0
    effect.moved_yuan = 1e7  # more than 30% of the covered purchases of May (930,000)
    with pytest.raises(AccountingError, match="exceed the quota"):
        check_accounts(model)


@pytest.mark.parametrize("change,field", [
    ({"budget_yuan": 1000}, "budget_yuan"),
    ({"quota_share": 1.3}, "quota_share"),
    ({"sector": "cars"}, "sector"),
])
def test_bad_settings_are_refused_naming_the_field(change, field):
    raw = small_city(households=2000, start="2023-04-01", end="2023-06-30", tools={"quota": quota(**change)})
    with pytest.raises(ScenarioError, match=f"tools.quota.{field}"):
        scenario_from_dict(raw)
