"""Stocks and flows that add up: institutional purchases under conditions, stationary savings, the
stock-flow identities of the end-of-run check (each with a tamper test), and a summary that is a pure
function of scenario, seed, scale and replications."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import build, small_city
from model.accounting import AccountingError, check_accounts
from model.economy import CityEconomy
from model.rng import RandomStreams
from model.runner import run_scenario
from model.sectors import SECTOR_INDEX

CATERING = SECTOR_INDEX["catering"]


def _halved_catering(institutions: bool | None) -> dict:
    raw = small_city(households=4000, start="2023-03-01", end="2023-04-30")
    if institutions is not None:
        condition = {"applies_to": "demand", "sectors": ["catering"],
                     "schedule": [{"start": "2023-04-01", "end": "2023-04-30", "multiplier": {"value": 0.5, "assumption": "test"}}]}
        if not institutions:
            condition["institutions"] = False
        raw["conditions"] = {"lockdown": condition}
    return raw


def _institutional_catering(raw: dict) -> tuple[float, float]:
    model = CityEconomy(build(raw), scale=1.0, streams=RandomStreams.from_seed(2), active_tools=set()).run()
    by_day = model.books.retail[:, model.institution_cell, CATERING].sum(axis=(1, 2))
    return float(by_day[:31].sum()), float(by_day[31:].sum())  # March, April


def test_institutional_purchases_follow_demand_conditions_unless_a_condition_says_otherwise():
    march, april = _institutional_catering(_halved_catering(None))
    march_c, april_c = _institutional_catering(_halved_catering(True))
    march_k, april_k = _institutional_catering(_halved_catering(False))
    # Same streams: before the condition nothing differs; during it institutional catering is exactly halved.
    assert march_c == pytest.approx(march, rel=1e-12)
    assert april_c == pytest.approx(0.5 * april, rel=1e-12)
    assert april_k == pytest.approx(april, rel=1e-12)


def test_savings_are_stationary_without_policy():
    """Two years without policy: mean liquid savings end where they started (the old rule grew them ~20%/yr)."""
    raw = small_city(households=20000, start="2023-01-01", end="2024-12-31")
    model = CityEconomy(build(raw), scale=0.5, streams=RandomStreams.from_seed(5), active_tools=set())
    start = model.households.savings_yuan.mean()
    model.run()
    assert model.households.savings_yuan.mean() == pytest.approx(start, rel=0.02)


def _finished(tools: dict) -> CityEconomy:
    raw = small_city(households=5000, start="2023-03-01", end="2023-05-31", tools=tools)
    return CityEconomy(build(raw), scale=1.0, streams=RandomStreams.from_seed(1)).run()


VOUCHER = {"kind": "voucher", "sectors": ["catering"], "face_value_yuan": 10.0, "threshold_yuan": 30.0,
           "budget_yuan": 200000.0, "start_date": "2023-03-01", "end_date": "2023-03-31"}
TOURISM = {"kind": "tourism_voucher", "face_value_yuan": 50.0, "budget_yuan": 50000.0, "start_date": "2023-03-01",
           "end_date": "2023-03-31"}


@pytest.fixture(scope="module")
def finished():
    model = _finished({"v": VOUCHER, "tour": TOURISM})
    check_accounts(model)  # untouched, the books balance
    return model


def test_savings_identity_is_checked(finished):
    ledger = finished.savings_ledger
    assert ledger.voucher_cash_yuan != 0 and ledger.windfall_spent_yuan > 0 and ledger.durable_cash_yuan > 0
    ledger.income_yuan += 1000.0
    with pytest.raises(AccountingError, match="savings changed by"):
        check_accounts(finished)
    ledger.income_yuan -= 1000.0
    finished.households.savings_yuan[0] += 500.0  # money from nowhere
    with pytest.raises(AccountingError, match="savings changed by"):
        check_accounts(finished)
    finished.households.savings_yuan[0] -= 500.0


def test_deferred_spending_identity_is_checked(finished):
    deferred = finished.deferred
    assert deferred.scheduled_total_yuan != 0 and deferred.realised_yuan != 0
    deferred.realised_yuan += 100.0
    with pytest.raises(AccountingError, match="deferred spending scheduled"):
        check_accounts(finished)
    deferred.realised_yuan -= 100.0


def test_voucher_outlay_identity_is_checked(finished):
    for name in ("v", "tour"):
        fund = finished.funds[name]
        assert fund.paid_yuan > 0
        fund.paid_by_payee["merchant"] += 10.0
        fund.paid_by_level["city"] += 10.0
        fund.daily_outlay[10] += 10.0
        with pytest.raises(AccountingError, match="face value x vouchers redeemed"):
            check_accounts(finished)
        fund.paid_by_payee["merchant"] -= 10.0
        fund.paid_by_level["city"] -= 10.0
        fund.daily_outlay[10] -= 10.0


def test_supported_sales_bound_is_checked(finished):
    books = finished.books_with_payback
    catering_sales = books.retail[:, :, CATERING].sum()
    supported = books.supported_sales["tour"]
    supported[5, CATERING] += catering_sales
    with pytest.raises(AccountingError, match="tool tour: supported catering sales"):
        check_accounts(finished)
    supported[5, CATERING] -= catering_sales
    books.supported_any[5, CATERING] += catering_sales
    with pytest.raises(AccountingError, match="all tools: supported catering sales"):
        check_accounts(finished)
    books.supported_any[5, CATERING] -= catering_sales
    check_accounts(finished)


def test_summary_json_is_byte_identical_across_runs(tmp_path):
    scenario = build(small_city(households=5000, end="2023-04-30", tools={"v": VOUCHER}))
    for out in ("a", "b"):
        run_scenario(scenario, scale=0.5, seed=9, replications=2).write(tmp_path / out)
    assert (tmp_path / "a" / "summary.json").read_bytes() == (tmp_path / "b" / "summary.json").read_bytes()
    assert (tmp_path / "a" / "replications.json").read_bytes() == (tmp_path / "b" / "replications.json").read_bytes()
