"""Tool kind ``voucher``: consumer vouchers (消费券), claimed, redeemed at a threshold, topped up, expired.

The settings are ``VoucherTool``; the daily effect is ``VoucherProgramme``, which follows each voucher of one tool from its release to
redemption or expiry:

* **Claiming.** Vouchers come in dated batches of limited quantity. Households
  eligible for the scheme (by group, district and, for app vouchers, digital
  access) try to claim with a probability that rises with their planned
  spending in the eligible sectors relative to the threshold. First come, first
  served favours the quick (non-elderly); a lottery draws uniformly; an
  allocated scheme gives vouchers to eligible households without a claim.
* **Redeeming.** A voucher "spend T, get F off" (满减) applies to one
  transaction of at least T, in an eligible sector, at a participating
  merchant, in the allowed channel, before it expires. Each day the holder may
  have a planned transaction there (``trip_profile``, the same one the
  aggregate spending rule uses, for the person who claimed it: one claimant
  per household). If it reaches T the voucher is used on
  spending that would have happened anyway. If it falls short, the household
  tops up to T when the face value it would otherwise give up, discounted by
  the chance that a later planned transaction will reach T on its own, exceeds
  the part of the top-up it does not value: F·(1 - q_wait) > (T - x)·(1 - φ).
  φ is high where the extra goods are ones it would have bought later anyway
  (pulled forward, worth their price) and ``topup_value_share`` for new ones.
  Without a planned trip the holder may make a trip just to use the voucher
  (``model/rules/voucher_response.py`` ``voucher_trip_worthwhile``): it buys an
  ordinary basket of the sector, worth its price to it, topped up to the
  threshold, when the face value beats the trip's cost and the unvalued part
  of the top-up. On the last day, loss aversion weighs the face value more. Liu et al. (2021) explain the Hangzhou coupon effect by mental
  accounting and loss aversion; the 7-day expiry is what makes households act.
* **What it changes.** Spending above the planned transaction is new; a share
  of it is pulled from the household's own later spending
  (``pull_forward_share``, Xing et al. 2023). When the voucher saves more than
  the extra it made the household spend, a share of the saving is earmarked
  for the voucher's category and spent on pricier items in the same basket
  (``voucher_earmark_share``, ``earmarked_trade_up_yuan``: mental accounting,
  Liu et al. 2021); the rest is extra cash, spent at the household's own
  windfall propensity (``windfall_mpc``) over the following weeks. A no-threshold voucher is used on planned spending and so is nearly
  all extra cash, which is why it moves spending less per yuan (Kan, Peng &
  Wang 2017).
* **Cars.** A voucher that covers cars is claimed mostly by households shopping
  for a car at the time, and redeemed when they buy; it does not change when
  they buy (a few hundred yuan on a car's price moves the purchase rate by well
  under 1%), so it is spending that would have happened anyway plus a windfall.
* **Paying.** The tool's fund reimburses the merchant the face value on each
  redemption; merchants add any co-funded discount (企业让利).

Parameters (``model/parameters/behaviour.toml`` gives each one's value, unit, valid range and reference or
assumption):
``voucher_claim_interest`` (batches claimed out within minutes, Liu et al. 2021; Xing et al. 2023),
``digital_access`` (CNNIC 2021), ``voucher_platform_share`` (iResearch 2020 payment shares),
``voucher_attention_per_day`` (near Hangzhou's 70.2% redemption), ``voucher_loss_aversion`` (Liu et al.
2021; Kahneman & Tversky 1979), ``voucher_trip_cost_yuan`` and ``voucher_earmark_share``
(``model/rules/voucher_response.py``: Liu et al. 2021; Xing et al. 2023; Kim, Koh & Lyou 2023), ``topup_value_share``, ``pull_forward_share`` and ``pull_forward_days``
(Xing et al. 2023), ``ticket_mean_yuan``, ``ticket_sigma`` and ``online_share`` (as in
``rules/spending.py``), ``windfall_mpc_*`` and ``windfall_spending_days`` (Parker et al. 2013), and the
merchant opt-in's ``merchant_gross_margin``, ``voucher_admin_cost_yuan`` and
``voucher_expected_leverage`` (``model/merchants.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr

from model.accounting import RELATIVE_TOLERANCE
from model.households import windfall_mpc
from model.merchants import opt_in_to_voucher
from model.rules.spending import trip_profile
from model.rules.voucher_response import earmarked_trade_up_yuan, voucher_is_labelled, voucher_trip_worthwhile
from model.sectors import FLOW_SECTORS, SECTOR_INDEX, SECTORS
from model.tools.base import BUDGET_CONTROL, ControlSpec, Tool, ToolEffect, ToolKind, setting

OUTSTANDING, REDEEMED, EXPIRED = 0, 1, 2


@dataclass(frozen=True)
class VoucherRelease:
    """A batch of vouchers released on a date."""

    date: dt.date
    quantity: int


@dataclass(frozen=True, kw_only=True)
class VoucherTool(Tool):
    """Consumer vouchers (消费券): spend ``threshold_yuan``, get ``face_value_yuan`` off (满减).

    Attributes:
        sectors: sectors where the voucher can be redeemed.
        face_value_yuan: discount per voucher.
        threshold_yuan: minimum spending in one transaction (0: no threshold).
        quantity: vouchers in all (budget / face value when not given).
        releases: dated batches.
        allocation: first_come, lottery or allocated.
        eligibility: all, urban, rural, low_income (bottom two income quintiles) or elderly.
        districts: districts whose households may claim (all when empty).
        channel: app (needs digital access) or paper.
        usable_online: whether online purchases can use it.
        validity_days: days from claim to expiry.
        merchant_cofunding_share: extra discount merchants add per yuan of face value (企业让利).
        participating_merchants: number of merchants accepting it (by opt-in when not given).
    """

    # maximum: far above any consumption voucher issued.
    face_value_yuan: float = setting(unit="yuan", minimum=0, exclusive_minimum=True, maximum=100_000,
                                     description="discount per voucher")
    # maximum: above the price of nearly any purchase.
    threshold_yuan: float = setting(0.0, unit="yuan", minimum=0, maximum=1_000_000,
                                    description="minimum spending in one transaction; 0 = no threshold, otherwise "
                                                "at least the face value")
    # maximum: more vouchers than people in China.
    quantity: int = setting(unit="vouchers", minimum=0, maximum=1_000_000_000,
                            derived_default="budget ÷ face value, rounded down",
                            description="vouchers in all (quantity × face value may not exceed the budget)")
    releases: tuple[VoucherRelease, ...] = setting(
        (), unit="", read_by_kind=True,
        description="dated batches: a list of { date, quantity }, or instead release_every_days (default 7): "
                    "equal batches from start_date to end_date",
        schema={"type": "array", "items": {"type": "object", "required": ["date", "quantity"],
                                           "properties": {"date": {"type": "string", "format": "date"},
                                                          "quantity": {"type": "integer", "minimum": 0}},
                                           "additionalProperties": False}})
    sectors: tuple[str, ...] = setting(unit="", names="sectors", description="sectors where it can be used")
    validity_days: int = setting(7, unit="days", minimum=1, maximum=366, description="days from claim to expiry")
    districts: tuple[str, ...] = setting((), unit="", names="districts",
                                         description="districts whose households may claim (all when empty)")
    # maximum: more merchants than any city has.
    participating_merchants: int | None = setting(None, unit="merchants", minimum=1, maximum=10_000_000,
                                                  description="number of merchants accepting it (by opt-in when "
                                                              "not given)")
    allocation: str = setting("first_come", unit="", choices=("first_come", "lottery", "allocated"),
                              description="first come first served, a lottery, or handed to eligible households")
    eligibility: str = setting("all", unit="", choices=("all", "urban", "rural", "low_income", "elderly"),
                               description="who may claim (low_income: the poorest 40%)")
    channel: str = setting("app", unit="", choices=("app", "paper"),
                           description="app (needs digital access; used only on the issuing payment platform) "
                                       "or paper")
    usable_online: bool = setting(True, unit="", description="whether online purchases can use it")
    merchant_cofunding_share: float = setting(0.0, unit="yuan per yuan of face value", minimum=0, maximum=10,
                                              description="extra discount merchants add (企业让利)")

    household_vouchers = True

    @property
    def last_effect_date(self) -> dt.date:
        """A voucher claimed on the last day stays valid ``validity_days``."""
        return self.end + dt.timedelta(days=self.validity_days - 1)


def _derive(field_name: str, values: dict[str, Any], common: dict[str, Any]) -> Any:
    """quantity: as many vouchers as the budget buys."""
    return int(common["budget_yuan"] // values["face_value_yuan"])


def _validate(values: dict[str, Any], r, t: dict, path: str, common: dict[str, Any], context) -> None:
    face, threshold, quantity = values["face_value_yuan"], values["threshold_yuan"], values["quantity"]
    budget = common["budget_yuan"]
    if 0 < threshold < face:
        raise r.fail(f"{path}.threshold_yuan", f"threshold {threshold:g} is below the face value {face:g} (use 0 for no threshold)")
    if threshold == 0 and "threshold_yuan" not in t:
        r.provenance[f"{path}.threshold_yuan"] = "assumption: no threshold given"
    if quantity * face > budget * (1 + 1e-9):
        raise r.fail(f"{path}.quantity", f"{quantity} vouchers of {face:g} yuan need {quantity * face:,.0f} yuan, more than the budget {budget:,.0f}")
    values["releases"] = _read_releases(r, t, path, common["start"], common["end"], quantity)
    if not values["sectors"]:
        raise r.fail(f"{path}.sectors", "name at least one sector")


def _read_releases(r, t: dict, path: str, tstart: dt.date, tend: dt.date, quantity: int) -> tuple[VoucherRelease, ...]:
    """Release batches: an explicit list, or ``release_every_days`` from the start date."""
    if "releases" in t:
        out = []
        for b, bpath in r.tables(t["releases"], f"{path}.releases", "{date, quantity}"):
            d = r.date(b, "date", bpath)
            if not tstart <= d <= tend:
                raise r.fail(f"{bpath}.date", f"{d} is outside the tool's dates {tstart} to {tend}")
            out.append(VoucherRelease(d, r.number(b, "quantity", bpath, integer=True, minimum=0)))
        total = sum(b.quantity for b in out)
        if total > quantity:
            raise r.fail(f"{path}.releases", f"batches release {total} vouchers, more than quantity {quantity}")
        return tuple(sorted(out, key=lambda b: b.date))
    every = r.number(t, "release_every_days", path, default=7, integer=True, minimum=1)
    dates = []
    d = tstart
    while d <= tend:
        dates.append(d)
        d += dt.timedelta(days=every)
    base, extra = divmod(quantity, len(dates))
    return tuple(VoucherRelease(d, base + (1 if i < extra else 0)) for i, d in enumerate(dates))



class VoucherProgramme(ToolEffect):
    """One voucher tool's vouchers, from release to redemption or expiry.

    Attributes:
        tool: the tool's settings.
        holder: household row of each voucher issued (sample rows).
        expiry_day: last valid day of each voucher.
        status: OUTSTANDING, REDEEMED or EXPIRED.
        participation_share: share of each flow sector's sales at participating merchants.
        participants_above_quota_share: share of participants' sales made by above-quota merchants, by flow sector.
    """

    def __init__(self, tool: VoucherTool, model):
        super().__init__(tool, model)
        hh = model.households
        params = model.params
        self.flow_cols = [FLOW_SECTORS.index(s) for s in tool.sectors if s in FLOW_SECTORS]
        self.covers_cars = "cars" in tool.sectors
        self.threshold = max(tool.threshold_yuan, tool.face_value_yuan)
        self.household_face = tool.face_value_yuan * (1.0 + tool.merchant_cofunding_share)
        # Value per yuan of goods bought only to use the voucher, by flow sector: goods pulled forward
        # from later purchases are worth their price; genuinely new ones topup_value_share of it.
        pull = np.array([params.pull_forward_share.get(s, 0.0) for s in FLOW_SECTORS])
        self.topup_value = pull + (1.0 - pull) * params.topup_value_share
        # A voucher for some sectors only is a mental account; one for every sector is money.
        self.earmark_share = params.voucher_earmark_share if voucher_is_labelled(tool.sectors, SECTORS) else 0.0
        # App vouchers work only on their own payment platform; paper ones anywhere in the scheme.
        self.platform_share = params.voucher_platform_share if tool.channel == "app" else 1.0

        # Merchant participation, decided once when the scheme is announced.
        joined = opt_in_to_voucher(model.merchants, tool.sectors, tool.budget_yuan, tool.merchant_cofunding_share,
                                   tool.participating_merchants, params)
        self.merchants_joined = int(joined.sum())
        m = model.merchants
        self.participation_share = np.zeros(len(FLOW_SECTORS))
        self.participants_above_quota_share = np.zeros(len(FLOW_SECTORS))
        for j, s in enumerate(FLOW_SECTORS):
            in_sector = m.sector == SECTOR_INDEX[s]
            total = m.annual_sales_yuan[in_sector].sum()
            part = m.annual_sales_yuan[in_sector & joined].sum()
            self.participation_share[j] = part / total if total > 0 else 0.0
            above = m.annual_sales_yuan[in_sector & joined & m.above_quota].sum()
            self.participants_above_quota_share[j] = above / part if part > 0 else 0.0

        # Who may claim.
        eligible = np.ones(hh.n, dtype=bool)
        if tool.eligibility == "urban":
            eligible &= hh.urban
        elif tool.eligibility == "rural":
            eligible &= ~hh.urban
        elif tool.eligibility == "low_income":
            eligible &= hh.quintile <= 1
        elif tool.eligibility == "elderly":
            eligible &= hh.elderly
        if tool.districts:
            names = [d.name for d in model.scenario.city.districts]
            eligible &= np.isin(hh.district, [names.index(d) for d in tool.districts])
        if tool.channel == "app":
            eligible &= hh.digital_access
        self.eligible_rows = np.flatnonzero(eligible)
        planned = hh.flow_spend_day_yuan[self.eligible_rows][:, self.flow_cols].sum(axis=1) * tool.validity_days
        self.planned_flow_spending = planned
        self.claim_probability = params.voucher_claim_interest * (1.0 - np.exp(-planned / self.threshold))

        # Releases in sample vouchers; issuance never exceeds what the budget covers.
        self.releases = {(r.date - model.scenario.start).days: r.quantity for r in tool.releases}
        self.max_sample_vouchers = int(np.floor(tool.budget_yuan / (tool.face_value_yuan * hh.weight) + 1e-9))
        self.holder = np.zeros(0, dtype=np.int64)
        self.expiry_day = np.zeros(0, dtype=np.int64)
        self.status = np.zeros(0, dtype=np.int8)
        self.active = np.zeros(0, dtype=np.int64)
        self.counts = model.books.voucher_counts(tool.name)

    # ------------------------------------------------------------ claiming
    def release(self, day: int, rng: np.random.Generator) -> None:
        """Release today's batch, if any, and hand it to claimants."""
        quantity = self.releases.get(day, 0)
        if quantity <= 0:
            return
        weight = self.model.households.weight
        target = int(np.floor(quantity / weight + rng.random()))
        room = self.max_sample_vouchers - self.holder.size
        target = max(0, min(target, room))
        if target == 0 or self.eligible_rows.size == 0:
            return
        rows = self.eligible_rows
        if self.tool.allocation == "allocated":
            claimants = rows
            chosen = claimants if claimants.size <= target else rng.choice(claimants, size=target, replace=False)
        else:
            tries = rng.random(rows.size) < self._claim_probability_today()
            claimants = rows[tries]
            if claimants.size <= target:
                chosen = claimants
            elif self.tool.allocation == "first_come":
                # Arrival order: the quick (non-elderly, twice as fast) tend to arrive first.
                speed = np.where(self.model.households.elderly[claimants], 1.0, 2.0)
                arrival = rng.exponential(size=claimants.size) / speed
                chosen = claimants[np.argpartition(arrival, target - 1)[:target]]
            else:  # lottery
                chosen = rng.choice(claimants, size=target, replace=False)
        chosen = np.sort(chosen)
        start = self.holder.size
        self.holder = np.concatenate([self.holder, chosen])
        self.expiry_day = np.concatenate([self.expiry_day, np.full(chosen.size, day + self.tool.validity_days - 1)])
        self.status = np.concatenate([self.status, np.zeros(chosen.size, dtype=np.int8)])
        self.active = np.concatenate([self.active, np.arange(start, start + chosen.size)])
        self.counts.issued[day] += chosen.size * weight

    def _claim_probability_today(self) -> np.ndarray:
        """Claim probability of each eligible household at today's release.

        For flow sectors it rests on planned spending over the validity; a voucher
        that covers cars also draws households shopping for a car now, which expect
        to spend the price within the validity with probability validity / shopping delay.
        """
        if not self.covers_cars:
            return self.claim_probability
        market = self.model.car_market
        shopping = market.in_market[self.eligible_rows, 0]
        planned = np.where(shopping, market.price * min(1.0, self.tool.validity_days / market.shopping_days), 0.0)
        planned = planned + self.planned_flow_spending
        return self.model.params.voucher_claim_interest * (1.0 - np.exp(-planned / self.threshold))

    # ------------------------------------------------------------ redeeming
    def redeem_planned_and_topped_up(self, day: int, multipliers: np.ndarray, rng: np.random.Generator) -> None:
        """Today's redemptions on flow-sector transactions by holders of outstanding vouchers.

        Decided in four steps, each its own function: what each holder plans to buy today
        (``_plan_todays_transactions``), whether waiting is worth it (``_value_of_waiting``),
        whether a short transaction is topped up to the threshold and whether a holder without
        one makes a trip for the voucher (``_decide``), and what is paid and booked (``_settle``).
        """
        if self.active.size == 0 or not self.flow_cols:
            return
        hh = self.model.households
        holder_rows = self.holder[self.active]
        plan = self._plan_todays_transactions(holder_rows, multipliers, rng)
        face_weight, chance_usable_later = self._value_of_waiting(day, plan.daily_chance_threshold_reached)
        decision = self._decide(plan, face_weight, chance_usable_later, rng)
        # A household cannot top up beyond its liquid savings.
        affordable = hh.savings_yuan[holder_rows] + np.minimum(decision.cash_gain_yuan, 0.0) >= 0
        redeem = (decision.meets_threshold | decision.tops_up | decision.voucher_trip) & affordable
        if not redeem.any():
            return
        redeeming = np.flatnonzero(redeem)
        # One redemption per household a day, so the affordability check above holds for what is booked.
        _, first = np.unique(holder_rows[redeeming], return_index=True)
        redeeming = redeeming[np.sort(first)]
        weight = hh.weight
        paid = self.fund.pay_many(np.full(redeeming.size, self.tool.face_value_yuan * weight), "merchant", day)
        redeeming = redeeming[paid > 0]
        if redeeming.size == 0:
            return
        trip = decision.voucher_trip[redeeming]
        sector_col = np.where(trip, plan.voucher_trip_col[redeeming], plan.best_col[redeeming])
        online = np.where(trip, False, plan.best_online[redeeming])
        self._settle(day, redeeming, holder_rows[redeeming], sector_col, online, decision.induced_yuan[redeeming],
                     decision.cash_gain_yuan[redeeming], decision.transaction_yuan[redeeming],
                     pulled_base=decision.induced_yuan[redeeming] - decision.trade_up_yuan[redeeming])

    def _plan_todays_transactions(self, holder_rows: np.ndarray, multipliers: np.ndarray,
                                  rng: np.random.Generator) -> "_TodaysPlan":
        """What each holder plans to buy today in the voucher's sectors, and the chance a later one reaches T.

        Per flow sector: whether the holder makes a planned trip (``trip_profile``, for the person who
        claimed it), whether it is at a participating merchant on the voucher's platform, whether it is
        online, and its ticket. The largest usable planned ticket is the one the voucher would go on.
        """
        model = self.model
        hh = model.households
        params = model.params
        holders = holder_rows.size
        sigma = params.ticket_sigma
        log_threshold = np.log(self.threshold)
        plan = _TodaysPlan.empty(holders, self.flow_cols[0])
        largest_planned_spend = np.full(holders, -1.0)
        for col in self.flow_cols:
            sector = FLOW_SECTORS[col]
            # App accounts are personal: the claimant uses the voucher on their own transactions.
            spend_per_person = hh.flow_spend_day_yuan[holder_rows, col] / hh.size[holder_rows] * multipliers[col]
            trip_probability, mean_ticket = trip_profile(spend_per_person,
                                                         model.flow.sector_mean_spend_yuan[col] * multipliers[col],
                                                         params.ticket_mean_yuan[sector])
            online_probability = np.minimum(params.online_share.get(sector, 0.0) * hh.online_affinity[holder_rows], 0.95)
            has_trip = rng.random(holders) < trip_probability
            at_participant = rng.random(holders) < self.participation_share[col] * self.platform_share
            online = rng.random(holders) < online_probability
            usable = has_trip & at_participant & (self.tool.usable_online | ~online)
            ticket = mean_ticket * np.exp(sigma * rng.standard_normal(holders) - sigma**2 / 2)
            larger = usable & (ticket > plan.best_ticket_yuan)
            plan.best_ticket_yuan = np.where(larger, ticket, plan.best_ticket_yuan)
            plan.best_col = np.where(larger, col, plan.best_col)
            plan.best_online = np.where(larger, online, plan.best_online)
            # Chance that a planned, usable transaction on a later day reaches the threshold by itself.
            reaches_threshold = ndtr((np.log(np.maximum(mean_ticket, 1e-9)) - sigma**2 / 2 - log_threshold) / sigma)
            channel_ok = 1.0 if self.tool.usable_online else (1.0 - online_probability)
            plan.daily_chance_threshold_reached += (trip_probability * self.participation_share[col] * self.platform_share
                                                    * channel_ok * reaches_threshold)
            # A trip made for the voucher goes to the sector where the holder normally spends most.
            bigger = spend_per_person > largest_planned_spend
            largest_planned_spend = np.where(bigger, spend_per_person, largest_planned_spend)
            plan.voucher_trip_col = np.where(bigger, col, plan.voucher_trip_col)
            plan.voucher_trip_mean_ticket_yuan = np.where(bigger, mean_ticket, plan.voucher_trip_mean_ticket_yuan)
        return plan

    def _value_of_waiting(self, day: int, daily_chance_threshold_reached: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(weight on the face value today, chance a planned transaction reaches T before expiry).

        On the last day loss aversion weighs the face value more (Liu et al. 2021).
        """
        days_left = self.expiry_day[self.active] - day
        chance_usable_later = 1.0 - (1.0 - np.minimum(daily_chance_threshold_reached, 1.0)) ** days_left
        face_weight = self.household_face * np.where(days_left == 0, self.model.params.voucher_loss_aversion, 1.0)
        return face_weight, chance_usable_later

    def _decide(self, plan: "_TodaysPlan", face_weight: np.ndarray, chance_usable_later: np.ndarray,
                rng: np.random.Generator) -> "_Decision":
        """Use on a planned transaction that meets T, top up a short one, or make a trip for the voucher.

        Topping up is worth it when the face value it would otherwise give up, discounted by the chance
        of using it later anyway, beats the part of the top-up the household does not value:
        F·(1 - q_wait) > (T - x)·(1 - φ). A holder with no planned trip who thinks of the voucher today
        makes one when F·(1 - q_wait) beats the trip's cost and the unvalued part of the expected top-up
        of an ordinary basket to T (``voucher_trip_worthwhile``). Part of what the voucher saves is then
        spent on pricier items in the same basket (``earmarked_trade_up_yuan``).
        """
        params = self.model.params
        threshold = self.threshold
        sigma = params.ticket_sigma
        holders = plan.best_ticket_yuan.size
        unvalued_share_by_col = 1.0 - self.topup_value
        worth_keeping = face_weight * (1 - chance_usable_later)
        planned_ticket = plan.best_ticket_yuan
        has_trip = planned_ticket > 0
        meets_threshold = has_trip & (planned_ticket >= threshold)
        tops_up = has_trip & ~meets_threshold & (worth_keeping > (threshold - planned_ticket) * unvalued_share_by_col[plan.best_col])
        thinks_of_it = ~has_trip & (rng.random(holders) < params.voucher_attention_per_day)
        voucher_trip = (thinks_of_it
                        & voucher_trip_worthwhile(face_weight, chance_usable_later, threshold,
                                                  plan.voucher_trip_mean_ticket_yuan, sigma,
                                                  unvalued_share_by_col[plan.voucher_trip_col],
                                                  params.voucher_trip_cost_yuan)
                        & (self.participation_share[plan.voucher_trip_col] > 0))
        planned = np.where(voucher_trip, 0.0, planned_ticket)
        trip_basket = plan.voucher_trip_mean_ticket_yuan * np.exp(sigma * rng.standard_normal(holders) - sigma**2 / 2)
        transaction = np.where(meets_threshold, planned_ticket,
                               np.where(voucher_trip, np.maximum(threshold, trip_basket), threshold))
        induced = np.where(meets_threshold, 0.0, transaction - planned)
        # Earmarked value: part of what the voucher saves is spent on pricier items in the same basket.
        trade_up = earmarked_trade_up_yuan(self.household_face, induced, self.earmark_share)
        transaction = transaction + trade_up
        induced = induced + trade_up
        return _Decision(meets_threshold, tops_up, voucher_trip, transaction, induced, self.household_face - induced,
                         trade_up)

    def redeem_on_durable(self, day: int, buyer_rows: np.ndarray, price_yuan: float, counted: np.ndarray) -> None:
        """Redeem car vouchers held by households that bought a car today (planned purchases).

        ``counted`` marks the buyers (entries of ``buyer_rows``, which are distinct) whose car is already in the
        scenario's supported sales (a subsidy or another voucher paid for it); it is updated, so each car counts once.
        """
        if not self.covers_cars or self.active.size == 0 or buyer_rows.size == 0 or price_yuan < self.threshold:
            return
        holders = self.holder[self.active]
        held_by_buyer = np.flatnonzero(np.isin(holders, buyer_rows))
        if held_by_buyer.size == 0:
            return
        # One voucher per buyer: the first held.
        _, first = np.unique(holders[held_by_buyer], return_index=True)
        redeeming = held_by_buyer[first]
        weight = self.model.households.weight
        paid = self.fund.pay_many(np.full(redeeming.size, self.tool.face_value_yuan * weight), "merchant", day)
        redeeming = redeeming[paid > 0]
        if redeeming.size == 0:
            return
        count = redeeming.size
        order = np.argsort(buyer_rows)
        entry = order[np.searchsorted(buyer_rows[order], holders[redeeming])]  # each redeeming buyer in buyer_rows
        first_time = ~counted[entry]
        counted[entry] = True
        self._settle(day, redeeming, holders[redeeming], None, np.zeros(count, dtype=bool), np.zeros(count),
                     np.full(count, self.household_face), np.full(count, price_yuan), sector_name="cars",
                     once=first_time)

    def _settle(self, day: int, redeeming: np.ndarray, holder_rows: np.ndarray, sector_col: np.ndarray | None,
                online: np.ndarray, induced: np.ndarray, cash_gain: np.ndarray, transaction: np.ndarray,
                sector_name: str | None = None, once: np.ndarray | None = None,
                pulled_base: np.ndarray | None = None) -> None:
        """Book redemptions: status, sales, household cash, windfall and pull-forward, counts.

        ``redeeming`` indexes the outstanding vouchers (``self.active``); the other arrays are per redemption.
        ``once`` marks the transactions not yet in the scenario's supported sales (all, when None).
        ``pulled_base`` is the part of ``induced`` a share of which (pull_forward_share) is taken from later
        spending (default all of it); pricier items bought with earmarked value replace nothing later.
        """
        pulled_base = induced if pulled_base is None else pulled_base
        model = self.model
        hh = model.households
        params = model.params
        weight = hh.weight
        voucher_ids = self.active[redeeming]
        self.status[voucher_ids] = REDEEMED
        cells = hh.cell[holder_rows]
        cofund = self.tool.merchant_cofunding_share * self.tool.face_value_yuan
        if sector_name is None:
            for col in np.unique(sector_col):
                in_sector = sector_col == col
                sector = SECTOR_INDEX[FLOW_SECTORS[col]]
                # Sales above the planned transaction, less the merchant-funded discount on the whole ticket.
                model.books.book_sales(day, cells[in_sector], sector, online[in_sector],
                                       self.participants_above_quota_share[col], (induced[in_sector] - cofund) * weight)
                share = params.pull_forward_share.get(FLOW_SECTORS[col], 0.0)
                if share > 0:
                    paid_back = np.zeros((int(in_sector.sum()), len(FLOW_SECTORS)))
                    paid_back[:, col] = -share * pulled_base[in_sector] * weight
                    model.deferred.schedule(day + 1, params.pull_forward_days, cells[in_sector], paid_back)
        elif cofund > 0:
            model.books.book_sales(day, cells, SECTOR_INDEX[sector_name], online, 1.0,
                                   np.full(holder_rows.size, -cofund * weight))
        # Household cash: a saving is a windfall, partly spent later; a top-up beyond the face value is paid now.
        gain = np.maximum(cash_gain, 0.0)
        mpc = windfall_mpc(hh.savings_yuan[holder_rows], hh.income_month_yuan[holder_rows], params)
        spent_later = mpc * gain
        np.add.at(hh.savings_yuan, holder_rows, cash_gain - spent_later)
        model.savings_ledger.voucher_cash_yuan += float(cash_gain.sum())
        model.savings_ledger.windfall_spent_yuan += float(spent_later.sum())
        if spent_later.any():
            split = model.flow.cell_sector_split[cells] * (spent_later * weight)[:, None]
            model.deferred.schedule(day + 1, params.windfall_spending_days, cells, split)
        np.add.at(model.books.household_benefit, cells, self.household_face * weight)
        np.add.at(model.books.household_benefit_by_row, holder_rows, self.household_face)
        counts = self.counts
        counts.redeemed[day] += redeeming.size * weight
        counts.gross_spending_yuan[day] += float(transaction.sum()) * weight
        # Supported sales: the whole ticket of each transaction that used a voucher, in its sector; in the
        # scenario's total once, however many tools paid for it.
        sectors = (np.full(holder_rows.size, SECTOR_INDEX[sector_name]) if sector_name is not None
                   else np.array([SECTOR_INDEX[s] for s in FLOW_SECTORS])[sector_col])
        np.add.at(model.books.supported(self.tool.name)[day], sectors, transaction * weight)
        first_time = np.ones(holder_rows.size, dtype=bool) if once is None else once
        np.add.at(model.books.supported_any[day], sectors[first_time], transaction[first_time] * weight)
        counts.induced_spending_yuan[day] += float(induced.sum()) * weight
        model.books.cofunding(self.tool.name)[day] += cofund * redeeming.size * weight
        self.active = self.active[self.status[self.active] == OUTSTANDING]

    # ------------------------------------------------------------ expiring
    def expire(self, day: int) -> None:
        """Vouchers whose last valid day was today expire; record end-of-day outstanding."""
        w = self.model.households.weight
        if self.active.size:
            done = self.expiry_day[self.active] <= day
            if done.any():
                self.status[self.active[done]] = EXPIRED
                self.counts.expired[day] += done.sum() * w
                self.active = self.active[~done]
        self.counts.outstanding[day] = self.active.size * w

    def status_counts(self) -> tuple[int, int, int, int]:
        """(issued, redeemed, expired, outstanding) in sample vouchers, from the status of every voucher."""
        return (int(self.status.size), int((self.status == REDEEMED).sum()), int((self.status == EXPIRED).sum()),
                int((self.status == OUTSTANDING).sum()))

    # ------------------------------------------------------------ the economy's calls
    def before_spending(self, day: int) -> None:
        """Vouchers released today are claimed."""
        self.release(day, self.model.streams.get(f"voucher-claims:{self.tool.name}", day))

    def after_flow_spending(self, day: int, flow_multipliers: np.ndarray) -> None:
        """Holders transact, top up or let their vouchers wait."""
        self.redeem_planned_and_topped_up(day, flow_multipliers, self.model.streams.get(f"voucher:{self.tool.name}", day))

    def on_durable_purchase(self, durable: str, day: int, buyers: np.ndarray, price_yuan: float,
                            counted: np.ndarray) -> None:
        """Car vouchers are used on the car a holder buys."""
        if durable == "cars":
            self.redeem_on_durable(day, buyers, price_yuan, counted)

    def end_of_day(self, day: int) -> None:
        self.expire(day)

    # ------------------------------------------------------------ accounting
    def account_problems(self) -> list[str]:
        """Vouchers issued = redeemed + expired + outstanding, by voucher and in the daily counts."""
        name = self.tool.name
        problems = []
        issued, redeemed, expired, outstanding = self.status_counts()
        if issued != redeemed + expired + outstanding:
            problems.append(f"tool {name}: vouchers issued {issued} != redeemed {redeemed} + expired {expired} + outstanding {outstanding}")
        counts = self.model.books.voucher_counts(name)
        w = self.model.households.weight
        if not _close(counts.issued.sum(), issued * w, issued * w):
            problems.append(f"tool {name}: daily issued sums to {counts.issued.sum():,.1f}, not {issued * w:,.1f}")
        if not _close(counts.redeemed.sum(), redeemed * w, issued * w):
            problems.append(f"tool {name}: daily redeemed sums to {counts.redeemed.sum():,.1f}, not {redeemed * w:,.1f}")
        if not _close(counts.outstanding[-1], outstanding * w, issued * w):
            problems.append(f"tool {name}: outstanding at the end {counts.outstanding[-1]:,.1f}, not {outstanding * w:,.1f}")
        return problems

    def summary(self, entry: dict[str, Any]) -> None:
        entry["vouchers"]["merchants_joined"] = self.merchants_joined


@dataclass
class _TodaysPlan:
    """What each voucher holder plans to buy today (one entry per holder).

    Attributes:
        best_ticket_yuan: the largest planned transaction the voucher could be used on (0: none).
        best_col: its flow sector (column of FLOW_SECTORS).
        best_online: whether it is online.
        daily_chance_threshold_reached: chance per day that a planned, usable transaction reaches T.
        voucher_trip_col: the sector a trip made for the voucher would go to (where the holder spends most).
        voucher_trip_mean_ticket_yuan: the mean ticket of such a trip.
    """

    best_ticket_yuan: np.ndarray
    best_col: np.ndarray
    best_online: np.ndarray
    daily_chance_threshold_reached: np.ndarray
    voucher_trip_col: np.ndarray
    voucher_trip_mean_ticket_yuan: np.ndarray

    @classmethod
    def empty(cls, holders: int, first_col: int) -> "_TodaysPlan":
        return cls(np.zeros(holders), np.full(holders, first_col), np.zeros(holders, dtype=bool), np.zeros(holders),
                   np.full(holders, first_col), np.zeros(holders))


@dataclass
class _Decision:
    """What each holder does with the voucher today.

    Attributes:
        meets_threshold: a planned transaction reaches T: the voucher goes on spending that happens anyway.
        tops_up: a planned transaction falls short and the holder buys up to T.
        voucher_trip: no planned transaction; the holder makes a trip to use the voucher.
        transaction_yuan: the ticket the voucher would be used on.
        induced_yuan: spending above what was planned.
        cash_gain_yuan: face value less the induced spending (negative: the household pays for the top-up).
        trade_up_yuan: pricier items bought with the earmarked part of the saving (included in the above).
    """

    meets_threshold: np.ndarray
    tops_up: np.ndarray
    voucher_trip: np.ndarray
    transaction_yuan: np.ndarray
    induced_yuan: np.ndarray
    cash_gain_yuan: np.ndarray
    trade_up_yuan: np.ndarray


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= RELATIVE_TOLERANCE * max(abs(scale), 1.0) + 1e-6


TOOL_KIND = ToolKind(
    name="voucher",
    settings=VoucherTool,
    effect=VoucherProgramme,
    label_zh="消费券",
    label_en="consumer vouchers",
    summary="consumer vouchers: spend threshold_yuan, get face_value_yuan off (满减) in one transaction",
    controls=(
        BUDGET_CONTROL,
        ControlSpec("face_value_yuan", "面额", "face value (yuan)", 0.0, 1_000.0, exclusive_minimum=True, always=True),
        ControlSpec("threshold_yuan", "使用门槛", "threshold (yuan, 0 = none)", 0.0, 10_000.0, always=True),
    ),
    derive=_derive,
    validate=_validate,
    extra_file_keys=("release_every_days",),
)
