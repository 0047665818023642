"""The night economy: which merchants open late, and how much is spent at night.

Rule ``NightEconomy``, each night:

1. **Merchants decide whether to stay open late.** A merchant in a
   night-capable sector (shops, restaurants, stalls) opens when its margin on
   the night revenue it expects, plus any allowance (per merchant-night or
   ``night_allowance_per_m2`` of floor area) and fees waived, exceeds the extra
   cost of opening (power, labour), less any cost a cheaper off-peak power price
   removes. It expects the revenue per unit of market share that open merchants
   earned on recent nights (adaptive expectations).
2. **Households visit.** Night spending is each household's normal night
   spending times (open merchants' share of the trade / the same in the
   no-policy steady state)^``night_variety_elasticity``, because more and bigger
   places open draw more visitors, times the response to any spend-threshold
   discount for consumers and to what a visit saves besides the basket (free parking, a late bus home).
3. **New or moved.** Of night spending above the normal level, the share
   ``night_new_spending_share`` is new; the rest is moved from daytime catering
   and daily goods in the same households' cells.
4. **24-hour stores.** Each merchant carries the nights in a row it has opened late; a convenience
   store (``model/merchants.py``: a daily-goods shop of the 便利店 format) open late on each of the
   last ``NIGHTS_OPEN_FOR_24H`` nights is a 24-hour store. The books record how many there are each
   night: the share of convenience stores open 24 hours is an indicator (Tianjin 002_f12b47b876523609.txt
   §一(一): 24小时便利店占比达到50%以上; Diqing 001_c005bbefdbaa2487.txt §二(五)13 supports them).
5. **Paying.** Each night-economy tool (``model/tools/night_market.py``) makes
   its offer (``NightOffer``) before merchants decide and pays it after: allowances
   and fee waivers to open merchants, consumer discounts reimbursed, from its pool
   until it is empty.

Parameters (``model/parameters/behaviour.toml`` gives each one's value, unit, valid range and reference or
assumption):
``night_late_cost_yuan`` and ``night_late_cost_sigma`` (the cost of opening late, in
``model/merchants.py``), ``merchant_gross_margin``, ``night_variety_elasticity``,
``night_new_spending_share``, ``night_discount_price_elasticity`` and ``night_expectation_weight`` (all
assumptions with their reasons: no causal estimate of night-economy programmes was found),
``ticket_mean_yuan`` and ``ticket_sigma`` (basket sizes, shared with ``rules/spending.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from model.merchants import NIGHT_SECTORS, NIGHTS_OPEN_FOR_24H, convenience_stores
from model.sectors import FLOW_SECTORS, SECTOR_INDEX, SECTORS

NIGHT_COL = FLOW_SECTORS.index("night_market")
DAYTIME_COLS = [FLOW_SECTORS.index("catering"), FLOW_SECTORS.index("daily_goods")]
_DAYTIME_INDEX = np.array(DAYTIME_COLS, dtype=np.intp)  # the same columns, indexed without converting a list


def nights_in_a_row(previous: np.ndarray, open_tonight: np.ndarray) -> np.ndarray:
    """Each merchant's nights in a row open late, after tonight (back to 0 when it closed tonight)."""
    counted = previous + 1
    counted *= open_tonight  # back to 0 where closed (np.where(open_tonight, previous + 1, 0), fewer passes)
    return counted


def stores_open_24h(convenience: np.ndarray, nights: np.ndarray) -> int:
    """Convenience stores that count as 24-hour stores: open late on each of the last NIGHTS_OPEN_FOR_24H nights."""
    return int(np.count_nonzero(convenience & (nights >= NIGHTS_OPEN_FOR_24H)))


