"""Known defect, measured: car sales of a no-policy run climb for two years from the first day (found 2026-12-02).

A run starts with the steady-state pool of households shopping for a car (``DurableMarket._seed_pool``: each
item in the market with probability hazard x mean shopping delay) but without the households that are
waiting because their liquid savings cannot pay the down payment (``_purchase_today`` keeps them in the
market; the monthly savings update keeps what they save liquid). That backlog builds up over the first
years of every run, and car sales climb with it, with no change in incomes, prices or conditions.

Measured on Tianjin's plan with its [conditions] and tools removed and the trend's uncertainty set to zero
(scale 0.01, seed 0, documented behaviour), car sales in 亿元 by quarter:

    actual savings:  2021 82 81 106 102, 2022 118 129 139 141   (year 2 / year 1: 1.42; in the market 742 -> 1,980)
    savings x 10:    2021 151 132 156 161, 2022 159 153 175 178 (year 2 / year 1: 1.11; in the market 584 -> 780)

Run on to 2026 (the same settings), annual car sales are 371, 527, 589, 638, 686 and 721亿 for 2021-2026
(+42%, +12%, +8%, +7.5%, +5% against the 4% trend) and the shoppers in the market 982 at day 180, 1,980 at day
720, 2,700 at day 1,620: the climb takes about five years to die away, so a spin-up that removed it would
have to simulate about five years of durables and savings before the first day.

The same climb is in every city's plan with its conditions (Guangyuan's no-policy car sales by quarter go
from 3亿 to 10亿 over 2020-2022, its shoppers in the market from 106 to 376 per 10,000 sampled items). It biases
what the model reports: calibration fits the city's car price to the first year's depressed car sales
(Tianjin's fitted price is 297,400 yuan, at the top of its plausible range), later years overshoot, growth
targets judged across years see the climb as growth, and a car subsidy finds a larger stuck pool the later
it starts: in the synthetic test city (``conftest.small_city``, 20,000 households at scale 1, horizon
2023-2024, six replications, seed 7, committed behaviour), a 5,000-yuan subsidy per car for February to
April paid 60万 with its net extra car sales 0.08 (se 0.05) of the outlay when it ran in 2023, and 94万 with
0.27 (se 0.09) when the same months ran in 2024. The fix (start from a state that is stationary in savings and shoppers, e.g. a no-policy spin-up
before the first day shared by the policy run and its counterfactual, and a used car's value counting
toward the down payment of its replacement) moves the committed behaviour estimate, every city's
calibration and the golden run; it is not made yet. ``test_car_sales_do_not_climb_without_a_cause`` is
marked as an expected failure, strict, so it fails the suite the day the defect is fixed and must then be
turned into an ordinary test.
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


def _car_sales_by_year(savings_factor: float) -> tuple[dict[int, float], list[int]]:
    """Tianjin's no-policy car sales per simulated year (yuan) with no conditions and no trend uncertainty, and
    the count of car items in the market every 120 days."""
    raw = read_scenario_file(ROOT / "scenarios" / "tianjin.toml")
    raw["city"]["retail_sales_forecast_error_sd"]["value"] = 0.0
    raw["city"]["retail_sales_base_sd"]["value"] = 0.0
    raw.pop("tools", None)
    raw.pop("conditions", None)
    scenario = scenario_from_dict(raw, "tianjin")
    streams = RandomStreams.from_seed(0, 0)
    population = build_population(scenario, SCALE, streams)
    population.savings_yuan *= savings_factor
    run = CityEconomy(scenario, scale=SCALE, streams=streams, active_tools=set(), population=population)
    in_market = []
    while run.day < run.days:
        run.step()
        if run.day % 120 == 0:
            in_market.append(int(run.car_market.in_market.sum()))
    retail = run.books.retail
    cars = retail[:, :, SECTOR_INDEX["cars"]].sum(axis=tuple(range(1, retail.ndim - 1)))
    years = np.array([d.year for d in run.simulated_dates])[: cars.size]
    return {int(y): float(cars[years == y].sum()) for y in (2021, 2022)}, in_market


@pytest.fixture(scope="module")
def actual():
    return _car_sales_by_year(1.0)


def test_the_climb_comes_from_the_liquidity_backlog(actual):
    """The diagnosis: with ten times the savings the pool of shoppers grows far less and year-1 sales are far
    higher (measured 1.6x), so the climb is the backlog of households who cannot pay the down payment."""
    sales, in_market = actual
    rich_sales, rich_in_market = _car_sales_by_year(10.0)
    assert rich_sales[2021] > 1.3 * sales[2021]
    assert in_market[-1] / in_market[0] > 2.0 > 1.5 > rich_in_market[-1] / rich_in_market[0]


@pytest.mark.xfail(strict=True, reason="known defect: the liquidity backlog of car shoppers builds up from the first "
                                       "day (this module's docstring); measured year 2 / year 1 = 1.42")
def test_car_sales_do_not_climb_without_a_cause(actual):
    """Without conditions, tools or trend uncertainty, car sales may grow by the city's trend (4% a year) and
    sampling noise, not by 42%."""
    sales, _ = actual
    assert sales[2022] / sales[2021] < 1.12
