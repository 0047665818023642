"""What the dashboard shows, without the browser: scenarios, controls, a run and its figures.

The page (``app.py``) is a thin Solara layer over this module, so tests check
the page's logic without a browser, and the end-to-end test can check that the
numbers the page shows equal a direct model run (``load_scenario`` with the same
field overrides, then ``run_scenario``) with the same settings.

A design is a scenario file (optionally one of its ``[variants.NAME]``) plus
field overrides by dotted path, exactly what ``load_scenario(path, overrides,
variant)`` takes. The controls are each tool's main design fields, as its kind
declares them (``ToolKind.controls`` in ``model/tools/``); each has a range,
and a value outside it is refused with a message naming the field and the range
instead of a run. Runs use a reduced scale chosen so that about
``households_simulated`` households are simulated, at least 8 replications (so every figure has a 90%
interval), a fixed seed and no per-tool breakdown; the replications run in the shared worker processes
of ``model/runner.py`` (both cores), which stay up between updates.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import tools as tool_kinds
from model.scenario import Scenario, ScenarioError, get_field, load_scenario, scenario_from_dict, set_field

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent

#: Environment variable naming a folder of further scenario files to offer (a planner's own drafts).
EXTRA_SCENARIOS_ENV = "DASHBOARD_EXTRA_SCENARIOS"
#: Environment variable naming the scenario file selected when the page opens (``run.py dashboard --scenario``).
SELECTED_SCENARIO_ENV = "DASHBOARD_SCENARIO"

#: Households simulated per run, the planner's choice between speed and noise; the middle one by default.
HOUSEHOLD_CHOICES: tuple[int, ...] = (5_000, 20_000, 50_000)
DEFAULT_HOUSEHOLDS_SIMULATED = 20_000
#: Root seed of every dashboard run: fixed, so a change of design is compared on the same random numbers.
DEFAULT_SEED = 0

#: A budget may be raised to this multiple of the file's (or to BUDGET_FLOOR_YUAN): wide enough to
#: explore, narrow enough to catch a typed extra zero or two.
BUDGET_MULTIPLE = 20.0
BUDGET_FLOOR_YUAN = 10_000_000.0


#: Replications per dashboard run: at least 8, so the 90% interval shown says whether a change matters (issue 12).
REPLICATION_CHOICES: tuple[int, ...] = (8, 16, 32)
DEFAULT_REPLICATIONS = 8

#: Multipliers a typed amount may end with (万 = 10,000, 亿 = 100,000,000); 元/yuan is the unit itself.
AMOUNT_SUFFIXES = {"亿": 1e8, "万": 1e4, "千": 1e3}
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－＋", "0123456789.,-+")


class AmountError(ValueError):
    """Text that is not an amount, with the reason in Chinese and English."""


def parse_amount(text: Any) -> float:
    """An amount as planners type it: "200万", "1.5亿", "3,000,000", "3，000，000", "200 万元", "2e6", "500".

    Thousands separators (English or Chinese commas, spaces) are dropped; a trailing 万, 亿 or 千
    multiplies; a trailing 元 or "yuan" is the unit.

    Raises:
        AmountError: the text is empty or not a number (the message is in Chinese and English).
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    raw = "" if text is None else str(text)
    t = raw.strip().translate(_FULLWIDTH).replace("，", ",")
    for unit in ("元", "yuan", "rmb", "RMB", "¥", "￥"):
        t = t.replace(unit, "")
    t = t.strip()
    multiplier = 1.0
    if t and t[-1] in AMOUNT_SUFFIXES:
        multiplier = AMOUNT_SUFFIXES[t[-1]]
        t = t[:-1].strip()
    number = t.replace(",", "").replace(" ", "").replace("_", "")
    if not raw.strip():
        raise AmountError("请输入数值 · enter a number")
    try:
        value = float(number)
    except ValueError:
        raise AmountError(f"“{raw.strip()}”不是数值；可写作 200万、1.5亿 或 2,000,000 · "
                          f"{raw.strip()!r} is not a number; write e.g. 200万, 1.5亿 or 2,000,000") from None
    if not math.isfinite(value):
        raise AmountError(f"“{raw.strip()}”不是有限数值 · {raw.strip()!r} is not a finite number")
    return value * multiplier


