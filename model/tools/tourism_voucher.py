"""Tool kind ``tourism_voucher``: tourism vouchers or ticket discounts handed to visitors.

Vouchers are handed out at an even pace over the tool's dates. A voucher lowers the price of a
trip by its value, which raises the inflow with ``tourism_voucher_inflow_elasticity`` relative to
the spending of a visit; ``tourism_voucher_redemption_rate`` of vouchers are used, and each used
one is reimbursed to the merchant (behaviour parameters in ``model/parameters/behaviour.toml``).
The visitor rule (``model/rules/visitors.py``) books the visits' spending; this module pays the
vouchers, counts them and books the catering and goods spending of visits that used one as supported sales (lodging and tickets apart).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.tools.base import (BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, check_quantity_within_budget,
                              quantity_from_budget, setting)


@dataclass(frozen=True, kw_only=True)
class TourismVoucherTool(Tool):
    """Tourism voucher or ticket discount given to visitors.

    Attributes:
        face_value_yuan: value per voucher.
        quantity: vouchers in all (budget / face value when not given).
    """

    # maximum: far above any voucher issued.
    face_value_yuan: float = setting(unit="yuan", minimum=0, exclusive_minimum=True, maximum=100_000,
                                     description="value per voucher")
    # maximum: more vouchers than people in China.
    quantity: int = setting(unit="vouchers", minimum=0, maximum=1_000_000_000,
                            derived_default="budget ÷ face value, rounded down",
                            description="vouchers in all (quantity × face value may not exceed the budget)")


def _validate(values, r, t, path, common, context) -> None:
    if context.city.visitors is None:
        raise r.fail(f"{path}.kind", "a tourism_voucher needs [city.visitors] in the scenario")
    check_quantity_within_budget(values, r, path, common, "vouchers")


class TourismVoucherProgramme(ToolEffect):
    """Tourism vouchers in a run: handed out evenly over the dates, paid when used."""

    tool: TourismVoucherTool

    def visitor_support(self, day: int, visits: float, spend_per_visit_yuan: float) -> float:
        tool = self.tool
        if not self.acts_on(day):
            return 0.0
        model = self.model
        p = model.params
        days = (tool.end - tool.start).days + 1
        handed = tool.quantity / days
        used = handed * p.tourism_voucher_redemption_rate
        handed, used = self.pay_vouchers_used(day, handed, used, tool.face_value_yuan)
        if used <= 0:
            return 0.0
        counts = model.books.voucher_counts(tool.name)
        counts.gross_spending_yuan[day] += used * spend_per_visit_yuan
        # Supported 社零: the catering and goods spending of visits that used a voucher; lodging and tickets are
        # reported apart and never in 社零 figures.
        spend = model.scenario.city.visitors.spend_per_visit_yuan
        self.book_supported(day, {sector: used * spend.get(sector, 0.0) for sector in ("catering", "daily_goods")},
                            used * (spend.get("lodging", 0.0) + spend.get("tickets", 0.0)))
        # The voucher cuts the price of a trip for those who get one.
        extra = p.tourism_voucher_inflow_elasticity * handed * tool.face_value_yuan / max(spend_per_visit_yuan, 1e-9)
        counts.induced_spending_yuan[day] += extra * spend_per_visit_yuan
        return extra

    def account_problems(self) -> list[str]:
        return self.handed_vouchers_problems()


TOOL_KIND = ToolKind(
    name="tourism_voucher",
    settings=TourismVoucherTool,
    effect=TourismVoucherProgramme,
    label_zh="文旅消费券",
    label_en="tourism vouchers",
    summary="tourism vouchers or ticket discounts for visitors; needs [city.visitors]",
    controls=(
        BUDGET_CONTROL,
        ControlSpec("face_value_yuan", "面额", "face value (yuan)", 0.0, 2_000.0, exclusive_minimum=True, always=True),
    ),
    derive=quantity_from_budget,
    validate=_validate,
)
