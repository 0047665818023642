"""Tool kind ``night_access``: night measures that cost little or no money: looser stall limits, free parking,
later buses.

Guangyuan asks to loosen the limits on outdoor night stalls, to set free night-market parking and to run
buses later (适当放宽夜间外摆摊位限制…设置夜市免费停车泊位; 优化公交线网, 延长运营时间,
004_c57924d87512a6c6.txt §五(十三)); Lhasa supports bus lines to its morning and night markets with a
subsidy to the operators per run (000_6d902cdc888d6631.txt §消费意见 三(四)15). What they change is the
night economy's (``rules/night_economy.py``):

* **stalls**: a looser limit lets a stall trade outside at night without rent or fines, removing
  ``stall_cost_reduction_share`` of the late-opening cost of merchants in ``sectors``, which then open when
  their margin covers the rest; no outlay;
* **visits**: free parking and a bus home save a night visitor ``parking_saving_per_visit_yuan`` and
  ``bus_saving_per_visit_yuan`` (averaged over all visits), which cuts the price of a night out by that share
  of a night basket (``ticket_mean_yuan`` of night_market): night spending rises with
  ``night_discount_price_elasticity`` times it, as for a consumer discount;
* **the buses' cost**: ``bus_subsidy_per_night_yuan`` paid to the operators each night from the pool; when
  the pool is empty the late buses stop, and their saving with them (parking stays free).

Night spending above normal is new or moved from the daytime as the night-economy rule says. Supported sales
(gross leverage): none; the tool pays no merchant or shopper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.accounting import amounts_agree
from model.rules.night_economy import NightOffer
from model.sectors import SECTOR_INDEX
from model.tools.base import BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, setting


@dataclass(frozen=True, kw_only=True)
class NightAccessTool(Tool):
    """Night measures of little or no cost.

    Attributes:
        stall_cost_reduction_share: share of the late-opening cost removed for merchants in ``sectors``.
        parking_saving_per_visit_yuan: what free night-market parking saves a night visit, on average.
        bus_saving_per_visit_yuan: what later buses save a night visit, on average.
        bus_subsidy_per_night_yuan: paid to the bus operators a night (0: no subsidy, the buses run anyway).
        sectors: merchant sectors whose late-opening cost the looser limits cut.
    """

    stall_cost_reduction_share: float = setting(0.0, unit="share of the late-opening cost", minimum=0, maximum=1,
                                                description="share of the late-opening cost (rent, fines) looser "
                                                            "stall limits remove, no outlay")
    # maxima: far above a night's parking fee or bus fare.
    parking_saving_per_visit_yuan: float = setting(0.0, unit="yuan per night visit", minimum=0, maximum=1_000,
                                                   description="what free night-market parking saves a night visit, "
                                                               "averaged over all visits")
    bus_saving_per_visit_yuan: float = setting(0.0, unit="yuan per night visit", minimum=0, maximum=1_000,
                                               description="what later buses save a night visit (a taxi home "
                                                           "avoided), averaged over all visits")
    # maximum: far above a city's night bus service.
    bus_subsidy_per_night_yuan: float = setting(0.0, unit="yuan per night", minimum=0, maximum=10_000_000,
                                                description="paid to the bus operators each night for the later "
                                                            "runs (0: they run without a subsidy)")
    sectors: tuple[str, ...] = setting(("night_market",), unit="", names="sectors",
                                       description="merchant sectors whose late-opening cost the looser limits cut")


def _validate(values, r, t, path, common, context) -> None:
    if values["bus_subsidy_per_night_yuan"] == 0 and common["budget_yuan"] > 0:
        raise r.fail(f"{path}.budget_yuan", "only a bus subsidy is paid from a night_access pool: give "
                                            "bus_subsidy_per_night_yuan or a budget of 0")


class NightAccess(ToolEffect):
    """Night access measures in a run: a cheaper late opening for stalls, a cheaper night out, the buses paid.

    Attributes:
        nights: nights the tool acted.
        bus_nights: nights the bus subsidy was paid in full (the late buses ran).
    """

    tool: NightAccessTool

    def __init__(self, tool, model):
        super().__init__(tool, model)
        self.nights = 0
        self.bus_nights = 0

    def night_offer(self, day, merchant_sector, merchant_area_m2):
        tool = self.tool
        if not self.acts_on(day):
            return None
        self.nights += 1
        saving = tool.parking_saving_per_visit_yuan
        buses_run = True
        if tool.bus_subsidy_per_night_yuan > 0:
            buses_run = (self.fund.open_for_claims
                         and self.fund.can_pay(tool.bus_subsidy_per_night_yuan)
                         and self.fund.pay(tool.bus_subsidy_per_night_yuan, "bus_operator", day) > 0)
        if buses_run:
            saving += tool.bus_saving_per_visit_yuan
            if tool.bus_subsidy_per_night_yuan > 0:
                self.bus_nights += 1
        eligible = np.isin(merchant_sector, [SECTOR_INDEX[s] for s in tool.sectors])
        return NightOffer(eligible, np.where(eligible, tool.stall_cost_reduction_share, 0.0), None, 0.0, 0.0,
                          visit_cost_saved_yuan=saving)

    def account_problems(self) -> list[str]:
        tool = self.tool
        expected = self.bus_nights * tool.bus_subsidy_per_night_yuan
        paid = self.fund.paid_yuan
        if not amounts_agree(paid, expected, expected):
            return [f"tool {tool.name}: outlay {paid:,.2f} != bus subsidy × nights the buses ran {expected:,.2f}"]
        return []

    def summary(self, entry) -> None:
        entry["night_access"] = {"nights": self.nights, "bus_nights": self.bus_nights}


TOOL_KIND = ToolKind(
    name="night_access",
    settings=NightAccessTool,
    effect=NightAccess,
    label_zh="夜间经济便利措施",
    label_en="night access measures",
    summary="looser stall limits, free night parking and later buses: a cheaper late opening for stalls and a "
            "cheaper night out; only a bus subsidy is paid",
    controls=(
        BUDGET_CONTROL,
        ControlSpec("stall_cost_reduction_share", "摊位经营成本降低比例", "stall cost cut (share)", 0.0, 1.0, always=True),
        ControlSpec("parking_saving_per_visit_yuan", "免费停车每次节省", "parking saved per visit (yuan)", 0.0, 50.0,
                    always=True),
        ControlSpec("bus_saving_per_visit_yuan", "延时公交每次节省", "later buses' saving per visit (yuan)", 0.0, 50.0),
    ),
    validate=_validate,
)
