"""The forecast baseline's trend: where the city's no-policy 社零 would go, and how unsure that is.

The no-policy path of a city starts from its base-year 社零 level (``retail_sales_base_yuan``, to
which calibration fits the households' spending) and grows at the city's 社零 trend
(``retail_sales_trend_growth``, from its own recent 社零 history or its province's where the city's
is missing; ``calibration/trend.py`` derives it and ``calibration/data/README.md`` documents it).
Outside conditions (``[conditions]``: the epidemic, tourism) multiply that path.

What the trend leaves open is drawn per replication, from the replication's own random stream
(``retail_trend``), so the policy run and its counterfactual share it and the no-policy run is the
same whatever the design:

* a level shock for the base year itself, ``exp(base_sd * z0 - base_sd^2 / 2)``: how uncertain the
  base-year statistic is (``retail_sales_base_sd``, 0 for a figure printed in a bulletin);
* a random walk in log level, one step per calendar year away from the base year, each step
  ``forecast_error_sd * z - forecast_error_sd^2 / 2``: the spread of past errors of forecasting a
  year's 社零 growth (``retail_sales_forecast_error_sd``). Its variance grows with the distance from
  the base year, so intervals widen with the horizon (backwards too, for years before the base year).

Steps sit at the middle of each year and the log level is linear between them, so the path has no
jump on 1 January. Both shocks have mean 1 in levels (the ``- sd^2 / 2`` terms), so the mean path
is the deterministic trend.

The walk is drawn once for ``MAX_YEARS`` years either side of the base year, whatever the
scenario's dates, so the run of a prior period before the horizon (``model/simulation.py``) sees
the same path as the run of the horizon.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

#: Years either side of the base year the walk is drawn for (scenarios span at most six years).
MAX_YEARS = 30
#: The random stream the trend draws from (``RandomStreams.get``).
TREND_STREAM = "retail_trend"


@dataclass(frozen=True)
class RetailTrend:
    """The city's 社零 trend and its uncertainty.

    Attributes:
        growth_per_year: trend growth of 社零 (0.066 = 6.6% a year), nominal.
        forecast_error_sd: standard deviation of one year's growth error (log points a year).
        base_sd: relative standard deviation of the base-year 社零 statistic (0 for a bulletin figure).
    """

    growth_per_year: float = 0.0
    forecast_error_sd: float = 0.0
    base_sd: float = 0.0

    @property
    def uncertain(self) -> bool:
        """Whether replications draw different trend paths."""
        return self.forecast_error_sd > 0 or self.base_sd > 0


class TrendPath:
    """One replication's draw of the trend: a daily multiplier of the base-year level.

    Attributes:
        trend: the trend it was drawn from.
        base_year: the year whose middle (1 July) the path is anchored at.
        level_shock: log of the base-year level shock.
        log_walk: log level of the walk at the middle of years base_year - MAX_YEARS .. base_year + MAX_YEARS.
    """

    def __init__(self, trend: RetailTrend, base_year: int, rng: np.random.Generator):
        self.trend = trend
        self.base_year = base_year
        z = rng.standard_normal(2 * MAX_YEARS + 1)
        b, s = trend.base_sd, trend.forecast_error_sd
        self.level_shock = float(b * z[0] - b * b / 2.0)
        steps = s * z[1:] - s * s / 2.0            # steps[:MAX_YEARS] backwards, steps[MAX_YEARS:] forwards
        walk = np.zeros(2 * MAX_YEARS + 1)
        walk[MAX_YEARS + 1:] = np.cumsum(steps[MAX_YEARS:])
        walk[:MAX_YEARS] = np.cumsum(steps[:MAX_YEARS])[::-1]
        self.log_walk = walk

    def years_from_base(self, dates: list[dt.date]) -> np.ndarray:
        """Years from the middle of the base year (base-year figures are annual averages)."""
        middle = dt.date(self.base_year, 7, 1)
        return np.array([(d - middle).days / 365.25 for d in dates])

    def shock(self, dates: list[dt.date]) -> np.ndarray:
        """The drawn part only: exp(level shock + walk), by date (mean 1 over replications)."""
        years = np.clip(self.years_from_base(dates), -MAX_YEARS, MAX_YEARS)
        grid = np.arange(-MAX_YEARS, MAX_YEARS + 1, dtype=float)
        return np.exp(self.level_shock + np.interp(years, grid, self.log_walk))

    def index(self, dates: list[dt.date]) -> np.ndarray:
        """The no-policy demand index by date: (1 + trend growth)^years from the base year x the drawn shock."""
        years = self.years_from_base(dates)
        return (1.0 + self.trend.growth_per_year) ** years * self.shock(dates)

    @classmethod
    def mean_path(cls, trend: RetailTrend, base_year: int) -> "TrendPath":
        """The deterministic trend with no drawn shocks (what calibration fits the base year on)."""
        return cls(RetailTrend(trend.growth_per_year), base_year, np.random.default_rng(0))

    @classmethod
    def draw(cls, trend: RetailTrend, base_year: int, streams) -> "TrendPath":
        """The path of the replication whose streams are ``streams``."""
        return cls(trend, base_year, streams.get(TREND_STREAM))
