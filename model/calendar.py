"""The calendar of spending: months, weekends, public holidays and Golden Weeks.

``seasonality`` gives, for each simulated day and sector, a multiplier on a
household's average daily spending. It has two layers:

* the month's level, from China's 2019 monthly retail sales (a pre-epidemic
  year; ``data/monthly_retail_profile.csv``), so December is high and spring low;
* within each month, weekends and public holidays (``data/holidays.csv``, from
  the State Council's yearly holiday notices) raise spending by sector, and the
  two weeks before the Spring Festival raise goods spending (年货). These
  weights are normalised within the month, so they move spending between days
  without changing the month's total.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import lru_cache
from pathlib import Path

import numpy as np

from model.sectors import SECTORS

DATA_DIR = Path(__file__).resolve().parent / "data"

# Day-type multipliers relative to an ordinary weekday, by sector in SECTORS order
# (daily_goods, catering, appliances, cars, fuel, night_market).
# assumption: shoppers and diners go out on rest days; cars and appliances are
# bought when families can visit showrooms; night markets peak on Friday and
# Saturday nights. No published daily breakdown by sector was found.
WEEKEND = np.array([1.15, 1.30, 1.30, 1.50, 1.00, 1.40])
SHORT_HOLIDAY = np.array([1.20, 1.40, 1.30, 1.20, 1.20, 1.40])
GOLDEN_WEEK = np.array([1.30, 1.60, 1.60, 1.30, 1.20, 1.60])
# assumption: New-Year goods shopping (年货) in the 14 days before the Spring Festival.
PRE_SPRING_FESTIVAL = np.array([1.50, 1.10, 1.20, 1.10, 1.05, 1.00])
PRE_SPRING_FESTIVAL_DAYS = 14


@lru_cache(maxsize=1)
def holidays() -> tuple[tuple[str, str, dt.date, dt.date], ...]:
    """Public holidays as (name, kind, start, end), kind 'golden_week' or 'short_holiday'."""
    with open(DATA_DIR / "holidays.csv", encoding="utf-8") as handle:
        return tuple(
            (row["holiday"], row["kind"], dt.date.fromisoformat(row["start"]), dt.date.fromisoformat(row["end"]))
            for row in csv.DictReader(handle)
        )


def years_with_holidays() -> set[int]:
    """Years whose holidays the calendar knows."""
    return {end.year for _, _, _, end in holidays()}


@lru_cache(maxsize=1)
def monthly_levels() -> np.ndarray:
    """Twelve relative daily retail levels by calendar month (mean over days of a year = 1)."""
    totals = {}
    with open(DATA_DIR / "monthly_retail_profile.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            totals[row["month"]] = float(row["retail_sales_100m_yuan"])
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
    # January and February are released together; split by days.
    monthly = np.empty(12)
    monthly[0:2] = totals["1-2"] * days[0:2] / days[0:2].sum()
    for m in range(3, 13):
        monthly[m - 1] = totals[str(m)]
    per_day = monthly / days
    return per_day / (monthly.sum() / days.sum())


def dates_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every date from start to end inclusive."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def day_type_weights(dates: list[dt.date]) -> np.ndarray:
    """Un-normalised day weights (days, sectors) from weekends, holidays and pre-festival shopping."""
    weights = np.ones((len(dates), len(SECTORS)))
    index = {d: i for i, d in enumerate(dates)}
    night = SECTORS.index("night_market")
    for i, d in enumerate(dates):
        if d.weekday() >= 5:
            weights[i] = WEEKEND
        if d.weekday() == 4:  # Friday night counts for night markets
            weights[i, night] = WEEKEND[night]
    for name, kind, start, end in holidays():
        mult = GOLDEN_WEEK if kind == "golden_week" else SHORT_HOLIDAY
        d = start
        while d <= end:
            if d in index:
                weights[index[d]] = mult
            d += dt.timedelta(days=1)
        if name == "春节":
            for k in range(1, PRE_SPRING_FESTIVAL_DAYS + 1):
                pre = start - dt.timedelta(days=k)
                if pre in index:
                    weights[index[pre]] = np.maximum(weights[index[pre]], PRE_SPRING_FESTIVAL)
    return weights


def seasonality(start: dt.date, end: dt.date) -> np.ndarray:
    """Daily spending multipliers (days, sectors) from start to end inclusive.

    Each calendar month's mean multiplier equals its 2019 retail level, so the
    calendar redistributes spending within months and shapes it across months.
    """
    # Normalise over whole months, even where the horizon cuts one.
    full_start = start.replace(day=1)
    nxt = end.replace(day=28) + dt.timedelta(days=4)
    full_end = nxt - dt.timedelta(days=nxt.day)
    dates = dates_between(full_start, full_end)
    weights = day_type_weights(dates)
    levels = monthly_levels()
    keys = np.array([d.year * 12 + d.month for d in dates])
    months = np.array([d.month for d in dates])
    out = np.empty_like(weights)
    for key in np.unique(keys):
        rows = keys == key
        out[rows] = weights[rows] / weights[rows].mean(axis=0) * levels[months[rows][0] - 1]
    offset = (start - full_start).days
    return out[offset: offset + (end - start).days + 1]
