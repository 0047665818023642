"""Scenario files: a city, its conditions, its policy tools and its targets.

A scenario is a TOML file (format documented in ``scenarios/FORMAT.md``). This
module holds what is generic: the sourced-number reader, dates and periods,
outside conditions, targets, variants and field overrides. The city is read by
``model/city.py`` and each policy tool by its kind's module (``model/tools/``),
both with this module's reader. Every number may be given
bare (``budget_yuan = 5200000``) or as a sourced table
(``budget_yuan = { value = 5200000, source = "003_... §..." }``, or with
``derived = "method"`` or ``assumption = "reason"``); the loader records where each number came from in
``Scenario.provenance`` and lists the bare ones in ``Scenario.unsourced``.

Bad input raises ``ScenarioError`` naming the file, the field path and what is
wrong, before anything runs.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import tools as tool_kinds
from model.city import City, read_city
from model.parameters import BehaviourParameters, ParameterRangeError
from model.sectors import NON_RETAIL, SECTORS
from model.tools.base import Tool, ToolContext


class ScenarioError(ValueError):
    """A scenario that cannot be run: names the file, the field and the reason."""

    def __init__(self, origin: str, field_path: str, reason: str):
        self.origin = origin
        self.field_path = field_path
        self.reason = reason
        super().__init__(f"{origin}: {field_path}: {reason}")


# ------------------------------------------------------------------ typed pieces


@dataclass(frozen=True)
class ConditionPeriod:
    """One dated piece of a condition schedule: a multiplier from start to end (inclusive)."""

    start: dt.date
    end: dt.date
    multiplier: float


@dataclass(frozen=True)
class Condition:
    """A dated schedule from outside the plan (epidemic, tourism recovery).

    Attributes:
        name: identifier.
        applies_to: 'demand' (household flow spending), 'durables' (replacement hazards) or 'visitors'.
        sectors: sectors the demand multiplier applies to (all when empty).
        periods: the dated multipliers; days outside every period have multiplier 1.
        institutions: a demand condition also moves firms' and institutions' purchases (their canteens,
            offices and shops face the same closures); false when a source says they were spared.
    """

    name: str
    applies_to: str
    sectors: tuple[str, ...]
    periods: tuple[ConditionPeriod, ...]
    institutions: bool = True


@dataclass(frozen=True)
class Target:
    """A target the plan sets.

    Attributes:
        name: identifier.
        indicator: retail_sales_growth, retail_sales_level, online_retail_level (residents' online purchases),
            seller_online_retail_level or _growth (网络零售额 of the city's own sellers, model/rules/online_sellers.py),
            above_quota_new_units (merchants entering the 限额以上 directory, model/rules/above_quota.py),
            share_stores_open_24h (convenience stores open 24 hours on the period's last night, a fraction),
            tourism_revenue_level, consumption_per_capita_urban or _rural, or out_of_scope.
        period_start, period_end: the period the target speaks of.
        value: the target (fraction for growth, yuan for levels).
        base_value_yuan: the published (or estimated) prior-period level, for reference only: a growth
            target is judged against the simulated prior period of the same replication
            (``prior_period``), never against this figure.
        description: the plan's words.
        out_of_scope_reason: why the model cannot evaluate it (for out_of_scope).
    """

    name: str
    indicator: str
    period_start: dt.date | None
    period_end: dt.date | None
    value: float | None
    base_value_yuan: float | None
    description: str
    out_of_scope_reason: str | None

    @property
    def prior_period(self) -> tuple[dt.date, dt.date] | None:
        """The period a growth target compares with: the same dates a year earlier (year on year, as the
        statistics report growth; 29 February becomes the 28th). None for other targets."""
        if not self.indicator.endswith("_growth") or self.period_start is None:
            return None
        return _year_before(self.period_start), _year_before(self.period_end)


def _year_before(day: dt.date) -> dt.date:
    if day.month == 2 and day.day == 29:
        return dt.date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


@dataclass(frozen=True)
class CountyRanking:
    """``[county_ranking]``: the plan ranks its counties (districts) and rewards the first ones.

    Attributes:
        top_n: how many counties are rewarded.
        reward_yuan: the reward to each (yuan), or None when the plan names no sum.
        description: the plan's words.
    """

    top_n: int
    reward_yuan: float | None
    description: str


@dataclass(frozen=True)
class Scenario:
    """A runnable scenario.

    Attributes:
        name: identifier.
        title: display title.
        origin: the file it came from (or '<dict>').
        start: first simulated day.
        end: last simulated day.
        city: the city.
        behaviour: behaviour parameters after overrides.
        conditions: dated outside conditions.
        tools: policy tools by name.
        targets: targets by name.
        raw: the scenario as read, for manifests and sweeps.
        provenance: source or assumption of every number, by field path.
        unsourced: field paths of numbers given without a source.
    """

    name: str
    title: str
    origin: str
    start: dt.date
    end: dt.date
    city: City
    behaviour: BehaviourParameters
    conditions: tuple[Condition, ...]
    tools: dict[str, Tool]
    targets: dict[str, Target]
    raw: dict[str, Any] = field(repr=False)
    provenance: dict[str, str] = field(repr=False, default_factory=dict)
    unsourced: tuple[str, ...] = ()
    #: The plan's county ranking with rewards, or None (summary.json ``districts`` and ``county_ranking``).
    county_ranking: CountyRanking | None = None
    #: Which behaviour replications run with: 'ensemble' (replication r uses estimated set r), 'point' or
    #: 'documented' (model/parameters/ensemble.py); set by the commands' --behaviour.
    behaviour_choice: str = "ensemble"

    @property
    def days(self) -> int:
        """Number of simulated days."""
        return (self.end - self.start).days + 1

    def without_tools(self) -> "Scenario":
        """The same scenario with no policy tool: the counterfactual."""
        return dataclasses.replace(self, tools={})

    def only_tool(self, name: str) -> "Scenario":
        """The same scenario with just one tool."""
        return dataclasses.replace(self, tools={name: self.tools[name]})


TARGET_INDICATORS = (
    "retail_sales_growth",
    "retail_sales_level",
    "online_retail_level",
    "online_retail_growth",
    "seller_online_retail_level",
    "seller_online_retail_growth",
    "above_quota_new_units",
    "share_stores_open_24h",
    "tourism_revenue_level",
    "consumption_per_capita_urban",
    "consumption_per_capita_rural",
    "out_of_scope",
)


# ------------------------------------------------------------------ reading


class _Reader:
    """Reads typed, sourced values from a TOML table, recording provenance.

    Every getter takes the table and its dotted path so errors can name the field.
    """

    def __init__(self, origin: str):
        self.origin = origin
        self.provenance: dict[str, str] = {}
        self.unsourced: list[str] = []

    def fail(self, path: str, reason: str) -> ScenarioError:
        return ScenarioError(self.origin, path, reason)

    def _unwrap(self, raw: Any, path: str) -> Any:
        """Return the bare value of a possibly sourced entry and record its source."""
        if isinstance(raw, dict) and "value" in raw:
            extra = set(raw) - {"value", "source", "derived", "assumption", "unit", "description", "note", "estimate"}
            if extra:
                raise self.fail(path, f"unknown key(s) {sorted(extra)} in a sourced value")
            if "source" in raw:
                self.provenance[path] = str(raw["source"])
            elif "derived" in raw:  # computed from sourced figures by the method it states
                self.provenance[path] = "derived: " + str(raw["derived"])
            elif "assumption" in raw:
                self.provenance[path] = "assumption: " + str(raw["assumption"])
            else:
                self.unsourced.append(path)
            return raw["value"]
        return raw

    def number(self, table: dict, key: str, path: str, *, default: Any = ..., minimum: float | None = None,
               maximum: float | None = None, integer: bool = False, exclusive_minimum: bool = False) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in table:
            if default is ...:
                raise self.fail(full, "missing required field")
            return default
        raw = table[key]
        value = self._unwrap(raw, full)
        if not (isinstance(raw, dict) and "value" in raw) and isinstance(value, (int, float)):
            self.unsourced.append(full)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(full, f"expected a number, got {type(value).__name__} {value!r}")
        if integer:
            if float(value) != int(value):
                raise self.fail(full, f"expected a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if value != value:
            raise self.fail(full, "is not a number (NaN)")
        if minimum is not None and (value < minimum or (exclusive_minimum and value <= minimum)):
            raise self.fail(full, f"must be {'>' if exclusive_minimum else '>='} {minimum:g}, got {value:g}")
        if maximum is not None and value > maximum:
            raise self.fail(full, f"must be <= {maximum:g}, got {value:g}")
        return value

    def string(self, table: dict, key: str, path: str, *, default: Any = ..., choices: tuple[str, ...] | None = None) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in table:
            if default is ...:
                raise self.fail(full, "missing required field")
            return default
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(full, f"expected text, got {type(value).__name__} {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(full, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def tables(self, value: Any, path: str, what: str, allow_empty: bool = False) -> list[tuple[dict, str]]:
        """The tables of a TOML array of tables, each with its own field path; refuses anything else."""
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.fail(path, f"expected a {'' if allow_empty else 'non-empty '}list of {what} tables")
        out = []
        for i, item in enumerate(value):
            item_path = f"{path}[{i}]"
            if not isinstance(item, dict):
                raise self.fail(item_path, "expected a table")
            out.append((item, item_path))
        return out

    def boolean(self, table: dict, key: str, path: str, default: bool) -> bool:
        full = f"{path}.{key}" if path else key
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(full, f"expected true or false, got {value!r}")
        return value

    def date(self, table: dict, key: str, path: str, *, default: Any = ...) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in table:
            if default is ...:
                raise self.fail(full, "missing required field")
            return default
        value = self._unwrap(table[key], full)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(full, f"expected a date like 2020-07-01, got {value!r}")

    def sector_table(self, table: dict, key: str, path: str, allowed: tuple[str, ...], default: Any = ...,
                     minimum: float = 0.0) -> dict[str, float]:
        full = f"{path}.{key}" if path else key
        if key not in table:
            if default is ...:
                raise self.fail(full, "missing required field")
            return dict(default)
        raw = self._unwrap(table[key], full) if isinstance(table[key], dict) and "value" in table[key] else table[key]
        if not isinstance(raw, dict):
            raise self.fail(full, f"expected a table keyed by {', '.join(allowed)}")
        out = {}
        for k in raw:
            if k not in allowed:
                raise self.fail(f"{full}.{k}", f"unknown key; expected one of {', '.join(allowed)}")
            out[k] = self.number(raw, k, full, minimum=minimum)
            if full in self.provenance:
                # A table sourced as a whole sources each of its entries.
                self.provenance.setdefault(f"{full}.{k}", self.provenance[full])
        return out

    def name_list(self, table: dict, key: str, path: str, allowed: tuple[str, ...] | None, default: tuple = ()) -> tuple[str, ...]:
        full = f"{path}.{key}" if path else key
        value = table.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(full, f"expected a list of names, got {value!r}")
        if allowed is not None:
            for v in value:
                if v not in allowed:
                    raise self.fail(full, f"{v!r} is not one of {', '.join(allowed)}")
        return tuple(value)


def _read_conditions(r: _Reader, raw: dict, start: dt.date, end: dt.date) -> tuple[Condition, ...]:
    out = []
    for name, c in raw.items():
        path = f"conditions.{name}"
        if not isinstance(c, dict):
            raise r.fail(path, "expected a table")
        applies = r.string(c, "applies_to", path, default="demand", choices=("demand", "durables", "visitors"))
        sectors = r.name_list(c, "sectors", path, SECTORS + NON_RETAIL)
        periods = []
        for p, ppath in r.tables(c.get("schedule"), f"{path}.schedule", "{start, end, multiplier}"):
            ps = r.date(p, "start", ppath)
            pe = r.date(p, "end", ppath)
            if pe < ps:
                raise r.fail(f"{ppath}.end", f"{pe} is before start {ps}")
            periods.append(ConditionPeriod(ps, pe, r.number(p, "multiplier", ppath, minimum=0, maximum=10)))
        institutions = r.boolean(c, "institutions", path, True)
        out.append(Condition(name, applies, sectors, tuple(periods), institutions))
    return tuple(out)


def _parse_period(r: _Reader, value: Any, path: str) -> tuple[dt.date, dt.date]:
    """'2023' → the year; '2020-Q2' → a quarter; 'YYYY-MM-DD..YYYY-MM-DD' → a range."""
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise r.fail(path, f"expected a period like 2023, 2020-Q2 or 2022-01-01..2022-12-31, got {value!r}")
    try:
        if ".." in value:
            a, b = value.split("..")
            return dt.date.fromisoformat(a), dt.date.fromisoformat(b)
        if "-Q" in value:
            year, q = value.split("-Q")
            q = int(q)
            if not 1 <= q <= 4:
                raise ValueError
            start = dt.date(int(year), 3 * q - 2, 1)
            end = dt.date(int(year) + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1)
            return start, end
        year = int(value)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    except ValueError:
        raise r.fail(path, f"expected a period like 2023, 2020-Q2 or 2022-01-01..2022-12-31, got {value!r}") from None


def _read_targets(r: _Reader, raw: dict, start: dt.date, end: dt.date) -> dict[str, Target]:
    out = {}
    for name, t in raw.items():
        path = f"targets.{name}"
        if not isinstance(t, dict):
            raise r.fail(path, "expected a table")
        indicator = r.string(t, "indicator", path, choices=TARGET_INDICATORS)
        description = r.string(t, "description", path, default="")
        if indicator == "out_of_scope":
            out[name] = Target(name, indicator, None, None, None, None, description,
                               r.string(t, "out_of_scope_reason", path))
            continue
        ps, pe = _parse_period(r, t.get("period"), f"{path}.period")
        if ps < start or pe > end:
            raise r.fail(f"{path}.period", f"{ps} to {pe} is outside the scenario horizon {start} to {end}")
        value = r.number(t, "value", path)
        base = r.number(t, "base_value_yuan", path, default=None, minimum=0, exclusive_minimum=True)
        out[name] = Target(name, indicator, ps, pe, value, base, description, None)
    return out


def scenario_from_dict(raw: dict[str, Any], origin: str = "<dict>") -> Scenario:
    """Validate a scenario given as a parsed TOML dict.

    Raises:
        ScenarioError: naming ``origin``, the field and the reason.
    """
    from model.scenario_schema import check_scenario_dict

    check_scenario_dict(raw, origin)  # every key, type and range (model/scenario_schema.py); then cross-field rules
    r = _Reader(origin)
    known = {"scenario", "city", "behaviour", "conditions", "tools", "targets", "variants", "county_ranking"}
    for key in raw:
        if key not in known:
            raise r.fail(key, f"unknown top-level table; expected {', '.join(sorted(known))}")
    head = raw.get("scenario")
    if not isinstance(head, dict):
        raise r.fail("scenario", "missing [scenario] table")
    variants = raw.get("variants", {})
    if not isinstance(variants, dict) or not all(isinstance(v, dict) for v in variants.values()):
        raise r.fail("variants", "expected tables [variants.NAME] of dotted-path = value overrides")
    name = r.string(head, "name", "scenario")
    start = r.date(head, "start_date", "scenario")
    end = r.date(head, "end_date", "scenario")
    if end < start:
        raise r.fail("scenario.end_date", f"{end} is before start_date {start}")
    if (end - start).days > 366 * 6:
        raise r.fail("scenario.end_date", "horizons longer than six years are not supported")
    city = read_city(r, raw.get("city"), start.year)

    behaviour = BehaviourParameters.default()
    braw = raw.get("behaviour", {})
    if not isinstance(braw, dict):
        raise r.fail("behaviour", "expected a table")
    if braw:
        plain = {}
        for k, v in braw.items():
            if isinstance(v, dict) and "value" in v:
                v = r._unwrap(v, f"behaviour.{k}")
            plain[k] = v
        try:
            behaviour = behaviour.with_overrides(plain, origin=origin)
        except KeyError as exc:
            raise r.fail(f"behaviour.{exc.args[0]}", "unknown behaviour parameter (see model/parameters/behaviour.toml)") from None
        except TypeError as exc:
            raise r.fail("behaviour", str(exc)) from None
        except ParameterRangeError as exc:
            raise r.fail(f"behaviour.{exc.path}", exc.reason) from None

    if city.car_price_yuan is not None:
        # A city's own car price replaces the national behaviour default.
        try:
            behaviour = behaviour.with_overrides({"car_price_yuan": city.car_price_yuan},
                                                 origin=r.provenance.get("city.car_price_yuan", origin))
        except ParameterRangeError as exc:
            raise r.fail("city.car_price_yuan", exc.reason) from None
    conditions = _read_conditions(r, raw.get("conditions", {}), start, end)
    traw = raw.get("tools", {})
    if not isinstance(traw, dict):
        raise r.fail("tools", "expected tables [tools.NAME]")
    context = ToolContext(start, end, city)
    tools = {n: tool_kinds.read_tool(r, n, t, context) for n, t in traw.items()}
    targets = _read_targets(r, raw.get("targets", {}), start, end)
    for target_name, target in targets.items():
        if target.indicator.startswith("seller_online_retail") and city.online_sellers is None:
            raise r.fail(f"targets.{target_name}.indicator", f"{target.indicator} needs the city's 网络零售额 statistic: "
                         "accepted once [city.online_sellers] gives base_yuan, base_year, resident_buyer_share, "
                         "outside_growth_per_year and outside_growth_sigma")
    ranking = None
    if "county_ranking" in raw:
        craw = raw["county_ranking"]
        if not isinstance(craw, dict):
            raise r.fail("county_ranking", "expected a table with top_n and optionally reward_yuan")
        ranking = CountyRanking(
            top_n=r.number(craw, "top_n", "county_ranking", integer=True, minimum=1, maximum=len(city.districts)),
            reward_yuan=r.number(craw, "reward_yuan", "county_ranking", default=None, minimum=0),
            description=r.string(craw, "description", "county_ranking", default=""))
    unsourced = tuple(dict.fromkeys(p for p in r.unsourced if p not in r.provenance))
    return Scenario(
        name=name, title=r.string(head, "title", "scenario", default=name), origin=origin,
        start=start, end=end, city=city, behaviour=behaviour, conditions=conditions,
        tools=tools, targets=targets, raw=copy.deepcopy(raw), provenance=dict(r.provenance),
        unsourced=unsourced, county_ranking=ranking,
    )


def read_toml(path: Path, origin: str | None = None) -> dict[str, Any]:
    """A TOML file as a dict; a missing or malformed file is a ScenarioError naming ``origin`` (default: the path)."""
    from model.scenario_schema import read_toml as read_checked_toml

    return read_checked_toml(path, origin)  # UTF-8, size and nesting limits, the file named on failure


def read_scenario_file(path: str | Path) -> dict[str, Any]:
    """The raw scenario dict of a file, with its calibration file (if any) merged in.

    ``[scenario] calibration = "relative/path.toml"`` names a file written by
    ``run.py calibrate`` whose ``[city]`` entries replace the scenario's own.
    """
    path = Path(path)
    origin = str(path)
    raw = read_toml(path, origin)
    head = raw.get("scenario", {})
    calibration = head.get("calibration") if isinstance(head, dict) else None
    if calibration is not None:
        if not isinstance(calibration, str):
            raise ScenarioError(origin, "scenario.calibration", f"expected a file path, got {calibration!r}")
        cal_path = (path.parent / calibration).resolve()
        fitted = read_toml(cal_path, f"{origin} (scenario.calibration = {calibration})")
        city = raw.setdefault("city", {})
        for key, value in fitted.get("city", {}).items():
            city[key] = value
    return raw


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None, variant: str | None = None) -> Scenario:
    """Read and validate a scenario file, optionally a named variant and field overrides by dotted path.

    Raises:
        ScenarioError: the file is missing, is not TOML, or a field is wrong.
    """
    origin = str(path)
    raw = read_scenario_file(path)
    if raw.get("variants"):  # the file and each of its variants, whichever is asked for
        scenario_from_dict(copy.deepcopy(raw), origin)
        check_variants(raw, origin)
    if variant is not None:
        variants = raw.get("variants", {})
        if variant not in variants:
            raise ScenarioError(origin, f"variants.{variant}", f"no such variant; the file defines {', '.join(variants) or 'none'}")
        for field_path, value in variant_overrides(variants[variant]).items():
            set_field(raw, field_path, value, origin=f"{origin} (variant {variant})")
        raw["scenario"]["name"] = f"{raw['scenario'].get('name', 'scenario')}/{variant}"
        raw["scenario"]["title"] = variants[variant].get(
            "title", f"{raw['scenario'].get('title', raw['scenario'].get('name', ''))} — {variant}")
        raw["scenario"]["title_en"] = variants[variant].get(
            "title_en", f"{raw['scenario'].get('title_en', raw['scenario'].get('name', ''))} — {variant}")
    for field_path, value in (overrides or {}).items():
        set_field(raw, field_path, value, origin=origin)
    return scenario_from_dict(raw, origin)


#: Display titles a [variants.NAME], [tools.NAME] or [targets.NAME] table may carry: ``title`` in Chinese,
#: ``title_en`` in English. They name things in reports; they change nothing in a run.
TITLE_KEYS = ("title", "title_en")


def variant_overrides(table: dict[str, Any]) -> dict[str, Any]:
    """A [variants.NAME] table's field overrides (dotted path = value), without its display titles."""
    return {k: v for k, v in table.items() if k not in TITLE_KEYS}


def display_title(table: dict[str, Any] | None, lang: str, fallback: str) -> str:
    """The title of a scenario, variant, tool or target table in a language ("zh" reads ``title``, "en" ``title_en``)."""
    table = table or {}
    value = table.get("title_en" if lang == "en" else "title")
    return str(value) if value else fallback


def check_variants(raw: dict[str, Any], origin: str) -> None:
    """Check every [variants.NAME] of a file as the scenario it makes, so a bad variant fails when the file loads.

    Raises:
        ScenarioError: naming the file and variant, and the field.
    """
    variants = raw.get("variants") or {}
    for name, changes in variants.items():
        where = f"{origin} (variant {name})"
        copy_raw = copy.deepcopy(raw)
        copy_raw.pop("variants", None)
        for field_path, value in variant_overrides(changes).items():
            set_field(copy_raw, field_path, value, origin=where)
        scenario_from_dict(copy_raw, where)


def variant_names(path: str | Path) -> list[str]:
    """Names of the variants a scenario file defines under [variants.NAME]."""
    raw = read_scenario_file(path)
    variants = raw.get("variants", {})
    if not isinstance(variants, dict) or not all(isinstance(v, dict) for v in variants.values()):
        raise ScenarioError(str(path), "variants", "expected tables [variants.NAME] of field = value overrides")
    return list(variants)


def get_field(raw: dict[str, Any], field_path: str, origin: str = "<dict>") -> Any:
    """The value at a dotted path such as ``tools.vouchers.face_value_yuan`` (sourced tables unwrapped)."""
    node: Any = raw
    for part in field_path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ScenarioError(origin, field_path, "no such field in the scenario")
        node = node[part]
    if isinstance(node, dict) and "value" in node:
        return node["value"]
    return node


def set_field(raw: dict[str, Any], field_path: str, value: Any, origin: str = "<dict>") -> None:
    """Set a dotted path in a raw scenario dict, keeping any source note beside it.

    Raises:
        ScenarioError: a path whose parent table does not exist.
    """
    parts = field_path.split(".")
    node: Any = raw
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
            raise ScenarioError(origin, field_path, f"no table '{part}' on this path")
        node = node[part]
    leaf = parts[-1]
    if isinstance(value, dict) and "value" in value:
        node[leaf] = dict(value)  # a sourced value brings its own source
    elif isinstance(node.get(leaf), dict) and "value" in node[leaf]:
        node[leaf] = {**node[leaf], "value": value, "source": f"override of {field_path}"}
        node[leaf].pop("assumption", None)
        node[leaf].pop("derived", None)
    else:
        node[leaf] = value
