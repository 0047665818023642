"""Tool kind ``car_subsidy``: a car-purchase subsidy paid to buyers, first come first served.

A buyer gets ``subsidy_per_car_yuan`` plus ``subsidy_rate`` of the price (capped at
``max_subsidy_per_car_yuan``) if the car qualifies: a share ``eligible_share_of_purchases`` of
purchases (e.g. new-energy only), optionally only when scrapping an old enough car or only for
households that already own one. Under a scrappage requirement an owner replacing an old enough car
chooses to scrap it and claim, or to sell it on the used market when that is worth more
(``scraps_old_car``, with the used value of ``model/rules/durables.py`` and the behaviour parameter
``car_scrap_value_yuan``), so the
share of replacements that scrap rises with the subsidy and falls with used-car prices. Not every
eligible buyer claims (``durable_subsidy_take_up``). How the offer moves purchases (earlier, and a little more of
them) is the durable-replacement rule's (``model/rules/durables.py``); this module says who is
offered what. The pool pays until it is empty (Pingliang's 2023 programme,
003_22cfb6eea19a02d1.txt). On the programme's last day the ``dealer_top_n`` dealers with the
most subsidised sales get ``dealer_reward_yuan`` each.

The price it is a share of is ``car_price_yuan`` (``model/parameters/behaviour.toml``, or the city's own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from model.tools.base import BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, setting


@dataclass(frozen=True, kw_only=True)
class CarSubsidyTool(Tool):
    """Car-purchase subsidy paid first come, first served until the pool is empty.

    Attributes:
        subsidy_per_car_yuan: fixed amount per eligible car.
        subsidy_rate: share of the price paid (added to the fixed amount).
        max_subsidy_per_car_yuan: cap per car (no cap when 0).
        eligible_share_of_purchases: share of purchases that qualify (e.g. the NEV share when new-energy only).
        requires_scrappage: only buyers who scrap a car at least ``scrappage_min_age_years`` old (each such
            owner scraps only when the subsidy plus the scrap value beats the car's used-market value).
        scrappage_min_age_years: minimum age of the scrapped car.
        first_purchase_eligible: whether households without a car qualify.
        dealer_top_n: number of dealers rewarded for subsidised sales at the end.
        dealer_reward_yuan: reward per top dealer.
    """

    #: Allowances and rewards go to named merchants, so a per-merchant cap applies (tools/base.py).
    pays_identified_merchants: ClassVar[bool] = True

    # maximum: above the price of nearly any car.
    subsidy_per_car_yuan: float = setting(0.0, unit="yuan per car", minimum=0, maximum=1_000_000,
                                          description="fixed amount per eligible car")
    subsidy_rate: float = setting(0.0, unit="share of price", minimum=0, maximum=0.9,
                                  description="share of the price paid, added to the fixed amount")
    # maximum: above the price of nearly any car.
    max_subsidy_per_car_yuan: float = setting(0.0, unit="yuan per car", minimum=0, maximum=1_000_000,
                                              description="cap per car (no cap when 0)")
    eligible_share_of_purchases: float = setting(1.0, unit="share", minimum=0, maximum=1,
                                                 description="share of purchases that qualify (e.g. the NEV share "
                                                             "when new-energy only)")
    requires_scrappage: bool = setting(False, unit="",
                                       description="only buyers who scrap a car at least scrappage_min_age_years old")
    scrappage_min_age_years: float = setting(0.0, unit="years", minimum=0, maximum=40,
                                             description="minimum age of the scrapped car")
    first_purchase_eligible: bool = setting(True, unit="", description="whether households without a car qualify")
    # maximum: more dealers than any city has.
    dealer_top_n: int = setting(0, unit="dealers", minimum=0, maximum=10_000,
                                description="dealers rewarded on the last day for the most subsidised sales")
    # maximum: far above the largest reported dealer reward (a few million yuan).
    dealer_reward_yuan: float = setting(0.0, unit="yuan per dealer", minimum=0, maximum=100_000_000,
                                        description="reward per top dealer")

    subsidised_durables = ("cars",)

    def subsidy_at(self, price_yuan: float) -> float:
        """The subsidy on a qualifying car of ``price_yuan`` (yuan)."""
        amount = self.subsidy_per_car_yuan + self.subsidy_rate * price_yuan
        if self.max_subsidy_per_car_yuan > 0:
            amount = min(amount, self.max_subsidy_per_car_yuan)
        return amount


def _validate(values, r, t, path, common, context) -> None:
    if values["subsidy_per_car_yuan"] == 0 and values["subsidy_rate"] == 0:
        raise r.fail(f"{path}.subsidy_per_car_yuan", "give subsidy_per_car_yuan or subsidy_rate")


def scraps_old_car(subsidy_yuan: float, used_value_yuan: np.ndarray, scrap_value_yuan: float) -> np.ndarray:
    """Scrap-or-sell: an owner scraps (and claims) when the subsidy plus the scrap value is worth at least what
    the old car would fetch on the used market, and sells it otherwise."""
    return subsidy_yuan + scrap_value_yuan >= used_value_yuan


def car_subsidy_for(tool: CarSubsidyTool, price_yuan: float, owns: np.ndarray, age_years: np.ndarray,
                    eligible_draw: np.ndarray, used_value_yuan: np.ndarray | None = None,
                    scrap_value_yuan: float = 0.0) -> np.ndarray:
    """Government subsidy each buyer would get from a car tool (0 if not eligible).

    Under ``requires_scrappage`` an owner of an old enough car qualifies only if scrapping is worth more
    to it than selling (``scraps_old_car``); without ``used_value_yuan`` every such owner scraps.
    """
    amount = tool.subsidy_at(price_yuan)
    eligible = eligible_draw < tool.eligible_share_of_purchases
    if tool.requires_scrappage:
        eligible &= owns & (age_years >= tool.scrappage_min_age_years)
        if used_value_yuan is not None:
            eligible &= scraps_old_car(amount, used_value_yuan, scrap_value_yuan)
    if not tool.first_purchase_eligible:
        eligible &= owns
    return np.where(eligible, amount, 0.0)


class CarSubsidyProgramme(ToolEffect):
    """A car subsidy in a run: offers to buyers while the pool lasts, rewards to top dealers at the end."""

    tool: CarSubsidyTool

    def subsidises(self, durable: str, day: int) -> bool:
        return durable == "cars" and self.acts_on(day) and self.fund.open_for_claims

    def scraps_old_item(self, durable: str) -> bool:
        return durable == "cars" and self.tool.requires_scrappage

    def durable_discounts(self, durable, price_yuan, owned, age_years, eligibility_draw, candidates=None):
        used = None if candidates is None else candidates.used_value_yuan
        gov = car_subsidy_for(self.tool, price_yuan, owned, age_years, eligibility_draw, used,
                              self.model.params.car_scrap_value_yuan)
        return gov, np.zeros(owned.size)

    def end_of_day(self, day: int) -> None:
        """On the programme's last day, pay its top-N dealers by subsidised sales."""
        tool = self.tool
        if tool.dealer_top_n <= 0 or self.model.date(day) != tool.end:
            return
        name = tool.name
        dealers = self.model.car_dealers
        ranked = sorted(range(len(dealers)), key=lambda i: dealers[i].subsidised_cars_sold.get(name, 0.0), reverse=True)
        for i in ranked[: tool.dealer_top_n]:
            if dealers[i].subsidised_cars_sold.get(name, 0.0) <= 0:
                break
            dealers[i].rewards_yuan += self.fund.pay_merchants(np.array([tool.dealer_reward_yuan]), np.array([i]), day)[1]


TOOL_KIND = ToolKind(
    name="car_subsidy",
    settings=CarSubsidyTool,
    effect=CarSubsidyProgramme,
    label_zh="购车补贴",
    label_en="car-purchase subsidy",
    summary="paid to car buyers first come first served: subsidy_per_car_yuan and/or subsidy_rate of the price",
    controls=(
        BUDGET_CONTROL,
        ControlSpec("subsidy_per_car_yuan", "每辆补贴", "subsidy per car (yuan)", 0.0, 100_000.0, always=True),
        ControlSpec("subsidy_rate", "补贴比例", "subsidy rate (share of price)", 0.0, 0.9),
    ),
    validate=_validate,
)
