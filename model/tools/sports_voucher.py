"""Tool kind ``sports_voucher``: sports vouchers (体育消费券) used with the holder's own money.

Pingliang's plan asks counties to hand registered users sports vouchers every week, through an online
platform, "used together with personal spending" (采取线上平台发放与个人消费配套使用的形式, 每周向注册用户发放
体育消费券, 003_22cfb6eea19a02d1.txt §实施意见 三(八)20). Gym sessions, courts, classes and entry fees are
services, not 社零; sports goods bought with a voucher are.

Each active day ``quantity`` ÷ the tool's days vouchers are handed out (a week's batch spread over its days:
the model steps by day and the plan gives no weekday), ``service_voucher_redemption_rate`` of them are used
on a purchase of ``spend_per_use_yuan`` and reimbursed to the seller. A voucher cuts the price of that
purchase by ``face_value_yuan`` ÷ ``spend_per_use_yuan``, so a share ``service_voucher_price_elasticity`` ×
that cut (at most all) of the purchases using one would not have happened without it: that is new spending,
``goods_share`` of it sports goods (社零 daily goods, booked in households' cells in proportion to their goods
spending), the rest services, reported outside 社零 in the tool's summary. The other purchases would have been
made anyway: their voucher is a saving to the holder (behaviour parameters in
``model/parameters/behaviour.toml``).

Supported sales (gross leverage): the goods part of every purchase that used a voucher; its services part is
``supported_non_retail_sales``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.accounting import amounts_agree
from model.sectors import FLOW_SECTORS, SECTOR_INDEX
from model.tools.base import (BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, check_quantity_within_budget,
                              quantity_from_budget, setting)

GOODS = SECTOR_INDEX["daily_goods"]


@dataclass(frozen=True, kw_only=True)
class SportsVoucherTool(Tool):
    """Sports vouchers for registered users, used with the holder's own money.

    Attributes:
        face_value_yuan: value of one voucher.
        quantity: vouchers in all (budget / face value when not given).
        spend_per_use_yuan: what a purchase using a voucher costs in all (voucher and own money).
        goods_share: share of that spending on sports goods (社零); the rest is services (not 社零).
    """

    # maximum: far above any voucher issued.
    face_value_yuan: float = setting(unit="yuan", minimum=0, exclusive_minimum=True, maximum=10_000,
                                     description="value of one voucher")
    # maximum: more vouchers than people in China.
    quantity: int = setting(unit="vouchers", minimum=0, maximum=1_000_000_000,
                            derived_default="budget ÷ face value, rounded down",
                            description="vouchers in all, handed out evenly over the dates (quantity × face value "
                                        "may not exceed the budget)")
    # maximum: far above a gym pass or a pair of running shoes.
    spend_per_use_yuan: float = setting(unit="yuan per purchase", minimum=0, exclusive_minimum=True, maximum=100_000,
                                        description="what a purchase using a voucher costs in all, the voucher and "
                                                    "the holder's own money (at least the face value)")
    goods_share: float = setting(0.0, unit="share of spending", minimum=0, maximum=1,
                                 description="share of that spending on sports goods (社零); the rest is sessions, "
                                             "courts and fees (services, not 社零)")


def _validate(values, r, t, path, common, context) -> None:
    check_quantity_within_budget(values, r, path, common, "vouchers")
    if values["spend_per_use_yuan"] < values["face_value_yuan"]:
        raise r.fail(f"{path}.spend_per_use_yuan", f"{values['spend_per_use_yuan']:g} yuan is below the voucher's "
                                                   f"face value {values['face_value_yuan']:g}: the voucher is used "
                                                   f"with the holder's own money")


class SportsVoucherProgramme(ToolEffect):
    """Sports vouchers in a run: paid when used; the purchases they bring about booked, goods in 社零.

    Attributes:
        new_share: share of purchases using a voucher that it brings about.
        cell_share: each household cell's share of goods spending (where the new goods are booked).
        new_services_yuan, new_retail_yuan: new spending on services (not 社零) and goods (社零), so far.
    """

    tool: SportsVoucherTool

    def __init__(self, tool, model):
        super().__init__(tool, model)
        self.new_share = min(1.0, model.params.service_voucher_price_elasticity * tool.face_value_yuan
                             / tool.spend_per_use_yuan)
        goods = model.flow.base_yuan[:, FLOW_SECTORS.index("daily_goods")]
        self.cell_share = goods / max(float(goods.sum()), 1e-12)
        self.cells = np.arange(self.cell_share.size)
        self.new_services_yuan = 0.0
        self.new_retail_yuan = 0.0

    def after_flow_spending(self, day: int, flow_multipliers: np.ndarray) -> None:
        tool = self.tool
        if not self.acts_on(day) or not self.fund.open_for_claims or tool.quantity <= 0:
            return
        model = self.model
        books = model.books
        handed = tool.quantity / ((tool.end - tool.start).days + 1)
        handed, used = self.pay_vouchers_used(day, handed, handed * model.params.service_voucher_redemption_rate,
                                              tool.face_value_yuan)
        if used <= 0:
            return
        spend = used * tool.spend_per_use_yuan
        new = spend * self.new_share
        counts = books.voucher_counts(tool.name)
        counts.gross_spending_yuan[day] += spend
        counts.induced_spending_yuan[day] += new
        books.household_benefit[: self.cell_share.size] += used * tool.face_value_yuan * self.cell_share
        new_goods = new * tool.goods_share
        if new_goods > 0:
            books.book_sales(day, self.cells, GOODS, np.zeros(self.cells.size, dtype=bool),
                             model.above_quota_share[GOODS], new_goods * self.cell_share)
        self.new_retail_yuan += new_goods
        self.new_services_yuan += new - new_goods
        self.book_supported(day, {"daily_goods": spend * tool.goods_share}, spend * (1.0 - tool.goods_share))

    def account_problems(self) -> list[str]:
        problems = self.handed_vouchers_problems()
        counts = self.model.books.vouchers.get(self.tool.name)
        used = float(counts.redeemed.sum()) if counts is not None else 0.0
        expected = used * self.tool.spend_per_use_yuan * self.new_share
        booked = self.new_retail_yuan + self.new_services_yuan
        if not amounts_agree(booked, expected, expected):
            problems.append(f"tool {self.tool.name}: new spending booked {booked:,.2f} != vouchers used × spend per "
                            f"use × new share {expected:,.2f}")
        return problems

    def summary(self, entry) -> None:
        entry["sports"] = {"new_purchase_share": self.new_share, "new_services_outside_retail": self.new_services_yuan,
                           "new_retail_sales": self.new_retail_yuan}


TOOL_KIND = ToolKind(
    name="sports_voucher",
    settings=SportsVoucherTool,
    effect=SportsVoucherProgramme,
    label_zh="体育消费券",
    label_en="sports vouchers",
    summary="sports vouchers used with the holder's own money; sessions, courts and fees outside 社零, sports "
            "goods inside it",
    controls=(
        BUDGET_CONTROL,
        ControlSpec("face_value_yuan", "面额", "face value (yuan)", 0.0, 500.0, exclusive_minimum=True, always=True),
        ControlSpec("spend_per_use_yuan", "每次消费额", "spend per use (yuan)", 0.0, 2_000.0, exclusive_minimum=True,
                    always=True),
    ),
    derive=quantity_from_budget,
    validate=_validate,
)
