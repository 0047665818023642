"""Tool kind ``morning_market``: spend-threshold discounts (满减) at morning markets (早市).

Lhasa asks to develop morning and night markets and to run 满减 discounts for shoppers at the counties'
regulated markets (大力发展“早市”“夜市”经济, 对各县(区)设置的规范“早市”“夜市”开展到店消费满减活动,
实施小额补贴优惠, 000_6d902cdc888d6631.txt §消费意见 三(四)15). The night markets are the night economy's
(``rules/night_economy.py`` with a ``night_market`` tool); a morning market is daytime shopping for produce
and breakfast, so this kind acts on households' in-shop daytime purchases.

Each active morning, ``market_share_of_spending`` of households' in-shop purchases in ``sectors`` is made
at the markets. Transactions there are lognormal around ``ticket_mean_yuan`` of the sector with log spread
``ticket_sigma``; those of at least ``discount_threshold_yuan`` get ``discount_face_yuan`` off, reimbursed to
the stall from the pool. The discount cuts the market's prices by face × (share of transactions reaching the
threshold) ÷ the mean transaction, so households buy ``promotion_price_elasticity`` (by sector) times that
more at the markets, ``pull_forward_share`` of it missing from their purchases over the following
``pull_forward_days`` (behaviour parameters in ``model/parameters/behaviour.toml``). When the pool can pay
only part of a morning's discounts, the response shrinks in proportion, and the discounts stop.

Supported sales (gross leverage): the transactions that used a discount (the value share at or above the
threshold, Φ((ln m + σ²/2 − ln T)/σ), of the markets' sales).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from model.accounting import amounts_agree
from model.sectors import SECTOR_INDEX
from model.tools.base import BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, setting


@dataclass(frozen=True, kw_only=True)
class MorningMarketTool(Tool):
    """Spend-threshold discounts at morning markets.

    Attributes:
        market_share_of_spending: share of households' in-shop purchases in ``sectors`` made at the markets.
        discount_face_yuan: discount per market transaction reaching the threshold.
        discount_threshold_yuan: that threshold.
        sectors: what the markets sell.
    """

    market_share_of_spending: float = setting(unit="share of in-shop purchases", minimum=0, maximum=1,
                                              description="share of households' in-shop purchases in the sectors "
                                                          "made at the morning markets")
    # maximum: far above any market purchase.
    discount_face_yuan: float = setting(unit="yuan per transaction", minimum=0, exclusive_minimum=True, maximum=1_000,
                                        description="discount per market transaction reaching the threshold")
    discount_threshold_yuan: float = setting(unit="yuan", minimum=0, maximum=10_000,
                                             description="threshold of the discount (at least the discount)")
    sectors: tuple[str, ...] = setting(("daily_goods", "catering"), unit="", names="sectors",
                                       description="what the markets sell (daily_goods: produce; catering: breakfast)")


def _validate(values, r, t, path, common, context) -> None:
    if values["discount_threshold_yuan"] < values["discount_face_yuan"]:
        raise r.fail(f"{path}.discount_threshold_yuan", f"threshold {values['discount_threshold_yuan']:g} is below "
                                                        f"the discount {values['discount_face_yuan']:g}")
    bad = [s for s in values["sectors"] if s not in ("daily_goods", "catering")]
    if bad or not values["sectors"]:
        raise r.fail(f"{path}.sectors", "a morning market sells daily_goods (produce) and catering (breakfast)")


class MorningMarket(ToolEffect):
    """Morning-market discounts in a run: paid on qualifying transactions, the markets' extra sales booked.

    Attributes:
        count_share, value_share: by sector, shares of market transactions (by number, by value) reaching the
            threshold.
        transactions_paid: discounted transactions paid for, so far.
        induced_yuan, pulled_forward_yuan: extra market purchases booked, and the part pulled forward.
    """

    tool: MorningMarketTool

    def __init__(self, tool, model):
        super().__init__(tool, model)
        p = model.params
        self.sector_idx = [SECTOR_INDEX[s] for s in tool.sectors]
        self.ticket = np.array([p.ticket_mean_yuan[s] for s in tool.sectors])
        sigma = p.ticket_sigma
        log_t = np.log(tool.discount_threshold_yuan) if tool.discount_threshold_yuan > 0 else -np.inf
        self.count_share = ndtr((np.log(self.ticket) - sigma**2 / 2 - log_t) / sigma)
        self.value_share = ndtr((np.log(self.ticket) + sigma**2 / 2 - log_t) / sigma)
        self.response = np.array([p.promotion_price_elasticity[s] for s in tool.sectors]) * (
            tool.discount_face_yuan * self.count_share / self.ticket)
        self.pull = np.array([p.pull_forward_share.get(s, 0.0) for s in tool.sectors])
        self.transactions_paid = 0.0
        self.induced_yuan = 0.0
        self.pulled_forward_yuan = 0.0

    def after_flow_spending(self, day: int, flow_multipliers: np.ndarray) -> None:
        tool = self.tool
        if not self.acts_on(day) or not self.fund.open_for_claims:
            return
        model = self.model
        books = model.books
        n = model.households.n_cells
        market = books.retail[day, :n][:, self.sector_idx, 0].sum(axis=2) * tool.market_share_of_spending
        induced = market * self.response[None, :]
        transactions = (market + induced) / self.ticket[None, :] * self.count_share[None, :]
        requested = float(transactions.sum()) * tool.discount_face_yuan
        if requested <= 0:
            return
        paid = self.fund.pay(requested, "merchant", day)
        scale = paid / requested
        induced *= scale
        self.transactions_paid += paid / tool.discount_face_yuan
        self.induced_yuan += float(induced.sum())
        self.pulled_forward_yuan += self.book_induced_purchases(day, list(tool.sectors), induced, self.pull)
        supported = (market + induced) * self.value_share[None, :] * scale
        self.book_supported(day, {s: float(supported[:, j].sum()) for j, s in enumerate(tool.sectors)})
        by_cell = transactions.sum(axis=1)
        books.household_benefit[:n] += by_cell / max(float(by_cell.sum()), 1e-12) * paid

    def account_problems(self) -> list[str]:
        paid = self.fund.paid_yuan
        expected = self.transactions_paid * self.tool.discount_face_yuan
        if not amounts_agree(paid, expected, expected):
            return [f"tool {self.tool.name}: outlay {paid:,.2f} != discount × transactions paid {expected:,.2f}"]
        return []

    def summary(self, entry) -> None:
        entry["morning_market"] = {"discounted_transactions": self.transactions_paid,
                                   "induced_sales": self.induced_yuan, "pulled_forward": self.pulled_forward_yuan}


TOOL_KIND = ToolKind(
    name="morning_market",
    settings=MorningMarketTool,
    effect=MorningMarket,
    label_zh="早市满减",
    label_en="morning-market discounts",
    summary="spend-threshold discounts at morning markets on households' daytime produce and breakfast purchases",
    controls=(
        BUDGET_CONTROL,
        ControlSpec("discount_face_yuan", "满减面额", "discount (yuan)", 0.0, 100.0, exclusive_minimum=True, always=True),
        ControlSpec("discount_threshold_yuan", "满减门槛", "threshold (yuan)", 0.0, 500.0, always=True),
        ControlSpec("market_share_of_spending", "早市占日间消费比例", "markets' share of daytime purchases", 0.0, 1.0),
    ),
    validate=_validate,
)
