"""Tool kind ``fuel_coupon``: fuel coupons (油票) for visitors who come by car.

Diqing's plan proposes to "explore a fuel-coupon subsidy for self-driving tourists" (探索实施自驾游客
油票补贴政策, 001_c005bbefdbaa2487.txt §二(一)1). A coupon worth ``face_value_yuan`` is handed to
visitors arriving by car (a share ``self_drive_visitor_share`` of the day's visits) at an even pace
over the tool's dates, never to more of them than arrive; ``tourism_voucher_redemption_rate`` of the
coupons handed out are used at filling stations and reimbursed to the station from the pool.

What it changes: a coupon cuts the cost of a trip by its value, so, as for a tourism voucher, the
inflow of visits rises with ``tourism_voucher_inflow_elasticity`` times the coupons' value relative
to the spending of a visit (behaviour parameters shared with tourism vouchers, see
``model/parameters/behaviour.toml``). The extra visits spend like any visit (the visitor rule books
that) and, coming by car, also buy ``fuel_per_visit_yuan`` of fuel in the city. Visitors who would
have come anyway buy the fuel they would have bought: their coupon is a transfer to them, not extra
sales. The fuel bought by visits that would have come anyway is in neither the policy run nor the
counterfactual (the visitor spending table has no fuel), so the uplift is the extra visits' spending.
Supported sales (gross leverage) are the 社零 spending (catering, goods) of the visits that used a
coupon and the fuel the coupon bought; their lodging and tickets are reported apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.sectors import SECTOR_INDEX
from model.tools.base import (BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, check_quantity_within_budget,
                              quantity_from_budget, setting)

FUEL = SECTOR_INDEX["fuel"]


@dataclass(frozen=True, kw_only=True)
class FuelCouponTool(Tool):
    """Fuel coupons for self-driving visitors.

    Attributes:
        face_value_yuan: value of one coupon.
        quantity: coupons in all (budget / face value when not given).
        self_drive_visitor_share: share of visits made by car (who may get a coupon).
        fuel_per_visit_yuan: fuel a self-driving visit buys in the city.
    """

    # maximum: far above any fuel coupon issued.
    face_value_yuan: float = setting(unit="yuan", minimum=0, exclusive_minimum=True, maximum=10_000,
                                     description="value of one coupon")
    # maximum: more coupons than people in China.
    quantity: int = setting(unit="coupons", minimum=0, maximum=1_000_000_000,
                            derived_default="budget ÷ face value, rounded down",
                            description="coupons in all (quantity × face value may not exceed the budget)")
    self_drive_visitor_share: float = setting(unit="share of visits", minimum=0, maximum=1,
                                              description="share of visits made by car, the only ones given a coupon")
    # maximum: far above a car's fuel for one trip.
    fuel_per_visit_yuan: float = setting(unit="yuan per visit", minimum=0, maximum=100_000,
                                         description="fuel a self-driving visit buys in the city")


def _validate(values, r, t, path, common, context) -> None:
    if context.city.visitors is None:
        raise r.fail(f"{path}.kind", "a fuel_coupon needs [city.visitors] in the scenario")
    check_quantity_within_budget(values, r, path, common, "coupons")


class FuelCouponProgramme(ToolEffect):
    """Fuel coupons in a run: handed to arriving drivers, paid when used, extra visits' fuel booked."""

    tool: FuelCouponTool

    def visitor_support(self, day: int, visits: float, spend_per_visit_yuan: float) -> float:
        tool = self.tool
        if not self.acts_on(day) or not self.fund.open_for_claims:
            return 0.0
        model = self.model
        p = model.params
        days = (tool.end - tool.start).days + 1
        handed = min(tool.quantity / days, tool.self_drive_visitor_share * max(visits, 0.0))
        used = handed * p.tourism_voucher_redemption_rate
        if used <= 0:
            return 0.0
        handed, used = self.pay_vouchers_used(day, handed, used, tool.face_value_yuan)
        if used <= 0:
            return 0.0
        spend_with_fuel = spend_per_visit_yuan + tool.fuel_per_visit_yuan
        extra = p.tourism_voucher_inflow_elasticity * handed * tool.face_value_yuan / max(spend_with_fuel, 1e-9)
        counts = model.books.voucher_counts(tool.name)
        counts.gross_spending_yuan[day] += used * spend_with_fuel
        counts.induced_spending_yuan[day] += extra * spend_with_fuel
        # Supported 社零: the catering and goods of visits that used a coupon and the fuel the coupon bought;
        # their lodging and tickets are reported apart, never in 社零 figures.
        spend = model.scenario.city.visitors.spend_per_visit_yuan
        self.book_supported(day, {sector: used * amount for sector, amount in (
            ("catering", spend.get("catering", 0.0)), ("daily_goods", spend.get("daily_goods", 0.0)),
            ("fuel", tool.fuel_per_visit_yuan))},
            used * (spend.get("lodging", 0.0) + spend.get("tickets", 0.0)))
        if extra * tool.fuel_per_visit_yuan > 0:
            model.books.book_sales(day, np.array([model.visitor_cell]), FUEL, np.array([False]),
                                   model.above_quota_share[FUEL], np.array([extra * tool.fuel_per_visit_yuan]))
        return extra

    def account_problems(self) -> list[str]:
        return self.handed_vouchers_problems()


TOOL_KIND = ToolKind(
    name="fuel_coupon",
    settings=FuelCouponTool,
    effect=FuelCouponProgramme,
    label_zh="自驾游客油票补贴",
    label_en="fuel coupons for self-driving visitors",
    summary="fuel coupons (油票) for visitors arriving by car; needs [city.visitors]",
    controls=(
        BUDGET_CONTROL,
        ControlSpec("face_value_yuan", "油票面额", "coupon value (yuan)", 0.0, 1_000.0, exclusive_minimum=True,
                    always=True),
    ),
    derive=quantity_from_budget,
    validate=_validate,
)
