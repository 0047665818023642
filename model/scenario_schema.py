"""The scenario file format as one strict schema: every table, key, type, unit and accepted range.

A scenario file is read in two steps. This module is the first: the file is read as UTF-8 TOML
within size and nesting limits (``read_toml``), then every section is checked against Pydantic
models in strict mode with unknown keys forbidden (``check_scenario_dict``):

- an unknown key anywhere is refused, with the nearest known key as a suggestion;
- every number must be a finite number (``inf`` and ``nan`` are refused) within its documented
  range: the ranges of ``[city]``, ``[conditions]`` and ``[targets]`` are declared below, those of
  tool settings by each tool kind's ``setting(...)`` declarations (``model/tools/``), those of
  ``[behaviour]`` by ``min``/``max`` in ``model/parameters/behaviour.toml``;
- counts (households, vouchers, dealers, days) must be whole numbers;
- dates of conditions and tools must fall inside the scenario's horizon;
- a value may be bare (``x = 5``) or sourced (``x = { value = 5, source = "..." }``).

Every refusal is a ``ScenarioError`` in the project's one format: file, field, reason and what is
accepted. The second step (``model/scenario.py`` and each kind's ``validate``) checks what relates
fields to one another (shares summing to 1, a threshold above the face value, periods of targets)
and builds the typed scenario.

The same models give the JSON Schema shipped as ``scenarios/scenario.schema.json``, which editors
use to complete and check scenario files (README); ``python -m model.scenario_schema`` rewrites it.

Pydantic does what hand-written checks did piecemeal: it walks every table, refuses unknown keys,
and reports where each error is. The numbers use one validator of our own (``number``) so that a
bare and a sourced value are one type and a refusal says what is accepted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import math
import typing
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, PlainValidator, ValidationError, ValidationInfo, WithJsonSchema,
                      create_model, field_validator)
from pydantic_core import PydanticCustomError

from model.sectors import FLOW_SECTORS, FUNDING_LEVELS, NON_RETAIL, SECTORS

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "scenarios" / "scenario.schema.json"

#: Keys a sourced value may carry besides ``value``.
SOURCE_KEYS = ("source", "derived", "assumption", "unit", "description", "note", "estimate")
#: A scenario file larger than this is refused before it is parsed (the largest city plan is about 40 kB).
MAX_FILE_BYTES = 2_000_000
#: Tables and arrays nested deeper than this are refused (scenario files nest four deep at most).
MAX_DEPTH = 12
#: Entries of a list or table beyond this are refused (a schedule of daily periods for six years fits).
MAX_ENTRIES = 5_000
#: The longest text accepted in a name, title or description.
MAX_TEXT = 5_000

TARGET_INDICATORS = (
    "retail_sales_growth", "retail_sales_level", "online_retail_level", "online_retail_growth",
    "seller_online_retail_level", "seller_online_retail_growth", "above_quota_new_units",
    "share_stores_open_24h", "tourism_revenue_level", "consumption_per_capita_urban", "consumption_per_capita_rural", "out_of_scope",
)


def _error(message: str) -> PydanticCustomError:
    # The message goes in as context, so braces in values are never read as placeholders.
    return PydanticCustomError("scenario", "{message}", {"message": message})


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def unwrap_sourced(value: Any) -> Any:
    """The bare value of ``{ value = ..., source = "..." }`` (checking its keys), or ``value`` itself."""
    if isinstance(value, dict) and "value" in value:
        for key in value:
            if key != "value" and key not in SOURCE_KEYS:
                raise _error(f"unknown key {key!r} in a sourced value{_suggest(key, ('value', *SOURCE_KEYS))}; "
                             f"accepted: value with source, derived or assumption (and unit, description, note)")
            if key in ("source", "derived", "assumption", "unit", "description", "note") and not isinstance(value[key], str):
                raise _error(f"{key} must be text, got {_show(value[key])}")
        return value["value"]
    return value


def _accepted(minimum, maximum, integer: bool, exclusive_minimum: bool, unit: str) -> str:
    what = "a whole number" if integer else "a finite number"
    def show(bound: float) -> str:
        return f"{int(bound):,}" if integer and float(bound).is_integer() else f"{bound:g}"

    lo = None if minimum is None else show(minimum)
    hi = None if maximum is None else show(maximum)
    if lo is not None and hi is not None:
        rng = f" above {lo} and at most {hi}" if exclusive_minimum else f" from {lo} to {hi}"
    elif lo is not None:
        rng = f" above {lo}" if exclusive_minimum else f" of at least {lo}"
    elif hi is not None:
        rng = f" of at most {hi}"
    else:
        rng = ""
    return f"{what}{rng}" + (f" ({unit})" if unit else "")


def number(minimum: float | None = None, maximum: float | None = None, *, integer: bool = False,
           exclusive_minimum: bool = False, unit: str = "", description: str = "", why: str = "") -> Any:
    """An annotated type: a finite number (bare or sourced) within [minimum, maximum], whole if ``integer``.

    A whole number written with a decimal point (``5.0``) is accepted for a count; ``1e12`` is a
    whole number too, and is refused by the range, not by its notation.
    """
    accepted = _accepted(minimum, maximum, integer, exclusive_minimum, unit) + (f": {why}" if why else "")

    def validate(value: Any) -> Any:
        value = unwrap_sourced(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _error(f"expected a number, got {type(value).__name__} {_show(value)}; accepted: {accepted}")
        if isinstance(value, float) and not math.isfinite(value):
            raise _error(f"{value} is not a finite number; accepted: {accepted}")
        if integer:
            if isinstance(value, float):
                if not value.is_integer():
                    raise _error(f"{value:g} is not a whole number; accepted: {accepted}")
                value = int(value)
        if minimum is not None and (value < minimum or (exclusive_minimum and value <= minimum)):
            raise _error(f"{value:,} is out of range; accepted: {accepted}" if integer else
                         f"{value:g} is out of range; accepted: {accepted}")
        if maximum is not None and value > maximum:
            raise _error(f"{value:,} is out of range; accepted: {accepted}" if integer else
                         f"{value:g} is out of range; accepted: {accepted}")
        return value

    bare: dict[str, Any] = {"type": "integer" if integer else "number"}
    if minimum is not None:
        bare["exclusiveMinimum" if exclusive_minimum else "minimum"] = minimum
    if maximum is not None:
        bare["maximum"] = maximum
    schema = _sourced_schema(bare)
    if description:
        schema["description"] = description
    if unit:
        schema["x-unit"] = unit
    return Annotated[Any, PlainValidator(validate), WithJsonSchema(schema)]


def _sourced_schema(bare: dict[str, Any]) -> dict[str, Any]:
    """A value's JSON Schema that also accepts its sourced form ``{ value = ..., source = "..." }``."""
    notes = {k: {"type": "string"} for k in SOURCE_KEYS if k != "estimate"}
    return {"anyOf": [bare, {"type": "object", "required": ["value"], "additionalProperties": False,
                             "properties": {"value": bare, **notes, "estimate": {}}}]}


