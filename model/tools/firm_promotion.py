"""Tool kind ``firm_promotion``: promotions firms pay for themselves: 满减, fuel coupons, holiday sales.

The plans encourage firms to cut prices with no public money: fuel coupons and 满减 at a yearly promotion
(鼓励企业发放加油券、开展满减等活动, 001_c005bbefdbaa2487.txt §二(四)11), fuel-card discounts (鼓励开展加油卡
电子抵扣券、微信绑卡会员加油享优惠, 003_22cfb6eea19a02d1.txt §实施意见 三(五)13), holiday promotions by
"thousands of firms and shops" (组织商贸企业积极开展重要节假日促消费活动…千企万店, 004_c57924d87512a6c6.txt
§八(十九)).

Each active day, the firms taking part (``participating_sales_share`` of the households' purchases in the
tool's ``sectors``) take ``discount_share`` off the price. Households buy more in those sectors by
``promotion_price_elasticity`` (by sector) times the discount times the participating purchases; of that,
``pull_forward_share`` (by sector) is taken from the same households' purchases over the following
``pull_forward_days`` (scheduled as deferred spending), as for a voucher's induced spending (behaviour
parameters in ``model/parameters/behaviour.toml``). The firms pay the discount on every participating
purchase, induced or not: reported as merchant co-funding and, by cell, as a benefit to households. No public
money is spent (``budget_yuan`` must be 0), so the tool has no supported sales and no leverage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.accounting import amounts_agree
from model.sectors import SECTOR_INDEX
from model.tools.base import ControlSpec, Tool, ToolEffect, ToolKind, setting


@dataclass(frozen=True, kw_only=True)
class FirmPromotionTool(Tool):
    """A promotion paid by the firms.

    Attributes:
        sectors: sectors promoted (households' flow purchases: not cars).
        discount_share: share of the price taken off at participating firms.
        participating_sales_share: share of households' purchases in those sectors made at participating firms.
    """

    sectors: tuple[str, ...] = setting(unit="", names="sectors", description="sectors promoted (not cars: a car "
                                                                              "promotion is a car_subsidy)")
    discount_share: float = setting(unit="share of the price", minimum=0, maximum=0.5,
                                    description="share of the price taken off at participating firms (e.g. 满100减5: 0.05)")
    participating_sales_share: float = setting(unit="share of the sectors' purchases", minimum=0, maximum=1,
                                               description="share of households' purchases in the sectors made at "
                                                           "participating firms")


def _validate(values, r, t, path, common, context) -> None:
    if common["budget_yuan"] != 0:
        raise r.fail(f"{path}.budget_yuan", "a firm_promotion is paid by the firms: budget_yuan must be 0")
    if not values["sectors"]:
        raise r.fail(f"{path}.sectors", "name at least one sector")
    if "cars" in values["sectors"]:
        raise r.fail(f"{path}.sectors", "cars are bought as durables, not a daily flow: a car promotion is a car_subsidy")


class FirmPromotion(ToolEffect):
    """A firm-paid promotion in a run: more bought while it lasts, part of it missing later; the firms pay.

    Attributes:
        induced_yuan: extra purchases booked while it ran.
        pulled_forward_yuan: the part scheduled to be missing from later purchases.
        discount_yuan: what the firms gave up.
        promoted_yuan: participating purchases (normal and induced) the discount was given on.
    """

    tool: FirmPromotionTool

    def __init__(self, tool, model):
        super().__init__(tool, model)
        self.sector_idx = [SECTOR_INDEX[s] for s in tool.sectors]
        params = model.params
        self.response = np.array([params.promotion_price_elasticity[s] * tool.discount_share
                                  for s in tool.sectors])
        self.pull = np.array([params.pull_forward_share.get(s, 0.0) for s in tool.sectors])
        self.induced_yuan = 0.0
        self.pulled_forward_yuan = 0.0
        self.discount_yuan = 0.0
        self.promoted_yuan = 0.0

    def after_flow_spending(self, day: int, flow_multipliers: np.ndarray) -> None:
        tool = self.tool
        if not self.acts_on(day):
            return
        model = self.model
        books = model.books
        n = model.households.n_cells
        # Today's booked household purchases in the promoted sectors (cells x sectors), all channels and sizes.
        bought = books.retail[day, :n][:, self.sector_idx].sum(axis=(2, 3))
        participating = bought * tool.participating_sales_share
        induced = participating * self.response[None, :]
        pulled = self.book_induced_purchases(day, list(tool.sectors), induced, self.pull)
        promoted = participating + induced
        discount = promoted * tool.discount_share
        books.cofunding(tool.name)[day] += float(discount.sum())
        books.household_benefit[:n] += discount.sum(axis=1)
        self.induced_yuan += float(induced.sum())
        self.pulled_forward_yuan += pulled
        self.discount_yuan += float(discount.sum())
        self.promoted_yuan += float(promoted.sum())

    def account_problems(self) -> list[str]:
        tool = self.tool
        problems = []
        cofunding = float(self.model.books.merchant_cofunding.get(tool.name, np.zeros(1)).sum())
        expected = self.promoted_yuan * tool.discount_share
        if not amounts_agree(cofunding, expected, expected):
            problems.append(f"tool {tool.name}: firms' discounts booked {cofunding:,.2f} != discount share × "
                            f"promoted purchases {expected:,.2f}")
        if self.pulled_forward_yuan > self.induced_yuan * (1 + 1e-9) + 1e-6:
            problems.append(f"tool {tool.name}: pulled forward {self.pulled_forward_yuan:,.2f} exceeds the induced "
                            f"purchases {self.induced_yuan:,.2f}")
        return problems

    def summary(self, entry) -> None:
        entry["promotion"] = {"induced_sales": self.induced_yuan, "pulled_forward": self.pulled_forward_yuan,
                              "firms_discount": self.discount_yuan}


TOOL_KIND = ToolKind(
    name="firm_promotion",
    settings=FirmPromotionTool,
    effect=FirmPromotion,
    label_zh="企业让利促销",
    label_en="firm-funded promotion",
    summary="discounts firms pay for themselves (满减, fuel coupons, holiday sales); no public money (budget 0)",
    controls=(
        ControlSpec("discount_share", "让利比例", "discount (share of price)", 0.0, 0.5, always=True),
        ControlSpec("participating_sales_share", "参与企业销售占比", "participating firms' share of sales", 0.0, 1.0,
                    always=True),
    ),
    validate=_validate,
)