def amount_text(value: float, unit: str = "元") -> str:
    """How the page shows a parsed amount: "2,000,000 元（200 万元）"."""
    text = f"{value:,.10g}" if abs(value) < 1e15 else f"{value:,.0f}"
    if unit == "元" and abs(value) >= 1e4:
        big, name = (1e8, "亿元") if abs(value) >= 1e8 else (1e4, "万元")
        return f"{text} 元（{value / big:,.6g} {name}）"
    return f"{text} {unit}".rstrip()


def kind_label_zh(kind: str) -> str:
    """A tool kind's Chinese name (its own name when the registry does not know it)."""
    known = tool_kinds.kinds().get(kind)
    return known.label_zh if known is not None else kind


@dataclass(frozen=True)
class Control:
    """One adjustable field of one tool.

    Attributes:
        path: dotted field path in the scenario (``tools.NAME.FIELD``).
        tool: the tool's name.
        kind: the tool's kind.
        label: what the page shows beside the field (Chinese and English, with unit).
        value: the value in the file (or the loader's default when the file does not give it).
        minimum: smallest accepted value.
        maximum: largest accepted value.
        exclusive_minimum: whether ``minimum`` itself is refused.
    """

    path: str
    tool: str
    kind: str
    label: str
    value: float
    minimum: float
    maximum: float
    exclusive_minimum: bool = False

    @property
    def css_class(self) -> str:
        """A CSS class naming the control (dots are not allowed in class selectors)."""
        return "ctl-" + self.path.replace(".", "--")

    @property
    def range_text(self) -> str:
        """The accepted range as the page shows it."""
        low = f"> {self.minimum:,.10g}" if self.exclusive_minimum else f"{self.minimum:,.10g}"
        return f"{low} – {self.maximum:,.10g}"

    @property
    def unit(self) -> str:
        """The field's unit as the page shows it."""
        return "元" if self.path.endswith("_yuan") else "元/m²" if self.path.endswith("_per_m2") else ""

    def problem(self, value: Any) -> str | None:
        """Why ``value`` (a number, or text as typed) cannot be used for this field, or None when it can.

        The message names the field and says why, in Chinese and then English.
        """
        name_zh = self.label.split(" ")[0]
        if isinstance(value, str):
            try:
                value = parse_amount(value)
            except AmountError as exc:
                return f"{name_zh}：{exc} ({self.path})"
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{name_zh}：请输入数值（{self.range_text}） · {self.path}: enter a number ({self.range_text})"
        if not math.isfinite(value):
            return f"{name_zh}：不是有限数值 · {self.path}: {value} is not a finite number"
        too_low = value <= self.minimum if self.exclusive_minimum else value < self.minimum
        if too_low or value > self.maximum:
            return (f"{name_zh}：{value:,.10g} 超出可接受范围 {self.range_text} · "
                    f"{self.path}: {value:,.10g} is outside the accepted range {self.range_text}")
        return None


def _tool_field_value(scenario: Scenario, tool: str, field_name: str) -> float:
    """The value the loader gave a field (its default when the file leaves it out)."""
    return float(getattr(scenario.tools[tool], field_name))


def controls_for(loaded_scenario: Scenario) -> list[Control]:
    """The controls of a scenario's tools, with their current values and ranges, in file order."""
    raw = loaded_scenario.raw
    out = []
    registry = tool_kinds.kinds()
    for name, table in raw.get("tools", {}).items():
        kind = table.get("kind")
        specs = registry[kind].controls if kind in registry else ()
        for spec in specs:
            if not spec.shown_for(table):
                continue
            path = f"tools.{name}.{spec.field}"
            try:
                value = float(get_field(raw, path))
            except ScenarioError:
                value = _tool_field_value(loaded_scenario, name, spec.field)
            if spec.field == "budget_yuan":
                maximum = max(BUDGET_MULTIPLE * value, BUDGET_FLOOR_YUAN)
            else:
                maximum = max(spec.maximum, value)
            label = f"{spec.label_zh} {spec.label_en}"
            out.append(Control(path, name, kind, label, value, spec.minimum, maximum, spec.exclusive_minimum))
    return out


# ------------------------------------------------------------------ scenarios


