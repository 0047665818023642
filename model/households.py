"""Households: one row per household, held as numpy columns.

A city of millions of households cannot be millions of Python objects, so the
population is a set of arrays with one entry per household. At ``scale`` below
1 the rows are a random sample and every household stands for ``weight`` real
ones, so totals stay city-sized.

What each household has: location (district, urban or rural), size, monthly
disposable income, an income quintile, whether its head is elderly, whether it
can claim app vouchers (digital access), liquid savings, its normal daily
spending by flow sector, how much of it is bought online, and the durables it
owns (a car or not, and appliances) with their purchase dates.

The rules that read these columns live in ``model/rules/``; this module only
builds the population and answers simple questions about it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from model.parameters import BehaviourParameters
from model.city import City
from model.sectors import FLOW_SECTORS

N_QUINTILES = 5


def lognormal_sigma_from_gini(gini: float) -> float:
    """Log standard deviation of a lognormal distribution with the given Gini coefficient.

    For a lognormal, G = 2 Φ(σ / √2) - 1.
    """
    return float(np.sqrt(2.0) * ndtri((gini + 1.0) / 2.0))


def weibull_mean(shape: float, scale: float) -> float:
    """Mean of a Weibull distribution."""
    from scipy.special import gamma

    return float(scale * gamma(1.0 + 1.0 / shape))


def first_car_hazard_per_year(income_month_yuan: np.ndarray, params: BehaviourParameters) -> np.ndarray:
    """Annual probability that a household without a car buys its first one, rising with its income
    relative to the national median (capped at 1)."""
    return np.minimum(params.car_first_purchase_hazard_per_year
                      * (income_month_yuan / params.car_first_purchase_reference_income_yuan_month)
                      ** params.car_first_purchase_income_elasticity, 1.0)


def expected_cars_bought_per_year(owns_car_probability: np.ndarray | float, income_month_yuan: np.ndarray,
                                  params: BehaviourParameters) -> np.ndarray:
    """Steady-state cars a household buys per year: owners replace at one over the mean car life,
    others buy a first car at the first-purchase hazard."""
    car_life = weibull_mean(params.car_weibull_shape, params.car_weibull_scale_years)
    return owns_car_probability / car_life + (1 - owns_car_probability) * first_car_hazard_per_year(income_month_yuan, params)


def appliances_replaced_per_year(params: BehaviourParameters) -> float:
    """Steady-state major appliances a household replaces per year."""
    return params.appliance_items_per_household / weibull_mean(params.appliance_weibull_shape,
                                                               params.appliance_weibull_scale_years)


def sample_stationary_ages(rng: np.random.Generator, n: int, shape: float, scale: float, max_age: float) -> np.ndarray:
    """Ages (years) of items in a fleet replaced on failure, drawn from the renewal process's stationary law.

    In steady state the age density is proportional to the survival function
    S(a) = exp(-(a/scale)^shape), which is why old items are fewer than young ones.
    """
    grid = np.linspace(0.0, max_age, 2001)
    survival = np.exp(-((grid / scale) ** shape))
    cdf = np.cumsum(survival)
    cdf /= cdf[-1]
    return np.interp(rng.random(n), cdf, grid)


@dataclass
class HouseholdPopulation:
    """The city's households as columns (one row per sampled household).

    Attributes:
        weight: real households each row stands for.
        district: district index (into City.districts).
        urban: urban household.
        size: persons.
        income_month_yuan: disposable income per month in the base year (yuan).
        income_per_capita_yuan: per-capita disposable income per year (yuan).
        quintile: city-wide income quintile 0 (poorest) to 4.
        elderly: head aged 60 or over.
        digital_access: can claim and use app-distributed vouchers.
        savings_yuan: liquid savings (yuan); never negative.
        consumption_month_yuan: consumption spending per month in the base year (yuan).
        flow_spend_day_yuan: normal daily spending by flow sector (rows x FLOW_SECTORS), base year (yuan/day).
        online_affinity: relative propensity to buy online (mean 1 over spending).
        owns_car: owns a car.
        car_purchase_day: day (relative to the run's first day, negative before it) the car was bought.
        appliance_purchase_day: purchase day of each major appliance (rows x items).
        cell: reporting cell = (district, urban, quintile) index.
    """

    weight: float
    district: np.ndarray
    urban: np.ndarray
    size: np.ndarray
    income_month_yuan: np.ndarray
    income_per_capita_yuan: np.ndarray
    quintile: np.ndarray
    elderly: np.ndarray
    digital_access: np.ndarray
    savings_yuan: np.ndarray
    consumption_month_yuan: np.ndarray
    flow_spend_day_yuan: np.ndarray
    online_affinity: np.ndarray
    owns_car: np.ndarray
    car_purchase_day: np.ndarray
    appliance_purchase_day: np.ndarray
    cell: np.ndarray
    n_districts: int

    @property
    def n(self) -> int:
        """Rows (sampled households)."""
        return int(self.district.shape[0])

    @property
    def n_cells(self) -> int:
        """Number of reporting cells."""
        return self.n_districts * 2 * N_QUINTILES

    def copy_mutable(self) -> "HouseholdPopulation":
        """A copy whose changing columns (savings, durables) are its own; fixed columns are shared."""
        clone = HouseholdPopulation(**self.__dict__)
        clone.savings_yuan = self.savings_yuan.copy()
        clone.owns_car = self.owns_car.copy()
        clone.car_purchase_day = self.car_purchase_day.copy()
        clone.appliance_purchase_day = self.appliance_purchase_day.copy()
        return clone

    @staticmethod
    def cell_of(district: np.ndarray, urban: np.ndarray, quintile: np.ndarray) -> np.ndarray:
        """Reporting cell index from district, urban flag and quintile."""
        return ((district.astype(np.int64) * 2 + urban.astype(np.int64)) * N_QUINTILES + quintile).astype(np.int32)

    @staticmethod
    def cell_parts(n_districts: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(district, urban, quintile) of every cell index."""
        cells = np.arange(n_districts * 2 * N_QUINTILES)
        return cells // (2 * N_QUINTILES), (cells // N_QUINTILES) % 2, cells % N_QUINTILES


def generate_households(city: City, params: BehaviourParameters, scale: float,
                        rng: np.random.Generator) -> HouseholdPopulation:
    """Draw a household population for ``city`` at ``scale`` (1 = one row per household).

    Income is lognormal within urban and rural groups with the group's mean
    per-capita income and a spread set by ``params.income_gini``; consumption
    rises less than proportionally with income (``consumption_income_elasticity``)
    and is scaled so each group's consumption-income ratio matches the city's.
    """
    n = max(1, int(round(city.households * scale)))
    weight = city.households / n
    shares = np.array([d.household_share for d in city.districts])
    district = rng.choice(len(shares), size=n, p=shares / shares.sum()).astype(np.int16)
    urban_p = np.array([d.urban_share for d in city.districts])[district]
    urban = rng.random(n) < urban_p
    size = np.clip(1 + rng.poisson(max(city.household_size - 1.0, 0.0), n), 1, 8).astype(np.int8)
    elderly = rng.random(n) < np.where(urban, params.elderly_head_share["urban"], params.elderly_head_share["rural"])

    income_pc = np.empty(n)
    consumption_month = np.empty(n)
    for group, mask in (("urban", urban), ("rural", ~urban)):
        m = int(mask.sum())
        if m == 0:
            continue
        sigma = lognormal_sigma_from_gini(params.income_gini[group])
        mean = city.income_per_capita_yuan[group]
        pc = mean * np.exp(sigma * rng.standard_normal(m) - sigma**2 / 2)
        income_pc[mask] = pc
        income_month = pc * size[mask] / 12.0
        eps = params.consumption_income_elasticity
        target_ratio = city.consumption_income_ratio[group]
        raw = pc**eps
        cons = income_month * (raw / pc)  # per-capita consumption ∝ pc^eps
        # Scale to the group's ratio, with consumption at most 98% of income; two passes fix the cap's loss.
        for _ in range(3):
            k = target_ratio * income_month.sum() / cons.sum()
            cons = np.minimum(cons * k, 0.98 * income_month)
        consumption_month[mask] = cons

    income_month = income_pc * size / 12.0
    # Quintiles of per-capita income across the whole city.
    cuts = np.quantile(income_pc, [0.2, 0.4, 0.6, 0.8])
    quintile = np.searchsorted(cuts, income_pc, side="right").astype(np.int8)

    access = np.where(urban, params.digital_access["urban"], params.digital_access["rural"])
    access = np.where(elderly, access * params.digital_access["elderly_factor"], access)
    digital = rng.random(n) < access

    median_income = np.median(income_month)
    savings_months = params.savings_months_median * np.exp(
        params.savings_months_sigma * rng.standard_normal(n)) * (income_month / median_income) ** 0.3
    savings = savings_months * income_month

    # Cars: ownership rises with income; scaled so each group's rate matches the statistics.
    owns_car = np.zeros(n, dtype=bool)
    for group, mask in (("urban", urban), ("rural", ~urban)):
        if not mask.any():
            continue
        rate = city.car_owners_per_100_households[group] / 100.0
        rel = income_month[mask] / np.mean(income_month[mask])
        p = rate * rel
        for _ in range(5):
            p = np.minimum(p * rate / max(p.mean(), 1e-12), 0.95)
        owns_car[mask] = rng.random(int(mask.sum())) < p
    car_age = sample_stationary_ages(rng, n, params.car_weibull_shape, params.car_weibull_scale_years, 30.0)
    car_purchase_day = np.where(owns_car, -np.round(car_age * 365.0), 0).astype(np.int32)
    items = int(params.appliance_items_per_household)
    app_age = sample_stationary_ages(rng, n * items, params.appliance_weibull_shape,
                                     params.appliance_weibull_scale_years, 30.0).reshape(n, items)
    appliance_purchase_day = (-np.round(app_age * 365.0)).astype(np.int32)

    # Flow retail spending: the household's retail budget less the part that goes to durable purchases,
    # which the durable rule produces as events. The durable part is taken per urban/rural group, so
    # every household keeps positive flow spending.
    retail_month = consumption_month * city.household_retail_share
    flow_fraction = np.ones(n)
    appliances_per_year = appliances_replaced_per_year(params)
    for group, mask in (("urban", urban), ("rural", ~urban)):
        if not mask.any():
            continue
        own = city.car_owners_per_100_households[group] / 100.0
        cars_per_year = float(np.mean(expected_cars_bought_per_year(own, income_month[mask], params)))
        durable_month = (cars_per_year * params.car_price_yuan + appliances_per_year * params.appliance_price_yuan) / 12.0
        frac = 1.0 - durable_month / max(retail_month[mask].mean(), 1e-9)
        flow_fraction[mask] = max(frac, 0.3)
    flow_total_day = retail_month * flow_fraction * 12.0 / 365.0
    sector_share = np.array([city.sector_shares[s] for s in FLOW_SECTORS])
    flow_spend = flow_total_day[:, None] * sector_share[None, :]

    affinity = np.where(digital, np.where(elderly, 0.6, 1.2), 0.25)
    spend_total = flow_spend.sum(axis=1)
    affinity = affinity / (np.sum(affinity * spend_total) / max(spend_total.sum(), 1e-12))

    return HouseholdPopulation(
        weight=weight, district=district, urban=urban, size=size,
        income_month_yuan=income_month, income_per_capita_yuan=income_pc, quintile=quintile,
        elderly=elderly, digital_access=digital, savings_yuan=savings,
        consumption_month_yuan=consumption_month, flow_spend_day_yuan=flow_spend,
        online_affinity=affinity.astype(np.float32), owns_car=owns_car,
        car_purchase_day=car_purchase_day, appliance_purchase_day=appliance_purchase_day,
        cell=HouseholdPopulation.cell_of(district, urban, quintile), n_districts=len(city.districts),
    )


def windfall_mpc(savings_yuan: np.ndarray, income_month_yuan: np.ndarray, params: BehaviourParameters) -> np.ndarray:
    """Share of a windfall a household spends, falling with its liquid savings.

    mpc = min + (max - min) * exp(-savings_months / scale). Parker et al. (2013)
    find spending out of windfalls falls with liquid wealth, from most of the
    payment for households without liquid assets to little for the rich; Kan,
    Peng & Wang (2017) find about 0.25 on average out of cash-like vouchers.
    """
    months = savings_yuan / np.maximum(income_month_yuan, 1.0)
    return params.windfall_mpc_min + (params.windfall_mpc_max - params.windfall_mpc_min) * np.exp(
        -months / params.windfall_mpc_savings_scale_months)
