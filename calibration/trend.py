"""Each city's 社零 trend and the spread of past forecast errors, from ``city_statistics.csv``.

``python -m calibration.trend`` prints, for the five cities, the three numbers a scenario's
``[city]`` gives the forecast baseline (``model/trend.py``) and how each was obtained;
``tests/test_forecast_baseline.py`` checks the scenarios carry them.

**Forecast errors.** A city's growth in a year is forecast, from what is known nationally, as the
national growth of the same period: in the epidemic years the no-policy path of a scenario is the
national monthly path (``[conditions]``), and in other years the city's trend. The error of that
forecast for one year is ``ln(1 + city growth) - ln(1 + national growth)``, for every whole year,
or January-September when the year is missing, for which the file has both the city's growth and
the nation's (``FORECAST_ERROR_ROWS``). ``forecast_error_sd`` is the root mean square of a city's
own errors when it has at least ``MIN_OWN_ERRORS``, and otherwise that of all five cities' errors
pooled (Diqing, Pingliang and Guangyuan have fewer; their provinces' annual growth rates are not in
the file either).

**Trend growth.** ``TREND_GROWTH`` names, per city, the row of the file its trend growth comes
from: the city's own growth in its latest year outside the epidemic (Lhasa 2019), or its published
average over recent years (Diqing 2021-2024). For the three cities whose horizons lie in the
epidemic years (Tianjin, Pingliang, Guangyuan) the no-policy path is the national monthly path:
their conditions divide the national path by the scenario's trend (``income_growth_per_year``), so
the trend rate cancels, and their ``retail_sales_trend_growth`` must equal ``income_growth_per_year``
(the conditions' denominator, checked by the test).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from calibration.statistics import Statistic, read_statistics

#: (city, indicator, year, period) of a city's growth that is compared with the nation's of the same period.
FORECAST_ERROR_ROWS = (
    ("lhasa", "retail_sales_growth", 2019, "year"),
    ("lhasa", "retail_sales_growth", 2020, "year"),
    ("lhasa", "retail_sales_growth", 2021, "year"),
    ("tianjin", "retail_sales_growth_cumulative", 2020, "Jan-Sep"),
    ("tianjin", "retail_sales_growth", 2021, "year"),
    ("pingliang", "retail_sales_growth", 2021, "year"),
    ("guangyuan", "retail_sales_growth", 2020, "year"),
)
#: A city with fewer own errors than this uses the pooled spread.
MIN_OWN_ERRORS = 2
#: city -> (indicator, year, period) of the row its trend growth is; None: the conditions' national path.
TREND_GROWTH = {
    "lhasa": ("retail_sales_growth", 2019, "year"),
    "diqing": ("retail_sales_growth", 2024, "2021-2024 average"),
    "tianjin": None,
    "pingliang": None,
    "guangyuan": None,
}


@dataclass(frozen=True)
class ForecastError:
    """One year's error of forecasting a city's 社零 growth by the nation's.

    Attributes:
        city: city key; year, period: what the growth covers.
        city_growth, national_growth: the two growth rates (fractions).
        error: ln(1 + city_growth) - ln(1 + national_growth).
    """

    city: str
    year: int
    period: str
    city_growth: float
    national_growth: float

    @property
    def error(self) -> float:
        return math.log1p(self.city_growth) - math.log1p(self.national_growth)


def _row(statistics: list[Statistic], city: str, indicator: str, year: int, period: str) -> Statistic:
    for s in statistics:
        if (s.city, s.indicator, s.year, s.period) == (city, indicator, year, period):
            return s
    raise LookupError(f"city_statistics.csv has no row {city} {indicator} {year} {period}")


def forecast_errors(statistics: list[Statistic]) -> list[ForecastError]:
    """The errors of ``FORECAST_ERROR_ROWS``, each against the national growth of the same period."""
    out = []
    for city, indicator, year, period in FORECAST_ERROR_ROWS:
        own = _row(statistics, city, indicator, year, period)
        national = _row(statistics, "china", indicator, year, period)
        out.append(ForecastError(city, year, period, own.value, national.value))
    return out


def _rms(values: list[float]) -> float:
    return math.sqrt(sum(v * v for v in values) / len(values))


def forecast_error_sd(statistics: list[Statistic], city: str) -> tuple[float, str]:
    """A city's forecast-error spread (log points a year) and how it was obtained."""
    errors = forecast_errors(statistics)
    own = [e for e in errors if e.city == city]
    listed = ", ".join(f"{e.city} {e.year}{'' if e.period == 'year' else ' ' + e.period} {100 * e.error:+.1f}"
                       for e in (own if len(own) >= MIN_OWN_ERRORS else errors))
    if len(own) >= MIN_OWN_ERRORS:
        return _rms([e.error for e in own]), f"root mean square of {city}'s own errors (log points x 100: {listed})"
    return _rms([e.error for e in errors]), (f"{city} has {len(own)} own error(s): root mean square of the five "
                                             f"cities' errors pooled (log points x 100: {listed})")


def trend_growth(statistics: list[Statistic], city: str, income_growth: float | None = None) -> tuple[float | None, str]:
    """A city's 社零 trend growth and where it comes from (None: the scenario's income_growth_per_year)."""
    key = TREND_GROWTH[city]
    if key is None:
        return income_growth, ("the horizon lies in the epidemic years: the no-policy path is the national monthly "
                               "path ([conditions], 2019-anchored on income_growth_per_year, which cancels)")
    row = _row(statistics, city, *key)
    return row.value, f"city_statistics.csv {city} {key[0]} {key[1]} ({key[2]})"


def main() -> None:
    statistics = read_statistics()
    for e in forecast_errors(statistics):
        print(f"{e.city:10s} {e.year} {e.period:8s} city {100 * e.city_growth:+6.2f}%  national "
              f"{100 * e.national_growth:+6.2f}%  error {100 * e.error:+6.2f} log points")
    for city in TREND_GROWTH:
        sd, how = forecast_error_sd(statistics, city)
        g, where = trend_growth(statistics, city)
        print(f"{city}: retail_sales_trend_growth {'income_growth_per_year' if g is None else f'{g:.4f}'} ({where}); "
              f"retail_sales_forecast_error_sd {sd:.4f} ({how})")


if __name__ == "__main__":
    main()
