"""Tool kind ``night_market``: night-economy support for late-opening merchants and night shoppers.

Not to be confused with the sector ``night_market`` (night spending, 夜间消费), which exists with
or without this tool. The tool offers merchants in its ``sectors`` an allowance per night open
late (per merchant and/or ``night_allowance_per_m2`` of floor area, capped), fees waived, and a
cut in the cost of opening late at no outlay (an off-peak power price); and it may give night
shoppers a spend-threshold discount. Whether merchants open and how shoppers respond is the
night-economy rule's (``model/rules/night_economy.py``); this module says what is offered and
pays it: allowances and waived fees to merchants open late, discounts reimbursed to merchants,
from the pool until it is empty. Its supported sales (for the gross leverage) are the night
sales of the merchants that received its allowance, on the nights they received it, and the
transactions that used its consumer discount.

A consumer discount applies to night transactions of at least its threshold, out of lognormal baskets of
mean ``ticket_mean_yuan`` and log spread ``ticket_sigma`` (``model/parameters/behaviour.toml``, each with its
reference or assumption); the spread also sets the share of night sales in transactions that reach the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import ndtr

from model.rules.night_economy import NightOffer
from model.sectors import SECTOR_INDEX
from model.tools.base import BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, setting


@dataclass(frozen=True, kw_only=True)
class NightMarketTool(Tool):
    """Night-economy support: allowances to late-opening merchants and discounts for consumers.

    Attributes:
        consumer_discount_face_yuan: discount per night transaction reaching the threshold.
        consumer_discount_threshold_yuan: threshold for the consumer discount.
        allowance_per_merchant_night_yuan: paid per merchant per night open late.
        night_allowance_per_m2: paid per square metre of floor area per night open late (yuan).
        max_allowance_per_merchant_night_yuan: cap per merchant-night (no cap when 0).
        fee_waiver_yuan_per_night: fees waived per merchant-night open late (counted as outlay).
        late_cost_reduction_share: share of late-opening cost removed at no outlay (off-peak power price).
        sectors: merchant sectors that qualify.
    """

    #: Allowances and rewards go to named merchants, so a per-merchant cap applies (tools/base.py).
    pays_identified_merchants: ClassVar[bool] = True

    # maximum: far above any night-market purchase.
    consumer_discount_face_yuan: float = setting(0.0, unit="yuan per transaction", minimum=0, maximum=10_000,
                                                 description="discount per night transaction reaching the threshold")
    # maximum: far above any night-market purchase.
    consumer_discount_threshold_yuan: float = setting(0.0, unit="yuan", minimum=0, maximum=100_000,
                                                      description="threshold of the consumer discount (at least "
                                                                  "the discount)")
    # maximum: far above a stall's nightly takings.
    allowance_per_merchant_night_yuan: float = setting(0.0, unit="yuan per merchant-night", minimum=0, maximum=100_000,
                                                       description="paid per merchant per night open late")
    # maximum: far above any commercial rent per m².
    night_allowance_per_m2: float = setting(0.0, unit="yuan per m² per night", minimum=0, maximum=10_000,
                                            description="paid per square metre of floor area per night open late")
    # maximum: far above a stall's nightly takings.
    max_allowance_per_merchant_night_yuan: float = setting(0.0, unit="yuan per merchant-night", minimum=0, maximum=100_000,
                                                           description="cap per merchant-night (no cap when 0)")
    # maximum: far above a stall's nightly fees.
    fee_waiver_yuan_per_night: float = setting(0.0, unit="yuan per merchant-night", minimum=0, maximum=100_000,
                                               description="fees waived per merchant-night open late (outlay)")
    late_cost_reduction_share: float = setting(0.0, unit="share", minimum=0, maximum=1,
                                               description="share of late-opening cost removed at no outlay "
                                                           "(e.g. an off-peak power price)")
    sectors: tuple[str, ...] = setting(("catering", "night_market", "daily_goods"), unit="", names="sectors",
                                       description="merchant sectors that qualify")


def _validate(values, r, t, path, common, context) -> None:
    face, threshold = values["consumer_discount_face_yuan"], values["consumer_discount_threshold_yuan"]
    if face > 0 and threshold < face:
        raise r.fail(f"{path}.consumer_discount_threshold_yuan", f"threshold {threshold:g} is below the discount {face:g}")


class NightSupport(ToolEffect):
    """A night-economy tool in a run: what it offers each night, and paying it."""

    tool: NightMarketTool

    def night_offer(self, day, merchant_sector, merchant_area_m2):
        tool = self.tool
        if not self.acts_on(day):
            return None
        eligible = np.isin(merchant_sector, [SECTOR_INDEX[s] for s in tool.sectors])
        # A cheaper power price costs the pool nothing, so it lasts for the tool's dates.
        cost_reduction = np.where(eligible, tool.late_cost_reduction_share, 0.0)
        if not self.fund.open_for_claims:
            return NightOffer(eligible, cost_reduction, None, 0.0, 0.0)
        allowance = tool.allowance_per_merchant_night_yuan + tool.night_allowance_per_m2 * merchant_area_m2
        if tool.max_allowance_per_merchant_night_yuan > 0:
            allowance = np.minimum(allowance, tool.max_allowance_per_merchant_night_yuan)
        support = np.where(eligible, allowance + tool.fee_waiver_yuan_per_night, 0.0)
        if self.fund.per_merchant_cap_yuan is not None:  # a merchant at its cap is offered nothing more
            support = np.minimum(support, self.fund.merchant_room(np.arange(support.size)))
        return NightOffer(eligible, cost_reduction, support, tool.consumer_discount_face_yuan,
                          tool.consumer_discount_threshold_yuan)

    def settle_night(self, day, offer, open_tonight, night_spending, total_night_yuan, qualifying_share,
                     revenue_share) -> float:
        """Allowances to merchants open tonight; consumer discounts on qualifying transactions.

        Supported sales: the night sales of the merchants that received an allowance tonight, and the
        transactions that used the discount (the value share of lognormal transactions at or above the
        threshold, Φ((ln m + σ²/2 − ln T)/σ)); scaled down when the pool could pay only part.
        """
        model = self.model
        p = model.params
        supported = 0.0
        receiving = open_tonight & offer.eligible & (offer.support_yuan > 0)
        due = float(offer.support_yuan[receiving].sum())
        if due > 0:
            _, paid = self.fund.pay_merchants(offer.support_yuan[receiving], np.flatnonzero(receiving), day)
            supported = float(revenue_share[receiving].sum()) * paid / due
        if qualifying_share is not None:
            ticket = p.ticket_mean_yuan["night_market"]
            transactions = total_night_yuan / ticket * qualifying_share
            requested = transactions * offer.consumer_discount_face_yuan
            paid = self.fund.pay(requested, "merchant", day)
            model.books.household_benefit[: night_spending.shape[0]] += night_spending / max(total_night_yuan, 1e-12) * paid
            if paid > 0:
                sigma = p.ticket_sigma
                value_share = float(ndtr((np.log(ticket) + sigma**2 / 2
                                          - np.log(offer.consumer_discount_threshold_yuan)) / sigma)) * paid / requested
                supported = 1.0 - (1.0 - supported) * (1.0 - value_share)
        model.books.supported(self.tool.name)[day, SECTOR_INDEX["night_market"]] += total_night_yuan * supported
        return supported


TOOL_KIND = ToolKind(
    name="night_market",
    settings=NightMarketTool,
    effect=NightSupport,
    label_zh="夜间经济补贴",
    label_en="night-economy support",
    summary="allowances and fee waivers to merchants opening late, a cheaper late-opening cost, night consumer "
            "discounts",
    controls=(
        BUDGET_CONTROL,
        ControlSpec("allowance_per_merchant_night_yuan", "每户每晚补贴", "allowance per merchant-night (yuan)",
                    0.0, 2_000.0, unless_given=("allowance_per_merchant_night_yuan", "night_allowance_per_m2")),
        ControlSpec("night_allowance_per_m2", "每平方米每晚补贴", "allowance per m² per night (yuan)", 0.0, 50.0),
        ControlSpec("consumer_discount_face_yuan", "夜间满减面额", "night consumer discount (yuan)", 0.0, 500.0),
        ControlSpec("late_cost_reduction_share", "夜间经营成本降低比例", "late-opening cost cut (share)", 0.0, 1.0),
    ),
    validate=_validate,
)