def list_scenarios(root: Path = PROJECT_ROOT) -> list[str]:
    """Scenario files a planner can choose: cities, then examples (relative to ``root``), then those in
    the folder named by DASHBOARD_EXTRA_SCENARIOS and the file named by DASHBOARD_SCENARIO (as given)."""
    files = sorted((root / "scenarios").glob("*.toml")) + sorted((root / "scenarios" / "examples").glob("*.toml"))
    out = [str(p.relative_to(root)) for p in files]
    extra = os.environ.get(EXTRA_SCENARIOS_ENV)
    if extra and Path(extra).is_dir():
        out += [str(p) for p in sorted(Path(extra).glob("*.toml"))]
    selected = os.environ.get(SELECTED_SCENARIO_ENV)
    if selected and selected not in out:
        out.append(selected)
    return out


def scenario_label(path: str, root: Path = PROJECT_ROOT) -> str:
    """How the picker names a scenario file: its city and plan, then the file ("平凉市 · 平凉市 2020 … · scenarios/pingliang.toml")."""
    try:
        from model.scenario import read_scenario_file

        raw = read_scenario_file(resolve(path, root))
        city = str(raw.get("city", {}).get("name", "")).strip()
        title = str(raw.get("scenario", {}).get("title", "")).strip()
        words = " · ".join(x for x in (city, title if title and title != city else "") if x)
        return f"{words} · {path}" if words else path
    except Exception:  # noqa: BLE001 - a file that does not load is still listed, by its path
        return path


def initial_scenario(files: list[str]) -> str:
    """The scenario selected when the page opens: DASHBOARD_SCENARIO, else the small example, else the first."""
    selected = os.environ.get(SELECTED_SCENARIO_ENV)
    if selected and selected in files:
        return selected
    for f in files:
        if f.endswith("examples/small_city.toml"):
            return f
    return files[0] if files else ""


def resolve(path: str, root: Path = PROJECT_ROOT) -> Path:
    """A listed scenario path as a file path (listed paths are relative to the project)."""
    p = Path(path)
    return p if p.is_absolute() else root / p


def variants_of(raw: dict[str, Any]) -> list[str]:
    """Names of the scenario's [variants.NAME] tables."""
    variants = raw.get("variants", {})
    return list(variants) if isinstance(variants, dict) else []


@dataclass(frozen=True)
class Loaded:
    """A scenario file ready for the page, or why it is not.

    Attributes:
        path: the path as listed (relative to the project, or absolute).
        variant: the variant applied, or None.
        scenario: the validated scenario (None when it failed to load).
        controls: its controls.
        variants: variant names the file defines.
        error: the loader's message when the file cannot be used.
    """

    path: str
    variant: str | None
    scenario: Scenario | None
    controls: tuple[Control, ...] = ()
    variants: tuple[str, ...] = ()
    error: str | None = None


