"""Tool kind ``appliance_trade_in``: an appliance trade-in subsidy (以旧换新) for households replacing an old item.

The pool pays ``subsidy_rate`` of the price (capped at ``max_subsidy_per_item_yuan``) to a
household that trades in an item at least ``min_item_age_years`` old; merchants add
``merchant_discount_rate`` of the price on the same sales (co-funding, counted as merchant
co-funding, not outlay). A programme run with one retailer (Pingliang's with 甘肃苏宁,
003_22cfb6eea19a02d1.txt §行动方案 三(六)19) pays only on purchases in that retailer's channel,
``retailer_channel_share`` of the city's appliance purchases; a 家电下乡 programme only rural households
(``rural_households_only``). How the discount moves purchases is the durable-replacement rule's
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
        rural_households_only: only rural households qualify (家电下乡).
        retailer_channel_share: share of appliance purchases made through the one participating retailer's
            channel (its stores and online shop); only those qualify. Buyers are not assumed to switch retailer.
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
    rural_households_only: bool = setting(False, unit="",
                                          description="only rural households qualify (家电下乡)")
    retailer_channel_share: float = setting(1.0, unit="share of appliance purchases", minimum=0, maximum=1,
                                            description="share of the city's appliance purchases made through the "
                                                        "participating retailer's stores and online shop, the only "
                                                        "channel where the subsidy is paid (1 = every retailer)")

    subsidised_durables = ("appliances",)

    def subsidy_at(self, price_yuan: float) -> float:
        """The pool's subsidy on a qualifying item of ``price_yuan`` (yuan)."""
        amount = self.subsidy_rate * price_yuan
        if self.max_subsidy_per_item_yuan > 0:
            amount = min(amount, self.max_subsidy_per_item_yuan)
        return amount


def appliance_subsidy_for(tool: ApplianceTradeInTool, price_yuan: float, age_years: np.ndarray,
                          channel_draw: np.ndarray | None = None, rural: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """(government, merchant) discount per item under a trade-in tool.

    Only old enough items qualify; only purchases in the retailer's channel (``channel_draw`` below
    ``retailer_channel_share``) and, when ``rural_households_only``, only rural households.
    """
    amount = tool.subsidy_at(price_yuan)
    eligible = age_years >= tool.min_item_age_years
    if channel_draw is not None:
        eligible &= channel_draw < tool.retailer_channel_share
    if tool.rural_households_only:
        if rural is None:
            raise ValueError("a rural-only appliance subsidy needs each candidate's rural flag")
        eligible &= rural
    return np.where(eligible, amount, 0.0), np.where(eligible, tool.merchant_discount_rate * price_yuan, 0.0)


class TradeInProgramme(ToolEffect):
    """A trade-in subsidy in a run: offers to households replacing old appliances while the pool lasts."""

    tool: ApplianceTradeInTool

    def subsidises(self, durable: str, day: int) -> bool:
        return durable == "appliances" and self.acts_on(day) and self.fund.open_for_claims

    def durable_discounts(self, durable, price_yuan, owned, age_years, eligibility_draw, candidates=None):
        rural = None if candidates is None else candidates.rural
        return appliance_subsidy_for(self.tool, price_yuan, age_years, eligibility_draw, rural)


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
