"""Behaviour parameters shared by every city, read from documented parameter files.

``behaviour.toml`` holds the household, merchant and visitor behaviour that one
set of values serves for all cities; ``national_defaults.toml`` holds national
statistics used where a city scenario gives none. Every entry carries a value,
unit, period, description and a ``reference`` or an ``assumption``; the files
read as their own documentation. ``BehaviourParameters`` is the typed view the
model uses.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

PARAMETER_DIR = Path(__file__).resolve().parent
BEHAVIOUR_FILE = PARAMETER_DIR / "behaviour.toml"
NATIONAL_DEFAULTS_FILE = PARAMETER_DIR / "national_defaults.toml"


@dataclass(frozen=True)
class ValidRange:
    """Where a parameter keeps its meaning and the model's rules hold (inclusive bounds).

    Attributes:
        min: lowest accepted value.
        max: highest accepted value.
        reason: why these bounds.
    """

    min: float
    max: float
    reason: str

    def contains(self, value: float) -> bool:
        return self.min <= value <= self.max


class ParameterRangeError(ValueError):
    """A behaviour value outside its documented valid range.

    Attributes:
        path: ``name`` or ``name.key``.
        reason: the value, the accepted range and why, in one sentence.
    """

    def __init__(self, path: str, reason: str):
        super().__init__(f"behaviour.{path}: {reason}")
        self.path = path
        self.reason = reason


def _read_range(path: Path, name: str, entry: dict[str, Any]) -> ValidRange:
    raw = entry.get("valid_range")
    if not isinstance(raw, dict) or set(raw) != {"min", "max", "reason"}:
        raise ValueError(f"{path}: parameter '{name}' needs valid_range = {{ min = ..., max = ..., reason = \"...\" }}")
    lo, hi, why = raw["min"], raw["max"], raw["reason"]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (lo, hi)) or not lo < hi:
        raise ValueError(f"{path}: parameter '{name}': valid_range needs numbers with min < max, got {lo!r}, {hi!r}")
    if not str(why).strip():
        raise ValueError(f"{path}: parameter '{name}': valid_range needs a reason")
    valid = ValidRange(float(lo), float(hi), str(why))
    values = entry["value"].items() if isinstance(entry["value"], dict) else [(None, entry["value"])]
    for key, v in values:
        if not valid.contains(v):
            where = f"{name}.{key}" if key else name
            raise ValueError(f"{path}: the documented value of {where} ({v}) is outside its valid_range [{lo}, {hi}]")
    return valid


def read_parameter_file(path: Path, *, require_range: bool = False) -> dict[str, dict[str, Any]]:
    """Read a documented parameter file into ``{name: entry}``.

    With ``require_range`` every entry needs a ``valid_range`` holding its value.

    Raises:
        ValueError: an entry lacks a value, unit, description, or both a
            reference and an assumption, or (``require_range``) a valid range.
    """
    with open(path, "rb") as handle:
        entries = tomllib.load(handle)
    for name, entry in entries.items():
        missing = [k for k in ("value", "unit", "description") if k not in entry]
        if missing:
            raise ValueError(f"{path}: parameter '{name}' lacks {', '.join(missing)}")
        if "reference" not in entry and "assumption" not in entry:
            raise ValueError(f"{path}: parameter '{name}' has neither a reference nor an assumption")
        if require_range:
            entry["valid_range"] = _read_range(path, name, entry)
    return entries


@dataclass(frozen=True)
class BehaviourParameters:
    """Household, merchant and visitor behaviour, one set for every city.

    Field meanings, units and sources are in ``behaviour.toml``; defaults come
    from there (see ``default``), so this class only fixes names and types.

    Attributes:
        windfall_mpc_max: MPC out of a windfall at zero liquid savings.
        windfall_mpc_min: MPC out of a windfall with ample savings.
        windfall_mpc_savings_scale_months: savings (months of income) scale of the MPC decline.
        windfall_spending_days: days over which spent windfalls are spread.
        voucher_claim_interest: probability an eligible, able household tries to claim per batch.
        voucher_platform_share: share of payments made through the platform app vouchers are issued on.
        topup_value_share: value per yuan of goods bought only to reach a threshold.
        voucher_attention_per_day: probability a holder without a planned trip considers a voucher trip.
        voucher_loss_aversion: weight on face value on the last day of validity.
        voucher_trip_cost_yuan: cost of a trip made only to use a voucher, besides the goods.
        voucher_earmark_share: share of a voucher's saving spent in its category in the same basket.
        large_merchant_basket_elasticity: log-odds of a large merchant per log of basket size.
        pull_forward_share: by sector, share of induced spending taken from later spending.
        pull_forward_days: days over which pulled-forward spending is paid back.
        ticket_mean_yuan: by sector, mean transaction size.
        ticket_sigma: log spread of transaction sizes.
        common_daily_shock_sigma: city-wide daily demand shock.
        car_weibull_shape, car_weibull_scale_years: car replacement hazard.
        car_first_purchase_hazard_per_year, car_first_purchase_income_elasticity,
            car_first_purchase_reference_income_yuan_month: first purchases.
        car_price_yuan, car_down_payment_share: car price and liquidity requirement.
        durable_timing_elasticity: by durable sector, purchase-rate response to net price when in the market.
        durable_shopping_days: by durable sector, mean delay from decision to purchase.
        durable_saving_wait_days: by durable sector, how long after entering the market a household ready to buy
            but unable to pay the cash part keeps trying before it drops the purchase.
        durable_entry_elasticity: by durable sector, response of the rate planned purchases are brought forward
            to the net price.
        durable_planning_horizon_days: by durable sector, how far ahead purchases are planned (the stock a
            subsidy or windfall can bring forward).
        durable_subsidy_take_up: by durable sector, share of eligible buyers who claim a subsidy.
        windfall_durable_pull_intensity: how strongly a cash windfall brings planned purchases forward.
        used_car_depreciation_per_year, used_car_value_sigma, car_scrap_value_yuan: scrap-or-sell choice.
        appliance_items_per_household, appliance_weibull_shape, appliance_weibull_scale_years,
            appliance_price_yuan: appliance stock and replacement.
        online_share, online_share_growth_per_year: purchase channel.
        digital_access, elderly_head_share: who can use app vouchers.
        income_gini, consumption_income_elasticity, savings_months_median, savings_months_sigma,
            durable_share_of_consumption, savings_buffer_adjustment_per_month: household finances.
        merchant_gross_margin, voucher_admin_cost_yuan, voucher_expected_leverage: merchant opt-in.
        night_late_cost_yuan, night_late_cost_sigma, night_variety_elasticity,
            night_new_spending_share, night_discount_price_elasticity,
            night_expectation_weight: night economy.
        tourism_voucher_inflow_elasticity, tourism_voucher_redemption_rate: visitors (and residents' local trips).
        resident_trip_displaced_share: residents' local trips.
        service_voucher_price_elasticity, service_voucher_redemption_rate: service (sports) vouchers.
        promotion_price_elasticity: by sector, purchases' response to a firm-paid promotion.
    """

    windfall_mpc_max: float
    windfall_mpc_min: float
    windfall_mpc_savings_scale_months: float
    windfall_spending_days: int
    voucher_claim_interest: float
    voucher_platform_share: float
    topup_value_share: float
    voucher_attention_per_day: float
    voucher_loss_aversion: float
    voucher_trip_cost_yuan: float
    voucher_earmark_share: float
    large_merchant_basket_elasticity: float
    pull_forward_share: dict[str, float]
    pull_forward_days: int
    ticket_mean_yuan: dict[str, float]
    ticket_sigma: float
    common_daily_shock_sigma: float
    car_weibull_shape: float
    car_weibull_scale_years: float
    car_first_purchase_hazard_per_year: float
    car_first_purchase_income_elasticity: float
    car_first_purchase_reference_income_yuan_month: float
    car_price_yuan: float
    car_down_payment_share: float
    durable_timing_elasticity: dict[str, float]
    durable_shopping_days: dict[str, float]
    durable_saving_wait_days: dict[str, float]
    durable_entry_elasticity: dict[str, float]
    durable_planning_horizon_days: dict[str, float]
    durable_subsidy_take_up: dict[str, float]
    windfall_durable_pull_intensity: float
    used_car_depreciation_per_year: float
    used_car_value_sigma: float
    car_scrap_value_yuan: float
    appliance_items_per_household: int
    appliance_weibull_shape: float
    appliance_weibull_scale_years: float
    appliance_price_yuan: float
    online_share: dict[str, float]
    online_share_growth_per_year: float
    digital_access: dict[str, float]
    elderly_head_share: dict[str, float]
    income_gini: dict[str, float]
    consumption_income_elasticity: float
    savings_months_median: float
    savings_months_sigma: float
    durable_share_of_consumption: float
    savings_buffer_adjustment_per_month: float
    merchant_gross_margin: dict[str, float]
    voucher_admin_cost_yuan: float
    voucher_expected_leverage: float
    night_late_cost_yuan: float
    night_late_cost_sigma: float
    night_variety_elasticity: float
    night_new_spending_share: float
    night_discount_price_elasticity: float
    night_expectation_weight: float
    tourism_voucher_inflow_elasticity: float
    tourism_voucher_redemption_rate: float
    resident_trip_displaced_share: float
    service_voucher_price_elasticity: float
    service_voucher_redemption_rate: float
    promotion_price_elasticity: dict[str, float]
    # Provenance of every value, for manifests and reports; not a behaviour.
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # Documented valid range of every parameter (behaviour.toml valid_range); not a behaviour.
    ranges: dict[str, ValidRange] = field(default_factory=dict, compare=False, repr=False)
    # Paths (name, or name.key for a table entry) given a value other than the documented one by an override.
    overridden: frozenset[str] = field(default_factory=frozenset, compare=False, repr=False)

    @classmethod
    def default(cls) -> "BehaviourParameters":
        """The documented defaults from ``behaviour.toml`` (read once per process; the object is frozen)."""
        return _default_behaviour()

    @classmethod
    def read_defaults(cls) -> "BehaviourParameters":
        """Read the defaults from ``behaviour.toml``."""
        entries = read_parameter_file(BEHAVIOUR_FILE, require_range=True)
        names = _behaviour_names(cls)
        missing = [n for n in names if n not in entries]
        if missing:
            raise ValueError(f"{BEHAVIOUR_FILE}: no entry for {', '.join(missing)}")
        values = {n: entries[n]["value"] for n in names}
        sources = {n: entries[n].get("reference") or "assumption: " + entries[n]["assumption"] for n in names}
        ranges = {n: entries[n]["valid_range"] for n in names}
        out = cls(**values, sources=sources, ranges=ranges)
        out.check_ranges()
        return out

    def valid_range(self, path: str) -> ValidRange:
        """The valid range of parameter ``name`` or of one entry ``name.key`` of a table.

        Raises:
            KeyError: no such parameter or entry.
        """
        name, _, key = path.partition(".")
        if name not in self.ranges:
            raise KeyError(path)
        current = getattr(self, name)
        if key and (not isinstance(current, dict) or key not in current):
            raise KeyError(path)
        if not key and isinstance(current, dict):
            raise KeyError(path)
        return self.ranges[name]

    def check_ranges(self) -> None:
        """Raise ParameterRangeError for the first value outside its valid range, or broken order between two."""
        for name, valid in self.ranges.items():
            current = getattr(self, name)
            values = current.items() if isinstance(current, dict) else [(None, current)]
            for key, v in values:
                if not valid.contains(v):
                    path = f"{name}.{key}" if key is not None else name
                    raise ParameterRangeError(path, f"{v:g} is outside the valid range [{valid.min:g}, {valid.max:g}]: "
                                                    f"{valid.reason} (model/parameters/behaviour.toml)")
        if self.windfall_mpc_min > self.windfall_mpc_max:
            raise ParameterRangeError("windfall_mpc_min", f"{self.windfall_mpc_min:g} is above windfall_mpc_max "
                                                          f"({self.windfall_mpc_max:g}): the propensity falls with savings")

    def with_overrides(self, overrides: dict[str, Any], origin: str = "scenario") -> "BehaviourParameters":
        """A copy with some parameters replaced; dict-valued ones are merged key by key.

        Raises:
            KeyError: an override names no parameter, or a dict override names an unknown key.
            TypeError: a value is not a number (or not whole where a whole number is needed).
            ParameterRangeError: a value is outside its documented valid range.
        """
        known = {f.name: f for f in dataclasses.fields(self) if f.name in _behaviour_names(type(self))}
        changes: dict[str, Any] = {}
        sources = dict(self.sources)
        overridden = set(self.overridden)
        for name, value in overrides.items():
            if name not in known:
                raise KeyError(name)
            current = getattr(self, name)
            if isinstance(current, dict):
                if not isinstance(value, dict):
                    raise TypeError(f"{name} takes a table keyed by {', '.join(current)}")
                unknown = set(value) - set(current)
                if unknown:
                    raise KeyError(f"{name}.{sorted(unknown)[0]}")
                for key, v in value.items():
                    if isinstance(v, bool) or not isinstance(v, (int, float)):
                        raise TypeError(f"{name}.{key} must be a number, got {v!r}")
                    overridden.add(f"{name}.{key}")
                value = {**current, **value}
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, got {value!r}")
            elif isinstance(current, int) and not isinstance(current, bool):
                if float(value) != int(value):
                    raise TypeError(f"{name} must be a whole number, got {value!r}")
                value = int(value)
            changes[name] = value
            sources[name] = origin
            if not isinstance(current, dict):
                overridden.add(name)
        out = dataclasses.replace(self, **changes, sources=sources, overridden=frozenset(overridden))
        out.check_ranges()
        return out

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for manifests."""
        return {n: getattr(self, n) for n in _behaviour_names(type(self))}


#: Fields of BehaviourParameters that are documentation, not behaviour.
_NOT_BEHAVIOUR = ("sources", "ranges", "overridden")


def _behaviour_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.name not in _NOT_BEHAVIOUR]


@lru_cache(maxsize=1)
def _default_behaviour() -> BehaviourParameters:
    return BehaviourParameters.read_defaults()


@lru_cache(maxsize=1)
def national_defaults() -> dict[str, dict[str, Any]]:
    """National statistics used for city fields a scenario leaves out: ``{name: entry}``."""
    return read_parameter_file(NATIONAL_DEFAULTS_FILE)
