"""Night access measures (``model/tools/night_access.py``): sizes checked against hand-derived values."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import small_city
from model.accounting import AccountingError, check_accounts
from model.parameters import BehaviourParameters
from model.rng import RandomStreams
from model.rules.night_economy import NightEconomy
from model.scenario import ScenarioError, scenario_from_dict
from model.sectors import SECTOR_INDEX
from model.simulation import simulate_replication
from model.summary import replication_summary

NIGHT = SECTOR_INDEX["night_market"]


def access(**settings):
    tool = {"kind": "night_access", "start_date": "2023-05-01", "end_date": "2023-05-31", "budget_yuan": 0}
    tool.update(settings)
    return tool


def run(tool, seed=4):
    raw = small_city(households=3000, start="2023-05-01", end="2023-06-30", tools={"access": tool}, visitors=False)
    return simulate_replication(scenario_from_dict(raw), 1.0, RandomStreams.from_seed(seed), tool_breakdown=False)


def test_free_parking_raises_the_first_nights_spending_by_the_elasticity_times_the_saving():
    p = BehaviourParameters.default()
    pair = run(access(parking_saving_per_visit_yuan=5.0))
    pol, base = pair.policy, pair.baseline
    # First night: the same merchants open (expectations not yet updated), and a 5-yuan saving on a night out
    # of ticket_mean_yuan.night_market (50) raises night spending by elasticity x 5 / 50 = 10%.
    factor = 1.0 + p.night_discount_price_elasticity * 5.0 / p.ticket_mean_yuan["night_market"]
    assert pol.books.night_merchants_open[0] == base.books.night_merchants_open[0]
    assert pol.books.retail[0, :, NIGHT].sum() == pytest.approx(factor * base.books.retail[0, :, NIGHT].sum(), rel=1e-9)
    # Of the extra, the moved part comes out of the same night's daytime catering and goods.
    moved = (1 - p.night_new_spending_share) * (factor - 1) * base.books.retail[0, :, NIGHT].sum()
    day_cols = [SECTOR_INDEX["catering"], SECTOR_INDEX["daily_goods"]]
    fall = base.books.retail[0, :, day_cols].sum() - pol.books.retail[0, :, day_cols].sum()
    assert fall == pytest.approx(moved, rel=1e-6)
    summary = replication_summary(pair)
    assert summary["tools"]["access"]["outlay"] == 0.0
    assert summary["tools"]["access"]["night_access"] == {"nights": 31, "bus_nights": 0}


def test_looser_stall_limits_open_the_stalls_whose_margin_covers_the_cost_left():
    r = 0.4
    pair = run(access(stall_cost_reduction_share=r))
    pol = pair.policy
    night = NightEconomy(pol)  # the steady state every run starts from
    stall = night.sector == NIGHT
    expect = night.margin * night.expected_revenue_per_share * night.share > night.cost * np.where(stall, 1 - r, 1.0)
    assert pol.books.night_merchants_open[0] == int(expect.sum())
    assert pol.books.night_merchants_open[0] > pair.baseline.books.night_merchants_open[0]


def test_the_late_buses_run_while_the_pool_pays_for_them():
    pair = run(access(bus_saving_per_visit_yuan=3.0, bus_subsidy_per_night_yuan=1000.0, budget_yuan=10_500.0))
    pol, base = pair.policy, pair.baseline
    assert pol.funds["access"].paid_yuan == pytest.approx(10_000.0)  # ten nights; the eleventh cannot be paid
    assert pol.tool_effects["access"].bus_nights == 10
    assert pol.funds["access"].paid_by_payee["bus_operator"] == pytest.approx(10_000.0)
    check_accounts(pol)
    pol.tool_effects["access"].bus_nights += 1
    with pytest.raises(AccountingError, match="bus subsidy"):
        check_accounts(pol)
    # Day 0 with the buses, and after the pool is empty none: the night out costs what it did.
    assert pol.books.retail[0, :, NIGHT].sum() > base.books.retail[0, :, NIGHT].sum()


@pytest.mark.parametrize("change,field", [
    ({"budget_yuan": 1000}, "budget_yuan"),
    ({"stall_cost_reduction_share": 1.5}, "stall_cost_reduction_share"),
    ({"sectors": ["lodging"]}, "sectors"),
])
def test_bad_settings_are_refused_naming_the_field(change, field):
    raw = small_city(households=3000, start="2023-05-01", end="2023-06-30", tools={"access": access(**change)})
    with pytest.raises(ScenarioError, match=f"tools.access.{field}"):
        scenario_from_dict(raw)
