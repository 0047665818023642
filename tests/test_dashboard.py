"""The dashboard: its state logic directly, and the page end to end in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ROOT
from model.dashboard.state import (EXTRA_SCENARIOS_ENV, apply_controls, controls_for, headline, list_scenarios,
                                   load_raw)
from model.scenario import ScenarioError

EXAMPLE = "scenarios/examples/small_city.toml"
BUDGET = "tools.spring_vouchers.budget_yuan"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_controls_cover_each_tools_main_fields():
    raw = load_raw(EXAMPLE)
    paths = {c.path for c in controls_for(raw)}
    assert {BUDGET, "tools.spring_vouchers.face_value_yuan", "tools.spring_vouchers.threshold_yuan",
            "tools.car_subsidy.subsidy_per_car_yuan", "tools.night_allowance.night_allowance_per_m2"} <= paths
    assert EXAMPLE in list_scenarios() and "scenarios/pingliang.toml" in list_scenarios()


def test_out_of_range_and_inconsistent_values_are_refused():
    raw = load_raw(EXAMPLE)
    with pytest.raises(ValueError, match="outside"):
        apply_controls(raw, {BUDGET: -5.0})
    with pytest.raises(ScenarioError, match="below the face value"):
        apply_controls(raw, {"tools.spring_vouchers.threshold_yuan": 10.0})


def test_a_budget_change_changes_the_numbers():
    raw = load_raw(EXAMPLE)
    before = headline(apply_controls(raw, {}))
    after = headline(apply_controls(raw, {BUDGET: 500000.0}))
    assert before["government_outlay"] != after["government_outlay"]
    assert before["retail_sales_baseline"] == after["retail_sales_baseline"]  # same seed, same counterfactual


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shown(text: str) -> dict[str, str]:
    return {k: v.strip() for k, v in re.findall(r"(\w+) = ([^\n]+)", text)}


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no chromium: `bash setup.sh --test` installs it when CI=true")
        pytest.skip("no chromium for the end-to-end test; install it with `CI=true bash setup.sh --test` "
                    "or `apt-get install -y chromium`")
    pytest.importorskip("playwright", reason="pip install -e '.[test]' installs playwright")
    extra = tmp_path_factory.mktemp("extra")
    (extra / "broken.toml").write_text('[scenario]\nname = "broken"\nstart_date = "2023-01-01"\n'
                                       'end_date = "2023-12-31"\n[city]\nname = "坏"\n', encoding="utf-8")
    port = _free_port()
    env = dict(os.environ, **{EXTRA_SCENARIOS_ENV: str(extra)})
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "dashboard", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"dashboard did not start: {proc.stdout.read()[-2000:]}")
    yield url, extra / "broken.toml"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _wait_for(page, predicate, timeout_s: float = 90.0) -> str:
    deadline = time.time() + timeout_s
    text = ""
    while time.time() < deadline:
        text = page.inner_text("body")
        if predicate(text):
            return text
        time.sleep(0.5)
    raise AssertionError(f"page never showed what was expected; it shows:\n{text[-1500:]}")


def test_page_runs_changes_and_matches_a_direct_run(dashboard):
    from playwright.sync_api import sync_playwright

    url, broken = dashboard
    raw = load_raw(EXAMPLE)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page()
        page.goto(url, timeout=60000)
        first = _shown(_wait_for(page, lambda t: "net_leverage =" in t and "计算中" not in t))
        assert first == headline(apply_controls(raw, {}))

        field = page.get_by_label(re.compile(r"spring_vouchers · 预算"))
        field.fill("500000")
        field.press("Enter")
        changed = _shown(_wait_for(page, lambda t: "net_leverage =" in t and "计算中" not in t
                                   and _shown(t).get("government_outlay") != first["government_outlay"]))
        assert changed == headline(apply_controls(raw, {BUDGET: 500000.0}))
        assert changed["retail_sales_uplift"] != first["retail_sales_uplift"]

        # A value outside the control's range: the page says so and stays usable.
        field.fill("-5")
        field.press("Enter")
        _wait_for(page, lambda t: "输入有误" in t and "outside" in t)
        field.fill("500000")
        field.press("Enter")
        again = _shown(_wait_for(page, lambda t: "net_leverage =" in t and "计算中" not in t and "输入有误" not in t))
        assert again == changed

        # A scenario that fails to load: the problem is shown, and another scenario can still be chosen.
        page.locator(".v-select__selections").first.click()
        page.locator(".v-list-item", has_text=str(broken)).click()
        _wait_for(page, lambda t: "无法加载" in t and "households" in t)
        page.locator(".v-select__selections").first.click()
        page.locator(".v-list-item", has_text=EXAMPLE).first.click()
        _wait_for(page, lambda t: "net_leverage =" in t and "无法加载" not in t and "计算中" not in t)
        browser.close()
