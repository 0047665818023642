"""Visitors: a seasonal daily inflow of tourists who spend at the city's merchants.

Rule ``VisitorFlow``: visits per day are the year's visits spread by the
monthly profile, times outside conditions (such as the 2023 tourism recovery)
and the city-wide daily shock. Each visit spends a fixed amount by sector:
catering and goods count in 社零; lodging and tickets do not and are reported
separately.

A tourism voucher (or ticket discount) hands vouchers to visitors at an even
pace over its dates. It lowers the price of a trip by the voucher's value, which
raises the inflow with ``tourism_voucher_inflow_elasticity`` relative to the
spending of a visit; ``tourism_voucher_redemption_rate`` of vouchers are used,
and each used one is reimbursed to the merchant.
"""

from __future__ import annotations

import numpy as np

from model.scenario import TourismVoucherTool
from model.sectors import SECTOR_INDEX


class VisitorFlow:
    """Tourist inflow and spending.

    Attributes:
        visits_per_day: base-year visits per day before the monthly profile.
        tools: tourism vouchers switched on in this run.
    """

    def __init__(self, model, active_tools: dict):
        self.model = model
        self.visitors = model.scenario.city.visitors
        self.visits_per_day = self.visitors.visitors_per_year / 365.0 if self.visitors else 0.0
        self.tools = [t for t in active_tools.values() if isinstance(t, TourismVoucherTool)]
        self.spend = self.visitors.spend_per_visit_yuan if self.visitors else {}
        self.spend_per_visit = float(sum(self.spend.values())) if self.visitors else 0.0

    def step(self, day: int, month: int, condition: float, shock: float) -> None:
        """Book today's visitor spending and pay out tourism vouchers."""
        if not self.visitors:
            return
        model = self.model
        p = model.params
        visits = self.visits_per_day * self.visitors.monthly_profile[month - 1] * condition * shock
        date = model.date(day)
        extra_visits = 0.0
        for tool in self.tools:
            if not tool.start <= date <= tool.end:
                continue
            fund = model.funds[tool.name]
            days = (tool.end - tool.start).days + 1
            handed = tool.quantity / days
            used = handed * p.tourism_voucher_redemption_rate
            paid = fund.pay(used * tool.face_value_yuan, "merchant", day)
            if paid <= 0:
                continue
            handed *= paid / (used * tool.face_value_yuan)
            used = paid / tool.face_value_yuan
            counts = model.books.voucher_counts(tool.name)
            counts.issued[day] += handed
            counts.redeemed[day] += used
            counts.expired[day] += handed - used
            counts.gross_spending_yuan[day] += used * self.spend_per_visit
            model.books.supported(tool.name)[day] += used * self.spend_per_visit
            # The voucher cuts the price of a trip for those who get one.
            extra = p.tourism_voucher_inflow_elasticity * handed * tool.face_value_yuan / max(self.spend_per_visit, 1e-9)
            counts.induced_spending_yuan[day] += extra * self.spend_per_visit
            extra_visits += extra
        total = visits + extra_visits
        cell = model.visitor_cell
        for sector in ("catering", "daily_goods"):
            amount = total * self.spend.get(sector, 0.0)
            if amount > 0:
                idx = SECTOR_INDEX[sector]
                model.books.book_sales(day, np.array([cell]), idx, np.array([False]),
                                       model.above_quota_share[idx], np.array([amount]))
        model.books.non_retail[day, 0] += total * self.spend.get("lodging", 0.0)
        model.books.non_retail[day, 1] += total * self.spend.get("tickets", 0.0)
