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

from model.sectors import SECTOR_INDEX
from model.tools.base import BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, setting


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


def _derive(field_name, values, common):
    return int(common["budget_yuan"] // values["face_value_yuan"])


def _validate(values, r, t, path, common, context) -> None:
    if context.city.visitors is None:
        raise r.fail(f"{path}.kind", "a tourism_voucher needs [city.visitors] in the scenario")
    face, quantity, budget = values["face_value_yuan"], values["quantity"], common["budget_yuan"]
    if quantity * face > budget * (1 + 1e-9):
        raise r.fail(f"{path}.quantity", f"{quantity} vouchers of {face:g} yuan exceed the budget {budget:,.0f}")


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
        paid = self.fund.pay(used * tool.face_value_yuan, "merchant", day)
        if paid <= 0:
            return 0.0
        handed *= paid / (used * tool.face_value_yuan)
        used = paid / tool.face_value_yuan
        counts = model.books.voucher_counts(tool.name)
        counts.issued[day] += handed
        counts.redeemed[day] += used
        counts.expired[day] += handed - used
        counts.gross_spending_yuan[day] += used * spend_per_visit_yuan
        # Supported 社零: the catering and goods spending of visits that used a voucher; lodging and tickets are
        # reported apart and never in 社零 figures.
        spend = model.scenario.city.visitors.spend_per_visit_yuan
        for sector in ("catering", "daily_goods"):
            amount = used * spend.get(sector, 0.0)
            model.books.supported(tool.name)[day, SECTOR_INDEX[sector]] += amount
            model.books.supported_any[day, SECTOR_INDEX[sector]] += amount
        model.books.supported_non_retail[tool.name] = (model.books.supported_non_retail.get(tool.name, 0.0)
                                                       + used * (spend.get("lodging", 0.0) + spend.get("tickets", 0.0)))
        # The voucher cuts the price of a trip for those who get one.
        extra = p.tourism_voucher_inflow_elasticity * handed * tool.face_value_yuan / max(spend_per_visit_yuan, 1e-9)
        counts.induced_spending_yuan[day] += extra * spend_per_visit_yuan
        return extra


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
    derive=_derive,
    validate=_validate,
)
