"""What the dashboard shows, without the browser: scenarios, controls, a run and its figures.

The page (``app.py``) is a thin Solara layer over these functions, so a test can
check that the numbers the page shows equal a direct model run with the same
settings. Controls are each tool's main design fields (budget, face value,
threshold, subsidy per car, night allowance); each has a range, and a value
outside it is refused with a message instead of a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.runner import run_scenario
from model.scenario import Scenario, ScenarioError, get_field, read_scenario_file, scenario_from_dict, set_field

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
#: Share of households simulated for an interactive run, and its seed (fixed so a change is comparable).
DASHBOARD_SCALE = 0.02
DASHBOARD_SEED = 0

#: Fields shown as controls, by tool kind: (field, Chinese label, English label, largest multiple of the file's value).
CONTROL_FIELDS = {
    "voucher": [("budget_yuan", "预算（元）", "budget (yuan)"), ("face_value_yuan", "面额（元）", "face value (yuan)"),
                ("threshold_yuan", "使用门槛（元）", "threshold (yuan)")],
    "car_subsidy": [("budget_yuan", "预算（元）", "budget (yuan)"),
                    ("subsidy_per_car_yuan", "每辆补贴（元）", "subsidy per car (yuan)")],
    "appliance_trade_in": [("budget_yuan", "预算（元）", "budget (yuan)"), ("subsidy_rate", "补贴比例", "subsidy rate")],
    "night_market": [("budget_yuan", "预算（元）", "budget (yuan)"),
                     ("night_allowance_per_m2", "每平方米每晚补贴（元）", "allowance per m² per night (yuan)"),
                     ("allowance_per_merchant_night_yuan", "每户每晚补贴（元）", "allowance per merchant-night (yuan)")],
    "tourism_voucher": [("budget_yuan", "预算（元）", "budget (yuan)"), ("face_value_yuan", "面额（元）", "face value (yuan)")],
}
#: Upper bounds of each field (rates are shares; money has a generous cap so typing errors are caught).
FIELD_MAXIMUM = {"subsidy_rate": 0.9, "budget_yuan": 1e11}


@dataclass(frozen=True)
class Control:
    """One adjustable field.

    Attributes:
        path: dotted field path in the scenario (``tools.NAME.FIELD``).
        label: what the page shows.
        value: the file's value.
        minimum, maximum: the accepted range.
    """

    path: str
    label: str
    value: float
    minimum: float
    maximum: float


#: A folder of further scenario files to offer (absolute paths), e.g. a planner's own drafts.
EXTRA_SCENARIOS_ENV = "DASHBOARD_EXTRA_SCENARIOS"


def list_scenarios(root: Path = PROJECT_ROOT) -> list[str]:
    """Scenario files a planner can choose: cities, then examples (relative to the project), then any in
    the folder named by the environment variable DASHBOARD_EXTRA_SCENARIOS (absolute)."""
    files = sorted((root / "scenarios").glob("*.toml")) + sorted((root / "scenarios" / "examples").glob("*.toml"))
    out = [str(p.relative_to(root)) for p in files]
    extra = os.environ.get(EXTRA_SCENARIOS_ENV)
    if extra and Path(extra).is_dir():
        out += [str(p) for p in sorted(Path(extra).glob("*.toml"))]
    return out


def load_raw(relative: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The raw scenario dict (calibration merged); raises ScenarioError with the file's problem."""
    raw = read_scenario_file(root / relative)
    scenario_from_dict(raw, relative)  # validate now, so the page can show the problem at once
    return raw


def controls_for(raw: dict[str, Any], lang: str = "zh") -> list[Control]:
    """The controls of a scenario's tools, with their file values and ranges."""
    out = []
    for name, tool in raw.get("tools", {}).items():
        for field, zh, en in CONTROL_FIELDS.get(tool.get("kind"), []):
            path = f"tools.{name}.{field}"
            try:
                value = float(get_field(raw, path))
            except ScenarioError:
                continue
            maximum = FIELD_MAXIMUM.get(field, max(value * 10.0, 1000.0))
            out.append(Control(path, f"{name} · {zh if lang == 'zh' else en}", value, 0.0, maximum))
    return out


def apply_controls(raw: dict[str, Any], values: dict[str, float], origin: str = "dashboard") -> Scenario:
    """The scenario with control values applied.

    Raises:
        ValueError: a value outside its control's range (the message names the field and the range).
        ScenarioError: the scenario refuses the combination (e.g. a threshold below the face value).
    """
    import copy

    ranges = {c.path: c for c in controls_for(raw)}
    changed = copy.deepcopy(raw)
    for path, value in values.items():
        control = ranges[path]
        if value is None or not (control.minimum <= value <= control.maximum):
            raise ValueError(f"{path}: {value} is outside {control.minimum:g} to {control.maximum:g}")
        tool = changed["tools"][path.split(".")[1]]
        if path.endswith(".budget_yuan") and tool.get("kind") == "voucher":
            # The number of vouchers follows the budget unless the file fixes it.
            for key in ("quantity",):
                tool.pop(key, None)
        set_field(changed, path, value, origin=origin)
    return scenario_from_dict(changed, origin)


def run_for_page(scenario: Scenario, scale: float = DASHBOARD_SCALE, seed: int = DASHBOARD_SEED
                 ) -> tuple[dict[str, str], Any]:
    """Run the scenario; return the display strings and monthly 社零 (policy, baseline) in 亿元."""
    result = run_scenario(scenario, scale=scale, seed=seed, replications=1, tool_breakdown=False)
    retail = result.frames["daily_retail"]
    total = retail[retail["dimension"] == "total"]
    monthly = total.groupby(total["date"].dt.to_period("M"))[["retail_sales_policy", "retail_sales_baseline"]].sum() / 1e8
    return format_headline(result.summary), monthly


def headline(scenario: Scenario, scale: float = DASHBOARD_SCALE, seed: int = DASHBOARD_SEED) -> dict[str, str]:
    """Run the scenario and format what the page shows (the same strings the page displays)."""
    return run_for_page(scenario, scale, seed)[0]


def format_headline(summary: dict[str, Any]) -> dict[str, str]:
    """Display strings of a run's summary."""
    def yi(v: float) -> str:
        return f"{v / 1e8:,.4f}"

    def ratio(v: float | None) -> str:
        return "—" if v is None else f"{v:.3f}"

    benefit = summary["benefit_share"]
    poorest = None if benefit["Q1"] is None else benefit["Q1"] + benefit["Q2"]
    evaluable = {n: t for n, t in summary["targets"].items() if t["indicator"] != "out_of_scope"}
    target = "—"
    if evaluable:
        name, t = list(evaluable.items())[-1]
        target = f"{name}: {'met' if t['met'] else 'not met'} ({t['policy']:.4g} vs {t['target']:.4g})"
    return {
        "retail_sales_policy": yi(summary["retail_sales_policy"]),
        "retail_sales_baseline": yi(summary["retail_sales_baseline"]),
        "retail_sales_uplift": yi(summary["retail_sales_uplift"]),
        "government_outlay": yi(summary["government_outlay"]),
        "net_leverage": ratio(summary["net_leverage"]),
        "gross_leverage": ratio(summary["gross_leverage"]),
        "benefit_poorest_40pct": "—" if poorest is None else f"{poorest:.1%}",
        "benefit_rural": "—" if benefit["rural"] is None else f"{benefit['rural']:.1%}",
        "target": target,
    }
