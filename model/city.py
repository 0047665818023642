"""The city of a scenario: its households, incomes, spending patterns, districts, merchants and visitors.

``read_city`` reads the ``[city]`` table of a scenario (format in ``scenarios/FORMAT.md``) with the
scenario's sourced-number reader, filling fields the file leaves out from
``model/parameters/national_defaults.toml`` and recording where each number came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.parameters import national_defaults
from model.sectors import FLOW_SECTORS, SECTORS
from model.trend import RetailTrend


@dataclass(frozen=True)
class District:
    """A county or district of the city.

    Attributes:
        name: district name as in the plan.
        household_share: share of the city's households living there.
        urban_share: share of its households that are urban.
    """

    name: str
    household_share: float
    urban_share: float


@dataclass(frozen=True)
class Visitors:
    """Seasonal inflow of tourists and what they spend.

    Attributes:
        visitors_per_year: visits in the base year (persons).
        spend_per_visit_yuan: spending per visit by sector (catering, daily_goods, lodging, tickets).
        monthly_profile: twelve relative weights of visits by calendar month (mean 1).
    """

    visitors_per_year: float
    spend_per_visit_yuan: dict[str, float]
    monthly_profile: tuple[float, ...]


@dataclass(frozen=True)
class OnlineSellerSettings:
    """``[city.online_sellers]``: the city's 网络零售额 statistic and how it splits between buyers.

    Attributes:
        base_yuan: 网络零售额 of the city's sellers in ``base_year`` (yuan per year).
        base_year: the year the statistic describes.
        resident_buyer_share: share of local sellers' online sales bought by the city's own residents (0-1).
        outside_growth_per_year: growth of local sellers' online sales to buyers outside the city (fraction per year).
        outside_growth_sigma: standard deviation of that growth across replications (fraction per year).
    """

    base_yuan: float
    base_year: int
    resident_buyer_share: float
    outside_growth_per_year: float
    outside_growth_sigma: float = 0.0


@dataclass(frozen=True)
class City:
    """The city's households, incomes and spending patterns (base year).

    Attributes:
        name: display name (Chinese).
        households: resident households (households).
        household_size: persons per household.
        urban_share: share of households that are urban (used when no districts are given).
        income_per_capita_yuan: per-capita disposable income per year, keys urban and rural.
        consumption_income_ratio: per-capita consumption over income, keys urban and rural.
        household_retail_share: share of household consumption in 社零 sectors.
        non_household_retail_share: share of 社零 bought by firms and institutions.
        sector_shares: split of household flow retail spending by flow sector.
        car_owners_per_100_households: keys urban and rural.
        income_growth_per_year: nominal income growth per year (households' income and savings; 社零 demand follows
            ``retail_trend``, which defaults to this rate).
        retail_sales_base_yuan: 社零 in the base year, if known (for targets and calibration).
        car_price_yuan: average price of a car bought by the city's households (None: the behaviour default).
        base_year: the year the figures describe.
        districts: counties or districts; one whole-city district when not given.
        merchants_per_1000_households: merchants per 1000 households by sector.
        visitors: tourist inflow, or None.
        retail_trend: the no-policy 社零 trend and its uncertainty (``model/trend.py``); None: 社零 follows
            income growth with no drawn uncertainty.
        online_sellers: the city's 网络零售额 statistic (seller side), or None (``model/rules/online_sellers.py``).
    """

    name: str
    households: float
    household_size: float
    urban_share: float
    income_per_capita_yuan: dict[str, float]
    consumption_income_ratio: dict[str, float]
    household_retail_share: float
    non_household_retail_share: float
    sector_shares: dict[str, float]
    car_owners_per_100_households: dict[str, float]
    income_growth_per_year: float
    retail_sales_base_yuan: float | None
    base_year: int
    car_price_yuan: float | None
    districts: tuple[District, ...]
    merchants_per_1000_households: dict[str, float]
    visitors: Visitors | None
    retail_trend: RetailTrend | None = None
    online_sellers: OnlineSellerSettings | None = None


def _national(name: str) -> tuple[Any, str]:
    entry = national_defaults()[name]
    return entry["value"], "national default: " + (entry.get("reference") or "assumption: " + entry["assumption"])


def read_city(r, raw: dict, base_year_default: int) -> City:
    """Read and validate ``[city]`` with the scenario's sourced-number reader ``r``; national defaults fill gaps."""
    path = "city"
    if not isinstance(raw, dict):
        raise r.fail(path, "missing [city] table")

    def national_or(key: str, reader):
        if key in raw:
            return reader()
        value, source = _national(key)
        r.provenance[f"{path}.{key}"] = source
        return value

    households = r.number(raw, "households", path, minimum=1)
    size = national_or("household_size", lambda: r.number(raw, "household_size", path, minimum=1, maximum=10))
    urban_share = r.number(raw, "urban_share", path, minimum=0, maximum=1)
    income = raw.get("income_per_capita_yuan")
    if not isinstance(income, dict):
        raise r.fail(f"{path}.income_per_capita_yuan", "missing table with urban and rural per-capita disposable income (yuan per year)")
    income_pc = {k: r.number(income, k, f"{path}.income_per_capita_yuan", minimum=1) for k in ("urban", "rural")}
    ratio = national_or("consumption_income_ratio", lambda: r.sector_table(raw, "consumption_income_ratio", path, ("urban", "rural")))
    for k in ("urban", "rural"):
        if not 0 < ratio[k] <= 1.5:
            raise r.fail(f"{path}.consumption_income_ratio.{k}", f"must be in (0, 1.5], got {ratio[k]}")
    household_retail_share = national_or("household_retail_share", lambda: r.number(raw, "household_retail_share", path, minimum=0.01, maximum=1))
    non_household = national_or("non_household_retail_share", lambda: r.number(raw, "non_household_retail_share", path, minimum=0, maximum=0.9))
    shares = national_or("sector_shares", lambda: r.sector_table(raw, "sector_shares", path, FLOW_SECTORS))
    shares = {s: float(shares.get(s, 0.0)) for s in FLOW_SECTORS}
    total = sum(shares.values())
    if abs(total - 1) > 1e-6:
        raise r.fail(f"{path}.sector_shares", f"shares must sum to 1, got {total:.6f}")
    cars = national_or("car_owners_per_100_households", lambda: r.sector_table(raw, "car_owners_per_100_households", path, ("urban", "rural")))
    for k in ("urban", "rural"):
        if not 0 <= cars[k] <= 100:
            raise r.fail(f"{path}.car_owners_per_100_households.{k}", f"must be in [0, 100], got {cars[k]}")
    growth = national_or("income_growth_per_year", lambda: r.number(raw, "income_growth_per_year", path, minimum=-0.5, maximum=0.5))
    retail_base = r.number(raw, "retail_sales_base_yuan", path, default=None, minimum=0)
    retail_trend = _read_trend(r, raw, path, float(growth))
    car_price = r.number(raw, "car_price_yuan", path, default=None, minimum=1000)
    base_year = r.number(raw, "base_year", path, default=base_year_default, integer=True, minimum=1990, maximum=2100)
    r.provenance.setdefault(f"{path}.base_year", "a calendar year, not a measured figure")

    districts = []
    for d, dpath in r.tables(raw.get("districts", []), f"{path}.districts", "[[city.districts]]", allow_empty=True):
        districts.append(District(
            name=r.string(d, "name", dpath),
            household_share=r.number(d, "household_share", dpath, minimum=0, maximum=1),
            urban_share=r.number(d, "urban_share", dpath, minimum=0, maximum=1),
        ))
    if districts:
        total = sum(d.household_share for d in districts)
        if abs(total - 1) > 1e-3:
            raise r.fail(f"{path}.districts", f"household_share must sum to 1, got {total:.4f}")
        names = [d.name for d in districts]
        if len(set(names)) != len(names):
            raise r.fail(f"{path}.districts", "district names must be unique")
    else:
        districts = [District(name=r.string(raw, "name", path), household_share=1.0, urban_share=urban_share)]

    merchants_default = {"daily_goods": 12.0, "catering": 6.0, "appliances": 0.8, "cars": 0.05, "fuel": 0.15, "night_market": 2.0}
    merchants = r.sector_table(raw, "merchants_per_1000_households", path, SECTORS, default=merchants_default)
    merchants = {**merchants_default, **merchants}
    if "merchants_per_1000_households" not in raw:
        r.provenance[f"{path}.merchants_per_1000_households"] = (
            "assumption: about 27 shops, restaurants and stalls per 1000 households, near the density of "
            "individual businesses in the 2018 economic census for retail and catering")

    visitors = None
    if "visitors" in raw:
        vraw = raw["visitors"]
        vpath = f"{path}.visitors"
        if not isinstance(vraw, dict):
            raise r.fail(vpath, "expected a table")
        spend = r.sector_table(vraw, "spend_per_visit_yuan", vpath, ("catering", "daily_goods", "lodging", "tickets"))
        profile = vraw.get("monthly_profile", [1.0] * 12)
        if isinstance(profile, dict) and "value" in profile:
            profile = r._unwrap(profile, f"{vpath}.monthly_profile")
        if not (isinstance(profile, list) and len(profile) == 12 and all(isinstance(x, (int, float)) and x >= 0 for x in profile)):
            raise r.fail(f"{vpath}.monthly_profile", "expected twelve non-negative numbers")
        mean = sum(profile) / 12
        if mean <= 0:
            raise r.fail(f"{vpath}.monthly_profile", "weights must not all be zero")
        visitors = Visitors(
            visitors_per_year=r.number(vraw, "visitors_per_year", vpath, minimum=0),
            spend_per_visit_yuan=spend,
            monthly_profile=tuple(float(x) / mean for x in profile),
        )

    online_sellers = None
    if "online_sellers" in raw:
        opath = f"{path}.online_sellers"
        oraw = raw["online_sellers"]
        if not isinstance(oraw, dict):
            raise r.fail(opath, "expected a table with base_yuan, base_year, resident_buyer_share, outside_growth_per_year")
        online_sellers = OnlineSellerSettings(
            base_yuan=r.number(oraw, "base_yuan", opath, minimum=0, exclusive_minimum=True),
            base_year=r.number(oraw, "base_year", opath, integer=True, minimum=1990, maximum=2100),
            resident_buyer_share=r.number(oraw, "resident_buyer_share", opath, minimum=0, maximum=1),
            outside_growth_per_year=r.number(oraw, "outside_growth_per_year", opath, minimum=-0.9, maximum=5),
            outside_growth_sigma=r.number(oraw, "outside_growth_sigma", opath, minimum=0, maximum=2),
        )
        r.provenance.setdefault(f"{opath}.base_year", "a calendar year, not a measured figure")

    return City(
        name=r.string(raw, "name", path),
        households=households,
        household_size=size,
        urban_share=urban_share,
        income_per_capita_yuan=income_pc,
        consumption_income_ratio={k: float(ratio[k]) for k in ("urban", "rural")},
        household_retail_share=float(household_retail_share),
        non_household_retail_share=float(non_household),
        sector_shares=shares,
        car_owners_per_100_households={k: float(cars[k]) for k in ("urban", "rural")},
        income_growth_per_year=float(growth),
        retail_sales_base_yuan=retail_base,
        base_year=base_year,
        car_price_yuan=car_price,
        districts=tuple(districts),
        merchants_per_1000_households={k: float(v) for k, v in merchants.items()},
        visitors=visitors,
        retail_trend=retail_trend,
        online_sellers=online_sellers,
    )


def _read_trend(r, raw: dict, path: str, income_growth: float) -> RetailTrend:
    """The 社零 trend fields of ``[city]``; absent ones say what stands in for them."""
    if "retail_sales_trend_growth" in raw:
        growth = r.number(raw, "retail_sales_trend_growth", path, minimum=-0.5, maximum=0.5)
    else:
        growth = income_growth
        r.provenance[f"{path}.retail_sales_trend_growth"] = (
            "assumption: no 社零 trend given: 社零 grows with income (income_growth_per_year)")
    sd = r.number(raw, "retail_sales_forecast_error_sd", path, default=0.0, minimum=0, maximum=0.5)
    if "retail_sales_forecast_error_sd" not in raw:
        r.provenance[f"{path}.retail_sales_forecast_error_sd"] = (
            "assumption: none given: the trend is taken as certain, so intervals leave out what it leaves open")
    base_sd = r.number(raw, "retail_sales_base_sd", path, default=0.0, minimum=0, maximum=0.5)
    if "retail_sales_base_sd" not in raw:
        r.provenance[f"{path}.retail_sales_base_sd"] = "assumption: none given: the base-year level is taken as exact"
    return RetailTrend(float(growth), float(sd), float(base_sd))
