"""Tool kind ``purchasing_quota``: quotas that move institutions' purchases (unions, canteens) to chosen sellers.

Lhasa asks every assigned body to spend at least 30% of its union welfare on products of poverty-relief
areas, and every budget unit to reserve at least 10% of its canteen food purchases for the 832 platform
(000_6d902cdc888d6631.txt §消费意见 三(一)3); Pingliang asks public bodies to reserve purchase shares for
poor areas' farm products (003_22cfb6eea19a02d1.txt §实施意见 三(四)10). The quota changes where institutions
buy, not how much: it spends no public money (``budget_yuan`` must be 0).

Each active day, of the ``purchases_yuan_per_year`` ÷ 365 the quota covers, the share the quota asks beyond
what was already bought that way (``quota_share`` − ``share_meeting_quota_before``, none when negative), from
the ``compliance_share`` of bodies that follow it, is moved. Moved purchases go to sellers in the city with
``local_seller_share``; the purchases they replace were bought in the city with ``local_share_before``. The
city's 社零 changes by moved × (``local_seller_share`` − ``local_share_before``), in the institutions' cell and
the quota's ``sector``: up when the quota sends purchases to the city's own sellers, down when it sends them
to a national platform's sellers elsewhere. Institutional purchases themselves (``economy.py``) are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.accounting import amounts_agree
from model.sectors import SECTOR_INDEX, SECTORS
from model.tools.base import BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, setting


@dataclass(frozen=True, kw_only=True)
class PurchasingQuotaTool(Tool):
    """A purchasing quota on institutions' consumer purchases.

    Attributes:
        purchases_yuan_per_year: the purchases the quota covers (e.g. union welfare goods, canteen food).
        quota_share: share of them the quota reserves for the chosen products or channel.
        share_meeting_quota_before: share already bought that way without the quota.
        compliance_share: share of the covered purchases whose buyers follow the quota.
        local_seller_share: share of the moved purchases bought from sellers in the city.
        local_share_before: share of the purchases they replace that was bought from sellers in the city.
        sector: the 社零 sector of the purchases.
    """

    # maximum: far above any city's institutional purchases.
    purchases_yuan_per_year: float = setting(unit="yuan per year", minimum=0, maximum=1e12,
                                             description="institutions' purchases the quota covers, a year")
    quota_share: float = setting(unit="share of the covered purchases", minimum=0, maximum=1,
                                 description="share the quota reserves for the chosen products or channel")
    share_meeting_quota_before: float = setting(0.0, unit="share of the covered purchases", minimum=0, maximum=1,
                                                description="share already bought that way without the quota")
    compliance_share: float = setting(1.0, unit="share of the covered purchases", minimum=0, maximum=1,
                                      description="share of the covered purchases whose buyers follow the quota")
    local_seller_share: float = setting(unit="share of the moved purchases", minimum=0, maximum=1,
                                        description="share of the moved purchases bought from sellers in the city")
    local_share_before: float = setting(unit="share of the replaced purchases", minimum=0, maximum=1,
                                        description="share of the purchases they replace that was bought from "
                                                    "sellers in the city")
    sector: str = setting("daily_goods", unit="", choices=tuple(s for s in SECTORS if s not in ("cars", "night_market")),
                          description="the 社零 sector of the covered purchases")


def _validate(values, r, t, path, common, context) -> None:
    if common["budget_yuan"] != 0:
        raise r.fail(f"{path}.budget_yuan", "a purchasing quota spends no public money: budget_yuan must be 0")


class PurchasingQuota(ToolEffect):
    """A purchasing quota in a run: purchases moved each day, the city's sales changed by where they go.

    Attributes:
        moved_yuan: purchases moved so far.
        local_change_yuan: change in the city's 社零 booked so far.
    """

    tool: PurchasingQuotaTool

    def __init__(self, tool, model):
        super().__init__(tool, model)
        self.moved_per_day = (tool.purchases_yuan_per_year / 365.0 * tool.compliance_share
                              * max(tool.quota_share - tool.share_meeting_quota_before, 0.0))
        self.moved_yuan = 0.0
        self.local_change_yuan = 0.0

    def end_of_day(self, day: int) -> None:
        tool = self.tool
        if not self.acts_on(day) or self.moved_per_day <= 0:
            return
        model = self.model
        change = self.moved_per_day * (tool.local_seller_share - tool.local_share_before)
        self.moved_yuan += self.moved_per_day
        if change != 0:
            idx = SECTOR_INDEX[tool.sector]
            model.books.book_sales(day, np.array([model.institution_cell]), idx, np.array([False]),
                                   model.above_quota_share[idx], np.array([change]))
            self.local_change_yuan += change

    def account_problems(self) -> list[str]:
        tool = self.tool
        problems = []
        expected = self.moved_yuan * (tool.local_seller_share - tool.local_share_before)
        if not amounts_agree(self.local_change_yuan, expected, expected):
            problems.append(f"tool {tool.name}: sales change booked {self.local_change_yuan:,.2f} != purchases moved "
                            f"× (local seller share − local share before) {expected:,.2f}")
        days = (tool.end - tool.start).days + 1
        ceiling = tool.purchases_yuan_per_year / 365.0 * days * tool.quota_share
        if self.moved_yuan > ceiling * (1 + 1e-9) + 1e-6:
            problems.append(f"tool {tool.name}: purchases moved {self.moved_yuan:,.2f} exceed the quota's share of the "
                            f"covered purchases {ceiling:,.2f}")
        return problems

    def summary(self, entry) -> None:
        entry["purchasing_quota"] = {"purchases_moved": self.moved_yuan, "retail_sales_change": self.local_change_yuan}


TOOL_KIND = ToolKind(
    name="purchasing_quota",
    settings=PurchasingQuotaTool,
    effect=PurchasingQuota,
    label_zh="机关工会食堂采购份额",
    label_en="institutional purchasing quota",
    summary="a quota moving institutions' purchases (union welfare, canteens) to chosen products or sellers; no "
            "public money (budget 0)",
    controls=(
        ControlSpec("quota_share", "采购份额", "quota (share of purchases)", 0.0, 1.0, always=True),
        ControlSpec("local_seller_share", "本地卖家比例", "share bought from sellers in the city", 0.0, 1.0, always=True),
    ),
    validate=_validate,
)
