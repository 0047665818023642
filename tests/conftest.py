"""Shared helpers for tests: a small synthetic city built as a scenario dict."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.scenario import scenario_from_dict  # noqa: E402

EXAMPLE = ROOT / "scenarios" / "examples" / "small_city.toml"
DESIGNS = ROOT / "scenarios" / "examples" / "small_city_designs.toml"


def designs_until(folder: Path, end_date: str) -> Path:
    """A copy of the example designs file whose horizon and target period end on ``end_date`` (shorter tests)."""
    text = DESIGNS.read_text(encoding="utf-8").replace('end_date = "2023-12-31"', f'end_date = "{end_date}"', 1)
    text = text.replace('period = "2023"', f'period = "2023-01-01..{end_date}"')
    path = folder / "designs.toml"
    path.write_text(text, encoding="utf-8")
    return path


def small_city(households: float = 20000, start: str = "2023-01-01", end: str = "2023-06-30",
               tools: dict | None = None, visitors: bool = True) -> dict:
    """A synthetic city scenario dict with no tools unless given (figures are invented, all `assumption`)."""
    raw = {
        "scenario": {"name": "test-city", "start_date": start, "end_date": end},
        "city": {
            "name": "测试城",
            "households": {"value": households, "assumption": "test"},
            "household_size": {"value": 2.8, "assumption": "test"},
            "urban_share": {"value": 0.6, "assumption": "test"},
            "income_per_capita_yuan": {"urban": {"value": 42000, "assumption": "test"},
                                       "rural": {"value": 18000, "assumption": "test"}},
            "base_year": 2023,
            "districts": [
                {"name": "城区", "household_share": {"value": 0.6, "assumption": "test"},
                 "urban_share": {"value": 0.9, "assumption": "test"}},
                {"name": "乡镇", "household_share": {"value": 0.4, "assumption": "test"},
                 "urban_share": {"value": 0.15, "assumption": "test"}},
            ],
        },
        "tools": copy.deepcopy(tools or {}),
    }
    if visitors:
        raw["city"]["visitors"] = {
            "visitors_per_year": {"value": 300000, "assumption": "test"},
            "spend_per_visit_yuan": {"value": {"catering": 150, "daily_goods": 100, "lodging": 200, "tickets": 80},
                                     "assumption": "test"},
        }
    return raw


def build(raw: dict):
    """Validate a scenario dict."""
    return scenario_from_dict(raw, "test")


#: Set to 1 to run the suite with this process's counterfactual cache on (a check that nothing writes into a
#: kept run: its arrays are read-only). Off by default: a test that patches the model's code would otherwise
#: get a counterfactual made before the patch (the cache keys on inputs, not code; model/counterfactual_cache.py).
CACHE_IN_TESTS_ENV = "POLICY_SIM_TEST_WITH_CACHE"


@pytest.fixture(autouse=True)
def _no_counterfactual_cache_in_this_process():
    """Each test starts with this process's counterfactual cache empty and off (worker processes, which run the
    unpatched code, keep theirs); the ``counterfactual_cache`` fixture turns it on."""
    import os

    from model import counterfactual_cache as cc

    cc.CACHE.clear()
    before = cc.CACHE.enabled
    cc.CACHE.enabled = os.environ.get(CACHE_IN_TESTS_ENV) == "1"
    yield
    cc.CACHE.enabled = before
    cc.CACHE.clear()


@pytest.fixture
def counterfactual_cache():
    """This process's counterfactual cache, on and empty."""
    from model import counterfactual_cache as cc

    cc.CACHE.clear()
    cc.CACHE.enabled = True
    yield cc.CACHE
    cc.CACHE.clear()


@pytest.fixture
def small_city_dict():
    return small_city()


@pytest.fixture(scope="module")
def documented_behaviour():
    """Run a module's simulations on the documented behaviour values (model/parameters/behaviour.toml), not the
    committed estimate: for tests whose sizes were derived by hand from those values (each such module says so).
    Runs made in a subprocess still use the committed estimate."""
    from model.parameters import ensemble

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ensemble, "committed_ensemble", lambda folder=None: None)
        yield


#: Test files that take longest, longest first (measured with ``--durations=0`` on this 2-core machine, 2026-12-02).
#: The suite runs in two processes (``pytest -n 2``, README) that take whole files in turn (``--dist loadfile`` in
#: pyproject.toml, so a module's shared runs are made once); starting the long files first keeps the last file
#: to start short, so neither process waits for the other at the end. The order changes no test's outcome.
LONGEST_FIRST = (
    "test_report_city_plans.py", "test_dashboard.py", "test_faults.py", "test_sweep.py", "test_reporting.py",
    "test_city_scenarios.py", "test_estimate_behaviour.py", "test_scale_unbiased.py", "test_calibration.py",
    "test_target.py", "test_estimation.py", "test_workers.py", "test_accounting.py", "test_malformed.py",
    "test_charts.py", "test_forecast_baseline.py", "test_committed_estimate.py", "test_compare.py",
    "test_sensitivity.py", "test_report.py", "test_cli_arguments.py", "test_durables.py", "test_cli_run.py",
    "test_evidence.py", "test_published_history.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its own order


def run_py(capsys, *args) -> tuple[int, str, str]:
    """``python run.py ARGS`` as run.py's own ``main()`` in the test process: (exit status, stdout, stderr).

    For refusals, which run.py makes before anything runs: the same parser, messages and exit status without a
    new interpreter's imports for each (about 2.6 s); an exception other than the refusal fails the test with
    its traceback. Tests of what a process of its own does (signals, faults, separate-process refusals) keep one.
    """
    import run

    try:
        code = run.main([str(a) for a in args])
    except SystemExit as exited:
        code = exited.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