@dataclass
class NightOffer:
    """What a tool offers tonight's night economy (per night-capable merchant, in ``NightEconomy.merchant_rows`` order).

    Attributes:
        eligible: merchants the tool covers.
        cost_reduction_share: share of the late-opening cost removed (no outlay).
        support_yuan: allowance and fees waived per merchant open late, or None when its pool takes no claims.
        consumer_discount_face_yuan: discount per night transaction reaching the threshold (0: none).
        consumer_discount_threshold_yuan: that threshold.
        visit_cost_saved_yuan: what a night visit saves besides the basket (free parking, a bus home), on average.
    """

    eligible: np.ndarray
    cost_reduction_share: np.ndarray
    support_yuan: np.ndarray | None
    consumer_discount_face_yuan: float
    consumer_discount_threshold_yuan: float
    visit_cost_saved_yuan: float = 0.0


class NightEconomy:
    """Late opening and night spending.

    Attributes:
        merchant_rows: merchants that can open late (rows of the merchant population).
        share: each such merchant's share of night revenue when open (by sales).
        reference_open: merchants open in the no-policy steady state.
        reference_open_share: their share of the night trade.
        expected_revenue_per_share: what merchants expect per unit of share tonight (yuan).
        convenience: which of them are convenience stores.
        nights_open_in_a_row: nights in a row each has opened late (the 24-hour-store state).
    """

    def __init__(self, model):
        self.model = model
        params = model.params
        merchants = model.merchants
        self.merchant_rows = np.flatnonzero(np.isin(merchants.sector, [SECTOR_INDEX[s] for s in NIGHT_SECTORS]))
        sales = merchants.annual_sales_yuan[self.merchant_rows]
        self.share = sales / max(sales.sum(), 1e-12)
        self.cost = merchants.late_cost_yuan[self.merchant_rows]
        self.area = merchants.floor_area_m2[self.merchant_rows]
        self.above = merchants.above_quota[self.merchant_rows]
        self.sector = merchants.sector[self.merchant_rows]
        self.margin = np.array([params.merchant_gross_margin[s] for s in SECTORS])[self.sector]
        self.convenience = convenience_stores(self.sector, self.area)
        self.nights_open_in_a_row = np.zeros(self.share.size, dtype=np.int64)
        # Steady state without support, on an average night: the expected revenue at which
        # the merchants it makes open share exactly the normal night demand.
        demand = float(model.flow.base_yuan[:, NIGHT_COL].sum())
        revenue = demand
        open_ = np.ones(self.share.size, dtype=bool)
        for _ in range(200):
            open_ = self.margin * revenue * self.share > self.cost
            open_share = self.share[open_].sum()
            new_revenue = demand / max(open_share, 1e-9)
            if abs(new_revenue - revenue) <= 1e-9 * max(revenue, 1.0):
                break
            revenue = 0.5 * revenue + 0.5 * new_revenue
        self.reference_open = max(int(open_.sum()), 1)
        self.reference_open_share = max(float(self.share[open_].sum()), 1e-9)
        self.expected_revenue_per_share = revenue

    def _support(self, day: int) -> tuple[np.ndarray | None, np.ndarray | None, list, float]:
        """Per merchant: (allowance + fees waived, cost reduction share), both None when no tool makes an offer
        tonight; the tools paying tonight with their offers; and what a night visit saves besides the basket (yuan)."""
        support = None
        reduction = None
        acting = []
        visit_saving = 0.0
        for effect in self.model.tools_doing("night_offer"):  # the others never make an offer
            offer = effect.night_offer(day, self.sector, self.area)
            if offer is None:
                continue
            if support is None:
                support = np.zeros(self.share.size)
                reduction = np.zeros(self.share.size)
            reduction = np.maximum(reduction, offer.cost_reduction_share)
            visit_saving += offer.visit_cost_saved_yuan
            if offer.support_yuan is None:
                continue
            support += offer.support_yuan
            acting.append((effect, offer))
        return support, reduction, acting, visit_saving

    def step(self, day: int, flows: np.ndarray) -> None:
        """Replace today's night column of ``flows`` (cells x flow sectors) with realised night spending.

        Moves the displaced part out of daytime catering and daily goods in place.
        """
        model = self.model
        params = model.params
        support, reduction, acting, visit_saving = self._support(day)
        if support is None:  # no tool offers anything tonight: no support (x + 0 > y is x > y), no cost removed
            open_ = self.margin * self.expected_revenue_per_share * self.share > self.cost
        else:
            open_ = self.margin * self.expected_revenue_per_share * self.share + support > self.cost * (1.0 - reduction)
        # The open merchants' positions, in order: share.take(open_at) is share[open_] (the same values in the same
        # order, so the same sums), gathered faster than by the boolean mask.
        open_at = open_.nonzero()[0]
        n_open = int(open_at.size)
        model.books.night_merchants_open[day] = n_open
        self.nights_open_in_a_row = nights_in_a_row(self.nights_open_in_a_row, open_)
        model.books.stores_open_24h[day] = stores_open_24h(self.convenience, self.nights_open_in_a_row)
        # Night supply is the open merchants' share of the trade, so a large restaurant staying open
        # draws more visitors than a small stall does.
        open_share = float(self.share.take(open_at).sum())
        multiplier = (max(open_share, 1e-9) / self.reference_open_share) ** params.night_variety_elasticity
        ticket = params.ticket_mean_yuan["night_market"]
        # Free parking or a bus home cut the price of a night out as a discount on the basket would.
        multiplier *= 1.0 + params.night_discount_price_elasticity * visit_saving / ticket
        qualifying_share = {}
        for effect, offer in acting:
            if offer.consumer_discount_face_yuan > 0:
                sigma = params.ticket_sigma
                qualifying = float(ndtr((np.log(ticket) - sigma**2 / 2 - np.log(offer.consumer_discount_threshold_yuan)) / sigma))
                effective_rate = offer.consumer_discount_face_yuan * qualifying / ticket
                multiplier *= 1.0 + params.night_discount_price_elasticity * effective_rate
                qualifying_share[effect.name] = qualifying
        normal = flows[:, NIGHT_COL].copy()
        night = normal * multiplier
        extra = night - normal
        moved = (1.0 - params.night_new_spending_share) * extra
        daytime = flows[:, _DAYTIME_INDEX]
        day_total = daytime.sum(axis=1)
        moved = np.minimum(moved, day_total)  # cannot move more than was spent by day
        # Each cell's split of its daytime spending, 0 where it spent nothing by day (divided only where it did).
        has_daytime = day_total[:, None] > 0
        frac = np.divide(daytime, day_total[:, None], out=np.zeros_like(daytime), where=has_daytime)
        flows[:, _DAYTIME_INDEX] = daytime - moved[:, None] * frac
        flows[:, NIGHT_COL] = night
        total_night = float(night.sum())

        # Each tool pays its allowances to merchants open tonight and its consumer discounts, and says what share
        # of tonight's night sales it paid for. A discount transaction is as likely at one open merchant as at
        # another, so the scenario's supported share is the union of the tools' shares as independent events.
        unsupported = 1.0
        if acting:
            revenue_share = np.where(open_, self.share, 0.0) / max(open_share, 1e-12)
        for effect, offer in acting:
            supported = effect.settle_night(day, offer, open_, night, total_night, qualifying_share.get(effect.name),
                                            revenue_share)
            unsupported *= 1.0 - supported
        model.books.supported_any[day, SECTOR_INDEX["night_market"]] += total_night * (1.0 - unsupported)

        realised = total_night / max(open_share, 1e-9)
        expectation_weight = params.night_expectation_weight
        self.expected_revenue_per_share = ((1 - expectation_weight) * self.expected_revenue_per_share
                                           + expectation_weight * realised)
        open_above_at = open_at[self.above.take(open_at)]  # the positions of open_ & self.above, in order
        above_share = float(self.share.take(open_above_at).sum() / max(open_share, 1e-12))
        self.above_quota_share_tonight = above_share
