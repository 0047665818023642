"""Tool kind ``appliance_trade_in``: an appliance trade-in subsidy (以旧换新) for households replacing an old item.

The pool pays ``subsidy_rate`` of the price (capped at ``max_subsidy_per_item_yuan``) to a
household that trades in an item at least ``min_item_age_years`` old; merchants add
``merchant_discount_rate`` of the price on the same sales (co-funding, counted as merchant
co-funding, not outlay). How the discount moves purchases is the durable-replacement rule's
(``model/rules/durables.py``).

The price is ``appliance_price_yuan`` (``model/parameters/behaviour.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.tools.base import BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, setting


@dataclass(frozen=True, kw_only=True)
class ApplianceTradeInTool(Tool):
    """Appliance trade-in subsidy (以旧换新): only for households replacing an old item.

    Attributes:
        subsidy_rate: share of the price paid by the pool.
        max_subsidy_per_item_yuan: cap per item (no cap when 0).
        min_item_age_years: the traded-in item must be at least this old.
        merchant_discount_rate: extra discount merchants give on subsidised sales (co-funding).
    """

    subsidy_rate: float = setting(unit="share of price", minimum=0, maximum=0.9,
                                  description="share of the price paid by the pool")
    # maximum: above any household appliance's price.
    max_subsidy_per_item_yuan: float = setting(0.0, unit="yuan per item", minimum=0, maximum=100_000,
                                               description="cap per item (no cap when 0)")
    min_item_age_years: float = setting(0.0, unit="years", minimum=0, maximum=40,
                                        description="the traded-in item must be at least this old")
    merchant_discount_rate: float = setting(0.0, unit="share of price", minimum=0, maximum=0.9,
                                            description="extra discount merchants give on subsidised sales")

    subsidised_durables = ("appliances",)

    def subsidy_at(self, price_yuan: float) -> float:
        """The pool's subsidy on a qualifying item of ``price_yuan`` (yuan)."""
        amount = self.subsidy_rate * price_yuan
        if self.max_subsidy_per_item_yuan > 0:
            amount = min(amount, self.max_subsidy_per_item_yuan)
        return amount

    def max_discount_share(self, durable: str, params) -> float:
        if durable != "appliances":
            return 0.0
        return self.subsidy_at(params.appliance_price_yuan) / params.appliance_price_yuan + self.merchant_discount_rate


def appliance_subsidy_for(tool: ApplianceTradeInTool, price_yuan: float, age_years: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """(government, merchant) discount per item under a trade-in tool; only old items qualify."""
    amount = tool.subsidy_at(price_yuan)
    old = age_years >= tool.min_item_age_years
    return np.where(old, amount, 0.0), np.where(old, tool.merchant_discount_rate * price_yuan, 0.0)


class TradeInProgramme(ToolEffect):
    """A trade-in subsidy in a run: offers to households replacing old appliances while the pool lasts."""

    tool: ApplianceTradeInTool

    def subsidises(self, durable: str, day: int) -> bool:
        return durable == "appliances" and self.acts_on(day) and self.fund.open_for_claims

    def durable_discounts(self, durable, price_yuan, owned, age_years, eligibility_draw):
        return appliance_subsidy_for(self.tool, price_yuan, age_years)


TOOL_KIND = ToolKind(
    name="appliance_trade_in",
    settings=ApplianceTradeInTool,
    effect=TradeInProgramme,
    label_zh="家电以旧换新",
    label_en="appliance trade-in",
    summary="以旧换新: subsidy_rate of the price for households replacing an item at least min_item_age_years old",
    controls=(
        BUDGET_CONTROL,
        ControlSpec("subsidy_rate", "补贴比例", "subsidy rate (share of price)", 0.0, 0.9, always=True),
        ControlSpec("max_subsidy_per_item_yuan", "每件补贴上限", "cap per item (yuan, 0 = none)", 0.0, 20_000.0),
    ),
)
