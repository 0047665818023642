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
* **Packs and several vouchers held** (``coupons_per_claim``). A claim may
  hand a household a pack of coupons (券包), and a household may hold coupons
  of several batches. It plans its day once, uses one coupon per transaction,
  soonest-expiring first, on as many of its planned transactions as it
  chooses, and weighs waiting by the chance that enough later transactions
  reach the threshold for all the coupons it holds
  (``model/rules/voucher_response.py`` ``chance_used_later``; Xing et al.
  2023 study Shaoxing's weekly packs).
* **Stored value** (``stored_value``). The face value is a balance drawn on
  by every usable transaction, min(balance, ticket), until it is spent or
  expires (relief cards, Kim, Koh & Lyou 2023); the fund pays each draw.
* **Payment channel.** An app voucher is paid through its issuing platform.
  A holder whose transaction would have gone through another channel
  (``voucher_platform_share``) switches to use it: the platform's data count
  that purchase as new though 社零 does not change (channel switching, booked
  in ``model/accounting.py`` ``platform_sales``). Studies measured on the
  platform (Liu et al. 2021, Xing et al. 2023, on Alipay) are compared with
  the platform's figure.
* **Which merchant.** The extra sales of a transaction that used a voucher go
  to a large (限额以上) or small merchant by the size of the whole basket
  (``model/rules/merchant_choice.py``): a higher threshold moves them toward
  large merchants (Xing et al. 2023; Chen et al. 2025).
* **Paying.** The tool's fund reimburses the merchant the face value on each
  redemption; merchants add any co-funded discount (企业让利).

Parameters (``model/parameters/behaviour.toml`` gives each one's value, unit, valid range and reference or
assumption):
``voucher_claim_interest`` (batches claimed out within minutes, Liu et al. 2021; Xing et al. 2023),
``digital_access`` (CNNIC 2021), ``voucher_platform_share`` (iResearch 2020 payment shares),
``voucher_attention_per_day`` (near Hangzhou's 70.2% redemption), ``voucher_loss_aversion`` (Liu et al.
2021; Kahneman & Tversky 1979), ``voucher_trip_cost_yuan`` and ``voucher_earmark_share``
(``model/rules/voucher_response.py``: Liu et al. 2021; Xing et al. 2023; Kim, Koh & Lyou 2023),
``large_merchant_basket_elasticity`` (``model/rules/merchant_choice.py``: Xing et al. 2023; Chen et al. 2025), ``topup_value_share``, ``pull_forward_share`` and ``pull_forward_days``
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

from model.accounting import amounts_agree
from model.households import windfall_mpc
from model.rules.durables import windfall_to_durables
from model.merchants import opt_in_to_voucher
from model.rules.spending import trip_profile
from model.rules.merchant_choice import large_merchant_share
from model.rules.voucher_response import (chance_used_later, earmarked_trade_up_yuan, stored_value_chance_used_later,
                                          voucher_is_labelled, voucher_trip_worthwhile)
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
        coupons_per_claim: coupons each claimant receives at once (券包).
        stored_value: the face value is a balance spent down over several transactions.
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
    # maximum: no pack handed out holds more than a few dozen coupons.
    coupons_per_claim: int = setting(1, unit="coupons", minimum=1, maximum=100,
                                     description="coupons each claimant receives at once, all alike (a pack, 券包); "
                                                 "quantity and release batches count coupons")
    stored_value: bool = setting(False, unit="",
                                 description="the face value is a balance (储值) drawn on by every usable transaction "
                                             "until it is spent or expires, instead of one discount on one "
                                             "transaction; needs threshold_yuan = 0")

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
    if values["stored_value"] and threshold > 0:
        raise r.fail(f"{path}.threshold_yuan", f"a stored-value voucher is drawn on by any transaction; threshold "
                                               f"{threshold:g} must be 0 (or set stored_value = false)")


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
        balance_yuan: face value not yet used of each voucher (a stored-value voucher is drawn down).
        redeemed_day: day each voucher was used up (-1: not).
        participation_share: share of each flow sector's sales at participating merchants.
        participants_above_quota_share: share of participants' sales made by above-quota merchants, by flow sector.
    """

    def __init__(self, tool: VoucherTool, model):
        super().__init__(tool, model)
        hh = model.households
        params = model.params
        self.flow_cols = [FLOW_SECTORS.index(s) for s in tool.sectors if s in FLOW_SECTORS]
        self.covers_cars = "cars" in tool.sectors
        # A coupon without a threshold still needs a transaction of at least its face value; a stored-value
        # voucher is drawn on by any transaction.
        self.threshold = 0.0 if tool.stored_value else max(tool.threshold_yuan, tool.face_value_yuan)
        # Claiming: expected spending over the validity relative to what the voucher needs.
        self.claim_scale = max(tool.threshold_yuan, tool.face_value_yuan)
        self.flow_col_array = np.array(self.flow_cols, dtype=np.int64)
        self.household_face = tool.face_value_yuan * (1.0 + tool.merchant_cofunding_share)
        # Value per yuan of goods bought only to use the voucher, by flow sector: goods pulled forward
        # from later purchases are worth their price; genuinely new ones topup_value_share of it.
        pull = np.array([params.pull_forward_share.get(s, 0.0) for s in FLOW_SECTORS])
        self.topup_value = pull + (1.0 - pull) * params.topup_value_share
        # A voucher for some sectors only is a mental account; one for every sector is money.
        self.earmark_share = params.voucher_earmark_share if voucher_is_labelled(tool.sectors, SECTORS) else 0.0
        # App vouchers are paid through their own payment platform: a holder whose transaction would have
        # gone through another channel switches to it. Paper vouchers are not tied to a platform.
        self.on_platform = tool.channel == "app"
        self.platform_share = params.voucher_platform_share if self.on_platform else 1.0

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
        self.claim_probability = params.voucher_claim_interest * (1.0 - np.exp(-planned / self.claim_scale))

        # Releases in sample vouchers; issuance never exceeds what the budget covers.
        self.releases = {(r.date - model.scenario.start).days: r.quantity for r in tool.releases}
        self.max_sample_vouchers = int(np.floor(tool.budget_yuan / (tool.face_value_yuan * hh.weight) + 1e-9))
        self.holder = np.zeros(0, dtype=np.int64)
        self.expiry_day = np.zeros(0, dtype=np.int64)
        self.status = np.zeros(0, dtype=np.int8)
        self.balance_yuan = np.zeros(0)
        self.redeemed_day = np.zeros(0, dtype=np.int64)
        self.active = np.zeros(0, dtype=np.int64)
        self.counts = model.books.voucher_counts(tool.name)
        # Per household row: spending the vouchers added, voucher value used and transactions that used one
        # (the response by usual spending, and stored value spent down over several transactions).
        self.induced_by_row = np.zeros(hh.n)
        self.value_used_by_row = np.zeros(hh.n)
        self.transactions_by_row = np.zeros(hh.n, dtype=np.int64)

    # ------------------------------------------------------------ claiming
    def release(self, day: int, rng: np.random.Generator) -> None:
        """Release today's batch, if any, and hand it to claimants: ``coupons_per_claim`` coupons each."""
        quantity = self.releases.get(day, 0)
        if quantity <= 0:
            return
        weight = self.model.households.weight
        target = int(np.floor(quantity / weight + rng.random()))
        room = self.max_sample_vouchers - self.holder.size
        target = max(0, min(target, room))
        if target == 0 or self.eligible_rows.size == 0:
            return
        per_claim = self.tool.coupons_per_claim
        packs = -(-target // per_claim)
        rows = self.eligible_rows
        if self.tool.allocation == "allocated":
            claimants = rows
            chosen = claimants if claimants.size <= packs else rng.choice(claimants, size=packs, replace=False)
        else:
            tries = rng.random(rows.size) < self._claim_probability_today()
            claimants = rows[tries]
            if claimants.size <= packs:
                chosen = claimants
            elif self.tool.allocation == "first_come":
                # Arrival order: the quick (non-elderly, twice as fast) tend to arrive first.
                speed = np.where(self.model.households.elderly[claimants], 1.0, 2.0)
                arrival = rng.exponential(size=claimants.size) / speed
                chosen = claimants[np.argpartition(arrival, packs - 1)[:packs]]
            else:  # lottery
                chosen = rng.choice(claimants, size=packs, replace=False)
        chosen = np.sort(chosen)
        coupons = np.full(chosen.size, per_claim)
        if chosen.size and coupons.sum() > target:
            coupons[-1] -= coupons.sum() - target  # the last pack of the batch is short
        chosen = np.repeat(chosen, coupons)
        start = self.holder.size
        self.holder = np.concatenate([self.holder, chosen])
        self.expiry_day = np.concatenate([self.expiry_day, np.full(chosen.size, day + self.tool.validity_days - 1)])
        self.status = np.concatenate([self.status, np.zeros(chosen.size, dtype=np.int8)])
        self.balance_yuan = np.concatenate([self.balance_yuan, np.full(chosen.size, self.tool.face_value_yuan)])
        self.redeemed_day = np.concatenate([self.redeemed_day, np.full(chosen.size, -1, dtype=np.int64)])
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
        return self.model.params.voucher_claim_interest * (1.0 - np.exp(-planned / self.claim_scale))

    # ------------------------------------------------------------ redeeming
    def redeem_planned_and_topped_up(self, day: int, multipliers: np.ndarray, rng: np.random.Generator) -> None:
        """Today's redemptions on flow-sector transactions by households holding outstanding vouchers.

        Each household holding vouchers of this tool plans its day once (``_plan_todays_transactions``).
        It uses its vouchers soonest-expiring first, one per transaction: in round 1 on its largest
        usable planned transaction (or on a trip made for the voucher when it has none), in later
        rounds on the next largest, while it has vouchers left and chooses to use one (``_decide``,
        with the value of waiting from ``_value_of_waiting``); what is paid and booked is ``_settle``.
        A stored-value voucher is drawn on by each transaction until its balance is spent.
        """
        if self.active.size == 0 or not self.flow_cols:
            return
        hh = self.model.households
        weight = hh.weight
        # Each household's vouchers in the order it uses them: soonest expiry first.
        active = self.active
        queue = active[np.lexsort((active, self.expiry_day[active], self.holder[active]))]
        households, first, held = np.unique(self.holder[queue], return_index=True, return_counts=True)
        plan = self._plan_todays_transactions(households, multipliers, rng)
        tickets = plan.ticket_yuan.copy()
        position = np.zeros(households.size, dtype=np.int64)  # vouchers of the household already spent
        deciding = np.ones(households.size, dtype=bool)
        first_round = True
        while True:
            left = held - position
            usable_left = tickets.max(axis=1) > 0
            idx = np.flatnonzero(deciding & (left > 0) & (usable_left | first_round))
            if idx.size == 0:
                break
            vouchers = queue[first[idx] + position[idx]]
            choice = tickets[idx].argmax(axis=1)
            ticket = tickets[idx, choice]
            col = self.flow_col_array[choice]
            face_weight, chance_later = self._value_of_waiting(day, vouchers, left[idx], plan, idx)
            decision = self._decide(ticket, col, plan.voucher_trip_col[idx], plan.voucher_trip_mean_ticket_yuan[idx],
                                    self.balance_yuan[vouchers], face_weight, chance_later, first_round, rng)
            rows = households[idx]
            # A household cannot top up beyond its liquid savings.
            affordable = hh.savings_yuan[rows] + np.minimum(decision.cash_gain_yuan, 0.0) >= 0
            redeem = (decision.meets_threshold | decision.tops_up | decision.voucher_trip) & affordable
            paid = np.zeros(idx.size)
            paid[redeem] = self.fund.pay_many(decision.value_used_yuan[redeem] * weight, "merchant", day)
            done = paid > 0
            # A household that keeps its voucher today, or is refused, does not use one on a smaller basket.
            deciding[idx[~done]] = False
            tickets[idx[done], choice[done]] = 0.0
            if done.any():
                trip = decision.voucher_trip[done]
                switched = np.where(trip, False, plan.off_platform[idx, choice][done])
                self._settle(day, vouchers[done], rows[done], np.where(trip, plan.voucher_trip_col[idx][done], col[done]),
                             np.where(trip, False, plan.online[idx, choice][done]), decision.induced_yuan[done],
                             decision.cash_gain_yuan[done], decision.transaction_yuan[done],
                             value_used=decision.value_used_yuan[done],
                             pulled_base=decision.induced_yuan[done] - decision.trade_up_yuan[done],
                             switched_yuan=np.where(switched, decision.planned_yuan[done], 0.0))
                spent = self.status[vouchers[done]] != OUTSTANDING
                position[idx[done]] += spent
                # A trip buys one basket: the household has no further transaction today.
                deciding[idx[done][trip]] = False
            first_round = False

    def _plan_todays_transactions(self, households: np.ndarray, multipliers: np.ndarray,
                                  rng: np.random.Generator) -> "_TodaysPlan":
        """What each holding household plans to buy today in the voucher's sectors, and its later chances.

        Per flow sector: whether the household makes a planned trip (``trip_profile``, for the person who
        claimed the vouchers), whether it is at a participating merchant, whether it would have been paid
        through the voucher's platform, whether it is online, and its ticket. An app voucher's holder pays
        through the platform to use it, so a transaction that would have gone through another channel
        switches (``voucher_platform_share``).
        """
        model = self.model
        hh = model.households
        params = model.params
        holders = households.size
        n_cols = len(self.flow_cols)
        sigma = params.ticket_sigma
        log_threshold = np.log(max(self.threshold, 1e-9))
        plan = _TodaysPlan.empty(holders, n_cols, self.flow_cols[0])
        largest_planned_spend = np.full(holders, -1.0)
        for k, col in enumerate(self.flow_cols):
            sector = FLOW_SECTORS[col]
            # App accounts are personal: the claimant uses the voucher on their own transactions.
            spend_per_person = hh.flow_spend_day_yuan[households, col] / hh.size[households] * multipliers[col]
            trip_probability, mean_ticket = trip_profile(spend_per_person,
                                                         model.flow.sector_mean_spend_yuan[col] * multipliers[col],
                                                         params.ticket_mean_yuan[sector])
            online_probability = np.minimum(params.online_share.get(sector, 0.0) * hh.online_affinity[households], 0.95)
            has_trip = rng.random(holders) < trip_probability
            at_participant = rng.random(holders) < self.participation_share[col]
            off_platform = rng.random(holders) >= self.platform_share
            online = rng.random(holders) < online_probability
            usable = has_trip & at_participant & (self.tool.usable_online | ~online)
            ticket = mean_ticket * np.exp(sigma * rng.standard_normal(holders) - sigma**2 / 2)
            plan.ticket_yuan[:, k] = np.where(usable, ticket, 0.0)
            plan.online[:, k] = online
            plan.off_platform[:, k] = off_platform
            # Chance that a planned, usable transaction on a later day reaches the threshold by itself.
            reaches_threshold = (ndtr((np.log(np.maximum(mean_ticket, 1e-9)) - sigma**2 / 2 - log_threshold) / sigma)
                                 if self.threshold > 0 else 1.0)
            channel_ok = 1.0 if self.tool.usable_online else (1.0 - online_probability)
            usable_chance = trip_probability * self.participation_share[col] * channel_ok
            plan.daily_chance_threshold_reached += usable_chance * reaches_threshold
            plan.daily_usable_spend_yuan += usable_chance * mean_ticket
            # A trip made for the voucher goes to the sector where the holder normally spends most.
            bigger = spend_per_person > largest_planned_spend
            largest_planned_spend = np.where(bigger, spend_per_person, largest_planned_spend)
            plan.voucher_trip_col = np.where(bigger, col, plan.voucher_trip_col)
            plan.voucher_trip_mean_ticket_yuan = np.where(bigger, mean_ticket, plan.voucher_trip_mean_ticket_yuan)
        return plan

    def _value_of_waiting(self, day: int, vouchers: np.ndarray, vouchers_left: np.ndarray, plan: "_TodaysPlan",
                          idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(weight on the voucher's value today, chance it would be used on planned spending before expiry).

        A household holding several vouchers keeps one only if enough later planned transactions reach
        the threshold (``chance_used_later``); a stored-value balance, if later planned spending uses it up
        (``stored_value_chance_used_later``). On the last day loss aversion weighs the value more (Liu et
        al. 2021).
        """
        days_left = self.expiry_day[vouchers] - day
        if self.tool.stored_value:
            chance_later = stored_value_chance_used_later(self.balance_yuan[vouchers], days_left,
                                                          plan.daily_usable_spend_yuan[idx])
        else:
            chance_later = chance_used_later(vouchers_left, days_left, plan.daily_chance_threshold_reached[idx])
        value = self.balance_yuan[vouchers] * (1.0 + self.tool.merchant_cofunding_share)
        face_weight = value * np.where(days_left == 0, self.model.params.voucher_loss_aversion, 1.0)
        return face_weight, chance_later

    def _decide(self, planned_ticket: np.ndarray, col: np.ndarray, trip_col: np.ndarray, trip_mean_ticket: np.ndarray,
                balance_yuan: np.ndarray, face_weight: np.ndarray, chance_usable_later: np.ndarray, trips_allowed: bool,
                rng: np.random.Generator) -> "_Decision":
        """Use on a planned transaction that meets T, top up a short one, or make a trip for the voucher.

        Topping up is worth it when the face value it would otherwise give up, discounted by the chance
        of using it later anyway, beats the part of the top-up the household does not value:
        F·(1 - q_wait) > (T - x)·(1 - φ). A holder with no planned trip who thinks of the voucher today
        makes one when F·(1 - q_wait) beats the trip's cost and the unvalued part of the expected top-up
        of an ordinary basket to T (``voucher_trip_worthwhile``). Part of what the voucher saves is then
        spent on pricier items in the same basket (``earmarked_trade_up_yuan``). A stored-value voucher
        has no threshold: it pays min(balance, ticket) of any usable transaction.
        """
        params = self.model.params
        threshold = self.threshold
        sigma = params.ticket_sigma
        holders = planned_ticket.size
        unvalued_share_by_col = 1.0 - self.topup_value
        worth_keeping = face_weight * (1 - chance_usable_later)
        has_trip = planned_ticket > 0
        meets_threshold = has_trip & (planned_ticket >= threshold)
        tops_up = has_trip & ~meets_threshold & (worth_keeping > (threshold - planned_ticket) * unvalued_share_by_col[col])
        thinks_of_it = ~has_trip & (rng.random(holders) < params.voucher_attention_per_day) & trips_allowed
        voucher_trip = (thinks_of_it
                        & voucher_trip_worthwhile(face_weight, chance_usable_later, threshold, trip_mean_ticket, sigma,
                                                  unvalued_share_by_col[trip_col], params.voucher_trip_cost_yuan)
                        & (self.participation_share[trip_col] > 0))
        planned = np.where(voucher_trip, 0.0, planned_ticket)
        trip_basket = trip_mean_ticket * np.exp(sigma * rng.standard_normal(holders) - sigma**2 / 2)
        transaction = np.where(meets_threshold, planned_ticket,
                               np.where(voucher_trip, np.maximum(threshold, trip_basket), threshold))
        induced = np.where(meets_threshold, 0.0, transaction - planned)
        value_used = np.minimum(balance_yuan, transaction) if self.tool.stored_value else balance_yuan.copy()
        saving = value_used * (1.0 + self.tool.merchant_cofunding_share)
        # Earmarked value: part of what the voucher saves is spent on pricier items in the same basket.
        trade_up = earmarked_trade_up_yuan(saving, induced, self.earmark_share)
        transaction = transaction + trade_up
        induced = induced + trade_up
        return _Decision(meets_threshold, tops_up, voucher_trip, planned, transaction, induced, saving - induced,
                         trade_up, value_used)

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
        value = np.minimum(self.balance_yuan[self.active[redeeming]], price_yuan)
        paid = self.fund.pay_many(value * weight, "merchant", day)
        redeeming = redeeming[paid > 0]
        value = value[paid > 0]
        if redeeming.size == 0:
            return
        count = redeeming.size
        order = np.argsort(buyer_rows)
        entry = order[np.searchsorted(buyer_rows[order], holders[redeeming])]  # each redeeming buyer in buyer_rows
        first_time = ~counted[entry]
        counted[entry] = True
        self._settle(day, self.active[redeeming], holders[redeeming], None, np.zeros(count, dtype=bool),
                     np.zeros(count), value * (1.0 + self.tool.merchant_cofunding_share), np.full(count, price_yuan),
                     value_used=value, sector_name="cars", once=first_time)

    def _settle(self, day: int, voucher_ids: np.ndarray, holder_rows: np.ndarray, sector_col: np.ndarray | None,
                online: np.ndarray, induced: np.ndarray, cash_gain: np.ndarray, transaction: np.ndarray, *,
                value_used: np.ndarray, sector_name: str | None = None, once: np.ndarray | None = None,
                pulled_base: np.ndarray | None = None, switched_yuan: np.ndarray | None = None) -> None:
        """Book redemptions: status, sales, household cash, windfall and pull-forward, counts.

        ``voucher_ids`` are the vouchers used (distinct); the other arrays are per redemption.
        ``value_used`` is what the fund paid on each (the face value; a stored-value voucher's draw).
        ``once`` marks the transactions not yet in the scenario's supported sales (all, when None).
        ``pulled_base`` is the part of ``induced`` a share of which (pull_forward_share) is taken from later
        spending (default all of it); pricier items bought with earmarked value replace nothing later.
        ``switched_yuan`` is the planned part of each transaction moved onto the voucher platform from
        another payment channel (channel switching).
        The extra sales go to a large or small merchant by the size of the whole transaction
        (``large_merchant_share``, ``model/rules/merchant_choice.py``).
        """
        pulled_base = induced if pulled_base is None else pulled_base
        model = self.model
        hh = model.households
        params = model.params
        weight = hh.weight
        self.balance_yuan[voucher_ids] -= value_used
        spent = self.balance_yuan[voucher_ids] <= 1e-9 * self.tool.face_value_yuan
        self.balance_yuan[voucher_ids[spent]] = 0.0
        self.status[voucher_ids[spent]] = REDEEMED
        self.redeemed_day[voucher_ids[spent]] = day
        cells = hh.cell[holder_rows]
        cofund = self.tool.merchant_cofunding_share * value_used
        if sector_name is None:
            for col in np.unique(sector_col):
                in_sector = sector_col == col
                sector = SECTOR_INDEX[FLOW_SECTORS[col]]
                above = large_merchant_share(transaction[in_sector], params.ticket_mean_yuan[FLOW_SECTORS[col]],
                                             self.participants_above_quota_share[col],
                                             params.large_merchant_basket_elasticity)
                # Sales above the planned transaction, less the merchant-funded discount on the whole ticket.
                model.books.book_sales(day, cells[in_sector], sector, online[in_sector], above,
                                       (induced[in_sector] - cofund[in_sector]) * weight, on_platform=self.on_platform)
                share = params.pull_forward_share.get(FLOW_SECTORS[col], 0.0)
                if share > 0:
                    paid_back = np.zeros((int(in_sector.sum()), len(FLOW_SECTORS)))
                    paid_back[:, col] = -share * pulled_base[in_sector] * weight
                    model.deferred.schedule(day + 1, params.pull_forward_days, cells[in_sector], paid_back)
        elif cofund.any():
            model.books.book_sales(day, cells, SECTOR_INDEX[sector_name], online, 1.0, -cofund * weight)
        if switched_yuan is not None and self.on_platform:
            switched = float(switched_yuan.sum()) * weight
            if switched > 0:
                model.books.switch_to_platform(day, switched)
        # Household cash: a saving is a windfall, partly spent later; a top-up beyond the face value is paid now.
        gain = np.maximum(cash_gain, 0.0)
        mpc = windfall_mpc(hh.savings_yuan[holder_rows], hh.income_month_yuan[holder_rows], params)
        spent_later = mpc * gain
        np.add.at(hh.savings_yuan, holder_rows, cash_gain - spent_later)
        model.savings_ledger.voucher_cash_yuan += float(cash_gain.sum())
        model.savings_ledger.windfall_spent_yuan += float(spent_later.sum())
        windfall_to_durables(model, holder_rows, gain)  # the saving is cash: it can bring planned purchases forward
        if spent_later.any():
            split = model.flow.cell_sector_split[cells] * (spent_later * weight)[:, None]
            model.deferred.schedule(day + 1, params.windfall_spending_days, cells, split)
        benefit = value_used + cofund
        np.add.at(model.books.household_benefit, cells, benefit * weight)
        np.add.at(model.books.household_benefit_by_row, holder_rows, benefit)
        np.add.at(self.induced_by_row, holder_rows, induced)
        np.add.at(self.value_used_by_row, holder_rows, value_used)
        np.add.at(self.transactions_by_row, holder_rows, 1)
        counts = self.counts
        counts.redeemed[day] += int(spent.sum()) * weight
        if self.tool.stored_value:
            counts.partial_value_yuan[day] += (float(value_used.sum()) - self.tool.face_value_yuan * int(spent.sum())) * weight
        counts.gross_spending_yuan[day] += float(transaction.sum()) * weight
        # Supported sales: the whole ticket of each transaction that used a voucher, in its sector; in the
        # scenario's total once, however many tools paid for it.
        sectors = (np.full(holder_rows.size, SECTOR_INDEX[sector_name]) if sector_name is not None
                   else np.array([SECTOR_INDEX[s] for s in FLOW_SECTORS])[sector_col])
        np.add.at(model.books.supported(self.tool.name)[day], sectors, transaction * weight)
        first_time = np.ones(holder_rows.size, dtype=bool) if once is None else once
        np.add.at(model.books.supported_any[day], sectors[first_time], transaction[first_time] * weight)
        counts.induced_spending_yuan[day] += float(induced.sum()) * weight
        model.books.cofunding(self.tool.name)[day] += float(cofund.sum()) * weight
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
        if self.releases.get(day, 0) <= 0:  # nothing released today (release would return before drawing)
            return
        self.release(day, self.model.streams.get(f"voucher-claims:{self.tool.name}", day))

    def after_flow_spending(self, day: int, flow_multipliers: np.ndarray) -> None:
        """Holders transact, top up or let their vouchers wait."""
        if self.active.size == 0 or not self.flow_cols:  # no holder (redeem_planned_and_topped_up would return at once)
            return
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
        if not amounts_agree(counts.issued.sum(), issued * w, issued * w):
            problems.append(f"tool {name}: daily issued sums to {counts.issued.sum():,.1f}, not {issued * w:,.1f}")
        if not amounts_agree(counts.redeemed.sum(), redeemed * w, issued * w):
            problems.append(f"tool {name}: daily redeemed sums to {counts.redeemed.sum():,.1f}, not {redeemed * w:,.1f}")
        if not amounts_agree(counts.outstanding[-1], outstanding * w, issued * w):
            problems.append(f"tool {name}: outstanding at the end {counts.outstanding[-1]:,.1f}, not {outstanding * w:,.1f}")
        face = self.tool.face_value_yuan
        drawn = float((face - self.balance_yuan).sum()) * w
        booked = face * float(counts.redeemed.sum()) + float(counts.partial_value_yuan.sum())
        if not amounts_agree(drawn, booked, face * issued * w):
            problems.append(f"tool {name}: value drawn from its vouchers {drawn:,.2f} != face value x redeemed + "
                            f"partial draws {booked:,.2f}")
        return problems

    def summary(self, entry: dict[str, Any]) -> None:
        entry["vouchers"]["merchants_joined"] = self.merchants_joined


@dataclass
class _TodaysPlan:
    """What each household holding vouchers plans to buy today (one row per household).

    Attributes:
        ticket_yuan: planned transaction per voucher sector (columns follow the tool's flow sectors) the
            vouchers could be used on (0: none).
        online: whether each is online.
        off_platform: whether each would have been paid through another channel than the voucher's platform.
        daily_chance_threshold_reached: chance per day that a planned, usable transaction reaches T.
        daily_usable_spend_yuan: expected planned spending per day at participating merchants it could go on.
        voucher_trip_col: the sector a trip made for the voucher would go to (where the holder spends most).
        voucher_trip_mean_ticket_yuan: the mean ticket of such a trip.
    """

    ticket_yuan: np.ndarray
    online: np.ndarray
    off_platform: np.ndarray
    daily_chance_threshold_reached: np.ndarray
    daily_usable_spend_yuan: np.ndarray
    voucher_trip_col: np.ndarray
    voucher_trip_mean_ticket_yuan: np.ndarray

    @classmethod
    def empty(cls, holders: int, n_cols: int, first_col: int) -> "_TodaysPlan":
        return cls(np.zeros((holders, n_cols)), np.zeros((holders, n_cols), dtype=bool),
                   np.zeros((holders, n_cols), dtype=bool), np.zeros(holders), np.zeros(holders),
                   np.full(holders, first_col), np.zeros(holders))


@dataclass
class _Decision:
    """What each deciding household does with its next voucher.

    Attributes:
        meets_threshold: a planned transaction reaches T: the voucher goes on spending that happens anyway.
        tops_up: a planned transaction falls short and the holder buys up to T.
        voucher_trip: no planned transaction; the holder makes a trip to use the voucher.
        planned_yuan: the planned transaction it would be used on (0 on a trip).
        transaction_yuan: the ticket the voucher would be used on.
        induced_yuan: spending above what was planned.
        cash_gain_yuan: voucher value less the induced spending (negative: the household pays for the top-up).
        trade_up_yuan: pricier items bought with the earmarked part of the saving (included in the above).
        value_used_yuan: what the fund pays (the face value; a stored-value voucher's draw).
    """

    meets_threshold: np.ndarray
    tops_up: np.ndarray
    voucher_trip: np.ndarray
    planned_yuan: np.ndarray
    transaction_yuan: np.ndarray
    induced_yuan: np.ndarray
    cash_gain_yuan: np.ndarray
    trade_up_yuan: np.ndarray
    value_used_yuan: np.ndarray


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