def _horizon(info: ValidationInfo) -> tuple[dt.date, dt.date] | None:
    context = info.context or {}
    return context.get("horizon")


def _to_date(value: Any) -> dt.date:
    value = unwrap_sourced(value)  # a date may carry its source like a number
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise _error(f"expected a date, got {_show(value)}; accepted: a date like 2023-07-01")


def date(in_horizon: bool = True, description: str = "", year_before: bool = False) -> Any:
    """An annotated type: a date (TOML date or ISO text), inside the scenario's horizon if ``in_horizon``,
    or, with ``year_before``, from the same day a year before the horizon's start."""

    def validate(value: Any, info: ValidationInfo) -> dt.date:
        day = _to_date(value)
        horizon = _horizon(info) if in_horizon else None
        if horizon is not None:
            start = horizon[0]
            first = (start.replace(year=start.year - 1) if not (start.month == 2 and start.day == 29)
                     else dt.date(start.year - 1, 2, 28)) if year_before else start
            if not first <= day <= horizon[1]:
                why = (" (a condition may reach a year before the horizon: the prior period growth targets are "
                       "judged against)" if year_before else "")
                raise _error(f"{day} is outside the scenario horizon; accepted: a date from {first} to {horizon[1]}{why}")
        return day

    schema = _sourced_schema({"type": "string", "format": "date"})
    schema["description"] = description or "a date like 2023-07-01"
    return Annotated[Any, PlainValidator(validate), WithJsonSchema(schema)]


def text(max_length: int = MAX_TEXT, description: str = "") -> Any:
    """An annotated type: non-empty text."""
    return Annotated[str, Field(min_length=1, max_length=max_length, description=description or None)]


