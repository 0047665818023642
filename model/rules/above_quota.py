"""Merchants crossing the 限额以上 (above-designated-size) threshold, counted.

The statistics bureaus survey every 限额以上 unit and sample the rest; a unit enters the directory
(纳入, 新增限上单位) when its annual main-business revenue reaches the threshold of its trade
(NBS 批发和零售业、住宿和餐饮业统计报表制度: wholesale 2000万元, retail 500万元, accommodation and
catering 200万元 a year; ``model/merchants.py`` ABOVE_QUOTA_THRESHOLD_YUAN). Plans count the units
added (Diqing 001_c005bbefdbaa2487.txt §二(四)10: 新增批发、零售、住宿、餐饮4大类限额以上单位12家以上 by 2024).

Rule ``AboveQuota``, applied to a finished run (it changes nothing in the run): each merchant keeps
its share of its sector's sales, the share it was drawn with (``generate_merchants``), so in a
period its sales are its share times the sector's 社零 booked in that period from households and
visitors (in shops and online), annualised. Its base-year sales are the sales it was drawn with, which
also decide its size class in the books (``MerchantPopulation.above_quota``). Firms' and institutions'
purchases are left out on both sides, as they are when merchants are drawn. A merchant **enters** when its base sales are below its
threshold and its sales in the period reach it, and **exits** the other way. Policy enters through
the sector's sales: a voucher that raises catering sales moves the restaurants just below 200万 across.

What the count leaves out: wholesale and lodging units (the model has no wholesalers or hotels as
merchants; Diqing's 12 counts all four trades), new firms opening, and the spread of growth between
merchants of one sector (every merchant of a sector grows at the sector's rate, so merchants cross
in order of size). Car dealers report above the quota throughout and are not counted.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from model.merchants import ABOVE_QUOTA_THRESHOLD_YUAN
from model.sectors import SECTORS


def merchant_shares(sector: np.ndarray, annual_sales_yuan: np.ndarray) -> np.ndarray:
    """Each merchant's share of its sector's merchants' sales (0-1; a sector's shares sum to 1)."""
    totals = np.bincount(sector, weights=annual_sales_yuan, minlength=len(SECTORS))
    return annual_sales_yuan / np.maximum(totals[sector], 1e-300)


def count_crossings(base_yuan: np.ndarray, period_yuan: np.ndarray, threshold_yuan: np.ndarray) -> tuple[int, int]:
    """(entries, exits): merchants below their threshold at base and at or above it in the period, and the reverse."""
    entering = (base_yuan < threshold_yuan) & (period_yuan >= threshold_yuan)
    exiting = (base_yuan >= threshold_yuan) & (period_yuan < threshold_yuan)
    return int(entering.sum()), int(exiting.sum())


class AboveQuota:
    """The rule applied to a finished run's merchants.

    Attributes:
        share: each merchant's share of its sector's sales.
        threshold_yuan: each merchant's 限额以上 threshold (annual revenue, yuan).
        base_yuan: each merchant's base-year sales to households and visitors (yuan a year).
        buyer_cells: the books' cells whose purchases merchants' sales count (all but firms and institutions).
    """

    def __init__(self, model):
        m = model.merchants
        self.sector = m.sector.astype(np.int64)
        self.share = merchant_shares(self.sector, m.annual_sales_yuan)
        self.threshold_yuan = np.array([ABOVE_QUOTA_THRESHOLD_YUAN[s] for s in SECTORS])[self.sector]
        self.base_yuan = m.annual_sales_yuan.astype(float)
        self.buyer_cells = slice(0, model.institution_cell)

    def period_sales_yuan(self, books, start_day: int, end_day: int) -> np.ndarray:
        """Each merchant's sales over days ``start_day``..``end_day`` of ``books``, annualised (yuan a year)."""
        days = end_day - start_day + 1
        sector_sales = books.retail[start_day: end_day + 1, self.buyer_cells].sum(axis=(0, 1, 3, 4))
        return self.share * sector_sales[self.sector] * (365.0 / days)

    def crossings(self, books, start_day: int, end_day: int) -> tuple[int, int]:
        """(entries, exits) over a period of ``books``."""
        return count_crossings(self.base_yuan, self.period_sales_yuan(books, start_day, end_day), self.threshold_yuan)

    def above_at_base(self) -> int:
        """Merchants at or above their threshold in the base year."""
        return int((self.base_yuan >= self.threshold_yuan).sum())


def above_quota_of(model) -> AboveQuota:
    """The rule for ``model`` (built once per run)."""
    rule = getattr(model, "_above_quota", None)
    if rule is None:
        rule = AboveQuota(model)
        model._above_quota = rule
    return rule


def new_units_by_year(model) -> dict[str, int]:
    """Merchants entering the 限额以上 directory in each calendar year of the horizon (counted from the base)."""
    rule = above_quota_of(model)
    out = {}
    dates = model.dates
    for year in sorted({d.year for d in dates}):
        a = (max(dt.date(year, 1, 1), dates[0]) - dates[0]).days
        b = (min(dt.date(year, 12, 31), dates[-1]) - dates[0]).days
        out[str(year)] = rule.crossings(model.books, a, b)[0]
    return out
