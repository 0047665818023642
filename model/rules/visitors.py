"""Visitors: a seasonal daily inflow of tourists who spend at the city's merchants.

Rule ``VisitorFlow``: visits per day are the year's visits spread by the
monthly profile, times outside conditions (such as the 2023 tourism recovery)
and the city-wide daily shock. Each visit spends a fixed amount by sector:
catering and goods count in 社零; lodging and tickets do not and are reported
separately.

Tools aimed at visitors (a tourism voucher, ``model/tools/tourism_voucher.py``)
add visits: each is asked for its ``visitor_support`` of the day, pays and books
its own vouchers, and returns the extra visits it brings.
"""

from __future__ import annotations

from model.sectors import SECTOR_INDEX


class VisitorFlow:
    """Tourist inflow and spending.

    Attributes:
        visits_per_day: base-year visits per day before the monthly profile.
    """

    def __init__(self, model):
        self.model = model
        self.visitors = model.scenario.city.visitors
        self.visits_per_day = self.visitors.visitors_per_year / 365.0 if self.visitors else 0.0
        self.spend = self.visitors.spend_per_visit_yuan if self.visitors else {}
        self.spend_per_visit = float(sum(self.spend.values())) if self.visitors else 0.0

    def step(self, day: int, month: int, condition: float, shock: float) -> None:
        """Book today's visitor spending, with the extra visits tools aimed at visitors bring."""
        if not self.visitors:
            return
        model = self.model
        visits = self.visits_per_day * self.visitors.monthly_profile[month - 1] * condition * shock
        extra_visits = 0.0
        for effect in model.tool_effects.values():
            extra_visits += effect.visitor_support(day, visits, self.spend_per_visit)
        total = visits + extra_visits
        cell = model.visitor_cell
        for sector in ("catering", "daily_goods"):
            amount = total * self.spend.get(sector, 0.0)
            if amount > 0:
                idx = SECTOR_INDEX[sector]
                model.books.book_sale(day, cell, idx, False, model.above_quota_share[idx], amount)
        model.books.non_retail[day, 0] += total * self.spend.get("lodging", 0.0)
        model.books.non_retail[day, 1] += total * self.spend.get("tickets", 0.0)
