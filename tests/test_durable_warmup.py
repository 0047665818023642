"""A no-policy run starts from a stationary durable market: car sales do not climb from the first day.

Found 2026-12-02 and fixed the same day. A run used to start with the steady-state pool of households
shopping for a car, but a household whose liquid savings could not pay the down payment stayed in the market
until they could, and such households were not in the first day's pool. That stock of households waiting on
their savings then filled for years, and car sales climbed with it with no change in incomes, prices or
conditions: Tianjin's plan with its conditions and tools removed (scale 0.01, seed 0) sold 371, 527, 589, 638,
686 and 721亿 of cars in 2021-2026 (+42% in the second year against a 4% trend), and its shoppers in the market
went from 742 to 1,980 in two years.

The fix (``model/rules/durables.py``): a household enters the market only when its savings, with what its old
car fetches toward the down payment, can pay the cash part (``DurableMarket.can_pay``); the first day's pool is
the stationary pool of such households (``_seed_pool``); a shopper whose savings later fall short drops the
purchase after ``durable_saving_wait_days``. Measured after the fix on the same settings, seeds 0-5: year 2 /
year 1 from 0.97 to 1.11, mean 1.03 (sd 0.052; seeds 0-3, the ones tested: mean 1.06): the 4% trend and
sampling noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT
from model.economy import CityEconomy, build_population
from model.rng import RandomStreams
from model.scenario import read_scenario_file, scenario_from_dict
from model.sectors import SECTOR_INDEX

SCALE = 0.01
SEEDS = (0, 1, 2, 3)


def _tianjin_without_conditions():
    raw = read_scenario_file(ROOT / "scenarios" / "tianjin.toml")
    raw["city"]["retail_sales_forecast_error_sd"]["value"] = 0.0
    raw["city"]["retail_sales_base_sd"]["value"] = 0.0
    raw.pop("tools", None)
    raw.pop("conditions", None)
    return scenario_from_dict(raw, "tianjin")


def _car_sales_by_year(seed: int) -> tuple[dict[int, float], list[int]]:
    """Tianjin's no-policy car sales per simulated year (yuan) with no conditions and no trend uncertainty, and
    the count of car items in the market on the first day and every 120 days after."""
    scenario = _tianjin_without_conditions()
    streams = RandomStreams.from_seed(seed, 0)
    run = CityEconomy(scenario, scale=SCALE, streams=streams, active_tools=set(),
                      population=build_population(scenario, SCALE, streams))
    in_market = [int(run.car_market.in_market.sum())]
    while run.day < run.days:
        run.step()
        if run.day % 120 == 0:
            in_market.append(int(run.car_market.in_market.sum()))
    retail = run.books.retail
    cars = retail[:, :, SECTOR_INDEX["cars"]].sum(axis=tuple(range(1, retail.ndim - 1)))
    years = np.array([d.year for d in run.simulated_dates])[: cars.size]
    return {int(y): float(cars[years == y].sum()) for y in (2021, 2022)}, in_market


@pytest.fixture(scope="module")
def runs():
    return [_car_sales_by_year(seed) for seed in SEEDS]


def test_car_sales_do_not_climb_without_a_cause(runs):
    """Without conditions, tools or trend uncertainty, car sales grow by the city's trend (4% a year) and
    sampling noise (sd of one seed's ratio about 0.05, of the four seeds' mean about 0.026), not by 42%: the mean
    within 0.05 of 1.04 (measured 1.06; before the fix 1.35)."""
    ratios = [sales[2022] / sales[2021] for sales, _ in runs]
    assert 0.99 < np.mean(ratios) < 1.09, ratios


def test_the_first_day_market_is_the_stationary_one(runs):
    """The shoppers in the market on the first day are as many as over the next two years (before the fix, seed 0:
    562 on the first day, 1,808 at day 600). Each later count moves with the season (the first day's pool is seeded
    at the year's average rate) and with sampling noise (about 5% at these counts): measured after the fix, the
    first day's count is 0.97 to 1.04 of the later counts' mean in seeds 0-3 (before the fix 0.38), and no later
    count is more than 12% from it."""
    for _, in_market in runs:
        first, later = in_market[0], np.array(in_market[1:])
        assert first > 200, in_market  # at scale 0.01 Tianjin has about 48,000 households
        assert 0.9 < first / later.mean() < 1.1, in_market
        assert np.all(np.abs(later / first - 1.0) < 0.2), in_market