def load(path: str, variant: str | None = None, root: Path = PROJECT_ROOT) -> Loaded:
    """Load a scenario for the page; any problem becomes ``Loaded.error`` (the page shows it, never crashes)."""
    try:
        scenario = load_scenario(resolve(path, root), variant=variant)
    except ScenarioError as exc:
        return Loaded(path, variant, None, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - an unreadable file must not take the page down
        return Loaded(path, variant, None, error=f"{path}: {type(exc).__name__}: {exc}")
    return Loaded(path, variant, scenario, tuple(controls_for(scenario)), tuple(variants_of(scenario.raw)))


def control_problems(controls: tuple[Control, ...] | list[Control], values: dict[str, Any]) -> dict[str, str]:
    """Fields whose entered value cannot be used, with the reason."""
    by_path = {c.path: c for c in controls}
    out = {}
    for path, value in values.items():
        control = by_path.get(path)
        if control is None:
            out[path] = f"{path}: not a control of this scenario"
            continue
        problem = control.problem(value)
        if problem:
            out[path] = problem
    return out


def overrides_from(controls: tuple[Control, ...] | list[Control], values: dict[str, Any]) -> dict[str, float]:
    """The entered values that differ from the file's, as ``load_scenario`` overrides (sorted by path).

    Raises:
        ValueError: a value outside its control's range (the message names the field and the range).
    """
    problems = control_problems(controls, values)
    if problems:
        raise ValueError("; ".join(problems.values()))
    by_path = {c.path: c for c in controls}
    parsed = {p: parse_amount(values[p]) for p in values}
    return {p: parsed[p] for p in sorted(parsed) if parsed[p] != by_path[p].value}


def apply_overrides(scenario: Scenario, overrides: dict[str, float]) -> Scenario:
    """The scenario with field overrides set, validated as ``load_scenario(path, overrides)`` validates them.

    Raises:
        ScenarioError: the scenario refuses the combination (e.g. a threshold below the face value).
    """
    raw = copy.deepcopy(scenario.raw)
    for path, value in overrides.items():
        set_field(raw, path, value, origin=scenario.origin)
    return scenario_from_dict(raw, scenario.origin)


def scale_for(city_households: float, households_simulated: int = DEFAULT_HOUSEHOLDS_SIMULATED) -> float:
    """Share of households simulated so that about ``households_simulated`` are, to two significant digits."""
    if city_households <= 0:
        return 1.0
    share = households_simulated / city_households
    if share >= 1:
        return 1.0
    digits = 1 - math.floor(math.log10(share))
    return min(1.0, round(share, digits))


# ------------------------------------------------------------------ runs


@dataclass(frozen=True)
class Settings:
    """Everything that decides a dashboard run; equal settings give equal results.

    Attributes:
        path: scenario file as listed.
        variant: variant applied, or None.
        overrides: field overrides by dotted path.
        scale: share of households simulated.
        seed: root seed.
    """

    path: str
    variant: str | None
    overrides: tuple[tuple[str, float], ...]
    scale: float
    seed: int
    replications: int = DEFAULT_REPLICATIONS

    def key(self) -> str:
        """A canonical text of the settings (the page puts it on the results it shows)."""
        return json.dumps({"path": self.path, "variant": self.variant, "overrides": dict(self.overrides),
                           "scale": self.scale, "seed": self.seed, "replications": self.replications},
                          sort_keys=True, ensure_ascii=False)

    def file_design(self) -> "Settings":
        """The same settings without the overrides: the file's own design, the 'before' of a change."""
        return Settings(self.path, self.variant, (), self.scale, self.seed, self.replications)


@dataclass
class DashboardResult:
    """A finished dashboard run.

    Attributes:
        settings: what was run.
        summary: ``RunResult.summary`` of the run.
        monthly: monthly 社零 with and without the policy (yuan), indexed by month.
        seconds: wall time of the run.
        households_simulated: households in the simulated population.
        chart_png: the monthly chart, drawn in the run's thread (None if it could not be drawn).
        scenario_text: the scenario as run, canonical JSON (a cached result is reused only for the same text).
        replications: per-replication summaries (for paired differences between designs).
        target_line: the monthly 社零 a retail target needs over its period (months, yuan a month), or None.
    """

    settings: Settings
    summary: dict[str, Any]
    monthly: pd.DataFrame
    seconds: float
    households_simulated: int | None = None
    chart_png: bytes | None = field(default=None, repr=False)
    scenario_text: str = field(default="", repr=False)
    replications: list[dict[str, Any]] = field(default_factory=list, repr=False)
    target_line: tuple[list, float, str] | None = field(default=None, repr=False)


def run_design(scenario: Scenario, settings: Settings) -> DashboardResult:
    """Run a design the way the page does: the settings' replications (in the worker processes), scale and seed,
    no per-tool breakdown."""
    from model.runner import run_scenario

    started = time.perf_counter()
    result = run_scenario(scenario, scale=settings.scale, seed=settings.seed, replications=settings.replications,
                          tool_breakdown=False)
    retail = result.frames["daily_retail"]
    total = retail[retail["dimension"] == "total"]
    columns = ["retail_sales_policy", "retail_sales_baseline"]
    # Monthly sums per replication, then their mean over replications.
    monthly = (total.groupby([total["replication"], total["date"].dt.to_period("M")])[columns].sum()
               .groupby(level=1).mean())
    return DashboardResult(settings, result.summary, monthly, time.perf_counter() - started,
                           result.manifest.get("households_simulated"), replications=result.replications,
                           target_line=target_line(scenario, result.replications))


def target_line(scenario: Scenario, replications: list[dict]) -> tuple[list, float, str] | None:
    """The last 社零 target as a monthly level: (months of its period, yuan a month it needs, its title).

    A growth target needs its simulated no-policy prior period times one plus the growth: the mean over
    ``replications`` (their ``replication_summary``) of that level."""
    chosen = [(n, t) for n, t in scenario.targets.items()
              if t.indicator in ("retail_sales_growth", "retail_sales_level") and t.value is not None]
    if not chosen:
        return None
    name, t = chosen[-1]
    if t.indicator == "retail_sales_level":
        level = float(t.value)
    else:
        level = float(np.mean([r["targets"][name]["prior_baseline"] for r in replications])) * (1 + float(t.value))
    months = list(pd.period_range(t.period_start, t.period_end, freq="M"))
    title = scenario.raw.get("targets", {}).get(name, {}).get("title") or t.description or name
    return months, level / len(months), str(title)


class ResultCache:
    """The last few results by settings, so going back to a design shows it at once (thread-safe).

    Attributes:
        size: results kept.
    """

    def __init__(self, size: int = 24):
        self.size = size
        self._items: OrderedDict[str, DashboardResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, settings: Settings) -> DashboardResult | None:
        with self._lock:
            item = self._items.get(settings.key())
            if item is not None:
                self._items.move_to_end(settings.key())
            return item

    def put(self, result: DashboardResult) -> None:
        with self._lock:
            self._items[result.settings.key()] = result
            while len(self._items) > self.size:
                self._items.popitem(last=False)


CACHE = ResultCache()


def run_cached(scenario: Scenario, settings: Settings, cache: ResultCache = CACHE) -> DashboardResult:
    """``run_design``, reusing a result of the same settings (of the same file content) when there is one."""
    hit = cache.get(settings)
    # The file may have changed since: reuse only a result of the same scenario content.
    if hit is not None and hit.scenario_text == _raw_text(scenario):
        return hit
    result = run_design(scenario, settings)
    result.scenario_text = _raw_text(scenario)
    result.chart_png = monthly_chart_png(result)
    cache.put(result)
    return result


def _raw_text(scenario: Scenario) -> str:
    return json.dumps(scenario.raw, sort_keys=True, default=str, ensure_ascii=False)


# ------------------------------------------------------------------ what the page shows


@dataclass(frozen=True)
class Figure:
    """One number as the page shows it.

    Attributes:
        key: identifier (the page's data-testid is ``fig-KEY``).
        label: Chinese and English label.
        value: the model's number in its own unit (yuan, ratio, share), or None.
        text: the number as shown (in ``unit``).
        unit: unit shown after the number.
        divisor: ``value / divisor`` is the shown number.
        decimals: decimals shown; the shown number is ``value / divisor`` rounded to these.
    """

    key: str
    label: str
    value: float | None
    text: str
    unit: str
    divisor: float
    decimals: int
    low: float | None = None
    high: float | None = None

    @property
    def interval_text(self) -> str:
        """The 90% interval over replications as shown ("1,250–1,310"), or "" for a single replication."""
        if self.low is None or self.high is None or self.low == self.high:
            return ""
        return f"{self.low / self.divisor:,.{self.decimals}f}–{self.high / self.divisor:,.{self.decimals}f}"

    @property
    def tolerance(self) -> float:
        """Largest gap between ``value`` and the shown number times ``divisor`` that rounding explains."""
        return 0.5 * 10 ** -self.decimals * self.divisor


def figure(key: str, label: str, value: Any, unit: str, divisor: float = 1.0, decimals: int = 2) -> Figure:
    """A figure with its shown text (— when the model has no number, e.g. leverage with no outlay).

    ``value`` is a number, or a summary's ``{mean, p05, p95}`` over replications (shown as the mean
    with its 90% interval).
    """
    low = high = None
    if isinstance(value, dict):
        low, high, value = value.get("p05"), value.get("p95"), value.get("mean")
        if value is not None and isinstance(value, float) and math.isnan(value):
            value = low = high = None
    text = "—" if value is None else f"{value / divisor:,.{decimals}f}"
    return Figure(key, label, value, text, unit, divisor, decimals, low, high)


def parse_shown(text: str) -> float | None:
    """The number in a figure's shown text (None for —)."""
    text = text.strip().replace(",", "")
    return None if text in ("—", "") else float(text)


YI = 1e8    # 亿元: how planners state 社零
WAN = 1e4   # 万元: how planners state budgets


def headline_figures(summary: dict[str, Any]) -> list[Figure]:
    """社零 with and without the policy, its uplift, outlay and leverage (gross last: it is not an effect)."""
    return [
        figure("retail_sales_uplift", "新增社零 extra retail sales", summary["retail_sales_uplift"], "万元", WAN, 1),
        figure("government_outlay", "财政支出 government outlay", summary["government_outlay"], "万元", WAN, 1),
        figure("net_leverage", "净拉动比 net leverage (extra 社零 ÷ outlay)", summary["net_leverage"], "", 1.0, 2),
        figure("retail_sales_policy", "社零（有政策） retail sales with policy", summary["retail_sales_policy"],
               "亿元", YI, 2),
        figure("retail_sales_baseline", "社零（无政策） retail sales without policy", summary["retail_sales_baseline"],
               "亿元", YI, 2),
        figure("household_benefit", "家庭获益 value received by households", summary["household_benefit"],
               "万元", WAN, 1),
        figure("gross_leverage", "拉动比（含本来会发生的消费） gross leverage (all subsidised sales ÷ outlay, "
               "not an effect)", summary["gross_leverage"], "", 1.0, 1),
    ]


def _per_replication(result: DashboardResult, key: str) -> list[float]:
    return [r[key] for r in result.replications]


def change_figures(before: DashboardResult, after: DashboardResult) -> list[tuple[str, Figure, Figure]]:
    """Before (the file's design) → after (the design on the page) for the figures a change moves, and the
    marginal leverage of the change: its extra 社零 ÷ its extra outlay, paired replication by replication
    (both designs run on the same random numbers)."""
    rows = []
    for key, label, unit, divisor, decimals in (
            ("retail_sales_uplift", "新增社零 extra retail sales", "万元", WAN, 1),
            ("government_outlay", "财政支出 government outlay", "万元", WAN, 1),
            ("net_leverage", "净拉动比 net leverage", "", 1.0, 2)):
        rows.append((label, figure(f"before-{key}", label, before.summary[key], unit, divisor, decimals),
                     figure(f"after-{key}", label, after.summary[key], unit, divisor, decimals)))
    return rows


def marginal_leverage(before: DashboardResult, after: DashboardResult) -> Figure:
    """Extra 社零 of the change ÷ extra outlay of the change, mean and 90% interval over paired replications."""
    import numpy as np

    du = np.array(_per_replication(after, "retail_sales_uplift")) - np.array(_per_replication(before, "retail_sales_uplift"))
    do = np.array(_per_replication(after, "government_outlay")) - np.array(_per_replication(before, "government_outlay"))
    label = "改动的边际拉动比 marginal leverage of the change (its extra 社零 ÷ its extra outlay)"
    if du.size == 0 or abs(do.mean()) < 1.0:
        return figure("marginal_leverage", label, None, "")
    ratio = du / np.where(np.abs(do) < 1.0, np.nan, do)
    value: Any = float(du.mean() / do.mean())
    if ratio.size > 1 and np.isfinite(ratio).all():
        value = {"mean": value, "p05": float(np.percentile(ratio, 5)), "p95": float(np.percentile(ratio, 95))}
    return figure("marginal_leverage", label, value, "", 1.0, 2)


GROUP_LABELS = {"Q1": "收入最低20% Q1", "Q2": "Q2", "Q3": "Q3", "Q4": "Q4", "Q5": "收入最高20% Q5",
                "rural": "农村 rural", "urban": "城镇 urban"}


def benefit_rows(summary: dict[str, Any]) -> list[tuple[str, Figure, Figure]]:
    """Who benefits: each household group's share of the value received and of the extra spending."""
    rows = []
    for group, label in GROUP_LABELS.items():
        rows.append((label,
                     figure(f"benefit_share-{group}", f"{label} benefit share",
                            summary["benefit_share"].get(group), "%", 0.01, 1),
                     figure(f"uplift_share-{group}", f"{label} uplift share",
                            summary["uplift_share_by_household_group"].get(group), "%", 0.01, 1)))
    return rows


@dataclass(frozen=True)
class TargetRow:
    """A target of the plan against the run.

    Attributes:
        name: target identifier.
        description: the plan's words.
        indicator: what is measured.
        target, policy, baseline: the target and the simulated value with and without policy (shown figures).
        met, met_without_policy: whether the target is reached (None: not evaluable).
        note: why a target is not evaluated, if it is not.
    """

    name: str
    description: str
    indicator: str
    target: Figure | None
    policy: Figure | None
    baseline: Figure | None
    met: bool | None
    met_without_policy: bool | None
    note: str | None = None


def _indicator_unit(indicator: str) -> tuple[str, float, int]:
    if indicator.endswith("_growth"):
        return "%", 0.01, 2
    if indicator.startswith("consumption_per_capita"):
        return "元", 1.0, 0
    return "亿元", YI, 4


def target_rows(summary: dict[str, Any]) -> list[TargetRow]:
    """Each target: the target, the simulated value with and without the policy, and whether it is met."""
    rows = []
    for name, t in summary.get("targets", {}).items():
        if t["indicator"] == "out_of_scope":
            rows.append(TargetRow(name, t.get("description") or "", t["indicator"], None, None, None, None, None,
                                  t.get("out_of_scope_reason")))
            continue
        unit, divisor, decimals = _indicator_unit(t["indicator"])
        rows.append(TargetRow(
            name, t.get("description") or "", t["indicator"],
            figure(f"target-{name}-target", "target", t.get("target"), unit, divisor, decimals),
            figure(f"target-{name}-policy", "with policy", t.get("policy"), unit, divisor, decimals),
            figure(f"target-{name}-baseline", "without policy", t.get("baseline"), unit, divisor, decimals),
            t.get("met"), t.get("met_without_policy")))
    return rows


def tool_rows(summary: dict[str, Any]) -> list[tuple[str, str, Figure, Figure, str]]:
    """Each tool: name, kind, outlay and budget (万元), and when its budget ran out."""
    rows = []
    for name, t in summary.get("tools", {}).items():
        rows.append((name, kind_label_zh(t["kind"]),
                     figure(f"tool-{name}-outlay", "outlay", t["outlay"], "万元", WAN, 1),
                     figure(f"tool-{name}-budget", "budget", t["budget"], "万元", WAN, 1),
                     t.get("budget_exhausted_date") or "—"))
    return rows


def all_figures(summary: dict[str, Any]) -> dict[str, Figure]:
    """Every figure the page shows, by key (the end-to-end test compares each one)."""
    out = {f.key: f for f in headline_figures(summary)}
    for _, benefit, uplift in benefit_rows(summary):
        out[benefit.key] = benefit
        out[uplift.key] = uplift
    for row in target_rows(summary):
        for f in (row.target, row.policy, row.baseline):
            if f is not None:
                out[f.key] = f
    for _, _, outlay, budget, _ in tool_rows(summary):
        out[outlay.key] = outlay
        out[budget.key] = budget
    return out


def monthly_chart_png(result: DashboardResult) -> bytes | None:
    """Monthly 社零 with and without the policy (亿元) above the monthly difference (万元), as a PNG.

    Returns None when matplotlib cannot draw it. Drawn with matplotlib's object API (no pyplot
    state), so it is safe in the run's background thread.
    """
    try:
        from matplotlib.figure import Figure as MplFigure

        from model.reporting.fonts import FontError, use_cjk_font

        try:
            use_cjk_font()
            labels = ("有政策", "无政策", "社零（亿元）", "新增社零（万元）")
        except FontError:
            labels = ("with policy", "no policy", "retail sales (100m yuan)", "extra retail sales (10k yuan)")
        monthly = result.monthly
        x = [p.to_timestamp() for p in monthly.index]
        fig = MplFigure(figsize=(7.5, 4.6), dpi=96)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        reps = result.settings.replications
        fig.suptitle((f"月度社零：有政策与无政策（{reps} 次模拟的平均）" if labels[0] == "有政策" else
                      f"Monthly retail sales with and without the policy (mean of {reps} simulations)"), fontsize=10)
        top.plot(x, monthly["retail_sales_baseline"] / YI, "--", color="0.3", label=labels[1])
        top.plot(x, monthly["retail_sales_policy"] / YI, color="#c62828", label=labels[0])
        if result.target_line is not None:
            months, level, title = result.target_line
            xs = [m.to_timestamp() for m in months]
            name = f"目标所需月均：{title}" if labels[0] == "有政策" else "monthly level the target needs"
            top.plot(xs, [level / YI] * len(xs), ":", color="#2e7d32", linewidth=2, label=name)
        top.set_ylabel(labels[2])
        top.legend(frameon=False, fontsize=8)
        top.grid(alpha=0.3)
        uplift = (monthly["retail_sales_policy"] - monthly["retail_sales_baseline"]) / WAN
        bottom.bar(x, uplift, width=20, color=["#c62828" if v >= 0 else "#1565c0" for v in uplift])
        bottom.axhline(0, color="0.3", linewidth=0.8)
        bottom.set_ylabel(labels[3])
        bottom.grid(alpha=0.3)
        fig.autofmt_xdate()
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    except Exception:  # noqa: BLE001 - a missing chart must not hide the numbers
        return None
