"""Fitting a city's household spending to its base-year statistics (``run.py calibrate CITY``).

The model's no-policy economy should reproduce what the statistics bureau
published for the base year. Five city fields, each with the statistic that
pins it down, are fitted together:

============================================  ==========================================
city field                                    statistic it is fitted to
============================================  ==========================================
``household_retail_share``                    社零 level (retail_sales_base_yuan)
``sector_shares.catering`` (others rescaled)  catering share of 社零
``car_price_yuan``                            car share of 社零
``consumption_income_ratio.urban``            urban per-capita consumption
``consumption_income_ratio.rural``            rural per-capita consumption
============================================  ==========================================

Only city fields move: the behaviour parameters are one set for all cities
(``model/parameters/behaviour.toml``) and are never fitted here. Every field
stays in a plausible range (``*_RANGE`` below). When households cannot carry
the 社零 level with a plausible ``household_retail_share`` (survey consumption
is well below 社零, which also counts purchases by firms, institutions and
non-residents, and spending the survey misses), that share is held at the end of its
range and ``non_household_retail_share`` is fitted to the level instead. The
car share is fitted through the city's average car price (``car_price_yuan``,
which replaces the national behaviour default for that city): car ownership
is a statistic in its own right and stays at the scenario's figures, while
what a car costs differs between a provincial capital and a poor prefecture.
A target out of reach within the ranges is reported, not forced: its field
keeps the scenario's value and the table says why.

Each evaluation is the mean of a few cheap deterministic runs: the base
calendar year (whatever the scenario's horizon), no tools, replications
0..R-1 of a fixed seed, a sample of about ``FIT_HOUSEHOLDS`` households. The
statistics are close to linear in these fields, so a bounded Newton iteration
with a finite-difference Jacobian, refreshed by Broyden updates, converges in
a few evaluations. The fitted values are then checked on replications R..2R-1,
so the table shows how much of the fit is sampling luck. Where the base year
has no figure, one from a year within ``MAX_YEAR_GAP`` stands in (per-capita
levels grown at the city's income growth), and the table says so.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from calibration.statistics import Statistic, annual_figure
from model.economy import CityEconomy
from model.rng import RandomStreams
from model.scenario import Scenario, read_toml, scenario_from_dict
from model.sectors import FLOW_SECTORS, SECTOR_INDEX
from model.trend import RetailTrend, TrendPath

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = PROJECT_ROOT / "scenarios"
FITTED_DIR = PROJECT_ROOT / "calibration" / "fitted"

#: The cities the project has scenarios and statistics for.
KNOWN_CITIES = ("lhasa", "diqing", "tianjin", "pingliang", "guangyuan")
#: Sampled households in a fitting run: with three replications the mean 社零 varies by about 0.1% between seeds.
FIT_HOUSEHOLDS = 150000
#: Replications averaged in each fitting evaluation (the population draw moves 社零 by about 0.5%).
DEFAULT_REPLICATIONS = 3
#: The fit stops when every error is below this fraction of its tolerance.
INNER_TOLERANCE = 0.1


class CalibrationError(ValueError):
    """A calibration that cannot be done as asked (missing scenario, no statistics, unknown city)."""


# ------------------------------------------------------------------ targets


@dataclass(frozen=True)
class FitTarget:
    """A base-year statistic the fit must reproduce.

    Attributes:
        name: retail_sales, catering_share, car_share, consumption_per_capita_urban or _rural.
        label: Chinese and English label for tables.
        value: the published figure.
        unit: yuan, fraction or yuan per person per year.
        relative: whether the error is relative (levels) or absolute (shares).
        tolerance: largest acceptable error (relative or absolute).
        source: where the figure comes from.
        year: the year it describes.
    """

    name: str
    label: str
    value: float
    unit: str
    relative: bool
    tolerance: float
    source: str
    year: int

    def error(self, simulated: float) -> float:
        """Simulated minus published: relative for levels, absolute for shares."""
        return simulated / self.value - 1.0 if self.relative else simulated - self.value


#: name -> (label, unit, relative, tolerance). Tolerances are the brief's: 社零 within 1%, shares within
#: 1 percentage point; per-capita consumption within 1% (assumption: as tight as the level).
TARGET_SPECS: dict[str, tuple[str, str, bool, float]] = {
    "retail_sales": ("社零总额 retail sales", "yuan", True, 0.01),
    "catering_share": ("餐饮收入占比 catering share", "fraction", False, 0.01),
    "car_share": ("汽车类占比 car share", "fraction", False, 0.01),
    "consumption_per_capita_urban": ("城镇居民人均消费支出 urban consumption per capita", "yuan per person", True, 0.01),
    "consumption_per_capita_rural": ("农村居民人均消费支出 rural consumption per capita", "yuan per person", True, 0.01),
}


def base_year_targets(city_key: str, scenario: Scenario, statistics: list[Statistic]) -> tuple[list[FitTarget], list[str]]:
    """The base-year statistics the fit targets, and notes on any that are missing or inconsistent.

    The 社零 level is the scenario's ``retail_sales_base_yuan`` when it gives one
    (it is the level the plan's targets use), else the statistics file's figure.
    """
    year = scenario.city.base_year
    targets: list[FitTarget] = []
    notes: list[str] = []
    for name, (label, unit, relative, tolerance) in TARGET_SPECS.items():
        row = annual_figure(statistics, city_key, name, year)
        stand_in = None
        if row is None:
            stand_in = nearest_annual_figure(statistics, city_key, name, year)
        if name == "retail_sales" and scenario.city.retail_sales_base_yuan is not None:
            value = scenario.city.retail_sales_base_yuan
            source = scenario.provenance.get("city.retail_sales_base_yuan", "scenario city.retail_sales_base_yuan")
            source = f"{scenario.origin} city.retail_sales_base_yuan: {source}"
            if row is not None and abs(row.value / value - 1.0) > 0.01:
                notes.append(f"retail_sales: the scenario's retail_sales_base_yuan {value:,.0f} differs from the "
                             f"statistics file's {year} figure {row.value:,.0f} (line {row.line}); the scenario's is used")
            targets.append(FitTarget(name, label, float(value), unit, relative, tolerance, source, year))
            continue
        if row is None and stand_in is None:
            notes.append(f"{name}: no whole-year figure for {city_key} within {MAX_YEAR_GAP} years of {year} "
                         "in the statistics; not fitted")
            continue
        if row is not None:
            targets.append(FitTarget(name, label, row.value, unit, relative, tolerance,
                                     f"city_statistics.csv line {row.line}: {row.citation()}", year))
            continue
        # A nearby year's figure: shares as they are; per-capita levels grown at the city's income growth,
        # the rate at which the model itself grows spending.
        value = stand_in.value
        how = f"NEAREST YEAR {stand_in.year} (no {year} figure)"
        if unit != "fraction":
            g = scenario.city.income_growth_per_year
            value *= (1.0 + g) ** (year - stand_in.year)
            how += f", grown at income_growth_per_year {g:.3g} to {year}"
        notes.append(f"{name}: no {year} figure; used {how.lower()}")
        targets.append(FitTarget(name, label, float(value), unit, relative, tolerance,
                                 f"{how}; city_statistics.csv line {stand_in.line}: {stand_in.citation()}", year))
    return targets, notes


def nearest_annual_figure(statistics: list[Statistic], city_key: str, indicator: str, year: int) -> Statistic | None:
    """The whole-year figure from the year nearest ``year`` (within MAX_YEAR_GAP; the earlier on a tie)."""
    for gap in range(1, MAX_YEAR_GAP + 1):
        for candidate in (year - gap, year + gap):
            row = annual_figure(statistics, city_key, indicator, candidate)
            if row is not None:
                return row
    return None


# ------------------------------------------------------------------ levers (the city fields fitted)


@dataclass(frozen=True)
class Lever:
    """A city field the fit moves, and the statistic that pins it down.

    Attributes:
        name: identifier (also the column in tables).
        target: the FitTarget name it is fitted to.
        field: the city field written to the fitted file.
        lower, upper: bounds on the lever's value.
        step: finite-difference step (absolute, in the lever's units).
    """

    name: str
    target: str
    field: str
    lower: float
    upper: float
    step: float


#: Plausible ranges of the fitted fields. assumption: goods and catering (the 社零 sectors) are 45-55% of
#: per-capita consumption nationally (NBS 2020 composition: food 30%, clothing 6%, household goods 6%,
#: vehicles and fuel within transport 13%); 0.35-0.6 leaves room for cities' differing diets and car use.
#: Catering is 10-11% of national 社零, so 3-35% of household flow spending covers tourist towns and
#: villages alike. Consumption-income ratios of Chinese cities lie between 0.5 and 1 (NBS city survey figures).
HOUSEHOLD_RETAIL_SHARE_RANGE = (0.35, 0.6)
CATERING_SHARE_RANGE = (0.03, 0.35)
CONSUMPTION_INCOME_RATIO_RANGE = (0.3, 1.1)
#: The part of 社零 not bought by surveyed households or visitors is 51-62% nationally (national_defaults.toml
#: non_household_retail_share, NBS 2019: household-survey spending in 社零 sectors is 38-49% of 社零).
#: assumption: 0.1 to 0.75 for a city. Purchases by firms and institutions alone are 10-20% of 社零 (the
#: floor, for a town whose households the survey captures well); up to 0.75 allows a regional capital that
#: sells to its hinterland's institutions and shoppers, whom the model does not represent.
NON_HOUSEHOLD_RETAIL_SHARE_RANGE = (0.1, 0.75)
#: assumption: a city's average car price lies between 60,000 and 300,000 yuan. The national average
#: transaction price is about 150,000 (behaviour.toml car_price_yuan, CADA c. 2020); lower-tier cities
#: buy cheaper cars (mini and A0-class models at 30,000-80,000 yuan, used cars), rich ones dearer; 60,000
#: is a fleet of mostly small cars, 300,000 twice the national average, near the price of an entry luxury car.
CAR_PRICE_RANGE_YUAN = (60000.0, 300000.0)
#: A statistic from a year this close to the base year stands in when the base year has none.
MAX_YEAR_GAP = 2


def _levers() -> list[Lever]:
    return [
        Lever("household_retail_share", "retail_sales", "household_retail_share", *HOUSEHOLD_RETAIL_SHARE_RANGE, 0.02),
        Lever("catering_share", "catering_share", "sector_shares", *CATERING_SHARE_RANGE, 0.01),
        Lever("car_price_yuan", "car_share", "car_price_yuan", *CAR_PRICE_RANGE_YUAN, 10000.0),
        Lever("consumption_income_ratio_urban", "consumption_per_capita_urban", "consumption_income_ratio",
              *CONSUMPTION_INCOME_RATIO_RANGE, 0.03),
        Lever("consumption_income_ratio_rural", "consumption_per_capita_rural", "consumption_income_ratio",
              *CONSUMPTION_INCOME_RATIO_RANGE, 0.03),
    ]


#: Fitted to the 社零 level in place of household_retail_share when that one reaches its plausible bound.
NON_HOUSEHOLD_LEVER = Lever("non_household_retail_share", "retail_sales", "non_household_retail_share",
                            *NON_HOUSEHOLD_RETAIL_SHARE_RANGE, 0.02)


@dataclass
class CityFields:
    """The values of the fitted city fields, as plain numbers (what a fitting run sets).

    Attributes:
        household_retail_share: share of household consumption in 社零 sectors.
        non_household_retail_share: share of 社零 not bought by surveyed households or visitors.
        sector_shares: flow-sector split (sums to 1).
        car_price_yuan: the city's average car price (yuan per car).
        consumption_income_ratio: keys urban and rural.
    """

    household_retail_share: float
    non_household_retail_share: float
    sector_shares: dict[str, float]
    car_price_yuan: float
    consumption_income_ratio: dict[str, float]

    @classmethod
    def of(cls, scenario: Scenario) -> "CityFields":
        """The scenario's values; the car price is the city's own or, without one, the behaviour default."""
        c = scenario.city
        # scenario_from_dict has already put a city car price into the behaviour parameters.
        return cls(c.household_retail_share, c.non_household_retail_share, dict(c.sector_shares),
                   float(scenario.behaviour.car_price_yuan), dict(c.consumption_income_ratio))

    def with_levers(self, levers: list[Lever], x: np.ndarray) -> "CityFields":
        """These fields with the given lever values."""
        out = copy.deepcopy(self)
        for lever, value in zip(levers, x):
            value = float(value)
            if lever.name == "household_retail_share":
                out.household_retail_share = value
            elif lever.name == "non_household_retail_share":
                out.non_household_retail_share = value
            elif lever.name == "catering_share":
                out.sector_shares = with_catering_share(self.sector_shares, value)
            elif lever.name == "car_price_yuan":
                out.car_price_yuan = value
            elif lever.name == "consumption_income_ratio_urban":
                out.consumption_income_ratio["urban"] = value
            elif lever.name == "consumption_income_ratio_rural":
                out.consumption_income_ratio["rural"] = value
        return out

    def lever_value(self, lever: Lever) -> float:
        """The lever's value in these fields."""
        return {
            "household_retail_share": self.household_retail_share,
            "non_household_retail_share": self.non_household_retail_share,
            "catering_share": self.sector_shares["catering"],
            "car_price_yuan": self.car_price_yuan,
            "consumption_income_ratio_urban": self.consumption_income_ratio["urban"],
            "consumption_income_ratio_rural": self.consumption_income_ratio["rural"],
        }[lever.name]

    def apply(self, raw: dict[str, Any]) -> None:
        """Write these values into a raw scenario dict's [city] table (bare numbers)."""
        city = raw.setdefault("city", {})
        city["household_retail_share"] = self.household_retail_share
        city["non_household_retail_share"] = self.non_household_retail_share
        city["sector_shares"] = dict(self.sector_shares)
        city["car_price_yuan"] = self.car_price_yuan
        city["consumption_income_ratio"] = dict(self.consumption_income_ratio)


def with_catering_share(shares: dict[str, float], catering: float, digits: int = 6) -> dict[str, float]:
    """A flow-sector split with the given catering share, the other sectors rescaled in proportion.

    Values are rounded to ``digits`` and the largest other sector absorbs the
    rounding, so the split sums to exactly 1 as the scenario reader requires.
    """
    others = {s: v for s, v in shares.items() if s != "catering"}
    rest = sum(others.values())
    if rest <= 0:
        raise CalibrationError("sector_shares: no sector besides catering has a positive share to rescale")
    out = {s: round(v * (1.0 - catering) / rest, digits) for s, v in others.items()}
    out["catering"] = round(catering, digits)
    largest = max(others, key=lambda s: others[s])
    out[largest] = round(1.0 - sum(v for s, v in out.items() if s != largest), digits + 3)
    return {s: out[s] for s in FLOW_SECTORS if s in out}


# ------------------------------------------------------------------ one fitting run


def base_year_raw(raw: dict[str, Any], base_year: int) -> dict[str, Any]:
    """A copy of a raw scenario that runs the calendar base year with no tools, targets or variants.

    Outside conditions (an epidemic) stay: they are dated, and the base-year
    statistics include whatever happened that year.
    """
    out = copy.deepcopy(raw)
    for key in ("tools", "targets", "variants"):
        out.pop(key, None)
    head = out.setdefault("scenario", {})
    head.pop("calibration", None)
    head["start_date"] = f"{base_year}-01-01"
    head["end_date"] = f"{base_year}-12-31"
    out["conditions"] = _conditions_within(out.get("conditions", {}), dt.date(base_year, 1, 1),
                                           dt.date(base_year, 12, 31))
    return out


def _conditions_within(conditions: dict[str, Any], first: dt.date, last: dt.date) -> dict[str, Any]:
    """The conditions' schedules cut to the days from ``first`` to ``last``.

    A scenario's conditions may run over its whole horizon, and the reader refuses a
    date outside the horizon; the base-year run keeps only what falls in its year.
    A condition with nothing left in that year is dropped.
    """
    def as_date(value: Any) -> dt.date:
        value = value.get("value") if isinstance(value, dict) else value
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

    kept: dict[str, Any] = {}
    for name, condition in conditions.items():
        if not isinstance(condition, dict) or not isinstance(condition.get("schedule"), list):
            kept[name] = condition  # malformed: left for the reader to refuse with its own message
            continue
        schedule = []
        for period in condition["schedule"]:
            try:
                start, end = as_date(period["start"]), as_date(period["end"])
            except (KeyError, TypeError, ValueError):
                schedule.append(period)
                continue
            if end < first or start > last:
                continue
            schedule.append({**period, "start": max(start, first), "end": min(end, last)})
        if schedule:
            kept[name] = {**condition, "schedule": schedule}
    return kept


def fit_scale(households: float, sample: int = FIT_HOUSEHOLDS) -> float:
    """The scale at which a fitting run samples about ``sample`` households (all of them in a small city)."""
    return float(min(1.0, sample / max(households, 1.0)))


def simulate_statistics(scenario: Scenario, scale: float, seed: int, replication: int = 0) -> dict[str, float]:
    """The base-year statistics of a no-policy run: 社零, sector shares, per-capita consumption.

    Per-capita consumption is the households' normal consumption over the
    year (all of it, not only 社零) divided by persons; in a run without
    tools nothing else changes it. ``seed`` and ``replication`` give the same
    random streams as replication ``replication`` of ``run.py run --seed SEED``.
    """
    streams = RandomStreams.from_seed(seed, replication)
    # The base year is fitted on the trend's mean path: the drawn trend shocks (model/trend.py) are what the
    # statistic leaves open, not something to fit.
    city = scenario.city
    trend = TrendPath.mean_path(city.retail_trend or RetailTrend(city.income_growth_per_year), city.base_year)
    model = CityEconomy(scenario.without_tools(), scale=scale, streams=streams, active_tools=set(), trend=trend).run()
    by_sector = model.books.retail.sum(axis=(0, 1, 3, 4))
    total = float(by_sector.sum())
    out = {
        "retail_sales": total,
        "catering_share": float(by_sector[SECTOR_INDEX["catering"]]) / total,
        "car_share": float(by_sector[SECTOR_INDEX["cars"]]) / total,
    }
    hh = model.households
    index = float(model.income_index.mean())
    for group, urban in (("urban", True), ("rural", False)):
        mask = hh.urban == urban
        persons = float(hh.size[mask].sum()) * hh.weight
        consumption = float(hh.consumption_month_yuan[mask].sum()) * hh.weight * 12.0 * index
        out[f"consumption_per_capita_{group}"] = consumption / persons if persons > 0 else float("nan")
    out["households_simulated"] = float(hh.n)
    return out


# ------------------------------------------------------------------ the fit


@dataclass
class FitResult:
    """What a calibration produced.

    Attributes:
        city_key: the city's key (lhasa, ...).
        scenario_file: the scenario calibrated.
        base_year: the year fitted.
        targets: the statistics fitted.
        levers: the fields moved to fit the targets.
        held: fields fitted first and then held at the end of their plausible range (written too).
        dropped: fields whose target was out of reach within their plausible range (left as in the scenario).
        start: the fields before fitting.
        fitted: the fields after fitting (rounded as written).
        simulated: base-year statistics of the fitted city (mean of replications 0 to R-1).
        check: the same over replications R to 2R-1 (a measure of sampling noise).
        start_simulated: the statistics before fitting.
        notes: targets missing, bounds hit, inconsistencies.
        runs: model runs used.
        converged: every target within its tolerance.
        scale, seed, replications: run settings (the check uses replications R to 2R-1 of the seed).
    """

    city_key: str
    scenario_file: str
    base_year: int
    targets: list[FitTarget]
    levers: list[Lever]
    held: list[Lever]
    dropped: list[Lever]
    start: CityFields
    fitted: CityFields
    simulated: dict[str, float]
    check: dict[str, float]
    notes: list[str]
    runs: int
    converged: bool
    scale: float
    seed: int
    replications: int
    start_simulated: dict[str, float] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """The fit table: one row per target."""
        lever_of = {lv.target: lv for lv in self.levers}
        dropped_of = {lv.target: lv for lv in self.dropped}
        out = []
        for t in self.targets:
            lever = lever_of.get(t.name)
            dropped = dropped_of.get(t.name)
            sim = self.simulated.get(t.name, float("nan"))
            chk = self.check.get(t.name, float("nan"))
            err = t.error(sim)
            if lever:
                field_name, start_text, fitted_text = (lever.field, _lever_text(lever, self.start, self.start),
                                                       _lever_text(lever, self.fitted, self.start))
            elif dropped:
                # Out of reach: the field stays as in the scenario, and the table says so.
                field_name = f"{dropped.field} (out of reach within {dropped.lower:g} to {dropped.upper:g}; kept as in the scenario)"
                start_text = fitted_text = _lever_text(dropped, self.start, self.start)
            else:
                field_name, start_text, fitted_text = "(not fitted)", "", ""
            out.append({
                "target": t.name,
                "label": t.label,
                "year": t.year,
                "statistic": t.value,
                "simulated": sim,
                "error": err,
                "error_kind": "relative" if t.relative else "absolute",
                "tolerance": t.tolerance,
                "within_tolerance": bool(abs(err) <= t.tolerance),
                "check_simulated": chk,
                "check_error": t.error(chk),
                "start_simulated": self.start_simulated.get(t.name, float("nan")),
                "fitted_field": field_name,
                "start_value": start_text,
                "fitted_value": fitted_text,
                "source": t.source,
            })
        return out


def _lever_text(lever: Lever, fields: CityFields, start: CityFields) -> str:
    if lever.name == "car_price_yuan":
        return f"{fields.car_price_yuan:.0f}"
    if lever.name == "non_household_retail_share" and fields is not start:
        return (f"{fields.non_household_retail_share:.6g} (household_retail_share held at "
                f"{fields.household_retail_share:.6g})")
    return f"{fields.lever_value(lever):.6g}"


def fit_city(raw: dict[str, Any], targets: list[FitTarget], *, city_key: str, origin: str = "<dict>",
             seed: int = 0, scale: float | None = None, replications: int = DEFAULT_REPLICATIONS,
             max_iterations: int = 12, progress: Callable[[str], None] | None = None) -> FitResult:
    """Fit the city fields of a raw scenario so its base-year run reproduces ``targets``.

    Args:
        raw: the scenario as read (its city fields are the starting values).
        targets: the statistics to reproduce (from ``base_year_targets``).
        city_key: the city's key, for the result.
        origin: the scenario file, for error messages.
        seed: root seed of the fitting runs.
        scale: share of households simulated; by default about ``FIT_HOUSEHOLDS`` of them.
        replications: the statistics fitted are the mean of replications 0 to R-1 of ``seed`` (the
            replications ``run.py run --seed SEED --replications R`` uses); the check uses replications R to 2R-1.
        max_iterations: Newton iterations at most.
        progress: called with a line of text after each run.

    Raises:
        ScenarioError: the scenario is invalid.
        CalibrationError: nothing to fit.
    """
    scenario = scenario_from_dict(raw, origin)
    base_year = scenario.city.base_year
    base = base_year_raw(raw, base_year)
    base_scenario = scenario_from_dict(base, origin)
    if scale is None:
        scale = fit_scale(base_scenario.city.households)
    start = CityFields.of(base_scenario)
    by_target = {t.name: t for t in targets}
    notes: list[str] = []
    levers = []
    for lever in _levers():
        if lever.target in by_target:
            levers.append(lever)
    if not levers:
        raise CalibrationError(f"{origin}: none of the statistics {', '.join(TARGET_SPECS)} is available for "
                               f"{city_key} in {base_year}; nothing to fit")
    runs = 0

    def simulate(fields: CityFields, first_replication: int = 0) -> dict[str, float]:
        nonlocal runs
        trial = copy.deepcopy(base)
        fields.apply(trial)
        trial_scenario = scenario_from_dict(trial, origin)
        sims = [simulate_statistics(trial_scenario, scale, seed, first_replication + k) for k in range(replications)]
        runs += replications
        return {key: float(np.mean([sim[key] for sim in sims])) for key in sims[0]}

    def report(what: str, sim: dict[str, float], x: np.ndarray | None = None) -> None:
        _report(progress, what, runs, [by_target[lv.target] for lv in levers], sim, levers, x)

    def solve(origin_fields: CityFields, x: np.ndarray) -> tuple[np.ndarray, dict[str, float], dict[str, float]]:
        """Newton from ``x`` with a finite-difference Jacobian and Broyden updates.

        Returns the best lever values seen, their statistics, and the statistics at ``x``.
        """
        fitted_targets = [by_target[lv.target] for lv in levers]

        def residual(sim: dict[str, float]) -> np.ndarray:
            # In units of each target's tolerance, so one number says how far from done.
            return np.array([t.error(sim[t.name]) / t.tolerance for t in fitted_targets])

        lower = np.array([lv.lower for lv in levers])
        upper = np.array([lv.upper for lv in levers])
        x = np.clip(x, lower, upper)
        sim = simulate(origin_fields.with_levers(levers, x))
        first_sim = sim
        r = residual(sim)
        report("start", sim, x)
        jac = np.zeros((len(levers), len(levers)))
        for j, lever in enumerate(levers):
            xj = x.copy()
            h = lever.step if x[j] + lever.step <= upper[j] else -lever.step
            xj[j] = x[j] + h
            sim_j = simulate(origin_fields.with_levers(levers, xj))
            jac[:, j] = (residual(sim_j) - r) / h
            report(f"slope of {lever.name}", sim_j, xj)
        best = (x.copy(), r.copy(), sim)
        for _ in range(max_iterations):
            # Done when every target is met closely or its lever sits at a bound its target pushes against.
            alone = -r / np.where(np.abs(np.diag(jac)) > 1e-12, np.diag(jac), 1e-12)
            stuck = ((x <= lower + 1e-9) & (alone < 0)) | ((x >= upper - 1e-9) & (alone > 0))
            if np.all((np.abs(r) <= INNER_TOLERANCE) | stuck):
                break
            new_x = newton_step(jac, r, x, lower, upper)
            if np.allclose(new_x, x, rtol=0, atol=1e-9):
                break  # pinned at bounds: no step left to take
            sim_new = simulate(origin_fields.with_levers(levers, new_x))
            r_new = residual(sim_new)
            report("newton", sim_new, new_x)
            dx = new_x - x
            # Broyden's update keeps the Jacobian in line with what the steps showed.
            jac += np.outer((r_new - r) - jac @ dx, dx) / np.dot(dx, dx)
            # Best by the sum of squares: a target pinned out of reach must not hide progress on the others.
            if np.sum(r_new ** 2) < np.sum(best[1] ** 2):
                best = (new_x.copy(), r_new.copy(), sim_new)
            x, r = new_x, r_new
        return best[0], best[2], first_sim

    best_x, best_sim, start_sim = solve(start, np.array([start.lever_value(lv) for lv in levers]))
    origin_fields = start
    held: list[Lever] = []
    level = by_target.get("retail_sales")
    household = next((i for i, lv in enumerate(levers) if lv.name == "household_retail_share"), None)
    if level is not None and household is not None:
        value = best_x[household]
        at_bound = value <= levers[household].lower + 1e-9 or value >= levers[household].upper - 1e-9
        if at_bound and abs(level.error(best_sim["retail_sales"])) > level.tolerance:
            # Households alone cannot carry the level within a plausible share: the rest is bought by
            # firms and institutions (or less of it, when the level is low).
            notes.append(f"household_retail_share reached the end of its plausible range ({value:.2f}; "
                         f"{HOUSEHOLD_RETAIL_SHARE_RANGE[0]:g} to {HOUSEHOLD_RETAIL_SHARE_RANGE[1]:g}) with 社零 still "
                         f"{level.error(best_sim['retail_sales']) * 100:+.1f}% off; non_household_retail_share "
                         "(purchases by firms and institutions, and household spending the survey misses) was fitted to the level instead")
            held = [levers[household]]
            origin_fields = start.with_levers(held, np.array([value]))
            x_rest = [best_x[i] for i in range(len(levers)) if i != household]
            levers = [lv for i, lv in enumerate(levers) if i != household] + [NON_HOUSEHOLD_LEVER]
            best_x, best_sim, _ = solve(origin_fields, np.array(x_rest + [start.non_household_retail_share]))

    # A lever pinned at the end of its plausible range with its target still missed would only distort the
    # city: it goes back to the scenario's value and the others are fitted again without it.
    dropped: list[Lever] = []
    for _ in range(len(levers)):
        stuck = [i for i, lv in enumerate(levers)
                 if (best_x[i] <= lv.lower + 1e-9 or best_x[i] >= lv.upper - 1e-9)
                 and abs(by_target[lv.target].error(best_sim[lv.target])) > by_target[lv.target].tolerance]
        if not stuck or len(stuck) == len(levers):
            break
        for i in stuck:
            lv = levers[i]
            t = by_target[lv.target]
            miss = t.error(best_sim[lv.target])
            miss_text = f"{miss * 100:+.2f}%" if t.relative else f"{miss * 100:+.2f} pp"
            notes.append(f"{lv.target} is out of reach: {lv.name} would have to go beyond its plausible range "
                         f"({lv.lower:g} to {lv.upper:g}; at {best_x[i]:.6g} the error is still {miss_text}); "
                         f"{lv.field} keeps the scenario's value")
        dropped += [levers[i] for i in stuck]
        keep = [i for i in range(len(levers)) if i not in stuck]
        levers = [levers[i] for i in keep]
        best_x, best_sim, _ = solve(origin_fields, best_x[keep])

    fitted = _rounded(origin_fields.with_levers(levers, best_x))
    sim = simulate(fitted)
    report("fitted", sim)
    check = simulate(fitted, replications)
    report("check", check)
    for lever, value in zip(levers, best_x):
        if value <= lever.lower + 1e-9 or value >= lever.upper - 1e-9:
            notes.append(f"{lever.name} is at the end of its plausible range ({value:.4g}; {lever.lower:g} to "
                         f"{lever.upper:g})")
    converged = all(abs(t.error(sim[t.name])) <= t.tolerance for t in targets)
    return FitResult(city_key=city_key, scenario_file=origin, base_year=base_year, targets=list(targets),
                     levers=levers, held=held, dropped=dropped, start=start, fitted=fitted, simulated=sim, check=check, notes=notes, runs=runs,
                     converged=converged, scale=scale, seed=seed, replications=replications, start_simulated=start_sim)


def newton_step(jac: np.ndarray, r: np.ndarray, x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The next point of a bounded Newton iteration: levers whose step would cross a bound stop at it.

    Each lever answers to one target (row i of the Jacobian is the target of lever i), so a lever
    pinned at a bound gives up its target and the others solve the rest of the system.
    """
    n = x.size
    pinned = np.zeros(n, dtype=bool)
    bound = x.copy()
    step = np.zeros(n)
    for _ in range(n + 1):
        fixed = np.where(pinned, bound - x, 0.0)
        free = np.flatnonzero(~pinned)
        step = fixed.copy()
        if free.size:
            rhs = -(r + jac @ fixed)[free]
            sub = jac[np.ix_(free, free)]
            try:
                step[free] = np.linalg.solve(sub, rhs)
            except np.linalg.LinAlgError:
                step[free] = np.linalg.lstsq(sub, rhs, rcond=None)[0]
        new = x + step
        crossing = ~pinned & ((new < lower) | (new > upper))
        if not crossing.any():
            break
        # Pin one lever at a time, the one that overshoots its range the most: pinning several at once
        # would pin levers that only crossed because of the first one's impossible step.
        overshoot = np.where(crossing, np.maximum(lower - new, new - upper) / (upper - lower), -np.inf)
        worst = int(np.argmax(overshoot))
        bound[worst] = lower[worst] if new[worst] < lower[worst] else upper[worst]
        pinned[worst] = True
    return np.clip(x + step, lower, upper)


def _rounded(fields: CityFields) -> CityFields:
    """Fields rounded as they are written (six significant figures), so the table shows what the file holds."""
    def r6(v: float) -> float:
        return float(f"{v:.6g}")

    out = copy.deepcopy(fields)
    out.household_retail_share = r6(fields.household_retail_share)
    out.non_household_retail_share = r6(fields.non_household_retail_share)
    out.sector_shares = with_catering_share(fields.sector_shares, fields.sector_shares["catering"])
    out.car_price_yuan = float(round(fields.car_price_yuan))
    out.consumption_income_ratio = {k: r6(v) for k, v in fields.consumption_income_ratio.items()}
    return out


def _report(progress, what: str, runs: int, targets: list[FitTarget], sim: dict[str, float],
            levers: list[Lever], x: np.ndarray | None) -> None:
    if progress is None:
        return
    errors = ", ".join(f"{t.name} {t.error(sim[t.name]):+.4f}" for t in targets)
    values = "" if x is None else "  at " + ", ".join(f"{lv.name} {v:.4g}" for lv, v in zip(levers, x))
    progress(f"  run {runs:2d} ({what}): errors {errors}{values}")


# ------------------------------------------------------------------ writing


def _toml_string(text: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes.
    return json.dumps(text, ensure_ascii=False)


def _toml_table(values: dict[str, float]) -> str:
    return "{ " + ", ".join(f"{k} = {v!r}" for k, v in values.items()) + " }"


def fitted_toml(result: FitResult, date: dt.date, csv_name: str) -> str:
    """The fitted file: a [city] table of sourced values that replace the scenario's own."""
    names = ", ".join(f"{t.name} {t.year}" for t in result.targets if t.name in {lv.target for lv in result.levers})
    names = names.replace("retail_sales", "retail_sales (社零)")
    source = f"fitted by run.py calibrate on {date.isoformat()} to {result.city_key} {names} (calibration/fitted/{csv_name})"
    lines = [
        f"# Fitted city fields for {result.city_key}: written by `python run.py calibrate {result.city_key}`; do not edit by hand.",
        f"# Scenario: {result.scenario_file}; base year {result.base_year}; seed {result.seed}, mean of "
        f"{result.replications} replication(s) at scale {result.scale:.6g}"
        f" ({int(result.simulated.get('households_simulated', 0))} households), {result.runs} runs.",
        f"# The fit table ({csv_name}) lists each statistic, its source, the simulated value and the error.",
        "# A scenario loads this file with [scenario] calibration = \"../calibration/fitted/<city>.toml\";",
        "# its [city] entries replace the scenario's own.",
        "",
        "[city]",
    ]
    f = result.fitted
    for lever in result.held + result.levers:
        if lever.name == "household_retail_share":
            text = source
            if lever in result.held:
                end = "top" if f.household_retail_share >= lever.upper - 1e-9 else "bottom"
                text += (f"; held at the {end} of its plausible range ({lever.lower:g} to {lever.upper:g}), "
                         "the rest of the level fitted through non_household_retail_share")
            lines.append(f"household_retail_share = {{ value = {f.household_retail_share!r}, source = {_toml_string(text)} }}")
        elif lever.name == "non_household_retail_share":
            lines.append(f"non_household_retail_share = {{ value = {f.non_household_retail_share!r}, source = "
                         f"{_toml_string(source + '; fitted to the 社零 level because household_retail_share alone could not reach it')} }}")
        elif lever.name == "catering_share":
            lines.append(f"sector_shares = {{ value = {_toml_table(f.sector_shares)}, source = "
                         f"{_toml_string(source + '; catering fitted, the other sectors rescaled in proportion')} }}")
        elif lever.name == "car_price_yuan":
            note = (f"; the city's average car price, fitted to reproduce the car share of 社零 with car ownership "
                    f"as in the scenario (start {result.start.car_price_yuan:,.0f}; plausible range "
                    f"{lever.lower:,.0f} to {lever.upper:,.0f} yuan, an assumption: calibration/fit.py CAR_PRICE_RANGE_YUAN)")
            lines.append(f"car_price_yuan = {{ value = {f.car_price_yuan!r}, source = {_toml_string(source + note)} }}")
    ratios = [lv for lv in result.levers if lv.field == "consumption_income_ratio"]
    if ratios:
        lines.append(f"consumption_income_ratio = {{ value = {_toml_table(f.consumption_income_ratio)}, source = "
                     f"{_toml_string(source + '; fitted to per-capita consumption where the statistic exists')} }}")
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # never write a file the scenario reader cannot read
    return text


def fit_table_csv(result: FitResult) -> str:
    """The fit table as CSV text."""
    rows = result.rows()
    buffer = io.StringIO()
    columns = list(rows[0]) if rows else ["target"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def atomic_write(path: Path, text: str) -> None:
    """Write a file so that it is either the old one or the complete new one, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_result(result: FitResult, out_dir: Path, date: dt.date | None = None) -> tuple[Path, Path]:
    """Write ``<city>.toml`` (fitted fields) and ``<city>-fit.csv`` (fit table) into ``out_dir``."""
    date = date or dt.date.today()
    csv_name = f"{result.city_key}-fit.csv"
    toml_text = fitted_toml(result, date, csv_name)
    csv_text = fit_table_csv(result)
    csv_path = out_dir / csv_name
    toml_path = out_dir / f"{result.city_key}.toml"
    atomic_write(csv_path, csv_text)
    atomic_write(toml_path, toml_text)
    return toml_path, csv_path


def format_table(result: FitResult) -> str:
    """The fit table for the terminal."""
    def fmt(t: FitTarget, v: float) -> str:
        if t.unit == "fraction":
            return f"{v * 100:.2f}%"
        if t.unit == "yuan":
            return f"{v / 1e8:,.2f} 亿元"
        return f"{v:,.0f}"

    def err(t: FitTarget, e: float) -> str:
        return f"{e * 100:+.2f}%" if t.relative else f"{e * 100:+.2f} pp"

    lines = [f"Calibration of {result.city_key} ({result.scenario_file}), base year {result.base_year}: "
             f"seed {result.seed}, mean of {result.replications} replication(s) at scale {result.scale:.4g}, "
             f"{result.runs} runs"]
    header = f"  {'target':<30} {'statistic':>14} {'simulated':>14} {'error':>9} {'tol':>6} {'check':>9}  fitted field"
    lines.append(header)
    lever_of = {lv.target: lv for lv in result.levers}
    for t in result.targets:
        sim = result.simulated[t.name]
        chk = result.check[t.name]
        lever = lever_of.get(t.name)
        ok = "ok" if abs(t.error(sim)) <= t.tolerance else "MISS"
        dropped = next((lv for lv in result.dropped if lv.target == t.name), None)
        if lever:
            fitted = f"{lever.field} = {_lever_text(lever, result.fitted, result.start)}"
        elif dropped:
            fitted = f"(out of reach; {dropped.field} kept as in the scenario)"
        else:
            fitted = "(not fitted)"
        tol = f"{t.tolerance * 100:.0f}{'%' if t.relative else 'pp'}"
        lines.append(f"  {t.name:<30} {fmt(t, t.value):>14} {fmt(t, sim):>14} {err(t, t.error(sim)):>9} {tol:>6} "
                     f"{err(t, t.error(chk)):>9}  {ok}  {fitted}")
    lines.append(f"  (check: error over replications {result.replications} to {2 * result.replications - 1} instead of "
                 f"0 to {result.replications - 1}: a measure of sampling noise)")
    for t in result.targets:
        lines.append(f"  source of {t.name}: {t.source}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


# ------------------------------------------------------------------ reading a city's scenario


def read_raw_scenario(path: Path) -> dict[str, Any]:
    """A scenario file as written, without its calibration file merged (the fit starts from the scenario's own values).

    Raises:
        ScenarioError: the file is missing or not TOML.
    """
    return read_toml(path)


def city_scenario_path(city_key: str) -> Path:
    """The scenario file of a known city.

    Raises:
        CalibrationError: the city is not one of KNOWN_CITIES, or its scenario file does not exist yet.
    """
    key = city_key.lower()
    if key not in KNOWN_CITIES:
        raise CalibrationError(f"unknown city {city_key!r}; known cities: {', '.join(KNOWN_CITIES)} "
                               "(or give --scenario FILE for another city)")
    path = SCENARIO_DIR / f"{key}.toml"
    if not path.is_file():
        raise CalibrationError(f"{path}: no scenario file for {key} yet")
    return path
