"""The dashboard: its state logic without a browser, and the page end to end in headless Chromium.

The end-to-end test starts ``run.py dashboard`` on a free loopback port, drives
the page with Playwright in Debian's chromium (never Playwright's own browser
download), and checks that every number shown equals, within the rounding shown,
a direct model run (``load_scenario`` with the same overrides, then
``run_scenario``) with the same settings. Without a browser it is skipped with
the command that installs one; with CI=true it fails instead.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from model.dashboard import state
from model.runner import run_scenario
from model.scenario import ScenarioError, load_scenario

EXAMPLE = "scenarios/examples/small_city.toml"
BUDGET = "tools.spring_vouchers.budget_yuan"
FACE = "tools.spring_vouchers.face_value_yuan"
THRESHOLD = "tools.spring_vouchers.threshold_yuan"
EXAMPLE_HOUSEHOLDS = 100_000  # [city] households of the example file

BROKEN_TOML = """[scenario]
name = "broken"
start_date = "2023-01-01"
end_date = "2023-12-31"

[city]
name = "坏城"
"""


def direct_summary(path: str = EXAMPLE, overrides: dict | None = None,
                   households: int = state.DEFAULT_HOUSEHOLDS_SIMULATED, seed: int = state.DEFAULT_SEED,
                   replications: int = state.DEFAULT_REPLICATIONS) -> dict:
    """A run made with the core API only, with the settings the page uses."""
    scenario = load_scenario(ROOT / path, overrides=overrides)
    scale = state.scale_for(scenario.city.households, households)
    return run_scenario(scenario, scale=scale, seed=seed, replications=replications, tool_breakdown=False).summary


# ------------------------------------------------------------------ state logic, no browser


def test_controls_are_each_tools_main_fields_with_file_values_and_ranges():
    loaded = state.load(EXAMPLE)
    assert loaded.error is None
    by_path = {c.path: c for c in loaded.controls}
    assert list(by_path) == [
        BUDGET, FACE, THRESHOLD,
        "tools.car_subsidy.budget_yuan", "tools.car_subsidy.subsidy_per_car_yuan",
        "tools.night_allowance.budget_yuan", "tools.night_allowance.night_allowance_per_m2",
    ]
    assert by_path[BUDGET].value == 2_000_000 and by_path[FACE].value == 20 and by_path[THRESHOLD].value == 60
    assert by_path["tools.car_subsidy.subsidy_per_car_yuan"].value == 5000
    assert by_path["tools.night_allowance.night_allowance_per_m2"].value == 0.5
    # A budget may go to 20 times the file's (40 million yuan here), never below zero.
    assert (by_path[BUDGET].minimum, by_path[BUDGET].maximum) == (0.0, 40_000_000.0)
    assert by_path[FACE].exclusive_minimum


def test_each_city_scenario_gets_controls_for_every_tool():
    for path in state.list_scenarios():
        if not path.startswith("scenarios/") or "examples" in path:
            continue
        loaded = state.load(path)
        assert loaded.error is None, loaded.error
        tools_with_controls = {c.tool for c in loaded.controls}
        assert tools_with_controls == set(loaded.scenario.tools), path
        for c in loaded.controls:
            assert c.problem(c.value) is None, f"{path}: the file's own value is outside {c.path}'s range"


def test_values_outside_a_controls_range_are_refused_with_the_field_and_range():
    controls = state.load(EXAMPLE).controls
    budget = next(c for c in controls if c.path == BUDGET)
    face = next(c for c in controls if c.path == FACE)
    assert budget.problem(-5.0).endswith(f"{BUDGET}: -5 is outside the accepted range 0 – 40,000,000")
    assert "超出可接受范围" in budget.problem(-5.0)  # in Chinese first, then English
    assert "outside" in budget.problem(40_000_001.0)
    assert budget.problem(40_000_000.0) is None and budget.problem(0.0) is None
    assert "outside" in face.problem(0.0)  # a voucher of 0 yuan is no voucher
    assert "enter a number" in budget.problem(None)
    assert "not a finite number" in budget.problem(math.inf)
    with pytest.raises(ValueError, match=r"tools\.spring_vouchers\.budget_yuan: -5 is outside"):
        state.overrides_from(controls, {BUDGET: -5.0})
    assert set(state.control_problems(controls, {BUDGET: -5.0, FACE: 10.0})) == {BUDGET}


def test_amounts_are_read_as_planners_type_them():
    for text, value in (("200万", 2_000_000), ("200 万元", 2_000_000), ("1.5亿", 150_000_000), ("3,000,000", 3_000_000),
                        ("3，000，000", 3_000_000), ("２００万", 2_000_000), ("500", 500), ("2e6", 2_000_000),
                        ("0.5", 0.5), (" 12,345.5 元 ", 12_345.5), ("3千", 3000)):
        assert state.parse_amount(text) == value, text
    for bad in ("abc", "", "200万万", "1,2,x", "万"):
        with pytest.raises(state.AmountError) as caught:
            state.parse_amount(bad)
        assert "·" in str(caught.value)  # Chinese, then English
    budget = next(c for c in state.load(EXAMPLE).controls if c.path == BUDGET)
    assert budget.problem("200万") is None and "不是数值" in budget.problem("abc") and "not a number" in budget.problem("abc")
    assert "outside" in budget.problem("5亿")
    assert state.overrides_from([budget], {BUDGET: "200万"}) == {} and state.overrides_from([budget], {BUDGET: "50万"}) == {
        BUDGET: 500_000.0}
    assert state.amount_text(2_000_000) == "2,000,000 元（200 万元）"


def test_the_picker_names_each_city():
    assert state.scenario_label("scenarios/pingliang.toml").startswith("平凉市 · ")
    assert state.scenario_label("scenarios/pingliang.toml").endswith("scenarios/pingliang.toml")


def test_overrides_are_the_changed_fields_and_give_the_scenario_load_scenario_gives():
    loaded = state.load(EXAMPLE)
    assert state.overrides_from(loaded.controls, {BUDGET: 2_000_000.0, FACE: 20}) == {}
    overrides = state.overrides_from(loaded.controls, {BUDGET: 500_000.0, FACE: 20.0, THRESHOLD: 100.0})
    assert overrides == {BUDGET: 500_000.0, THRESHOLD: 100.0}
    applied = state.apply_overrides(loaded.scenario, overrides)
    direct = load_scenario(ROOT / EXAMPLE, overrides=overrides)
    assert applied.tools == direct.tools
    assert applied.tools["spring_vouchers"].quantity == 500_000 // 20  # the voucher count follows the budget
    assert loaded.scenario.tools["spring_vouchers"].budget_yuan == 2_000_000  # the loaded file is untouched


def test_a_variant_with_overrides_is_what_load_scenario_gives_for_both():
    path = "scenarios/examples/small_city_designs.toml"
    loaded = state.load(path, "double_budget")
    assert loaded.error is None and "double_budget" in loaded.variants
    budget = next(c for c in loaded.controls if c.path == BUDGET)
    assert budget.value == 4_000_000 and budget.maximum == 80_000_000  # the variant's budget is the starting point
    overrides = {FACE: 25.0}
    assert (state.apply_overrides(loaded.scenario, overrides).tools
            == load_scenario(ROOT / path, overrides=overrides, variant="double_budget").tools)


def test_a_combination_the_scenario_refuses_names_the_field():
    loaded = state.load(EXAMPLE)
    with pytest.raises(ScenarioError, match=r"threshold_yuan: threshold 10 is below the face value 20"):
        state.apply_overrides(loaded.scenario, {THRESHOLD: 10.0})


def test_a_scenario_that_fails_to_load_reports_file_and_field(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text(BROKEN_TOML, encoding="utf-8")
    loaded = state.load(str(broken))
    assert loaded.scenario is None and loaded.controls == ()
    assert str(broken) in loaded.error and "city.households" in loaded.error and "missing" in loaded.error
    (tmp_path / "bad.toml").write_text("[scenario\nname = ", encoding="utf-8")
    assert "not valid TOML" in state.load(str(tmp_path / "bad.toml")).error
    assert "no such file" in state.load(str(tmp_path / "gone.toml")).error


def test_scenario_list_has_cities_examples_extra_folder_and_chosen_file(tmp_path, monkeypatch):
    (tmp_path / "draft.toml").write_text(BROKEN_TOML, encoding="utf-8")
    monkeypatch.setenv(state.EXTRA_SCENARIOS_ENV, str(tmp_path))
    monkeypatch.setenv(state.SELECTED_SCENARIO_ENV, "/elsewhere/plan.toml")
    files = state.list_scenarios()
    assert EXAMPLE in files and "scenarios/pingliang.toml" in files
    assert files.index("scenarios/pingliang.toml") < files.index(EXAMPLE)  # cities first
    assert str(tmp_path / "draft.toml") in files and files[-1] == "/elsewhere/plan.toml"
    assert state.initial_scenario(files) == "/elsewhere/plan.toml"
    monkeypatch.delenv(state.SELECTED_SCENARIO_ENV)
    assert state.initial_scenario(state.list_scenarios()) == EXAMPLE


def test_scale_simulates_about_the_chosen_number_of_households():
    assert state.scale_for(100_000, 20_000) == 0.2
    assert state.scale_for(4_846_386, 20_000) == 0.0041
    assert state.scale_for(924_277, 5_000) == 0.0054
    assert state.scale_for(10_000, 20_000) == 1.0


def test_shown_figures_round_the_model_value():
    f = state.figure("government_outlay", "outlay", 5_921_649.7, "万元", state.WAN, 1)
    assert f.text == "592.2" and f.tolerance == 500.0
    assert abs(state.parse_shown(f.text) * f.divisor - f.value) <= f.tolerance
    big = state.figure("retail_sales_policy", "retail", 3_428_061_234.5, "亿元", state.YI, 4)
    assert big.text == "34.2806" and state.parse_shown("1,234.5") == 1234.5
    assert state.figure("net_leverage", "net", None, "").text == "—" and state.parse_shown("—") is None


def test_a_dashboard_run_equals_a_direct_run_and_a_budget_change_moves_the_numbers():
    loaded = state.load(EXAMPLE)
    scale = state.scale_for(loaded.scenario.city.households)
    base_settings = state.Settings(EXAMPLE, None, (), scale, 0, 2)
    cache = state.ResultCache()
    base = state.run_cached(loaded.scenario, base_settings, cache)
    direct = direct_summary(replications=2)
    for key in ("retail_sales_policy", "retail_sales_baseline", "government_outlay", "net_leverage", "gross_leverage"):
        assert base.summary[key] == direct[key], key
    assert base.chart_png is None or base.chart_png.startswith(b"\x89PNG")
    assert len(base.monthly) == 12
    assert state.run_cached(loaded.scenario, base_settings, cache) is base  # same settings: no second run
    # Intervals over the replications are shown beside the mean.
    net = state.all_figures(base.summary)["net_leverage"]
    assert net.value == pytest.approx(direct["net_leverage"]["mean"]) and net.low <= net.value <= net.high
    assert net.interval_text and "–" in net.interval_text
    # The chart's target line: 8% on the simulated no-policy 2022 (mean over replications), over twelve months.
    months, level, title = base.target_line
    prior = np.mean([r["targets"]["retail_growth_2023"]["prior_baseline"] for r in base.replications])
    assert len(months) == 12 and level == pytest.approx(prior * 1.08 / 12) and "8%" in title

    overrides = {BUDGET: 500_000.0}
    cheaper = state.run_cached(state.apply_overrides(loaded.scenario, overrides),
                               state.Settings(EXAMPLE, None, tuple(overrides.items()), scale, 0, 2), cache)
    direct_cheaper = direct_summary(overrides=overrides, replications=2)
    assert cheaper.summary["government_outlay"] == direct_cheaper["government_outlay"]
    assert cheaper.summary["government_outlay"]["mean"] < base.summary["government_outlay"]["mean"]
    assert cheaper.summary["retail_sales_baseline"] == base.summary["retail_sales_baseline"]  # same counterfactual
    shown_before, shown_after = state.all_figures(base.summary), state.all_figures(cheaper.summary)
    assert shown_before["government_outlay"].text != shown_after["government_outlay"].text
    # Before -> after, and the marginal leverage of the change from paired replications.
    rows = {label: (b, a) for label, b, a in state.change_figures(base, cheaper)}
    assert any(b.value == base.summary["government_outlay"]["mean"] for b, _ in rows.values())
    marginal = state.marginal_leverage(base, cheaper)
    du = cheaper.summary["retail_sales_uplift"]["mean"] - base.summary["retail_sales_uplift"]["mean"]
    do = cheaper.summary["government_outlay"]["mean"] - base.summary["government_outlay"]["mean"]
    assert marginal.value == pytest.approx(du / do)
    # Who benefits and each target are shown for every group and target.
    assert {f"benefit_share-{g}" for g in ("Q1", "Q5", "rural", "urban")} <= set(shown_after)
    assert shown_after["target-retail_growth_2023-target"].text == "8.00"


def _run_py(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_dashboard_command_refuses_a_missing_scenario_and_a_busy_port():
    missing = _run_py("dashboard", "--scenario", "scenarios/nowhere.toml", "--no-browser")
    assert missing.returncode == 2 and "scenarios/nowhere.toml: no such scenario file" in missing.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = _run_py("dashboard", "--host", "127.0.0.1", "--port", str(port), "--no-browser")
    assert taken.returncode == 2 and f"--port {port}: cannot listen on 127.0.0.1:{port}" in taken.stderr


# ------------------------------------------------------------------ the page, in a browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSTALL_HINT = "install with `bash .ci/install-browser`"


def _missing_for_browser_test() -> list[str]:
    missing = []
    if CHROMIUM is None:
        missing.append("Debian's chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package")
    try:
        from solara.server import settings

        if not Path(settings.assets.proxy_cache_dir).is_dir():
            missing.append("solara-assets (the page's scripts, for a machine without internet)")
    except ImportError:
        missing.append("solara")
    return missing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    missing = _missing_for_browser_test()
    if missing:
        message = f"the dashboard's end-to-end test needs {', '.join(missing)}: {INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    extra = tmp_path_factory.mktemp("extra_scenarios")
    (extra / "broken.toml").write_text(BROKEN_TOML, encoding="utf-8")
    log_path = extra.parent / "dashboard.log"
    port = _free_port()
    env = dict(os.environ, **{state.EXTRA_SCENARIOS_ENV: str(extra)})
    env.pop(state.SELECTED_SCENARIO_ENV, None)
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "dashboard", "--host", "127.0.0.1",
                                 "--port", str(port), "--no-browser", "--quiet-server"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while f"Dashboard running at {url}" not in log_path.read_text(encoding="utf-8"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the dashboard did not start:\n{log_path.read_text(encoding='utf-8')[-3000:]}")
        time.sleep(0.3)
    yield url, extra / "broken.toml"
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _settings_key(overrides: dict | None = None, path: str = EXAMPLE) -> str:
    scale = state.scale_for(EXAMPLE_HOUSEHOLDS, state.DEFAULT_HOUSEHOLDS_SIMULATED)
    return state.Settings(path, None, tuple(sorted((overrides or {}).items())), scale, state.DEFAULT_SEED,
                          state.DEFAULT_REPLICATIONS).key()


def _wait_for_results(page, key: str) -> None:
    """Wait until the page shows the finished results of exactly these settings."""
    page.wait_for_function(
        """key => {
            const r = document.querySelector('[data-testid="results"]');
            const s = document.querySelector('[data-testid="run-status"]');
            return r && s && r.dataset.settings === key && s.dataset.state === 'done';
        }""", arg=key, timeout=120_000)


def _shown_figures(page) -> dict[str, tuple[str, str]]:
    """Every number on the page: key -> (shown text, exact value)."""
    return page.eval_on_selector_all(
        '[data-testid="results"] [data-testid^="fig-"]',
        "els => Object.fromEntries(els.map(e => [e.dataset.testid.slice(4), [e.textContent, e.dataset.value]]))")


def _assert_equal_to_direct_run(shown: dict[str, tuple[str, str]], summary: dict) -> None:
    expected = state.all_figures(summary)
    assert set(expected) <= set(shown)
    shown = {k: v for k, v in shown.items() if k in expected}
    for key, (text, exact) in shown.items():
        fig = expected[key]
        if fig.value is None:
            assert text == "—" and exact == "", key
            continue
        assert abs(state.parse_shown(text) * fig.divisor - fig.value) <= fig.tolerance * 1.0001, (key, text, fig.value)
        assert float(exact) == fig.value, key
    # The headline in the summary's own terms, not through the page's figure table.
    mean = {k: (v.get("mean") if isinstance(v, dict) else v) for k, v in summary.items()}
    assert abs(float(shown["government_outlay"][0].replace(",", "")) * 1e4 - mean["government_outlay"]) <= 500
    assert abs(float(shown["retail_sales_policy"][0].replace(",", "")) * 1e8 - mean["retail_sales_policy"]) <= 5e5
    assert abs(float(shown["net_leverage"][0]) - mean["net_leverage"]) <= 0.005


def _select(page, css_class: str, item: str) -> None:
    page.locator(f".{css_class}").click()
    page.locator(".v-menu__content.menuable__content__active .v-list-item", has_text=item).first.click()


def test_page_shows_a_direct_runs_numbers_updates_on_a_change_and_survives_bad_input(dashboard_url):
    from playwright.sync_api import expect, sync_playwright

    url, broken = dashboard_url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, timeout=60_000)
            _wait_for_results(page, _settings_key())
            first = _shown_figures(page)
            _assert_equal_to_direct_run(first, direct_summary())

            # Change a control: the page re-runs and shows what a direct run with that override gives.
            budget = page.locator(".ctl-tools--spring_vouchers--budget_yuan input")
            budget.fill("500000")
            budget.press("Enter")
            _wait_for_results(page, _settings_key({BUDGET: 500_000.0}))
            changed = _shown_figures(page)
            _assert_equal_to_direct_run(changed, direct_summary(overrides={BUDGET: 500_000.0}))
            assert changed["government_outlay"] != first["government_outlay"]
            assert changed["retail_sales_uplift"] != first["retail_sales_uplift"]
            assert changed["retail_sales_baseline"] == first["retail_sales_baseline"]

            # The change against the file's design: before -> after and its marginal leverage.
            expect(page.locator('[data-testid="change"]')).to_contain_text("→")
            expect(page.locator('[data-testid="fig-marginal_leverage"]')).to_have_count(1)
            # Intervals over the replications beside the numbers.
            expect(page.locator('[data-testid="int-net_leverage"]')).to_contain_text("90%")

            # Amounts as planners type them: "200万" is 2,000,000 yuan, the file's budget again.
            budget.fill("200万")
            budget.press("Enter")
            expect(page.locator(".ctl-tools--spring_vouchers--budget_yuan [data-testid='parsed']")).to_contain_text(
                "2,000,000 元")
            _wait_for_results(page, _settings_key())
            assert _shown_figures(page)["government_outlay"] == first["government_outlay"]

            # Text that is no amount: a per-field error in both languages, no "done" for the stale results.
            budget.fill("abc")
            budget.press("Enter")
            error = page.locator('[data-testid="control-error"]')
            expect(error).to_contain_text("不是数值")
            expect(error).to_contain_text("is not a number")
            status = page.locator('[data-testid="run-status"]')
            expect(status).to_have_attribute("data-state", "blocked")
            expect(status).not_to_contain_text("done")
            # Fixed: the error goes.
            budget.fill("500000")
            budget.press("Enter")
            expect(error).to_have_count(0)
            _wait_for_results(page, _settings_key({BUDGET: 500_000.0}))

            # A value outside the control's range: the page says which and why, keeps the last result, stays usable.
            budget.fill("-5")
            budget.press("Enter")
            expect(error).to_contain_text(f"{BUDGET}: -5 is outside the accepted range 0 – 40,000,000")
            expect(page.locator('[data-testid="run-status"]')).to_have_attribute("data-state", "blocked")
            assert {k: v for k, v in _shown_figures(page).items() if k in changed} == changed
            threshold = page.locator(".ctl-tools--spring_vouchers--threshold_yuan input")
            threshold.fill("10")  # a threshold below the face value: refused by the scenario
            threshold.press("Enter")
            budget.fill("500000")
            budget.press("Enter")
            expect(page.locator('[data-testid="design-error"]')).to_contain_text("below the face value")
            expect(error).to_have_count(0)
            threshold.fill("60")
            threshold.press("Enter")
            _wait_for_results(page, _settings_key({BUDGET: 500_000.0}))
            expect(page.locator('[data-testid="design-error"]')).to_have_count(0)

            # A scenario that fails to load: its error is on the page, and another scenario can still be chosen.
            _select(page, "scenario-select", str(broken))
            expect(page.locator('[data-testid="load-error"]')).to_contain_text("city.households")
            expect(page.locator('[data-testid="results"]')).to_have_count(0)
            _select(page, "scenario-select", EXAMPLE)
            _wait_for_results(page, _settings_key())
            assert _shown_figures(page) == first

            # Usable at 800 px: the design column stacks above the results, nothing wider than the window.
            page.set_viewport_size({"width": 800, "height": 1000})
            page.wait_for_timeout(500)
            assert page.evaluate("document.documentElement.scrollWidth") <= 800
            box = page.locator('[data-testid="results"]').bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 800
            import tempfile

            page.screenshot(path=str(Path(tempfile.gettempdir()) / "dashboard-800px.png"), full_page=True)
        finally:
            browser.close()
