"""Tool kind ``resident_tourism``: residents' local-tourism vouchers, lodging and ticket discounts, campaigns.

The plans ask residents to travel in their own city: Lhasa hands out tourism and lodging vouchers and widens
ticket waivers at state-owned sites (000_6d902cdc888d6631.txt §消费意见 三(一)1, 三(三)11), Diqing runs
"迪庆人游迪庆" (001_c005bbefdbaa2487.txt §二(一)1) and Pingliang "平凉人游平凉" with ticket waivers and
half-price hotels (003_22cfb6eea19a02d1.txt §实施意见 三(二)5). Residents' trips are not in the visitor
inflow (``rules/visitors.py``), so this kind books what it changes, each active day:

* **vouchers**: ``quantity`` vouchers of ``face_value_yuan`` handed out at an even pace over the tool's dates;
  ``tourism_voucher_redemption_rate`` of them are used on a local trip and reimbursed to the venue;
* **price cuts paid by firms**: ``lodging_discount_share`` and ``ticket_discount_share`` off every resident's
  trip while the tool runs (no public outlay; reported as merchant co-funding);
* **extra trips**: a voucher or a price cut lowers a trip's price, so trips rise by
  ``tourism_voucher_inflow_elasticity`` times the value handed out (vouchers) or given (price cuts on the
  ``trips_per_household_per_year`` residents make anyway) relative to a trip's spending, as visits do for a
  tourism voucher; a campaign's publicity alone adds ``campaign_trip_uplift_share`` of those trips;
* **what the extra trips spend**: lodging and tickets (at the discounted price) are reported outside 社零
  (``non_retail``); the price cuts lower the lodging and ticket revenue of the trips made anyway. Of the
  trip's catering and goods, ``resident_trip_displaced_share`` would have been bought in the city anyway
  (meals and shopping at home); the rest is new 社零, booked in households' cells in proportion to their
  catering spending (behaviour parameters in ``model/parameters/behaviour.toml``).

Supported sales (gross leverage): the catering and goods of trips that used a voucher; their lodging and
tickets are ``supported_non_retail_sales``. Households' liquid savings are not drawn on, as for other changes
in flow spending (``rules/night_economy.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.accounting import amounts_agree
from model.sectors import FLOW_SECTORS, SECTOR_INDEX
from model.tools.base import (BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, check_quantity_within_budget,
                              quantity_from_budget, setting)

#: The trip's 社零 spending by model sector.
RETAIL_PARTS = (("catering", "trip_catering_yuan"), ("daily_goods", "trip_goods_yuan"))


@dataclass(frozen=True, kw_only=True)
class ResidentTourismTool(Tool):
    """Residents' local tourism: vouchers, price cuts by venues and a campaign.

    Attributes:
        face_value_yuan: value of a voucher for one local trip (0: no vouchers).
        quantity: vouchers in all (budget / face value when not given).
        trips_per_household_per_year: local trips a household makes without the tool.
        campaign_trip_uplift_share: share by which those trips rise from the campaign's publicity alone.
        lodging_discount_share, ticket_discount_share: price cut on residents' lodging and tickets, paid by venues.
        trip_lodging_yuan, trip_tickets_yuan, trip_catering_yuan, trip_goods_yuan: a local trip's spending.
    """

    # maximum: far above any voucher issued.
    face_value_yuan: float = setting(0.0, unit="yuan", minimum=0, maximum=100_000,
                                     description="value of a voucher for one local trip (0: a campaign without vouchers)")
    # maximum: more vouchers than people in China.
    quantity: int = setting(unit="vouchers", minimum=0, maximum=1_000_000_000,
                            derived_default="budget ÷ face value, rounded down (0 without vouchers)",
                            description="vouchers in all (quantity × face value may not exceed the budget)")
    # maximum: a local trip every day.
    trips_per_household_per_year: float = setting(0.0, unit="trips per household per year", minimum=0, maximum=365,
                                                  description="local leisure trips a household makes without the tool "
                                                              "(what price cuts and the campaign act on)")
    campaign_trip_uplift_share: float = setting(0.0, unit="share of trips", minimum=0, maximum=1,
                                                description="share by which residents' local trips rise from the "
                                                            "campaign's publicity alone while it runs")
    lodging_discount_share: float = setting(0.0, unit="share of the price", minimum=0, maximum=1,
                                            description="price cut on residents' lodging, paid by the hotels "
                                                        "(e.g. 酒店半价: 0.5); no public money")
    ticket_discount_share: float = setting(0.0, unit="share of the price", minimum=0, maximum=1,
                                           description="price cut on residents' tickets, paid by the sites "
                                                       "(门票减免); no public money")
    # maxima: far above a local trip's spending.
    trip_lodging_yuan: float = setting(unit="yuan per trip", minimum=0, maximum=100_000,
                                       description="lodging a local trip buys (not 社零)")
    trip_tickets_yuan: float = setting(unit="yuan per trip", minimum=0, maximum=100_000,
                                       description="tickets a local trip buys (not 社零)")
    trip_catering_yuan: float = setting(unit="yuan per trip", minimum=0, maximum=100_000,
                                        description="meals a local trip buys (社零 catering)")
    trip_goods_yuan: float = setting(unit="yuan per trip", minimum=0, maximum=100_000,
                                     description="goods and souvenirs a local trip buys (社零 daily goods)")

    @property
    def trip_price_yuan(self) -> float:
        """A trip's spending before any price cut."""
        return self.trip_lodging_yuan + self.trip_tickets_yuan + self.trip_catering_yuan + self.trip_goods_yuan

    @property
    def discount_per_trip_yuan(self) -> float:
        """What the venues' price cuts take off one trip."""
        return self.lodging_discount_share * self.trip_lodging_yuan + self.ticket_discount_share * self.trip_tickets_yuan