def names(allowed: tuple[str, ...] | None, what: str) -> Any:
    """An annotated type: a list of names (a single name is taken as a list of one), each one of ``allowed``."""

    def validate(value: Any) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise _error(f"expected a list of {what}, got {_show(value)}")
        if len(items) > MAX_ENTRIES:
            raise _error(f"{len(items)} names; accepted: at most {MAX_ENTRIES}")
        if allowed is not None:
            for v in items:
                if v not in allowed:
                    raise _error(f"{v!r} is not one of the {what}{_suggest(v, allowed)}; accepted: "
                                 f"{', '.join(allowed)}")
        return tuple(items)

    item: dict[str, Any] = {"type": "string"}
    if allowed is not None:
        item["enum"] = list(allowed)
    schema = {"anyOf": [{"type": "array", "items": item}, item], "description": f"a list of {what}"}
    return Annotated[Any, PlainValidator(validate), WithJsonSchema(schema)]


def _suggest(word: str, known) -> str:
    close = difflib.get_close_matches(str(word), [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Strict(BaseModel):
    """Strict types, unknown keys refused, no coercion of text to numbers or numbers to text."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


def sourced_table(model: type[BaseModel]) -> Any:
    """An annotated type: a table of ``model``, bare or sourced as a whole (``{ value = { ... }, source = "..." }``)."""

    def validate(value: Any, info: ValidationInfo) -> BaseModel:
        inner = unwrap_sourced(value)
        if not isinstance(inner, dict):
            raise _error(f"expected a table with keys {', '.join(model.model_fields)}, got {_show(inner)}")
        return model.model_validate(inner, context=info.context)

    # Pydantic resolves "$ref"s it made itself only; json_schema() turns this placeholder into one.
    ref = {"x-model": model.__name__}
    return Annotated[Any, PlainValidator(validate), WithJsonSchema(_sourced_schema(ref)), _Defs(model)]


@dataclasses.dataclass(frozen=True)
class _Defs:
    """Marks a type whose schema refers to ``model``, so the exported schema carries its definition."""

    model: type[BaseModel]


def keyed(name: str, keys: tuple[str, ...], value_type: Any, required: bool = False, doc: str = "") -> type[BaseModel]:
    """A strict table whose keys are ``keys`` (each optional unless ``required``), every value ``value_type``."""
    fields = {k: ((value_type, ...) if required else (value_type | None, None)) for k in keys}
    return create_model(name, __base__=Strict, __doc__=doc or None, **fields)


# ------------------------------------------------------------------ [scenario] and [city]

Share = number(0, 1, unit="share")


class ScenarioHead(Strict):
    """[scenario]: what the file is and the simulated horizon (at most six years)."""

    name: text(200, "identifier, used in output folder names")
    title: text(500, "display title (Chinese)") | None = None
    title_en: text(500, "display title in English") | None = None
    description: text() | None = None
    start_date: date(in_horizon=False, description="first simulated day")
    end_date: date(in_horizon=False, description="last simulated day")
    calibration: text(1000, "a calibration file written by run.py calibrate, relative to this file") | None = None


class District(Strict):
    """One [[city.districts]] entry: a county or district of the city."""

    name: text(200)
    household_share: Share
    urban_share: Share


UrbanRuralIncome = keyed("UrbanRuralIncome", ("urban", "rural"), number(1, 10_000_000, unit="yuan per person per year"),
                         required=True, doc="per-capita disposable income (yuan per year), urban and rural")
UrbanRuralRatio = keyed("UrbanRuralRatio", ("urban", "rural"), number(0, 1.5, exclusive_minimum=True, unit="ratio"),
                        required=True, doc="consumption ÷ disposable income, urban and rural (households may dissave)")
UrbanRuralCars = keyed("UrbanRuralCars", ("urban", "rural"), number(0, 100, unit="cars per 100 households"),
                       required=True, doc="private cars per 100 households, urban and rural")
SectorShares = keyed("SectorShares", FLOW_SECTORS, number(0, 1, unit="share"),
                     doc="share of household retail spending by flow sector (summing to 1)")
MerchantDensity = keyed("MerchantDensity", SECTORS, number(0, 1000, unit="merchants per 1000 households"),
                        doc="merchants per 1000 households by sector")
VisitorSpend = keyed("VisitorSpend", ("catering", "daily_goods", "lodging", "tickets"),
                     number(0, 100_000, unit="yuan per visit"), required=True, doc="spending per visit (yuan)")


def _monthly_profile(value: Any) -> tuple[float, ...]:
    profile = unwrap_sourced(value)
    if not (isinstance(profile, list) and len(profile) == 12
            and all(not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x) and 0 <= x <= 1000
                    for x in profile)):
        raise _error(f"expected twelve monthly weights, got {_show(profile)}; accepted: twelve finite numbers "
                     "from 0 to 1000, not all 0")
    if not any(profile):
        raise _error("weights must not all be zero; accepted: twelve finite numbers from 0 to 1000, not all 0")
    return tuple(float(x) for x in profile)


MonthlyProfile = Annotated[Any, PlainValidator(_monthly_profile), WithJsonSchema(_sourced_schema(
    {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1000}, "minItems": 12, "maxItems": 12}))]


class Visitors(Strict):
    """[city.visitors]: the seasonal inflow of visitors and what they spend."""

    visitors_per_year: number(0, 1_000_000_000, unit="visits per year")
    spend_per_visit_yuan: sourced_table(VisitorSpend)
    monthly_profile: MonthlyProfile | None = None


class OnlineSellers(Strict):
    """[city.online_sellers]: the city's 网络零售额 (online sales by its own sellers, to buyers anywhere)."""

    base_yuan: number(0, 1e14, exclusive_minimum=True, unit="yuan per year")
    base_year: number(1990, 2100, integer=True, unit="year")
    resident_buyer_share: number(0, 1, unit="share")
    outside_growth_per_year: number(-0.9, 5, unit="share per year")
    outside_growth_sigma: number(0, 2, unit="share per year")


class City(Strict):
    """[city]: the city's households, incomes and retail structure. Fields left out take national defaults."""

    name: text(200)
    # The largest Chinese city has about 12 million households; the households are held in memory, one row each.
    households: number(1, 20_000_000, integer=True, unit="households")
    household_size: number(1, 10, unit="persons per household") | None = None
    urban_share: Share
    income_per_capita_yuan: UrbanRuralIncome
    consumption_income_ratio: sourced_table(UrbanRuralRatio) | None = None
    household_retail_share: number(0.01, 1, unit="share") | None = None
    non_household_retail_share: number(0, 0.9, unit="share") | None = None
    sector_shares: sourced_table(SectorShares) | None = None
    car_owners_per_100_households: sourced_table(UrbanRuralCars) | None = None
    income_growth_per_year: number(-0.5, 0.5, unit="share per year") | None = None
    retail_sales_base_yuan: number(0, 1e14, unit="yuan per year") | None = None
    retail_sales_trend_growth: number(-0.5, 0.5, unit="share per year") | None = None
    retail_sales_forecast_error_sd: number(0, 0.5, unit="log points per year") | None = None
    retail_sales_base_sd: number(0, 0.5, unit="share of the base-year level") | None = None
    # The valid range of the behaviour parameter it replaces (car_price_yuan in behaviour.toml).
    car_price_yuan: number(10_000, 2_000_000, unit="yuan") | None = None
    base_year: number(1990, 2100, integer=True, unit="year") | None = None
    districts: Annotated[list[District], Field(max_length=500)] | None = None
    merchants_per_1000_households: sourced_table(MerchantDensity) | None = None
    visitors: Visitors | None = None
    online_sellers: OnlineSellers | None = None


# ------------------------------------------------------------------ [conditions] and [targets]


class ConditionPeriod(Strict):
    """One {start, end, multiplier} of a condition's schedule, inside the horizon or up to a year before it
    (the prior period growth targets are judged against, simulated before the horizon)."""

    start: date(year_before=True)
    end: date(year_before=True)
    multiplier: number(0, 10, unit="multiple of normal")


class Condition(Strict):
    """[conditions.NAME]: a dated outside condition (an epidemic, a tourism season) scaling some activity."""

    applies_to: Literal["demand", "durables", "visitors"] = "demand"
    sectors: names(SECTORS + NON_RETAIL, "sectors") | None = None
    schedule: Annotated[list[ConditionPeriod], Field(min_length=1, max_length=MAX_ENTRIES)]
    institutions: Annotated[bool, Field(description="a demand condition also moves firms' and institutions' "
                                                    "purchases (default); false when a source says they were spared")
                            ] = True
    description: text() | None = None


# Growth targets are fractions (0.08 = 8%); level targets are yuan.
GROWTH_RANGE = (-1.0, 10.0)
LEVEL_RANGE = (0.0, 1e14)


class TargetEntry(Strict):
    """[targets.NAME]: a stated target, its indicator, period and value."""

    indicator: Literal[TARGET_INDICATORS]
    title: text(500, "display title (Chinese)") | None = None
    title_en: text(500, "display title in English") | None = None
    description: text() | None = None
    out_of_scope_reason: text() | None = None
    period: Annotated[str, Field(max_length=40)] | Annotated[int, Field(ge=1990, le=2100)] | None = Field(
        None, description="2023, 2020-Q2 or 2022-01-01..2022-12-31, inside the horizon")
    value: number(-1e14, 1e14, description="a fraction for growth (0.08 = 8%), yuan or yuan per person for levels") \
        | None = None
    base_value_yuan: number(0, 1e14, exclusive_minimum=True, unit="yuan",
                            description="the published prior-period level, for reference only: growth is judged "
                                        "against the simulated prior period of the same replication") | None = None

    @field_validator("value")
    @classmethod
    def _value_fits_indicator(cls, value: Any, info: ValidationInfo) -> Any:
        indicator = info.data.get("indicator", "")
        if value is None or not indicator:
            return value
        lo, hi = GROWTH_RANGE if indicator.endswith("_growth") else LEVEL_RANGE
        if not lo <= value <= hi:
            accepted = ("a growth rate as a fraction from -1 to 10 (0.08 = 8%)" if indicator.endswith("_growth")
                        else "a level from 0 to 1e14 (yuan, or yuan per person)")
            raise _error(f"{value:g} is out of range for {indicator}; accepted: {accepted}")
        return value


# ------------------------------------------------------------------ [behaviour]


@lru_cache(maxsize=1)
def behaviour_model() -> type[BaseModel]:
    """[behaviour]: overrides of the behaviour parameters, each within its ``valid_range`` in behaviour.toml."""
    from model.parameters import BEHAVIOUR_FILE, read_parameter_file

    fields: dict[str, Any] = {}
    for name, entry in read_parameter_file(BEHAVIOUR_FILE, require_range=True).items():
        default = entry["value"]
        valid = entry["valid_range"]
        integer = isinstance(default, int) and not isinstance(default, bool)
        kind = number(valid.min, valid.max, integer=integer, unit=entry.get("unit", ""), why=valid.reason,
                      description=f"{entry.get('description', '')} Valid range: {valid.reason}")
        if isinstance(default, dict):
            sub = keyed(f"Behaviour_{name}", tuple(default), number(valid.min, valid.max, unit=entry.get("unit", ""),
                                                                    why=valid.reason))
            kind = sourced_table(sub)
        fields[name] = (kind | None, None)
    return create_model("Behaviour", __base__=Strict, __doc__=behaviour_model.__doc__, **fields)


# ------------------------------------------------------------------ [tools.NAME]


def _json_schema_type(schema: dict[str, Any], name: str) -> Any:
    """A strict type for a structured setting described by a (small) JSON Schema: arrays of flat tables."""
    kind = schema.get("type")
    if kind == "array":
        return Annotated[list[_json_schema_type(schema.get("items", {}), name)], Field(max_length=MAX_ENTRIES)]
    if kind == "object":
        fields = {}
        for key, sub in schema.get("properties", {}).items():
            typ = _json_schema_type(sub, f"{name}_{key}")
            fields[key] = (typ, ...) if key in schema.get("required", ()) else (typ | None, None)
        return create_model(name, __base__=Strict, **fields)
    if kind == "string" and schema.get("format") == "date":
        return date()
    if kind == "string":
        return text()
    if kind == "boolean":
        return bool
    if kind in ("integer", "number"):
        return number(schema.get("minimum"), schema.get("maximum"), integer=kind == "integer")
    return Any


class Tranche(Strict):
    """[[tools.NAME.tranches]]: part of a tool's budget released on a date (pacing)."""

    release_date: date(description="the day the tranche becomes available")
    amount_yuan: number(0, 1e12, unit="yuan")


#: Keys some kinds read into other settings (``extra_file_keys``), with their types.
EXTRA_FILE_KEYS = {"release_every_days": number(1, 366, integer=True, unit="days between batches")}


def tool_model(kind_name: str) -> type[BaseModel]:
    """The strict model of a ``[tools.NAME]`` table of one kind, from the kind's setting declarations."""
    from model import tools as tool_kinds

    return _tool_model(tool_kinds.get(kind_name))


@lru_cache(maxsize=None)
def _tool_model(kind) -> type[BaseModel]:
    # Cached by the kind itself, so a kind registered again under the same name (tests) gets its own model.
    from model.tools.base import _field_type

    kind_name = kind.name
    funding = keyed("FundingShares", FUNDING_LEVELS, number(0, 1, unit="share"),
                    doc="share of the budget from each funding level (summing to 1)")
    fields: dict[str, Any] = {
        "kind": (Literal[kind_name], ...),
        "start_date": (date(description="first day the tool acts"), ...),
        "end_date": (date(description="last day the tool acts"), ...),
        # A trillion yuan is far above any city's programme (the national 2024 trade-in fund was 150 billion).
        "budget_yuan": (number(0, 1e12, unit="yuan"), ...),
        "funding_shares": (sourced_table(funding) | None, None),
        "description": (text() | None, None),
        "source": (text() | None, None),
        "title": (text(500, "display title (Chinese)") | None, None),
        "title_en": (text(500, "display title in English") | None, None),
        "tranches": (Annotated[list[Tranche], Field(max_length=MAX_ENTRIES)] | None, None),
        "carry_over_unspent": (bool | None, None),
        "per_merchant_cap_yuan": (number(0, 1e12, exclusive_minimum=True, unit="yuan") | None, None),
    }
    for f in kind.settings_fields():
        meta = f.metadata
        typ = _field_type(kind.settings, f.name)
        if meta["schema"]:
            annotation = _json_schema_type(meta["schema"], f"{kind_name}_{f.name}")
        elif typ is bool:
            annotation = bool
        elif typ is str:
            annotation = Literal[meta["choices"]] if meta["choices"] else text()
        elif typ == tuple[str, ...]:
            annotation = names(SECTORS if meta["names"] == "sectors" else None, meta["names"] or "names")
        else:
            integer = typ is int or typ == (int | None)
            annotation = number(meta["minimum"], meta["maximum"], integer=integer,
                                exclusive_minimum=meta["exclusive_minimum"], unit=meta["unit"],
                                description=meta["description"])
        required = f.default is dataclasses.MISSING and meta["derived_default"] is None and not meta["read_by_kind"]
        fields[f.name] = (annotation, ...) if required else (annotation | None, None)
    for key in kind.extra_file_keys:
        fields[key] = (EXTRA_FILE_KEYS.get(key, Any) | None, None)
    return create_model(f"Tool_{kind_name}", __base__=Strict, __doc__=kind.summary or None, **fields)


# ------------------------------------------------------------------ the whole file


class CountyRankingEntry(Strict):
    """[county_ranking]: the plan ranks its counties by 社零 and rewards the first ``top_n``."""

    top_n: number(1, 500, integer=True, unit="counties")
    reward_yuan: number(0, 1e12, unit="yuan per county") | None = None
    description: text() | None = None
    source: text() | None = None


class ScenarioFile(Strict):
    """A scenario file: [scenario], [city], and optional [behaviour], [conditions], [tools], [targets], [variants]."""

    scenario: ScenarioHead
    city: City
    behaviour: dict[str, Any] | None = None  # checked by behaviour_model()
    conditions: Annotated[dict[str, Condition], Field(max_length=500)] | None = None
    tools: Annotated[dict[str, dict[str, Any]], Field(max_length=200)] | None = None  # checked by tool_model(kind)
    targets: Annotated[dict[str, TargetEntry], Field(max_length=500)] | None = None
    variants: Annotated[dict[str, dict[str, Any]], Field(max_length=500)] | None = None
    county_ranking: CountyRankingEntry | None = None


def _depth_and_size(value: Any, limit: int = MAX_DEPTH) -> tuple[str, str] | None:
    """(path, problem) of the first table or array nested deeper than ``limit`` or longer than MAX_ENTRIES."""
    stack = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth >= limit:
                return path or "(top)", f"nested more than {limit} levels deep"
            if len(node) > MAX_ENTRIES:
                return path or "(top)", f"holds {len(node):,} entries"
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                child_path = f"{path}[{key}]" if isinstance(node, list) else (f"{path}.{key}" if path else str(key))
                stack.append((child, child_path, depth + 1))
    return None


def _loc_path(loc: tuple, prefix: tuple = ()) -> str:
    out = ""
    for part in (*prefix, *loc):
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top)"


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class of the table at ``loc`` inside ``model`` (None when it is not a model)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        if part not in current.model_fields:
            continue  # a key of a table of tables ([targets.NAME]): the entry's model applies
        current = _inner_model(current.model_fields[part])
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(field_info) -> Any:
    for meta in field_info.metadata:
        if isinstance(meta, _Defs):
            return meta.model
    stack = [field_info.annotation]
    while stack:
        typ = stack.pop()
        if isinstance(typ, type) and issubclass(typ, BaseModel):
            return typ
        for meta in getattr(typ, "__metadata__", ()):
            if isinstance(meta, _Defs):
                return meta.model
        stack.extend(typing.get_args(typ))
    return None


def _describe(error: dict[str, Any], model: type[BaseModel], loc: tuple) -> str:
    """The reason and what is accepted, for one Pydantic error."""
    kind, value = error["type"], error.get("input")
    if kind == "scenario":
        return error["ctx"]["message"]
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        known = list(parent.model_fields) if parent is not None else []
        return f"unknown field{_suggest(loc[-1], known)}; accepted: {', '.join(known)}" if known else "unknown field"
    if kind == "missing":
        return "missing required field"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "").replace(" or ", ", ")
        choices = [e.strip().strip("'") for e in expected.split(",")]
        return f"{_show(value)} is not accepted{_suggest(value, choices)}; accepted: {expected}"
    if kind in ("string_type", "string_too_short", "string_too_long"):
        limit = error.get("ctx", {}).get("max_length")
        return (f"expected text, got {type(value).__name__} {_show(value)}" if kind == "string_type"
                else "empty text; accepted: some text" if kind == "string_too_short"
                else f"text longer than {limit} characters; accepted: at most {limit}")
    if kind == "bool_type":
        return f"expected true or false, got {_show(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a table, got {type(value).__name__} {_show(value)}"
    if kind == "list_type":
        return f"expected a list, got {type(value).__name__} {_show(value)}"
    if kind in ("too_long", "too_short"):
        return error["msg"].replace("List", "list").replace("Dictionary", "table") + ""
    if kind in ("int_type", "int_from_float", "greater_than_equal", "less_than_equal"):
        return f"{_show(value)}: {error['msg'].lower()}"
    return error["msg"]


