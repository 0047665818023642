"""Durable replacement: when households buy cars and major appliances, and how subsidies move it.

Rule ``DurableMarket`` (one for cars, one for appliances) works in two stages:

1. **Deciding to replace.** Each car and appliance a household owns has an
   age; the household decides to replace it at a daily hazard that rises with
   age (Weibull), times the calendar and outside conditions. Households without
   a car decide to buy a first one at a hazard rising with income. A subsidy on
   offer raises this hazard a little (``durable_entry_elasticity``): some
   purchases are new demand.
2. **Shopping.** A household that has decided is "in the market" and buys
   after a shopping delay (mean ``durable_shopping_days``). A subsidy shortens
   the delay: the purchase rate is multiplied by (1 - s/P)^(-elasticity)
   (``durable_timing_elasticity``). A purchase needs liquid savings for the down
   payment; without them the household stays in the market.

This is how a subsidy pulls purchases forward and leaves a dip: during the
programme households already in the market buy sooner, the pool of households
about to buy empties, and for some months after the programme ends fewer buy
than would have. How much of the programme's sales is new demand is what the
model computes (Mian & Sufi 2012: Cash for Clunkers' gain was reversed within
about ten months; Xing et al. 2023: coupon purchases were pulled from up to four
months later).

Households are millions and decisions rare, so stage 1 draws candidates by
thinning a Poisson process at an upper-bound hazard and accepts each with
probability (its hazard / the bound); stage 2 gives each household entering the
market an exponential "patience" E and buys when its accumulated purchase
hazard passes E. Entries come in two layers. The first draws decisions at the
hazard without any subsidy, at a bound that depends only on the city and the
behaviour parameters, from the stream every run shares: the no-policy run is
the same run whatever the design, and the policy run sees the same candidates
and patience. The second layer, on its own stream and only while a subsidy is
on offer, adds the entries the subsidy induces: hazard x (multiplier - 1),
thinned at the bound x (largest multiplier of the tools switched on - 1). The
two superposed give exactly hazard x multiplier.

Parameters (``model/parameters/behaviour.toml`` gives each one's value, unit, valid range and reference or
assumption):
``car_weibull_shape`` and ``car_weibull_scale_years`` (a mean replacement age near 11.5 years, within
the 10-15 years reported for private cars in China), ``appliance_weibull_shape`` and
``appliance_weibull_scale_years`` (design lives of 8-15 years, GB/T 21097), ``car_price_yuan`` (CADA
average transaction price; a city's own price replaces it) and ``appliance_price_yuan``,
``car_down_payment_share`` (PBoC auto-loan rules), ``durable_shopping_days``, ``durable_timing_elasticity``
and ``durable_entry_elasticity`` (Mian & Sufi 2012; Green, Melzer, Parker & Rojas 2020; Xing et al. 2023),
``online_share`` (NBS online retail share), ``windfall_mpc_*`` and ``windfall_spending_days`` (how a
subsidy received is spent: Parker et al. 2013).
"""

from __future__ import annotations

import numpy as np

from model.households import first_car_hazard_per_year, windfall_mpc
from model.sectors import SECTOR_INDEX

DAYS_PER_YEAR = 365.0
#: Ages beyond this are treated as this old when computing hazards (years).
MAX_HAZARD_AGE_YEARS = 30.0


def weibull_hazard_per_year(age_years: np.ndarray, shape: float, scale: float) -> np.ndarray:
    """Weibull hazard (per year) at the given ages: (k/λ)(a/λ)^(k-1)."""
    a = np.clip(age_years, 1e-6, MAX_HAZARD_AGE_YEARS)
    return (shape / scale) * (a / scale) ** (shape - 1.0)


def subsidy_hazard_multiplier(subsidy_share_of_price: np.ndarray | float, elasticity: float) -> np.ndarray:
    """Hazard multiplier from a subsidy worth the given share of the price: (1 - s)^(-elasticity)."""
    s = np.clip(subsidy_share_of_price, 0.0, 0.9)
    return (1.0 - s) ** (-elasticity)


def _max_discount_share(kind: str, tools: dict, params) -> float:
    """Largest share of the price any combination of the given tools could take off."""
    share = 0.0
    for t in tools.values():
        share += t.max_discount_share(kind, params)
    return min(share, 0.9)