def _validate(values, r, t, path, common, context) -> None:
    check_quantity_within_budget(values, r, path, common, "vouchers")
    if values["face_value_yuan"] == 0 and common["budget_yuan"] > 0:
        raise r.fail(f"{path}.budget_yuan", "a resident_tourism tool without vouchers (face_value_yuan = 0) pays "
                                            "nothing: give a face value or a budget of 0")
    spend = sum(values[f] for f in ("trip_lodging_yuan", "trip_tickets_yuan", "trip_catering_yuan", "trip_goods_yuan"))
    if spend <= 0:
        raise r.fail(f"{path}.trip_catering_yuan", "a local trip must spend something (the four trip_*_yuan sum to 0)")
    acts_on_trips = (values["campaign_trip_uplift_share"] > 0 or values["lodging_discount_share"] > 0
                     or values["ticket_discount_share"] > 0)
    if acts_on_trips and values["trips_per_household_per_year"] <= 0:
        raise r.fail(f"{path}.trips_per_household_per_year", "a campaign or price cut acts on the trips residents "
                                                             "make anyway: give how many (more than 0)")


class ResidentTourismProgramme(ToolEffect):
    """Residents' local trips in a run: vouchers paid when used, extra trips and what they spend booked.

    Attributes:
        cell_share: each household cell's share of residents' trips (its share of catering spending).
        extra_trips: extra local trips the tool brought, so far.
        new_retail_yuan: new 社零 booked, so far.
        non_retail_change_yuan: change in lodging and ticket revenue booked, so far.
    """

    tool: ResidentTourismTool

    def __init__(self, tool, model):
        super().__init__(tool, model)
        catering = model.flow.base_yuan[:, FLOW_SECTORS.index("catering")]
        self.cell_share = catering / max(float(catering.sum()), 1e-12)
        self.cells = np.arange(self.cell_share.size)
        self.extra_trips = 0.0
        self.new_retail_yuan = 0.0
        self.non_retail_change_yuan = 0.0

    def after_flow_spending(self, day: int, flow_multipliers: np.ndarray) -> None:
        tool = self.tool
        if not self.acts_on(day):
            return
        model = self.model
        p = model.params
        books = model.books
        trips_anyway = tool.trips_per_household_per_year * model.scenario.city.households / 365.0
        handed = used = 0.0
        if tool.quantity > 0 and self.fund.open_for_claims:
            handed = tool.quantity / ((tool.end - tool.start).days + 1)
            handed, used = self.pay_vouchers_used(day, handed, handed * p.tourism_voucher_redemption_rate,
                                                  tool.face_value_yuan)
        price = tool.trip_price_yuan
        discount = tool.discount_per_trip_yuan
        extra = (p.tourism_voucher_inflow_elasticity * (handed * tool.face_value_yuan + trips_anyway * discount) / price
                 + tool.campaign_trip_uplift_share * trips_anyway)
        self.extra_trips += extra
        # Lodging and tickets, never in 社零: the extra trips' at the cut price, less what the cut takes off the
        # trips made anyway.
        lodging = (extra * (1.0 - tool.lodging_discount_share) * tool.trip_lodging_yuan
                   - trips_anyway * tool.lodging_discount_share * tool.trip_lodging_yuan)
        tickets = (extra * (1.0 - tool.ticket_discount_share) * tool.trip_tickets_yuan
                   - trips_anyway * tool.ticket_discount_share * tool.trip_tickets_yuan)
        books.non_retail[day, 0] += lodging
        books.non_retail[day, 1] += tickets
        self.non_retail_change_yuan += lodging + tickets
        new_share = 1.0 - p.resident_trip_displaced_share
        for sector, spend_field in RETAIL_PARTS:
            amount = extra * getattr(tool, spend_field) * new_share
            if amount > 0:
                idx = SECTOR_INDEX[sector]
                books.book_sales(day, self.cells, idx, np.zeros(self.cells.size, dtype=bool),
                                 model.above_quota_share[idx], amount * self.cell_share)
                self.new_retail_yuan += amount
        if discount > 0:
            books.cofunding(tool.name)[day] += (trips_anyway + extra) * discount
        if used > 0:
            books.household_benefit[: self.cell_share.size] += used * tool.face_value_yuan * self.cell_share
            counts = books.voucher_counts(tool.name)
            counts.gross_spending_yuan[day] += used * (price - discount)
            counts.induced_spending_yuan[day] += extra * (price - discount)
            self.book_supported(day, {sector: used * getattr(tool, spend_field) for sector, spend_field in RETAIL_PARTS},
                                used * (price - discount - tool.trip_catering_yuan - tool.trip_goods_yuan))

    def account_problems(self) -> list[str]:
        problems = self.handed_vouchers_problems()
        tool = self.tool
        expected = self.extra_trips * (tool.trip_catering_yuan + tool.trip_goods_yuan) * (
            1.0 - self.model.params.resident_trip_displaced_share)
        if not amounts_agree(self.new_retail_yuan, expected, expected):
            problems.append(f"tool {tool.name}: new 社零 booked {self.new_retail_yuan:,.2f} != extra trips × "
                            f"their new catering and goods {expected:,.2f}")
        return problems

    def summary(self, entry) -> None:
        entry["resident_trips"] = {
            "extra_trips": self.extra_trips,
            "new_retail_sales": self.new_retail_yuan,
            "non_retail_sales_change": self.non_retail_change_yuan,
        }


TOOL_KIND = ToolKind(
    name="resident_tourism",
    settings=ResidentTourismTool,
    effect=ResidentTourismProgramme,
    label_zh="本地居民文旅消费券与本地游活动",
    label_en="residents' local-tourism vouchers and campaigns",
    summary="vouchers, venues' price cuts and campaigns for residents' trips in their own city; lodging and "
            "tickets outside 社零, the trip's meals and goods inside it",
    controls=(
        BUDGET_CONTROL,
        ControlSpec("face_value_yuan", "每次出游券面额", "voucher per trip (yuan)", 0.0, 2_000.0, always=True),
        ControlSpec("lodging_discount_share", "住宿优惠比例", "lodging price cut (share)", 0.0, 1.0),
        ControlSpec("ticket_discount_share", "门票减免比例", "ticket price cut (share)", 0.0, 1.0),
        ControlSpec("campaign_trip_uplift_share", "宣传带动出游增幅", "campaign uplift of trips (share)", 0.0, 1.0),
    ),
    derive=quantity_from_budget,
    validate=_validate,
)