def scenario_error(origin: str, exc: ValidationError, model: type[BaseModel], prefix: tuple = ()):
    """The first error of a validation as a ``ScenarioError`` naming the file, the field and what is accepted."""
    from model.scenario import ScenarioError

    errors = exc.errors(include_url=False)
    # A misspelt key explains the "missing" field it was meant to be, so it is reported first.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith(("function-", "union["))))
    # Pydantic names the branch of an optional (X | None) it tried; only the field path matters here.
    loc = tuple(p for p in loc if p not in ("none", "nullable"))
    return ScenarioError(origin, _loc_path(loc, prefix), _describe(error, model, loc))


def _horizon_of(raw: dict[str, Any]) -> tuple[dt.date, dt.date] | None:
    head = raw.get("scenario")
    try:
        return _to_date(head["start_date"]), _to_date(head["end_date"])
    except (PydanticCustomError, KeyError, TypeError):
        return None


def check_scenario_dict(raw: Any, origin: str) -> None:
    """Check a parsed scenario against the schema; the first problem is raised.

    Raises:
        ScenarioError: file, field, reason and what is accepted.
    """
    from model import tools as tool_kinds
    from model.scenario import ScenarioError

    if not isinstance(raw, dict):
        raise ScenarioError(origin, "(top)", "expected tables [scenario], [city], ...")
    deep = _depth_and_size(raw)
    if deep is not None:
        raise ScenarioError(origin, deep[0], f"{deep[1]}; accepted: at most {MAX_DEPTH} levels of tables and "
                                             f"arrays, each of at most {MAX_ENTRIES:,} entries")
    horizon = _horizon_of(raw)
    context = {"horizon": horizon}
    try:
        ScenarioFile.model_validate(raw, context=context)
    except ValidationError as exc:
        raise scenario_error(origin, exc, ScenarioFile) from None
    if horizon is not None and horizon[1] < horizon[0]:
        raise ScenarioError(origin, "scenario.end_date", f"{horizon[1]} is before start_date {horizon[0]}; accepted: "
                                                         "a date on or after the start date")
    if raw.get("behaviour"):
        try:
            behaviour_model().model_validate(raw["behaviour"], context=context)
        except ValidationError as exc:
            raise scenario_error(origin, exc, behaviour_model(), ("behaviour",)) from None
    registry = tool_kinds.kinds()
    for name, table in (raw.get("tools") or {}).items():
        kind = table.get("kind")
        if not isinstance(kind, str) or kind not in registry:
            raise ScenarioError(origin, f"tools.{name}.kind",
                                ("missing required field" if kind is None else
                                 f"{_show(kind)} is not a tool kind{_suggest(kind, registry)}")
                                + f"; accepted: {', '.join(registry)}")
        model = tool_model(kind)
        try:
            model.model_validate(table, context=context)
        except ValidationError as exc:
            raise scenario_error(origin, exc, model, ("tools", name)) from None


