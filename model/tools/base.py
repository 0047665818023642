"""What every policy tool kind declares, and how a tool's settings are read from a scenario.

A tool kind is one module in ``model/tools/`` holding a ``TOOL_KIND = ToolKind(...)``:

* **settings**: a frozen dataclass derived from ``Tool`` whose own fields are declared with
  ``setting(...)``: type (the annotation), unit, default (written once, here), valid range or
  choices, and a description. ``read_tool`` reads and validates them from a scenario table and
  ``settings_schema`` turns the declarations into a JSON Schema a strict validator can use;
* **effect**: a ``ToolEffect`` subclass built once per run, whose methods the economy calls in
  its daily order (``before_spending``, ``after_flow_spending``, ``end_of_day``) and the
  behaviour rules consult (night-economy offers, durable-purchase subsidies, visitor support);
* **accounting**: the effect pays from its ``GovernmentFund`` and books the sales it supports;
  ``account_problems`` adds the kind's own stock-flow identities, ``summary`` its own figures;
* **labels** in Chinese and English, and the **controls** the dashboard offers.

Pieces several kinds share are methods of ``ToolEffect``: paying the vouchers used today, booking supported
sales, and booking induced purchases with the part pulled forward from the following ``pull_forward_days``
(behaviour parameters in ``model/parameters/behaviour.toml``).

Nothing outside ``model/tools/`` names a kind: the registry (``model/tools/__init__.py``) finds
the modules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np

from model.sectors import FLOW_SECTORS, FUNDING_LEVELS, SECTOR_INDEX, SECTORS

if TYPE_CHECKING:  # pragma: no cover
    from model.government import GovernmentFund

#: Marks a setting the scenario must give.
REQUIRED: Any = dataclasses.MISSING


def setting(default: Any = REQUIRED, *, unit: str, description: str, minimum: float | None = None,
            maximum: float | None = None, exclusive_minimum: bool = False, choices: tuple[str, ...] | None = None,
            names: str | None = None, derived_default: str | None = None, read_by_kind: bool = False,
            schema: dict[str, Any] | None = None) -> Any:
    """Declare one setting of a tool kind (a dataclass field with the metadata the reader and schema use).

    Args:
        default: the value when the scenario leaves the field out (``REQUIRED``: it must be given).
        unit: unit of the value ('yuan', 'share', 'days', 'count', ...; '' for names and flags).
        description: what the field means, one sentence.
        minimum, maximum: valid range (inclusive unless ``exclusive_minimum``).
        choices: accepted texts of a text field.
        names: for a list of names, what they must name: 'sectors' or 'districts' (of the city).
        derived_default: when the default depends on other fields, how (the kind's ``derive`` computes it).
        read_by_kind: a structured setting the kind's ``validate`` reads itself (e.g. voucher release batches).
        schema: the JSON Schema of a structured setting.
    """
    metadata = {"unit": unit, "description": description, "minimum": minimum, "maximum": maximum,
                "exclusive_minimum": exclusive_minimum, "choices": choices, "names": names,
                "derived_default": derived_default, "read_by_kind": read_by_kind, "schema": schema}
    if default is REQUIRED and derived_default is None:
        return field(metadata=metadata)
    return field(default=None if default is REQUIRED else default, metadata=metadata)


@dataclass(frozen=True, kw_only=True)
class Tool:
    """What every policy tool has: dates, a budget and who funds it.

    Attributes:
        name: identifier (the table name in the file).
        kind: the ``kind = "..."`` of the file, a name in the registry.
        start: first day the tool acts.
        end: last day the tool acts.
        budget_yuan: the pool's total (yuan).
        funding_shares: share of the budget from each funding level (sums to 1).
        tranches: (release date, yuan) of each tranche the budget is released in, summing to the budget;
            empty: all of it at the start (pacing, ``model/government.py``).
        carry_over_unspent: with tranches, whether what a tranche leaves unspent stays available after the
            next release (false: it lapses, a yearly pool).
        per_merchant_cap_yuan: the most any one merchant receives from the pool over the programme, or None.
    """

    name: str
    kind: str
    start: dt.date
    end: dt.date
    budget_yuan: float
    funding_shares: dict[str, float]
    tranches: tuple[tuple[dt.date, float], ...] = ()
    carry_over_unspent: bool = True
    per_merchant_cap_yuan: float | None = None

    #: Whether the kind's payments to merchants name each merchant, so ``per_merchant_cap_yuan`` can apply.
    pays_identified_merchants: ClassVar[bool] = False

    #: Durable goods sectors whose purchases the tool subsidises (the evidence studies of car subsidies use it).
    subsidised_durables: ClassVar[tuple[str, ...]] = ()
    #: Whether the tool hands households vouchers with a ``face_value_yuan`` (the evidence studies of vouchers
    #: measure these; the tool's vouchers are usable until ``last_effect_date``).
    household_vouchers: ClassVar[bool] = False

    @property
    def last_effect_date(self) -> dt.date:
        """The last day anything the tool handed out can still be used (its end date unless it says otherwise)."""
        return self.end


#: Fields every tool has (read by ``read_tool`` itself), and file keys that are notes, not settings.
#: ``title`` and ``title_en`` name the tool in reports (see model.scenario.TITLE_KEYS); they change nothing in a run.
COMMON_FILE_KEYS = ("kind", "start_date", "end_date", "budget_yuan", "funding_shares", "description", "source",
                    "title", "title_en", "tranches", "carry_over_unspent", "per_merchant_cap_yuan")


def own_fields(settings: type[Tool]) -> list[dataclasses.Field]:
    """The settings a kind adds to the common ones, in declaration order."""
    common = {f.name for f in dataclasses.fields(Tool)}
    return [f for f in dataclasses.fields(settings) if f.name not in common]


class ToolEffect:
    """What one tool does in one run. A kind overrides the calls that concern it; the others do nothing.

    The economy calls ``before_spending``, ``after_flow_spending`` and ``end_of_day`` in its daily
    order; the behaviour rules ask every tool for what it offers them (``night_offer``,
    ``subsidises`` and ``durable_discounts``, ``visitor_support``) and tell it of purchases
    (``on_durable_purchase``).

    Attributes:
        tool: the tool's settings.
        model: the run (a ``CityEconomy``).
        fund: the tool's budget pool.
    """

    def __init__(self, tool: Tool, model):
        self.tool = tool
        self.model = model
        self.fund: GovernmentFund = model.funds[tool.name]

    @property
    def name(self) -> str:
        return self.tool.name

    def acts_on(self, day: int) -> bool:
        """Whether ``day`` is within the tool's dates."""
        return self.tool.start <= self.model.date(day) <= self.tool.end

    # ------------------------------------------------------------ the economy's daily order
    def before_spending(self, day: int) -> None:
        """Before households spend (e.g. vouchers released today are claimed)."""

    def after_flow_spending(self, day: int, flow_multipliers: np.ndarray) -> None:
        """After the day's flow spending is booked (e.g. voucher holders transact)."""

    def end_of_day(self, day: int) -> None:
        """At the end of the day (e.g. vouchers expire, end-of-programme rewards)."""

    # ------------------------------------------------------------ offers to behaviour rules
    def night_offer(self, day: int, merchant_sector: np.ndarray, merchant_area_m2: np.ndarray):
        """Support for merchants opening late tonight (``rules.night_economy.NightOffer``), or None."""
        return None

    def settle_night(self, day: int, offer, open_tonight: np.ndarray, night_spending: np.ndarray,
                     total_night_yuan: float, qualifying_share: float, revenue_share: np.ndarray) -> float:
        """Pay tonight's night support (called only for a tool that made an offer); return the share of
        tonight's night sales it paid for (``revenue_share``: each merchant's share of tonight's night sales)."""
        return 0.0

    def subsidises(self, durable: str, day: int) -> bool:
        """Whether the tool takes claims on purchases of ``durable`` today."""
        return False

    def scraps_old_item(self, durable: str) -> bool:
        """Whether a buyer paid by this tool scraps its old ``durable`` to claim (and so gets the recycler's
        price for it rather than its used-market value)."""
        return False

    def durable_discounts(self, durable: str, price_yuan: float, owned: np.ndarray, age_years: np.ndarray,
                          eligibility_draw: np.ndarray, candidates=None) -> tuple[np.ndarray, np.ndarray]:
        """(government, merchant) discount per candidate buyer (yuan), for a tool that ``subsidises`` today.

        ``candidates`` (``model.rules.durables.DurableCandidates``) adds the rows, used-market values and
        rural flags of the same candidates.
        """
        raise NotImplementedError

    def on_durable_purchase(self, durable: str, day: int, buyers: np.ndarray, price_yuan: float,
                            counted: np.ndarray) -> None:
        """Households ``buyers`` bought a ``durable`` today at ``price_yuan``.

        ``counted`` marks the buyers whose purchase is already in the scenario's supported sales
        (``DailyBooks.supported_any``); a tool that also pays for one marks it, so each counts once.
        """

    def visitor_support(self, day: int, visits: float, spend_per_visit_yuan: float) -> float:
        """Extra visits today the tool brings, given today's ``visits`` without it (it pays and books its own part)."""
        return 0.0

    # ------------------------------------------------------------ shared by kinds that hand out vouchers
    def pay_vouchers_used(self, day: int, handed: float, used: float, face_value_yuan: float) -> tuple[float, float]:
        """Reimburse the ``used`` vouchers of the ``handed`` today from the pool and count them.

        When the pool can pay only part, the day's vouchers are cut in proportion; returns the (handed, used)
        vouchers it paid for, (0, 0) when it paid nothing (then nothing is counted).
        """
        paid = self.fund.pay(used * face_value_yuan, "merchant", day)
        if paid <= 0:
            return 0.0, 0.0
        handed *= paid / (used * face_value_yuan)
        used = paid / face_value_yuan
        counts = self.model.books.voucher_counts(self.tool.name)
        counts.issued[day] += handed
        counts.redeemed[day] += used
        counts.expired[day] += handed - used
        return handed, used

    def book_supported(self, day: int, retail_yuan: dict[str, float], non_retail_yuan: float = 0.0) -> None:
        """Book sales the tool paid for: 社零 by sector (the tool's and the scenario's), and lodging, tickets or
        other services apart (never in 社零 figures)."""
        books = self.model.books
        for sector, amount in retail_yuan.items():
            books.supported(self.tool.name)[day, SECTOR_INDEX[sector]] += amount
            books.supported_any[day, SECTOR_INDEX[sector]] += amount
        books.supported_non_retail[self.tool.name] = books.supported_non_retail.get(self.tool.name, 0.0) + non_retail_yuan

    def book_induced_purchases(self, day: int, sectors: list[str], induced: np.ndarray, pull_share: np.ndarray) -> float:
        """Book households' extra purchases (cells x ``sectors``, yuan) today, in shops, and schedule the part
        ``pull_share`` (by sector) pulled forward as missing from their purchases over ``pull_forward_days``;
        returns what was scheduled missing."""
        model = self.model
        n = induced.shape[0]
        cells = np.arange(n)
        for j, sector in enumerate(sectors):
            if induced[:, j].sum() > 0:
                idx = SECTOR_INDEX[sector]
                model.books.book_sales(day, cells, idx, np.zeros(n, dtype=bool), model.above_quota_share[idx],
                                       induced[:, j])
        pulled = induced * pull_share[None, :]
        if pulled.sum() > 0:
            later = np.zeros((n, len(FLOW_SECTORS)))
            later[:, [FLOW_SECTORS.index(s) for s in sectors]] = -pulled
            model.deferred.schedule(day + 1, int(model.params.pull_forward_days), cells, later)
        return float(pulled.sum())

    def handed_vouchers_problems(self) -> list[str]:
        """Vouchers handed out on a day and not used that day lapse: issued = redeemed + expired, none outstanding."""
        counts = self.model.books.vouchers.get(self.tool.name)
        if counts is None:
            return []
        issued, used, lapsed = float(counts.issued.sum()), float(counts.redeemed.sum()), float(counts.expired.sum())
        if abs(issued - used - lapsed) > 1e-9 * max(issued, 1.0) or float(np.abs(counts.outstanding).sum()) > 0:
            return [f"tool {self.tool.name}: vouchers issued {issued:,.2f} != redeemed {used:,.2f} + lapsed {lapsed:,.2f}"
                    f" (none outstanding)"]
        return []

    # ------------------------------------------------------------ accounting and reporting
    def account_problems(self) -> list[str]:
        """The kind's own identities that fail at the end of the run (empty when all hold)."""
        return []

    def summary(self, entry: dict[str, Any]) -> None:
        """Add the kind's own figures to the tool's entry in the run summary."""


@dataclass(frozen=True)
class ControlSpec:
    """A field the dashboard offers for a tool kind, with its label and accepted range.

    Attributes:
        field: the tool field's name in the scenario file.
        label_zh: Chinese label.
        label_en: English label (with unit).
        minimum: smallest accepted value.
        maximum: largest accepted value when the file's own value is smaller; for budgets, a floor
            under a multiple of the file's value.
        exclusive_minimum: the minimum itself is refused (a face value of 0 is no voucher).
        always: shown even when the file does not give the field (its default then applies).
        unless_given: shown when the file gives none of these fields (an alternative of them).
    """

    field: str
    label_zh: str
    label_en: str
    minimum: float
    maximum: float
    exclusive_minimum: bool = False
    always: bool = False
    unless_given: tuple[str, ...] = ()

    def shown_for(self, table: dict[str, Any]) -> bool:
        """Whether a tool given by ``table`` (its file entries) shows this control."""
        return (self.always or self.field in table
                or (bool(self.unless_given) and not any(f in table for f in self.unless_given)))


#: A budget may be raised on the dashboard to this multiple of the file's (or to BUDGET_FLOOR_YUAN).
BUDGET_CONTROL = ControlSpec("budget_yuan", "预算", "budget (yuan)", 0.0, 10_000_000.0, always=True)


@dataclass(frozen=True)
class ToolContext:
    """What reading a tool may depend on besides its own table.

    Attributes:
        start, end: the scenario's horizon.
        city: the scenario's ``City``.
    """

    start: dt.date
    end: dt.date
    city: Any


@dataclass(frozen=True)
class ToolKind:
    """One tool kind: everything the model, the reader, the reports and the dashboard need to know of it.

    Attributes:
        name: the ``kind = "..."`` of scenario files.
        settings: the settings dataclass (a ``Tool`` subclass with ``setting`` fields).
        effect: builds the run's ``ToolEffect`` from the settings and the model.
        label_zh: name in Chinese, for tables and charts.
        label_en: name in English.
        summary: one line on what the tool does (for the format and the schema).
        controls: the fields the dashboard offers, in display order.
        derive: the default of a setting declared with ``derived_default``:
            ``derive(field_name, values, common)``, from the settings read before it and the common fields.
        validate: cross-field checks: ``validate(values, reader, table, path, common, context)``, raising
            ``reader.fail(...)``; may also read file keys listed in ``extra_file_keys`` into ``values``.
        extra_file_keys: file keys that are read into other fields (``release_every_days``).
    """

    name: str
    settings: type[Tool]
    effect: Callable[[Tool, Any], ToolEffect]
    label_zh: str
    label_en: str
    summary: str = ""
    controls: tuple[ControlSpec, ...] = (BUDGET_CONTROL,)
    derive: Callable[[str, dict[str, Any], dict[str, Any]], Any] | None = None
    validate: Callable[..., None] | None = None
    extra_file_keys: tuple[str, ...] = ()

    def settings_fields(self) -> list[dataclasses.Field]:
        """The kind's own settings, in declaration order."""
        return own_fields(self.settings)


# ------------------------------------------------------------------ shared by kinds with a quantity of vouchers


def quantity_from_budget(field_name: str, values: dict[str, Any], common: dict[str, Any]) -> int:
    """Derived default of ``quantity``: the budget ÷ the face value, rounded down (none when the face value is 0)."""
    face = values["face_value_yuan"]
    return int(common["budget_yuan"] // face) if face > 0 else 0


def check_quantity_within_budget(values: dict[str, Any], r, path: str, common: dict[str, Any], noun: str) -> None:
    """Refuse a ``quantity`` of ``noun`` (vouchers, coupons) whose face value exceeds the budget."""
    face, quantity, budget = values["face_value_yuan"], values["quantity"], common["budget_yuan"]
    if quantity * face > budget * (1 + 1e-9):
        raise r.fail(f"{path}.quantity", f"{quantity} {noun} of {face:g} yuan exceed the budget {budget:,.0f}")


# ------------------------------------------------------------------ reading a tool


def _field_type(settings: type[Tool], name: str) -> Any:
    return typing.get_type_hints(settings)[name]


def read_funding(r, t: dict, path: str) -> dict[str, float]:
    """The tool's ``funding_shares`` (city alone when not given), validated."""
    raw = t.get("funding_shares", {"city": 1.0})
    if isinstance(raw, dict) and "value" in raw:
        raw = r._unwrap(raw, f"{path}.funding_shares")
    if not isinstance(raw, dict) or not raw:
        raise r.fail(f"{path}.funding_shares", f"expected a table of shares keyed by {', '.join(FUNDING_LEVELS)}")
    if "funding_shares" not in t:
        r.provenance[f"{path}.funding_shares"] = "assumption: the plan names no split, so the city funds it all"
    shares = {}
    for k in raw:
        if k not in FUNDING_LEVELS:
            raise r.fail(f"{path}.funding_shares.{k}", f"unknown funding level; expected one of {', '.join(FUNDING_LEVELS)}")
        shares[k] = r.number(raw, k, f"{path}.funding_shares", minimum=0, maximum=1)
        if f"{path}.funding_shares" in r.provenance:
            r.provenance.setdefault(f"{path}.funding_shares.{k}", r.provenance[f"{path}.funding_shares"])
    total = sum(shares.values())
    if abs(total - 1) > 1e-6:
        raise r.fail(f"{path}.funding_shares", f"shares must sum to 1, got {total:.6f}")
    return shares


def read_setting(r, kind: ToolKind, f: dataclasses.Field, t: dict, path: str, context: ToolContext) -> Any:
    """Read one declared setting from the tool's table, with its default, type and range."""
    meta = f.metadata
    typ = _field_type(kind.settings, f.name)
    default = ... if f.default is dataclasses.MISSING else f.default
    if meta["derived_default"] is not None:
        default = None  # filled in by the kind's derive
    if typ is bool:
        if default is ...:
            default = False
        return r.boolean(t, f.name, path, default)
    if typ is str:
        return r.string(t, f.name, path, default=default, choices=meta["choices"])
    if typ == tuple[str, ...]:
        allowed = None
        if meta["names"] == "sectors":
            allowed = SECTORS
        elif meta["names"] == "districts":
            allowed = tuple(d.name for d in context.city.districts)
        return r.name_list(t, f.name, path, allowed, default=() if default is ... else default)
    integer = typ is int or typ == (int | None)
    return r.number(t, f.name, path, default=default, minimum=meta["minimum"], maximum=meta["maximum"],
                    integer=integer, exclusive_minimum=meta["exclusive_minimum"])


def read_settings(r, kind: ToolKind, t: dict, path: str, common: dict[str, Any], context: ToolContext) -> Tool:
    """Read a tool of ``kind`` from its table: declared settings, derived defaults, cross-field checks."""
    values: dict[str, Any] = {}
    for f in kind.settings_fields():
        if f.metadata["read_by_kind"]:
            continue
        values[f.name] = read_setting(r, kind, f, t, path, context)
        if values[f.name] is None and f.metadata["derived_default"] is not None:
            values[f.name] = kind.derive(f.name, values, common)
    if common.get("per_merchant_cap_yuan") is not None and not kind.settings.pays_identified_merchants:
        raise r.fail(f"{path}.per_merchant_cap_yuan", f"kind {kind.name} pays no identified merchant, so a per-merchant "
                     "cap cannot apply; accepted for kinds that pay named merchants (night_market, car_subsidy)")
    if kind.validate is not None:
        kind.validate(values, r, t, path, common, context)
    return kind.settings(**common, **values)


def read_common(r, name: str, kind: str, t: dict, context: ToolContext) -> dict[str, Any]:
    """The fields every tool has, validated against the scenario's horizon."""
    path = f"tools.{name}"
    tstart = r.date(t, "start_date", path)
    tend = r.date(t, "end_date", path)
    for key, d in (("start_date", tstart), ("end_date", tend)):
        if not context.start <= d <= context.end:
            raise r.fail(f"{path}.{key}", f"{d} is outside the scenario horizon {context.start} to {context.end}")
    if tend < tstart:
        raise r.fail(f"{path}.end_date", f"{tend} is before start_date {tstart}")
    budget = r.number(t, "budget_yuan", path, minimum=0)
    return dict(name=name, kind=kind, start=tstart, end=tend, budget_yuan=budget,
                funding_shares=read_funding(r, t, path), **read_pacing(r, t, path, budget, tend))


def read_pacing(r, t: dict, path: str, budget: float, end: dt.date) -> dict[str, Any]:
    """The tool's pacing: ``tranches`` [{release_date, amount_yuan}], ``carry_over_unspent``, ``per_merchant_cap_yuan``."""
    tranches = []
    for entry, epath in r.tables(t.get("tranches", []), f"{path}.tranches", "[[tools.NAME.tranches]]", allow_empty=True):
        when = r.date(entry, "release_date", epath)
        if not when <= end:
            raise r.fail(f"{epath}.release_date", f"{when} is after the tool's end_date {end}")
        if tranches and when <= tranches[-1][0]:
            raise r.fail(f"{epath}.release_date", f"{when} is not after the previous tranche's {tranches[-1][0]}; "
                         "accepted: release dates in increasing order")
        tranches.append((when, r.number(entry, "amount_yuan", epath, minimum=0)))
    if tranches:
        total = sum(a for _, a in tranches)
        if abs(total - budget) > 1e-6 * max(budget, 1.0):
            raise r.fail(f"{path}.tranches", f"tranches sum to {total:,.2f} yuan but budget_yuan is {budget:,.2f}; "
                         "accepted: amounts summing to the budget")
    carry = r.boolean(t, "carry_over_unspent", path, True)
    if "carry_over_unspent" in t and not tranches:
        raise r.fail(f"{path}.carry_over_unspent", "only means something with tranches; accepted with [[...tranches]]")
    cap = r.number(t, "per_merchant_cap_yuan", path, default=None, minimum=0, exclusive_minimum=True)
    return dict(tranches=tuple(tranches), carry_over_unspent=carry, per_merchant_cap_yuan=cap)


# ------------------------------------------------------------------ schema


def _schema_type(typ: Any) -> dict[str, Any]:
    if typ is bool:
        return {"type": "boolean"}
    if typ is str:
        return {"type": "string"}
    if typ == tuple[str, ...]:
        return {"type": "array", "items": {"type": "string"}}
    if typ is int:
        return {"type": "integer"}
    if typ == (int | None):
        return {"type": "integer"}
    return {"type": "number"}


def sourced(schema: dict[str, Any]) -> dict[str, Any]:
    """A value schema that also accepts the labelled form ``{ value = ..., source|derived|assumption = "..." }``."""
    return {"anyOf": [schema, {"type": "object", "required": ["value"],
                               "properties": {"value": schema, "source": {"type": "string"},
                                              "derived": {"type": "string"}, "assumption": {"type": "string"}, "unit": {"type": "string"},
                                              "description": {"type": "string"}, "note": {"type": "string"},
                                              "estimate": {}},
                               "additionalProperties": False}]}


def settings_schema(kind: ToolKind) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a ``[tools.NAME]`` table of this kind, from the declared settings.

    Numbers may be bare or sourced. Cross-field rules (``validate``) are not expressible here and are
    listed in ``description``.
    """
    properties: dict[str, Any] = {
        "kind": {"const": kind.name},
        "start_date": sourced({"type": "string", "format": "date", "description": "first day the tool acts"}),
        "end_date": sourced({"type": "string", "format": "date", "description": "last day the tool acts"}),
        "budget_yuan": sourced({"type": "number", "minimum": 0, "description": "the pool's total", "x-unit": "yuan"}),
        "funding_shares": sourced({"type": "object", "propertyNames": {"enum": list(FUNDING_LEVELS)}, "minProperties": 1,
                                   "additionalProperties": sourced({"type": "number", "minimum": 0, "maximum": 1}),
                                   "description": "share of the budget from each funding level, summing to 1"}),
        "description": {"type": "string"},
        "source": {"type": "string"},
        "title": {"type": "string", "description": "the tool's name in Chinese, as reports print it"},
        "title_en": {"type": "string", "description": "the tool's name in English"},
        "tranches": {"type": "array", "description": "the budget released in tranches (summing to budget_yuan); "
                     "absent: all at the start", "items": {
                         "type": "object", "required": ["release_date", "amount_yuan"], "additionalProperties": False,
                         "properties": {"release_date": sourced({"type": "string", "format": "date"}),
                                        "amount_yuan": sourced({"type": "number", "minimum": 0, "x-unit": "yuan"})}}},
        "carry_over_unspent": {"type": "boolean", "default": True, "description": "with tranches: what a tranche "
                               "leaves unspent stays available (false: it lapses at the next release)"},
        "per_merchant_cap_yuan": sourced({"type": "number", "exclusiveMinimum": 0, "x-unit": "yuan",
                                          "description": "the most one merchant receives from the pool"}),
    }
    required = ["kind", "start_date", "end_date", "budget_yuan"]
    for f in kind.settings_fields():
        meta = f.metadata
        item = dict(meta["schema"]) if meta["schema"] else _schema_type(_field_type(kind.settings, f.name))
        item["description"] = meta["description"]
        item["x-unit"] = meta["unit"]
        if meta["minimum"] is not None:
            item["exclusiveMinimum" if meta["exclusive_minimum"] else "minimum"] = meta["minimum"]
        if meta["maximum"] is not None:
            item["maximum"] = meta["maximum"]
        if meta["choices"] is not None:
            item["enum"] = list(meta["choices"])
        if meta["derived_default"] is not None:
            item["x-default"] = meta["derived_default"]
        elif f.default is dataclasses.MISSING:
            required.append(f.name)
        elif meta["read_by_kind"]:
            pass
        else:
            default = f.default
            item["default"] = list(default) if isinstance(default, tuple) else default
        properties[f.name] = sourced(item) if item.get("type") in ("number", "integer") else item
    for key in kind.extra_file_keys:
        properties.setdefault(key, {"description": "read into other settings by the kind (see FORMAT.md)"})
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": f"tool kind {kind.name}",
            "description": kind.summary, "type": "object", "properties": properties, "required": required,
            "additionalProperties": False}
