"""Each city plan's no-policy path against the published 社零 figures of the years it simulates (issue 11).

The base-year test (``tests/test_forecast_baseline.py``) checks one year per city. A planner also reads
the growth the model simulates across the horizon and the prior period its growth targets are judged
against; where a statistic of one of those years was published, the no-policy path must reproduce it
within the uncertainty the scenario states for that year: ``sqrt(base_sd^2 + k * sd^2)`` for a level
k years from the base year, ``sqrt(n) * sd`` for the ratio of two levels n years apart (the trend's
forecast error is a random walk, ``model/trend.py``), each plus 2% for sampling at test scale.

The figures are the rows of ``calibration/data/city_statistics.csv`` labelled ``source``: annual 社零
levels and growth rates, and averages over several years ("2021-2024 average"); plan targets, part-year
figures and the base year (checked elsewhere) are not. The path is the central one: the scenario's
trend uncertainty is set to zero so one replication gives it, and the stated uncertainty becomes the
tolerance instead. What it caught: Diqing's visits borrowed neighbouring Tibet's 2021-2022 dip, which
put the simulated 2024 24% above the published 85.6亿 and the 2021-2024 growth at 10.8% a year (mean of
four replications) against the published 6.64% (``test_a_path_with_tibets_visitor_dip_fails_the_published_diqing_growth``).
"""

from __future__ import annotations

import copy
import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest

from model.rng import RandomStreams
from model.scenario import read_scenario_file, scenario_from_dict
from model.simulation import simulate_replication
# the base-year test's scales (1,000 to 5,000 households) and its allowance for their sampling error
from test_forecast_baseline import CITY_SCALES, SAMPLING_ALLOWANCE

ROOT = Path(__file__).resolve().parents[1]
STATISTICS = ROOT / "calibration" / "data" / "city_statistics.csv"
AVERAGE = re.compile(r"^(\d{4})-(\d{4}) average$")


def published_figures(city: str) -> list[dict]:
    """The city's source-labelled annual 社零 levels, growth rates and multi-year average growth rates."""
    rows = []
    with STATISTICS.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["city"] != city or row["label"] != "source":
                continue
            if row["indicator"] not in ("retail_sales", "retail_sales_growth"):
                continue
            if row["period"] != "year" and not AVERAGE.match(row["period"]):
                continue
            rows.append(row)
    return rows


def central_path(raw: dict, city: str) -> dict[int, float]:
    """Annual no-policy 社零 (yuan) of the prior period and the horizon, trend uncertainty set to zero."""
    raw = copy.deepcopy(raw)
    raw["city"]["retail_sales_forecast_error_sd"]["value"] = 0.0
    raw["city"]["retail_sales_base_sd"]["value"] = 0.0
    raw.pop("tools", None)
    scenario = scenario_from_dict(raw, city)
    pair = simulate_replication(scenario, CITY_SCALES[city], RandomStreams.from_seed(0, 0), tool_breakdown=False,
                                behaviour="documented values (model/parameters/behaviour.toml)")
    levels: dict[int, float] = {}
    for run in (pair.prior, pair.baseline):
        if run is None:
            continue
        daily = run.books.retail.sum(axis=(1, 2, 3, 4))
        years = np.array([d.year for d in run.dates])[: len(daily)]
        for year in sorted(set(years.tolist())):
            days = int((years == year).sum())
            if days >= 365:  # whole calendar years only
                levels[year] = levels.get(year, 0.0) + float(daily[years == year].sum())
    return levels


def checks(raw: dict, city: str, levels: dict[int, float]) -> list[tuple[str, float, float, float]]:
    """(what, simulated, published, tolerance) for each published figure whose years the path simulates."""
    base_year = int(raw["city"]["base_year"])
    base_sd = float(raw["city"]["retail_sales_base_sd"]["value"])
    sd = float(raw["city"]["retail_sales_forecast_error_sd"]["value"])
    out = []
    for row in published_figures(city):
        year, value = int(row["year"]), float(row["value"])
        if row["indicator"] == "retail_sales" and row["period"] == "year":
            if year == base_year or year not in levels:
                continue
            tolerance = math.sqrt(base_sd ** 2 + abs(year - base_year) * sd ** 2) + SAMPLING_ALLOWANCE
            out.append((f"{city} 社零 {year}", levels[year], value, tolerance))
            continue
        first = year - 1 if row["period"] == "year" else int(AVERAGE.match(row["period"]).group(1))
        if first not in levels or year not in levels:
            continue
        span = year - first
        ratio = levels[year] / levels[first]
        published_ratio = (1 + value) ** span
        tolerance = math.sqrt(span) * sd + SAMPLING_ALLOWANCE
        out.append((f"{city} 社零 growth {first}-{year}", ratio, published_ratio, tolerance))
    return out


@pytest.mark.parametrize("city", sorted(CITY_SCALES))
def test_no_policy_path_reproduces_the_published_figures_of_the_years_it_simulates(city):
    raw = read_scenario_file(ROOT / "scenarios" / f"{city}.toml")
    levels = central_path(raw, city)
    for what, simulated, published, tolerance in checks(raw, city, levels):
        assert abs(simulated / published - 1) <= tolerance, (what, simulated, published, tolerance)


def test_the_published_figures_checked_include_diqings_2024_level_and_growth_and_guangyuans_2020_growth():
    """The check is not empty: these four figures fall inside the years the plans simulate (Tianjin's 2022 level,
    from the NBS regional series, since 2026-12-02)."""
    seen = set()
    for city in ("diqing", "guangyuan", "tianjin"):
        raw = read_scenario_file(ROOT / "scenarios" / f"{city}.toml")
        # the years the path covers, without simulating: prior period and horizon
        levels = {year: 1.0 for year in range(2019, 2025)}
        seen |= {what for what, *_ in checks(raw, city, levels)}
    assert {"diqing 社零 2024", "diqing 社零 growth 2021-2024", "guangyuan 社零 growth 2019-2020",
            "tianjin 社零 2022"} <= seen


def test_a_path_with_tibets_visitor_dip_fails_the_published_diqing_growth():
    """Tamper: Diqing's visits put back on Tibet's 2021 and 2022 dip (0.752 and 0.544 of 2023).

    The visitors' spending inside 社零 then swings by a third between 2021 and 2024, and the central
    path's 2021-2024 growth is 11.8% a year (measured: ratio 1.40) against the published 6.64% (ratio
    1.213): 15% off, beyond the tolerance sqrt(3) x 5.25% + 2% = 11.1%.
    """
    raw = read_scenario_file(ROOT / "scenarios" / "diqing.toml")
    for period in raw["conditions"]["tourism"]["schedule"]:
        dip = {2021: 0.752, 2022: 0.544}.get(period["start"].year)
        if dip is not None:
            period["multiplier"] = {"value": dip, "assumption": "test: Tibet's dip"}
    levels = central_path(raw, "diqing")
    growth = [c for c in checks(raw, "diqing", levels) if c[0] == "diqing 社零 growth 2021-2024"]
    assert len(growth) == 1
    what, simulated, published, tolerance = growth[0]
    assert simulated / published - 1 > tolerance, (what, simulated, published, tolerance)
    assert 1.33 < simulated < 1.47, simulated