# ------------------------------------------------------------------ reading files


def read_toml(path: str | Path, origin: str | None = None) -> dict[str, Any]:
    """A TOML file as a dict, read as UTF-8 within the size and nesting limits.

    Raises:
        ScenarioError: naming ``origin`` (default: the path): missing, a folder, too large, not UTF-8,
            not TOML, or nested too deeply.
    """
    import tomllib

    from model.scenario import ScenarioError

    path = Path(path)
    origin = str(path) if origin is None else origin
    if path.is_dir():
        raise ScenarioError(origin, "(file)", f"{path} is a folder; accepted: a TOML file")
    if not path.is_file():
        raise ScenarioError(origin, "(file)", f"no such file {path}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(origin, "(file)", f"{size:,} bytes; accepted: a TOML file of at most "
                                                  f"{MAX_FILE_BYTES:,} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(origin, "(file)", f"cannot read it ({exc.strerror or exc})") from None
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ScenarioError(origin, "(file)", f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line}; "
                                              "accepted: a file saved as UTF-8") from None
    try:
        return tomllib.loads(content.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(origin, "(file)", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(origin, "(file)", f"tables or arrays nested too deeply; accepted: at most {MAX_DEPTH} "
                                              "levels") from None


# ------------------------------------------------------------------ JSON Schema


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario files, with every tool kind and behaviour parameter."""
    from model import tools as tool_kinds

    schema = ScenarioFile.model_json_schema()
    defs = schema.setdefault("$defs", {})

    def merge(sub: dict[str, Any]) -> dict[str, Any]:
        defs.update(sub.pop("$defs", {}))
        return sub

    behaviour = merge(behaviour_model().model_json_schema())
    schema["properties"]["behaviour"] = behaviour
    kinds = []
    for name in tool_kinds.kinds():
        model = tool_model(name)
        sub = merge(model.model_json_schema())
        defs[model.__name__] = sub
        kinds.append({"$ref": f"#/$defs/{model.__name__}"})
    schema["properties"]["tools"] = {"type": "object", "description": "policy tools by name; kind chooses the table's "
                                                                      "fields", "additionalProperties": {"oneOf": kinds}}
    schema["properties"]["variants"] = {
        "type": "object", "description": "[variants.NAME]: \"dotted.field.path\" = value overrides of this file",
        "additionalProperties": {"type": "object"}}
    for model in _referenced_models((ScenarioFile, behaviour_model(), *map(tool_model, tool_kinds.kinds()))):
        defs[model.__name__] = merge(model.model_json_schema())
    schema = _resolve_placeholders(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Consumption-policy simulator scenario"
    return schema


def _resolve_placeholders(node: Any) -> Any:
    """Replace ``{"x-model": NAME}`` by ``{"$ref": "#/$defs/NAME"}`` throughout a schema."""
    if isinstance(node, dict):
        if set(node) == {"x-model"}:
            return {"$ref": f"#/$defs/{node['x-model']}"}
        return {k: _resolve_placeholders(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_placeholders(v) for v in node]
    return node


def _referenced_models(roots) -> list[type[BaseModel]]:
    """Models that sourced tables refer to by name (``_Defs``), found through every field of ``roots``."""
    seen: dict[str, type[BaseModel]] = {}
    stack = list(roots)
    while stack:
        model = stack.pop()
        for info in model.model_fields.values():
            inner = _inner_model(info)
            if inner is None:
                continue
            marked = any(isinstance(m, _Defs) for m in info.metadata) or any(
                isinstance(m, _Defs) for t in typing.get_args(info.annotation) for m in getattr(t, "__metadata__", ()))
            if marked and inner.__name__ not in seen:
                seen[inner.__name__] = inner
            stack.append(inner)
    return list(seen.values())


def schema_text() -> str:
    """The shipped schema file's text."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # python -m model.scenario_schema: rewrite scenarios/scenario.schema.json
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