class DurableMarket:
    """Replacement decisions and purchases of one durable good for the whole population.

    Subsidies come from the tools switched on in the run: each is asked whether it ``subsidises``
    this good today and, if so, for its ``durable_discounts`` per candidate buyer (``model/tools/``).

    Attributes:
        kind: 'cars' or 'appliances'.
        in_market: whether each household's item is in the market (rows x items).
        pool_rows, pool_items: the households and items in the market.
        pool_patience: each one's exponential patience.
        pool_progress: accumulated purchase hazard so far.
        pool_eligibility_draw: uniform draw deciding eligibility for share-limited subsidies.
        induced_bound_multiplier: the largest entry multiplier the tools switched on could give, less 1 (the
            bound of the induced-entry layer relative to the no-subsidy bound).
    """

    def __init__(self, model, kind: str, active_tools: dict):
        self.model = model
        self.kind = kind
        params = model.params
        hh = model.households
        self.price = params.car_price_yuan if kind == "cars" else params.appliance_price_yuan
        self.shape = params.car_weibull_shape if kind == "cars" else params.appliance_weibull_shape
        self.scale_years = params.car_weibull_scale_years if kind == "cars" else params.appliance_weibull_scale_years
        self.shopping_days = float(params.durable_shopping_days[kind])
        self.timing_elasticity = params.durable_timing_elasticity[kind]
        self.entry_elasticity = params.durable_entry_elasticity[kind]
        # Only the tools of this run set the induced layer's bound: the no-subsidy layer must not depend on them.
        self.induced_bound_multiplier = float(subsidy_hazard_multiplier(_max_discount_share(kind, active_tools, params),
                                                                        self.entry_elasticity)) - 1.0
        if kind == "cars":
            self.purchase_day = hh.car_purchase_day.reshape(-1, 1)  # views: updates land in the households
            self.owns = hh.owns_car.reshape(-1, 1)
            self.first_hazard = first_car_hazard_per_year(hh.income_month_yuan, params)
        else:
            self.purchase_day = hh.appliance_purchase_day
            self.owns = None
            self.first_hazard = np.zeros(hh.n)
        self.items = self.purchase_day.shape[1] if hh.n else 0
        # Upper bound of the decision hazard (per year), before calendar and subsidies.
        self.bound_per_year = max(
            float(weibull_hazard_per_year(np.array([MAX_HAZARD_AGE_YEARS]), self.shape, self.scale_years)[0]),
            float(self.first_hazard.max(initial=0.0)))
        self.in_market = np.zeros((hh.n, self.items), dtype=bool)
        self.pool_rows = np.zeros(0, dtype=np.int64)
        self.pool_items = np.zeros(0, dtype=np.int64)
        self.pool_patience = np.zeros(0)
        self.pool_progress = np.zeros(0)
        self.pool_eligibility_draw = np.zeros(0)
        self.pool_draw = np.zeros(0)
        self._seed_pool(model.streams.get(f"{kind}-initial-market"))

    # ------------------------------------------------------------ state helpers
    def _owned(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        if self.owns is None:
            return np.ones(rows.size, dtype=bool)
        return self.owns[rows, items]

    def _decision_hazard_per_year(self, rows: np.ndarray, items: np.ndarray, day: int) -> np.ndarray:
        age = (day - self.purchase_day[rows, items]) / DAYS_PER_YEAR
        owned = self._owned(rows, items)
        return np.where(owned, weibull_hazard_per_year(age, self.shape, self.scale_years), self.first_hazard[rows])

    def _seed_pool(self, rng: np.random.Generator) -> None:
        """Start with the steady-state pool: each item in the market with probability hazard x mean delay."""
        hh = self.model.households
        if hh.n == 0 or self.items == 0:
            return
        rows = np.repeat(np.arange(hh.n), self.items)
        items = np.tile(np.arange(self.items), hh.n)
        hazard = self._decision_hazard_per_year(rows, items, 0) / DAYS_PER_YEAR
        inside = rng.random(rows.size) < np.minimum(hazard * self.shopping_days, 1.0)
        n = int(inside.sum())
        self._enter(rows[inside], items[inside], rng.exponential(size=n), rng.random(n), rng.random(n))

    def _enter(self, rows: np.ndarray, items: np.ndarray, patience: np.ndarray, eligibility: np.ndarray,
               draw: np.ndarray) -> None:
        """Put items in the market (those already in it stay as they are)."""
        fresh = ~self.in_market[rows, items]
        # A row drawn twice today enters once.
        _, first = np.unique(rows * max(self.items, 1) + items, return_index=True)
        once = np.zeros(rows.size, dtype=bool)
        once[first] = True
        fresh &= once
        rows, items = rows[fresh], items[fresh]
        self.in_market[rows, items] = True
        self.pool_rows = np.concatenate([self.pool_rows, rows])
        self.pool_items = np.concatenate([self.pool_items, items])
        self.pool_patience = np.concatenate([self.pool_patience, patience[fresh]])
        self.pool_progress = np.concatenate([self.pool_progress, np.zeros(rows.size)])
        self.pool_eligibility_draw = np.concatenate([self.pool_eligibility_draw, eligibility[fresh]])
        self.pool_draw = np.concatenate([self.pool_draw, draw[fresh]])

    def _offers(self, day: int, rows: np.ndarray, items: np.ndarray, eligibility: np.ndarray
                ) -> list[tuple[object, np.ndarray, np.ndarray]]:
        """(tool effect, government yuan, merchant yuan) per household for each tool subsidising this good today."""
        out = []
        acting = [e for e in self.model.tool_effects.values() if e.subsidises(self.kind, day)]
        if not acting:
            return out
        age = (day - self.purchase_day[rows, items]) / DAYS_PER_YEAR
        owned = self._owned(rows, items)
        for effect in acting:
            gov, merch = effect.durable_discounts(self.kind, self.price, owned, age, eligibility)
            out.append((effect, gov, merch))
        return out

    # ------------------------------------------------------------ the day
    def step(self, day: int, multiplier: float, rng: np.random.Generator) -> None:
        """Decisions to replace, then purchases, for today."""
        hh = self.model.households
        if hh.n == 0 or self.items == 0:
            return
        self._decide(day, multiplier, rng)
        self._purchase(day, multiplier)

    def _decide(self, day: int, multiplier: float, rng: np.random.Generator) -> None:
        """Entries into the market today: no-subsidy decisions, then those a subsidy on offer induces."""
        bound_day = self.bound_per_year * max(multiplier, 0.0) / DAYS_PER_YEAR
        self._enter_layer(day, multiplier, bound_day, rng, induced=False)
        if self.induced_bound_multiplier > 0 and any(e.subsidises(self.kind, day) for e in self.model.tool_effects.values()):
            self._enter_layer(day, multiplier, bound_day * self.induced_bound_multiplier,
                              self.model.streams.get(f"{self.kind}-induced-entry", day), induced=True)

    def _enter_layer(self, day: int, multiplier: float, bound_day: float, rng: np.random.Generator,
                     induced: bool) -> None:
        """Thin a Poisson stream of candidates at ``bound_day``: the no-subsidy hazard, or the induced extra."""
        hh = self.model.households
        n_candidates = rng.poisson(hh.n * self.items * bound_day)
        flat = rng.integers(0, hh.n * self.items, size=n_candidates)
        accept = rng.random(n_candidates)
        eligibility = rng.random(n_candidates)
        if n_candidates == 0:
            return
        rows, items = np.divmod(flat, self.items)
        # Each candidate's patience and draws are made before acceptance, so a candidate gets the
        # same ones whether or not it enters.
        patience = rng.exponential(size=n_candidates)
        draw = rng.random(n_candidates)
        hazard = self._decision_hazard_per_year(rows, items, day) * multiplier / DAYS_PER_YEAR
        if induced:
            offers = self._offers(day, rows, items, eligibility)
            if not offers:
                return
            discount = sum(gov + merch for _, gov, merch in offers) / self.price
            hazard = hazard * (subsidy_hazard_multiplier(discount, self.entry_elasticity) - 1.0)
        enter = accept * bound_day < hazard
        self._enter(rows[enter], items[enter], patience[enter], eligibility[enter], draw[enter])

    def _purchase(self, day: int, multiplier: float) -> None:
        model = self.model
        hh = model.households
        params = model.params
        if self.pool_rows.size == 0:
            return
        rows, items = self.pool_rows, self.pool_items
        offers = self._offers(day, rows, items, self.pool_eligibility_draw)
        gov_total = sum((gov for _, gov, _ in offers), np.zeros(rows.size))
        merch_total = sum((merch for _, _, merch in offers), np.zeros(rows.size))
        rate = multiplier / self.shopping_days * subsidy_hazard_multiplier((gov_total + merch_total) / self.price,
                                                                           self.timing_elasticity)
        self.pool_progress += rate
        buying = np.flatnonzero(self.pool_progress >= self.pool_patience)
        # One purchase of a kind per household a day keeps the savings check exact.
        _, first = np.unique(rows[buying], return_index=True)
        buying = buying[np.sort(first)]
        # A buyer counts on a subsidy only if the pool can still pay it when its turn comes;
        # the savings check uses what it will actually get.
        gov_expected = np.zeros(buying.size)
        merch_expected = np.zeros(buying.size)
        for effect, gov, merch in offers:
            covered = model.funds[effect.name].coverable(gov[buying] * hh.weight)
            gov_expected += np.where(covered, gov[buying], 0.0)
            merch_expected += np.where(covered & (gov[buying] > 0), merch[buying], 0.0)
        if self.kind == "cars":
            cash_needed = np.maximum(params.car_down_payment_share * self.price - gov_expected, 0.0)
        else:
            cash_needed = np.maximum(self.price - gov_expected - merch_expected, 0.0)
        buying = buying[hh.savings_yuan[rows[buying]] >= cash_needed]
        if buying.size == 0:
            return
        buyers, bought = rows[buying], items[buying]
        household_weight = hh.weight
        received = np.zeros(buying.size)
        discount = np.zeros(buying.size)
        paid_mask = {}
        for effect, gov, merch in offers:
            paid = model.funds[effect.name].pay_many(gov[buying] * household_weight, "household", day)
            got = paid > 0
            received += paid / household_weight
            merchant_part = np.where(got, merch[buying], 0.0)  # the merchant discount comes with the subsidised sale
            discount += merchant_part
            paid_mask[effect.name] = got
            model.books.cofunding(effect.name)[day] += float(merchant_part.sum()) * household_weight
            model.books.subsidised(effect.name)[day] += float(got.sum()) * household_weight
            model.books.supported(effect.name)[day, SECTOR_INDEX[self.kind]] += float(
                np.where(got, self.price - merchant_part, 0.0).sum()) * household_weight
            np.add.at(model.books.household_benefit, hh.cell[buyers], paid + merchant_part * household_weight)
            np.add.at(model.books.household_benefit_by_row, buyers, paid / household_weight + merchant_part)
        # A unit paid for by several tools is one transaction in the scenario's supported sales.
        subsidised = np.zeros(buying.size, dtype=bool)
        for mask in paid_mask.values():
            subsidised |= mask
        model.books.supported_any[day, SECTOR_INDEX[self.kind]] += float(
            np.where(subsidised, self.price - discount, 0.0).sum()) * household_weight
        if self.kind == "cars":
            cash = np.maximum(params.car_down_payment_share * self.price - received, 0.0)
            online = np.zeros(buying.size, dtype=bool)
            above = 1.0
            model.books.cars_sold[day] += buying.size * household_weight
        else:
            cash = np.maximum(self.price - received - discount, 0.0)
            online_p = np.minimum(params.online_share["appliances"] * hh.online_affinity[buyers], 0.95)
            online = self.pool_draw[buying] < online_p
            above = model.above_quota_share[SECTOR_INDEX["appliances"]]
            model.books.appliances_sold[day] += buying.size * household_weight
        hh.savings_yuan[buyers] -= cash
        model.savings_ledger.durable_cash_yuan += float(cash.sum())
        model.books.book_sales(day, hh.cell[buyers], SECTOR_INDEX[self.kind], online, above, (self.price - discount) * household_weight)
        self.purchase_day[buyers, bought] = day
        if self.owns is not None:
            self.owns[buyers, bought] = True
        self._windfall(day, buyers, received)
        if self.kind == "cars":
            self._record_dealers(buying, paid_mask, household_weight)
        for effect in model.tool_effects.values():
            effect.on_durable_purchase(self.kind, day, buyers, self.price, subsidised)
        keep = np.ones(rows.size, dtype=bool)
        keep[buying] = False
        self.in_market[buyers, bought] = False
        for name in ("pool_rows", "pool_items", "pool_patience", "pool_progress", "pool_eligibility_draw", "pool_draw"):
            setattr(self, name, getattr(self, name)[keep])

    def _record_dealers(self, buying: np.ndarray, paid_mask: dict[str, np.ndarray], household_weight: float) -> None:
        """Each car goes to a dealer in proportion to its market share."""
        dealers = self.model.car_dealers
        if not dealers:
            return
        cum = np.cumsum([d.sales_weight for d in dealers])
        which = np.minimum(np.searchsorted(cum / cum[-1], self.pool_draw[buying]), len(dealers) - 1)
        for i, dealer_index in enumerate(which):
            tool_name = next((n for n, mask in paid_mask.items() if mask[i]), None)
            dealers[dealer_index].record_sale(household_weight, self.price * household_weight, tool_name)

    def _windfall(self, day: int, buyers: np.ndarray, received: np.ndarray) -> None:
        """A subsidy received is cash the household did not have to spend: part of it is spent later."""
        if not received.any():
            return
        model = self.model
        hh = model.households
        mpc = windfall_mpc(hh.savings_yuan[buyers], hh.income_month_yuan[buyers], model.params)
        # The spent part is set aside from savings now and spent over the window.
        spent = np.minimum(mpc * received, np.maximum(hh.savings_yuan[buyers], 0.0))
        hh.savings_yuan[buyers] -= spent
        model.savings_ledger.windfall_spent_yuan += float(spent.sum())
        cells = hh.cell[buyers]
        split = model.flow.cell_sector_split[cells] * (spent * hh.weight)[:, None]
        model.deferred.schedule(day + 1, model.params.windfall_spending_days, cells, split)
