"""Durable replacement: when households plan, bring forward and make purchases of cars and major appliances.

Rule ``DurableMarket`` (one for cars, one for appliances) works in three stages:

1. **Planning.** Each car and appliance a household owns has an age; the household
   decides to replace it at a daily hazard that rises with age (Weibull), times the
   calendar and outside conditions. Households without a car decide to buy a first one
   at a hazard rising with income. The decision is known ``durable_planning_horizon_days``
   ahead: a household whose purchase would come (without any policy) within the horizon
   holds a *planned purchase* with the day it would enter the market. The planned
   purchases are the stock a subsidy or a windfall can move; nothing planned beyond the
   horizon is moved, because nothing beyond it is in the stock.
2. **Bringing forward.** While a subsidy of share s of the price is on offer to a planned
   purchase, it enters the market now at daily rate (calendar x ((1 - s)^(-e) - 1) / horizon),
   e = ``durable_entry_elasticity``: the extra entries a subsidy brings are taken from the
   entries of the coming horizon, which then do not happen, so the extra sales are reversed
   within about a horizon of the programme's end (Mian & Sufi 2012: Cash for Clunkers'
   gain was nearly all reversed within about ten months; Green, Melzer, Parker & Rojas 2020).
   A cash windfall W (a cash transfer, the fungible part of a voucher's saving, a subsidy
   received) brings a planned purchase forward with probability 1 - exp(-k W / C), C the
   purchase's full cash outlay (a car's whole down payment, before any trade-in; an
   appliance's price), so k is estimated on that scale,
   k = ``windfall_durable_pull_intensity``: liquidity brings forward purchases households
   were about to make, which is how Parker, Souleles, Johnson & McClelland (2013) find
   total spending out of the 2008 payments (50-90%, with vehicles) far above non-durable
   spending (12-30%).
3. **Shopping.** A planned purchase enters the market only if the household's liquid savings can
   pay its cash part at normal prices: a car's down payment less what the old car fetches (sold, or
   traded in, at its used value), an appliance's price; a decision it cannot pay for is dropped and may
   be made again later at the usual hazard. A household in the market buys after a shopping delay
   (mean ``durable_shopping_days``). A subsidy shortens it: the purchase rate is multiplied
   by (1 - s)^(-elasticity) (``durable_timing_elasticity``). A purchase needs the cash part from
   savings (less any subsidy, and for an owner scrapping its car to claim a scrappage subsidy, less
   the recycler's price instead of the used value); a car shopper keeps what it saves liquid until it
   buys, and one whose savings no longer cover the cash part drops the purchase after
   ``durable_saving_wait_days``. The first day's market is the stationary one: the households that
   would be shopping, with what they have saved while shopping (``_seed_pool``).

How much of a programme's sales is new demand is what the model computes: a purchase brought
forward restarts the item's age earlier, so its next replacement comes earlier too, years later.

Claims. A share ``durable_subsidy_take_up`` of eligible buyers claims the subsidy (awareness,
paperwork); a buyer who could not pay the cash part (the down payment less its old car's value)
without it always claims; since a household enters the market only when it can pay, those are
shoppers whose savings fell after they entered. The purchase
responses above are to the offer as dealers and shops advertise it, estimated on programmes
with their own take-up, so take-up changes who claims, not who buys: at the same purchases the
outlay falls (exactly so while the budget does not bind, since a pool that lasts longer keeps
the offer open longer). An owner replacing an old car under a scrappage subsidy scraps it and
claims when the subsidy plus the scrap value is worth at least what the car would fetch on the
used market (``used_car_value_yuan``), and sells it otherwise.

Households are millions and decisions rare, so stage 1 draws candidates by thinning a Poisson
process at an upper-bound hazard and accepts each with probability (its hazard / the bound),
for the day a horizon ahead, from the stream every run shares; each candidate's patience and
other draws are made before acceptance. The no-policy run is the same run whatever the design
(tests/test_counterfactual.py), and a policy run sees the same planned purchases until a policy
moves one. Bringing forward by subsidies and by windfalls draws on streams of their own, used
only when there is something to bring forward. Stage 3 gives each household entering the
market an exponential "patience" E and buys when its accumulated purchase hazard passes E (the
first day's shoppers, size-biased by their longer stays, carry a Gamma(2, 1) E: ``_seed_pool``).
The stocks of planned purchases and of households in the market are checked against their
flows at the end of every run (``account_problems``).

Parameters (``model/parameters/behaviour.toml`` gives each one's value, unit, valid range and reference or
assumption):
``car_weibull_shape`` and ``car_weibull_scale_years`` (a mean replacement age near 11.5 years, within
the 10-15 years reported for private cars in China), ``appliance_weibull_shape`` and
``appliance_weibull_scale_years`` (design lives of 8-15 years, GB/T 21097), ``car_price_yuan`` (CADA
average transaction price; a city's own price replaces it) and ``appliance_price_yuan``,
``car_down_payment_share`` (PBoC auto-loan rules), ``durable_planning_horizon_days`` (Mian & Sufi 2012),
``durable_shopping_days``, ``durable_timing_elasticity`` and ``durable_entry_elasticity`` (Mian & Sufi
2012; Green, Melzer, Parker & Rojas 2020; Xing et al. 2023), ``durable_saving_wait_days`` and
``durable_share_of_consumption`` (what a car shopper saves: assumptions, see the file), ``windfall_durable_pull_intensity``
(Parker et al. 2013), ``durable_subsidy_take_up``, ``used_car_depreciation_per_year``,
``used_car_value_sigma`` and ``car_scrap_value_yuan`` (assumptions, see the file), ``online_share``
(NBS online retail share), ``windfall_mpc_*`` and ``windfall_spending_days`` (how a subsidy received is
spent: Parker et al. 2013).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.accounting import amounts_agree
from model.households import first_car_hazard_per_year, windfall_mpc
from model.sectors import SECTOR_INDEX

DAYS_PER_YEAR = 365.0
#: Ages beyond this are treated as this old when computing hazards (years).
MAX_HAZARD_AGE_YEARS = 30.0
#: Days per month, for savings made monthly.
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
#: Households per block when seeding the market on the first day (bounds that step's memory; results do not
#: depend on it).
SEED_BLOCK_HOUSEHOLDS = 1 << 18


def weibull_hazard_per_year(age_years: np.ndarray, shape: float, scale: float) -> np.ndarray:
    """Weibull hazard (per year) at the given ages: (k/λ)(a/λ)^(k-1)."""
    # np.minimum(np.maximum(...)) is np.clip's arithmetic without its Python-level wrappers (same values).
    a = np.minimum(np.maximum(age_years, 1e-6), MAX_HAZARD_AGE_YEARS)
    return (shape / scale) * (a / scale) ** (shape - 1.0)


def subsidy_hazard_multiplier(subsidy_share_of_price: np.ndarray | float, elasticity: float) -> np.ndarray:
    """Hazard multiplier from a subsidy worth the given share of the price: (1 - s)^(-elasticity)."""
    s = np.clip(subsidy_share_of_price, 0.0, 0.9)
    return (1.0 - s) ** (-elasticity)


@dataclass
class DurableCandidates:
    """The household-items a tool is asked to price an offer for (one entry each).

    Attributes:
        rows: household rows.
        owned: whether the household owns the item (a car; appliances are always owned).
        age_years: the item's age today.
        eligibility_draw: uniform draw deciding eligibility for share-limited offers.
        used_value_yuan: what the old item would fetch on the used market (cars; zero for appliances).
        rural: whether the household is rural.
    """

    rows: np.ndarray
    owned: np.ndarray
    age_years: np.ndarray
    eligibility_draw: np.ndarray
    used_value_yuan: np.ndarray
    rural: np.ndarray


def used_car_value_yuan(price_yuan: float, age_years: np.ndarray, value_z: np.ndarray, params) -> np.ndarray:
    """What an owner's car of the given age would fetch on the used market (yuan).

    The new price depreciated at ``used_car_depreciation_per_year`` (exponentially), times a lognormal
    factor of mean 1 and log spread ``used_car_value_sigma`` for the car's condition and model.
    """
    sigma = params.used_car_value_sigma
    return (price_yuan * np.exp(-params.used_car_depreciation_per_year * np.maximum(age_years, 0.0))
            * np.exp(sigma * value_z - 0.5 * sigma * sigma))


def saving_while_shopping_month_yuan(income_month_yuan: np.ndarray, consumption_month_yuan: np.ndarray,
                                     params) -> np.ndarray:
    """What a household shopping for a car adds to its liquid savings a month (yuan): its income less its
    consumption other than durables, as ``CityEconomy._monthly_savings`` has it at base-year incomes (a shopper
    transfers nothing to other wealth until it has bought)."""
    return income_month_yuan - consumption_month_yuan * (1.0 - params.durable_share_of_consumption)


def windfall_pull_probability(windfall_yuan: np.ndarray, cash_needed_yuan: float, intensity: float) -> np.ndarray:
    """Probability a windfall brings a planned purchase forward: 1 - exp(-intensity x windfall / cash needed)."""
    return -np.expm1(-intensity * np.maximum(windfall_yuan, 0.0) / max(cash_needed_yuan, 1e-9))


def windfall_to_durables(model, rows: np.ndarray, windfall_yuan: np.ndarray) -> None:
    """Tell the durable markets that households ``rows`` received cash windfalls today (yuan per household).

    Called by whatever hands households fungible cash (vouchers' savings, subsidies received); the
    markets bring planned purchases forward at their next step.
    """
    for market in (model.car_market, model.appliance_market):
        market.add_windfall(rows, windfall_yuan)


#: Per-entry draws carried from a planned purchase into the market.
ENTRY_DRAWS = ("patience", "eligibility", "draw", "value_z", "claim")


class EntryColumns:
    """The entries of one stock (planned purchases, or items in the market) as named columns, in order of entry.

    The entries live in positions [start, end) of buffers with room to grow, so adding a day's entries costs
    what they are, not a copy of the whole stock (capacity grows by a quarter when full), dropping the
    oldest entries moves ``start``, and removing others moves the rest up in their order. ``column(name)``
    is a view of the current entries: valid until the stock next changes.

    Attributes:
        start, end: the current entries' positions in the buffers.
    """

    def __init__(self, dtypes: dict[str, type]):
        self._buffers = {name: np.zeros(0, dtype=dtype) for name, dtype in dtypes.items()}
        self.start = 0
        self.end = 0

    def __len__(self) -> int:
        return self.end - self.start

    def column(self, name: str) -> np.ndarray:
        """A view of column ``name`` of the current entries."""
        return self._buffers[name][self.start:self.end]

    def append(self, columns: dict[str, np.ndarray]) -> None:
        """Add entries at the end (every column given, all of one length)."""
        added = len(next(iter(columns.values())))
        if added == 0:
            return
        size = len(self)
        capacity = len(next(iter(self._buffers.values())))
        if self.end + added > capacity:
            grown = max(capacity, size + added + (size + added) // 4, 256)
            for name, buffer in self._buffers.items():
                moved = buffer if grown == capacity else np.empty(grown, dtype=buffer.dtype)
                moved[:size] = buffer[self.start:self.end]
                self._buffers[name] = moved
            self.start, self.end = 0, size
        for name, values in columns.items():
            self._buffers[name][self.end:self.end + added] = values
        self.end += added

    def drop_first(self, count: int) -> None:
        """Remove the ``count`` oldest entries."""
        self.start += count

    def keep_only(self, positions: np.ndarray) -> None:
        """Keep the entries at ``positions`` (ascending indices into the current entries), in their order."""
        kept = positions.size
        for name, buffer in self._buffers.items():
            buffer[:kept] = buffer[self.start:self.end].take(positions)
        self.start, self.end = 0, kept

    def take(self, positions: np.ndarray) -> dict[str, np.ndarray]:
        """Copies of the entries at ``positions`` (indices into the current entries), by column."""
        return {name: buffer[self.start:self.end].take(positions) for name, buffer in self._buffers.items()}

    def first(self, count: int) -> dict[str, np.ndarray]:
        """Copies of the ``count`` oldest entries, by column (``take(np.arange(count))`` without the indices)."""
        start = self.start
        return {name: buffer[start:start + count].copy() for name, buffer in self._buffers.items()}


def _all_true(size: int) -> np.ndarray:
    """np.ones(size, dtype=bool), without np.ones' Python-level steps."""
    out = np.empty(size, dtype=bool)
    out.fill(True)
    return out


def first_item_of_each_household(rows: np.ndarray, in_market: np.ndarray) -> np.ndarray:
    """Mask keeping each household's first entry among ``rows``, entries of the market's pool (what
    ``np.unique(rows, return_index=True)`` picks), without sorting them all.

    A household with one item in the market (``in_market``, rows x items) has one entry in the pool, so
    at most one here; only the entries of households with several items in the market are sorted.
    """
    items = in_market.shape[1]
    held = in_market.reshape(-1).view(np.uint8)  # rows x items, flat
    first_held = rows * items
    count = held[first_held]
    for item in range(1, items):
        count = count + held[first_held + item]
    several = count > 1
    first = ~several
    if np.count_nonzero(several):
        shared = several.nonzero()[0]
        # Each household's first entry among them: np.unique(..., return_index=True)'s own steps (a stable sort,
        # then the first of each run), without its Python-level wrappers.
        shared_rows = rows[shared]
        order = shared_rows.argsort(kind="stable")
        ordered = shared_rows[order]
        starts = np.empty(ordered.size, dtype=bool)
        starts[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
        first[shared[order[starts]]] = True
    return first


@dataclass
class DurableStockLedger:
    """Flows into and out of the stocks of planned purchases and of households in the market (items, unweighted).

    Attributes:
        planned: purchases planned (including those planned before the first day).
        matured: planned purchases that entered the market on their planned day.
        dropped_unaffordable: planned purchases due whose households could not pay the cash part (not made).
        pulled_by_subsidy: planned purchases a subsidy brought into the market early.
        pulled_by_windfall: planned purchases a windfall brought into the market early.
        seeded_in_market: items in the market on the first day.
        bought: purchases made.
        gave_up: purchases dropped by households whose savings could not pay the cash part within
            ``durable_saving_wait_days``.
    """

    planned: int = 0
    matured: int = 0
    dropped_unaffordable: int = 0
    pulled_by_subsidy: int = 0
    pulled_by_windfall: int = 0
    seeded_in_market: int = 0
    bought: int = 0
    gave_up: int = 0


class DurableMarket:
    """Planned purchases, purchases brought forward and purchases of one durable good for the whole population.

    Subsidies come from the tools switched on in the run: each is asked whether it ``subsidises``
    this good today and, if so, for its ``durable_discounts`` per candidate buyer (``model/tools/``).

    Attributes:
        kind: 'cars' or 'appliances'.
        horizon_days: how far ahead purchases are planned (``durable_planning_horizon_days``).
        planned: whether each household's item holds a planned purchase (rows x items).
        plan_rows, plan_items, plan_day, plan_draws: the planned purchases, the day each would enter the
            market without policy, and the draws it carries into the market.
        in_market: whether each household's item is in the market (rows x items).
        pool_rows, pool_items, pool_draws: the households and items in the market and their draws.
        pool_progress: accumulated purchase hazard so far (the pool also holds each entry's ``entered_day``).
        cash_outlay_yuan: a purchase's full cash outlay (a car's down payment, an appliance's price).
        saving_wait_days: how long after entering a shopper that cannot pay keeps trying
            (``durable_saving_wait_days``).
        saves_while_shopping: whether a shopper's savings stay liquid until it buys (cars).
        windfall_pending_yuan: windfalls received since the last step, per household.
        ledger: the stocks' flows, for the end-of-run identities.
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
        self.horizon_days = max(int(round(params.durable_planning_horizon_days[kind])), 1)
        self.timing_elasticity = params.durable_timing_elasticity[kind]
        self.entry_elasticity = params.durable_entry_elasticity[kind]
        self.take_up = params.durable_subsidy_take_up[kind]
        self.saving_wait_days = float(params.durable_saving_wait_days[kind])
        # Whether a shopper keeps what it saves liquid until it buys (the monthly savings rule,
        # ``CityEconomy._monthly_savings``, reads it): for a car's down payment; an appliance is paid from the
        # usual buffer.
        self.saves_while_shopping = kind == "cars"
        # The cash a purchase needs, which a windfall relieves.
        self.cash_outlay_yuan = params.car_down_payment_share * self.price if kind == "cars" else self.price
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
        self.ledger = DurableStockLedger()
        self.planned = np.zeros((hh.n, self.items), dtype=bool)
        # The planned purchases in the order they were planned, which is also the order of their days.
        self._plans = EntryColumns({"rows": np.int64, "items": np.int64, "day": np.int64,
                                    **{k: np.float64 for k in ENTRY_DRAWS}})
        self.in_market = np.zeros((hh.n, self.items), dtype=bool)
        self._pool = EntryColumns({"rows": np.int64, "items": np.int64, "progress": np.float64,
                                   "entered_day": np.float64, **{k: np.float64 for k in ENTRY_DRAWS}})
        # Items bought or given up leave the pool's columns lazily: their patience becomes infinite (never reached), and
        # the columns are compacted once they are a quarter of them, or before anyone outside the day's
        # purchases reads the pool.
        self._pool_bought = 0
        self._purchasing = False
        self.windfall_pending_yuan = np.zeros(hh.n)
        self._windfall_rows: list[np.ndarray] = []  # the rows given windfalls since the last step
        self._plans_seeded = False
        # This good's multiplier of each simulated day (``_multiplier``), made on first use: the economy's calendar
        # and conditions are set after the markets.
        self._multipliers: np.ndarray | None = None
        self._subsidisers: list | None = None  # the tools that can subsidise a durable good (``_acting``)
        self._dealer_draw_bounds: np.ndarray | None = None  # ``_record_dealers``'s cumulative market shares
        self._seed_pool(model.streams.get(f"{kind}-initial-market"))

    # ------------------------------------------------------------ the stocks (views, valid until they next change)
    @property
    def plan_rows(self) -> np.ndarray:
        return self._plans.column("rows")

    @property
    def plan_items(self) -> np.ndarray:
        return self._plans.column("items")

    @property
    def plan_day(self) -> np.ndarray:
        return self._plans.column("day")

    @property
    def plan_draws(self) -> dict[str, np.ndarray]:
        return {k: self._plans.column(k) for k in ENTRY_DRAWS}

    def _pool_now(self) -> EntryColumns:
        """The pool: as the day's purchases index it while they run (with the items bought earlier still
        in place), otherwise with the items bought removed."""
        if self._pool_bought and not self._purchasing:
            self._drop_bought()
        return self._pool

    def _drop_bought(self) -> None:
        self._pool.keep_only(np.flatnonzero(self._pool.column("patience") != np.inf))
        self._pool_bought = 0

    @property
    def pool_rows(self) -> np.ndarray:
        return self._pool_now().column("rows")

    @property
    def pool_items(self) -> np.ndarray:
        return self._pool_now().column("items")

    @property
    def pool_progress(self) -> np.ndarray:
        return self._pool_now().column("progress")

    @property
    def pool_draws(self) -> dict[str, np.ndarray]:
        pool = self._pool_now()
        return {k: pool.column(k) for k in ENTRY_DRAWS}

    # ------------------------------------------------------------ state helpers
    def _owned(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        if self.owns is None:
            return np.ones(rows.size, dtype=bool)
        return self.owns[rows, items]

    def _decision_hazard_per_year(self, rows: np.ndarray, items: np.ndarray, day: int,
                                  flat: np.ndarray | None = None) -> np.ndarray:
        """Hazard of deciding to buy, per year, for each household-item (``flat``: rows x items + items, if known)."""
        purchase_day = self.purchase_day[rows, items] if flat is None else self.purchase_day.reshape(-1)[flat]
        age = (day - purchase_day) / DAYS_PER_YEAR
        if self.owns is None:  # appliances: every item owned
            return weibull_hazard_per_year(age, self.shape, self.scale_years)
        owned = self._owned(rows, items) if flat is None else self.owns.reshape(-1)[flat]
        return np.where(owned, weibull_hazard_per_year(age, self.shape, self.scale_years), self.first_hazard[rows])

    def _multiplier(self, day: int) -> float | None:
        """Calendar x conditions x the 社零 trend's demand index for this good on ``day`` (the economy's
        multiplier of that day), or None past the simulated days."""
        multipliers = self._multipliers
        if multipliers is None:
            model = self.model
            sector = SECTOR_INDEX[self.kind]
            # Element by element the same products, in the same order, as each day's would be.
            multipliers = self._multipliers = (model.seasonality[:, sector] * model.durable_condition[:, sector]
                                               * model.demand_index)
        if day >= multipliers.shape[0]:
            return None
        return float(multipliers[day])

    @staticmethod
    def _draws(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """The draws each candidate carries: patience, eligibility, dealer/channel draw, used-value normal, claim."""
        return {"patience": rng.exponential(size=n), "eligibility": rng.random(n), "draw": rng.random(n),
                "value_z": rng.standard_normal(n), "claim": rng.random(n)}

    def _seed_pool(self, rng: np.random.Generator) -> None:
        """Start from the stationary market: the households shopping on the first day.

        A decision to buy at daily hazard h enters the market only if the household can pay the cash part
        (``can_pay``) and stays for its shopping delay T = E x ``durable_shopping_days``, E its exponential
        patience. In the stationary state an item is in the market with probability h x T, so with probability
        h x ``durable_shopping_days`` over E, and given that its E is size-biased (Gamma(2, 1)); it entered a
        uniform time ago within T, has accumulated that time's purchase hazard and, for a car, saved that time's
        surplus (the monthly savings rule keeps a car shopper's savings liquid). The hazard and savings are the
        first day's, at normal prices and without any policy, so the policy run and its counterfactual start
        from the same state. Until 2026-12 the seed put items in the market whether or not the household could
        pay, and those that could not waited there, so the stock of households waiting on their savings filled
        for years and car sales climbed with it (``tests/test_durable_warmup.py``).
        """
        model = self.model
        hh = model.households
        if hh.n == 0 or self.items == 0:
            return
        # Households in blocks, to hold a block's arrays rather than the city's: the uniform draws of the
        # blocks in turn are those one draw for every item would give.
        inside_rows, inside_items = [], []
        for first in range(0, hh.n, SEED_BLOCK_HOUSEHOLDS):
            block = np.arange(first, min(first + SEED_BLOCK_HOUSEHOLDS, hh.n))
            rows = np.repeat(block, self.items)
            items = np.tile(np.arange(self.items), block.size)
            hazard = self._decision_hazard_per_year(rows, items, 0) / DAYS_PER_YEAR
            inside = rng.random(rows.size) < np.minimum(hazard * self.shopping_days, 1.0)
            inside_rows.append(rows[inside])
            inside_items.append(items[inside])
        rows, items = np.concatenate(inside_rows), np.concatenate(inside_items)
        draws = self._draws(rng, rows.size)
        # The exponential patience every entrant draws is replaced by the first day's size-biased one (its own
        # draw after the others, so the other columns are those any entrant's would be).
        draws["patience"] = rng.gamma(2.0, size=rows.size)
        in_market_days = rng.random(rows.size) * draws["patience"] * self.shopping_days
        paying = self.can_pay(rows, items, 0, draws["value_z"])
        rows, items, in_market_days = rows[paying], items[paying], in_market_days[paying]
        draws = {k: v[paying] for k, v in draws.items()}
        if self.saves_while_shopping:  # one item per household: each row once
            surplus_month = saving_while_shopping_month_yuan(hh.income_month_yuan[rows],
                                                             hh.consumption_month_yuan[rows], model.params)
            hh.savings_yuan[rows] += np.maximum(surplus_month, 0.0) * in_market_days / DAYS_PER_MONTH
        self.ledger.seeded_in_market += self._enter(rows, items, draws, -in_market_days,
                                                    in_market_days / self.shopping_days)

    def _seed_plans(self) -> None:
        """The purchases planned before the first day: those entering the market on days 0 .. horizon - 1."""
        self._plans_seeded = True
        for target in range(self.horizon_days):
            self._plan_for(target, self.model.streams.get(f"{self.kind}-plans-before-start", target))

    @staticmethod
    def _first_of_each(rows: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
        """Mask keeping the first occurrence of each (row, item)."""
        if rows.size < 2:
            return _all_true(rows.size)
        keys = rows * max(n_items, 1) + items
        ordered = np.sort(keys)
        if not np.count_nonzero(ordered[1:] == ordered[:-1]):  # no repeats (the usual case): every entry is the first
            return _all_true(rows.size)
        _, first = np.unique(keys, return_index=True)
        once = np.zeros(rows.size, dtype=bool)
        once[first] = True
        return once

    def _enter(self, rows: np.ndarray, items: np.ndarray, draws: dict[str, np.ndarray],
               entered_day: float | np.ndarray, progress: np.ndarray | None = None) -> int:
        """Put items in the market on ``entered_day`` (those already in it stay as they are), with their purchase
        hazard accumulated so far (``progress``, none if not given); returns how many entered."""
        if rows.size == 0:
            return 0
        entered_day = np.broadcast_to(np.asarray(entered_day, dtype=np.float64), rows.shape)
        progress = np.zeros(rows.size) if progress is None else progress
        fresh = ~self.in_market[rows, items] & self._first_of_each(rows, items, self.items)
        if np.count_nonzero(fresh) != fresh.size:
            rows, items, draws = rows[fresh], items[fresh], {k: draws[k][fresh] for k in ENTRY_DRAWS}
            entered_day, progress = entered_day[fresh], progress[fresh]
        self.in_market[rows, items] = True
        self._pool.append({"rows": rows, "items": items, "progress": progress, "entered_day": entered_day,
                           **{k: draws[k] for k in ENTRY_DRAWS}})
        return int(rows.size)

    def _add_plans(self, rows: np.ndarray, items: np.ndarray, day: int, draws: dict[str, np.ndarray]) -> None:
        """Plan purchases entering the market on ``day`` (items already planned or in the market are skipped)."""
        if rows.size == 0:
            return
        fresh = ~(self.planned[rows, items] | self.in_market[rows, items]) & self._first_of_each(rows, items, self.items)
        every = np.count_nonzero(fresh) == fresh.size
        if not every:
            rows, items = rows[fresh], items[fresh]
        if rows.size and len(self._plans) and day < self._plans.column("day")[-1]:
            raise ValueError(f"durables {self.kind}: plans for day {day} after plans for a later day (the stock "
                             "is kept in order of days, so those due are the first ones)")
        self.planned[rows, items] = True
        self._plans.append({"rows": rows, "items": items, "day": np.full(rows.size, day, dtype=np.int64),
                            **{k: draws[k] if every else draws[k][fresh] for k in ENTRY_DRAWS}})
        self.ledger.planned += int(rows.size)

    def _take_plans(self, taken: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Remove the planned purchases marked ``taken`` from the stock and return them."""
        taken_at = np.flatnonzero(taken)
        entries = self._plans.take(taken_at)
        rows, items = entries["rows"], entries["items"]
        self.planned[rows, items] = False
        if taken_at.size == taken.size:
            self._plans.drop_first(taken_at.size)
        elif taken_at.size:
            self._plans.keep_only(np.flatnonzero(~taken))
        return rows, items, {k: entries[k] for k in ENTRY_DRAWS}

    def _take_first_plans(self, count: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Remove the ``count`` oldest planned purchases (those due first) from the stock and return them."""
        entries = self._plans.first(count)
        rows, items = entries["rows"], entries["items"]
        self.planned[rows, items] = False
        self._plans.drop_first(count)
        return rows, items, {k: entries[k] for k in ENTRY_DRAWS}

    def candidates(self, rows: np.ndarray, items: np.ndarray, day: int, draws: dict[str, np.ndarray]
                   ) -> DurableCandidates:
        """What a tool needs to price its offer to these household-items today."""
        age = (day - self.purchase_day[rows, items]) / DAYS_PER_YEAR
        owned = self._owned(rows, items)
        if self.kind == "cars":
            used = np.where(owned, used_car_value_yuan(self.price, age, draws["value_z"], self.model.params), 0.0)
        else:
            used = np.zeros(rows.size)
        return DurableCandidates(rows=rows, owned=owned, age_years=age, eligibility_draw=draws["eligibility"],
                                 used_value_yuan=used, rural=~self.model.households.urban[rows])

    def old_item_value_yuan(self, rows: np.ndarray, items: np.ndarray, day: int, value_z: np.ndarray) -> np.ndarray:
        """What each household's old item brings toward its replacement when sold (yuan): an owned car's
        used-market value (``used_car_value_yuan``), traded in or sold; nothing for a first car or an appliance."""
        if self.kind != "cars":
            return np.zeros(rows.size)
        age = (day - self.purchase_day[rows, items]) / DAYS_PER_YEAR
        return np.where(self._owned(rows, items),
                        used_car_value_yuan(self.price, age, value_z, self.model.params), 0.0)

    def can_pay(self, rows: np.ndarray, items: np.ndarray, day: int, value_z: np.ndarray) -> np.ndarray:
        """Whether each household's liquid savings cover the purchase's cash part at normal prices: a household
        enters the market only then (a decision it cannot pay for is not made; it may be made again later)."""
        return self.model.households.savings_yuan[rows] >= self.cash_needed_without_subsidy_yuan(rows, items, day,
                                                                                              value_z)

    def expected_cash_per_year_yuan(self) -> np.ndarray:
        """The cash each household's purchases of this good are expected to take from its savings a year (yuan),
        at the first day's ages and savings: the decision hazard of each item it can pay for times that item's
        cash part (an old car at its median used value). Summed over households this is the stationary outflow,
        since the fleet's ages are stationary; the monthly savings rule sets it aside so that savings do not
        drift (``CityEconomy._monthly_savings``)."""
        hh = self.model.households
        expected = np.zeros(hh.n)
        rows = np.arange(hh.n)
        for item in range(self.items):
            items = np.full(hh.n, item)
            cash = self.cash_needed_without_subsidy_yuan(rows, items, 0, np.zeros(hh.n))
            hazard = self._decision_hazard_per_year(rows, items, 0)
            expected += np.where(hh.savings_yuan >= cash, hazard * cash, 0.0)
        return expected

    def cash_needed_without_subsidy_yuan(self, rows: np.ndarray, items: np.ndarray, day: int,
                                         value_z: np.ndarray) -> np.ndarray:
        """Liquid savings each purchase needs without any subsidy (yuan): the down payment less what the old
        car fetches for a car (a trade-in's value goes to the down payment; any excess to the loan), the price
        for an appliance."""
        return np.maximum(self.cash_outlay_yuan - self.old_item_value_yuan(rows, items, day, value_z), 0.0)

    def _offers(self, day: int, rows: np.ndarray, items: np.ndarray, draws: dict[str, np.ndarray],
                acting: list | None = None) -> list[tuple[object, np.ndarray, np.ndarray]]:
        """(tool effect, government yuan, merchant yuan) per household for each tool subsidising this good today
        (``acting``: those tools, when already known)."""
        out = []
        if acting is None:
            acting = self._acting(day)
        if not acting:
            return out
        c = self.candidates(rows, items, day, draws)
        for effect in acting:
            gov, merch = effect.durable_discounts(self.kind, self.price, c.owned, c.age_years, c.eligibility_draw,
                                                  candidates=c)
            out.append((effect, gov, merch))
        return out

    def _acting(self, day: int) -> list:
        """The tools subsidising this good today, in file order (only tools whose kind can subsidise a durable
        good are asked: the others' ``subsidises`` is the base class's, which says no)."""
        subsidisers = self._subsidisers
        if subsidisers is None:
            subsidisers = self._subsidisers = self.model.tools_doing("subsidises")
        return [e for e in subsidisers if e.subsidises(self.kind, day)]

    def add_windfall(self, rows: np.ndarray, windfall_yuan: np.ndarray) -> None:
        """Windfalls households received today; they bring planned purchases forward at the next step."""
        if rows.size:
            np.add.at(self.windfall_pending_yuan, rows, np.broadcast_to(windfall_yuan, rows.shape))
            self._windfall_rows.append(np.asarray(rows))

    # ------------------------------------------------------------ the day
    def step(self, day: int, multiplier: float, rng: np.random.Generator) -> None:
        """Plans for a horizon ahead, plans due today, plans brought forward, then purchases, for today."""
        hh = self.model.households
        if hh.n == 0 or self.items == 0:
            return
        if not self._plans_seeded:
            self._seed_plans()
        self._plan_for(day + self.horizon_days, rng)
        self._mature(day)
        self._pull_by_windfall(day)
        self._pull_by_subsidy(day, multiplier)
        self._purchase(day, multiplier)

    def _plan_for(self, target_day: int, rng: np.random.Generator) -> None:
        """Decisions to replace that enter the market on ``target_day``: thin a Poisson stream at the bound."""
        multiplier = self._multiplier(target_day)
        if multiplier is None:
            return
        hh = self.model.households
        bound_day = self.bound_per_year * max(multiplier, 0.0) / DAYS_PER_YEAR
        n_candidates = rng.poisson(hh.n * self.items * bound_day)
        if n_candidates == 0:
            return
        flat = rng.integers(0, hh.n * self.items, size=n_candidates)
        accept = rng.random(n_candidates)
        # Each candidate's draws are made before acceptance, so a candidate gets the same ones whether or not
        # it plans.
        draws = self._draws(rng, n_candidates)
        if self.items == 1:
            rows, items = flat, np.zeros(n_candidates, dtype=flat.dtype)
        else:
            rows, items = np.divmod(flat, self.items)
        hazard = self._decision_hazard_per_year(rows, items, target_day, flat) * multiplier / DAYS_PER_YEAR
        enter = accept * bound_day < hazard
        if not np.count_nonzero(enter):  # nothing planned for that day (what _add_plans would find)
            return
        self._add_plans(rows[enter], items[enter], target_day, {k: v[enter] for k, v in draws.items()})

    def _mature(self, day: int) -> None:
        """Planned purchases due today enter the market."""
        # The stock is in order of days: those due are the first ones.
        due = int(self._plans.column("day").searchsorted(day, side="right"))
        if due:
            rows, items, draws = self._take_first_plans(due)
            paying = self.can_pay(rows, items, day, draws["value_z"])
            entering = int(np.count_nonzero(paying))
            self.ledger.matured += entering
            self.ledger.dropped_unaffordable += int(rows.size) - entering
            if entering < rows.size:
                rows, items, draws = rows[paying], items[paying], {k: v[paying] for k, v in draws.items()}
            self._enter(rows, items, draws, day)

    def _only_those_who_can_pay(self, pulled: np.ndarray, day: int) -> None:
        """Unmark the planned purchases in ``pulled`` whose households cannot pay the cash part today: they stay
        planned (a subsidy or windfall moves a purchase's timing, not whether the household can afford it)."""
        at = np.flatnonzero(pulled)
        if at.size:
            pulled[at] = self.can_pay(self.plan_rows[at], self.plan_items[at], day,
                                      self._plans.column("value_z")[at])

    def _pull_by_windfall(self, day: int) -> None:
        """Windfalls received since the last step bring planned purchases of their households forward."""
        if not self._windfall_rows:
            return
        pending = self.windfall_pending_yuan
        # Only the rows given windfalls since the last step can hold any.
        given = self._windfall_rows[0] if len(self._windfall_rows) == 1 else np.concatenate(self._windfall_rows)
        self._windfall_rows = []
        if not pending[given].any():
            return
        windfall = pending[self.plan_rows]
        pending[given] = 0.0
        holding = windfall > 0
        if not holding.any():
            return
        rng = self.model.streams.get(f"{self.kind}-windfall-pull", day)
        p = windfall_pull_probability(windfall[holding], self.cash_outlay_yuan,
                                      self.model.params.windfall_durable_pull_intensity)
        pulled = np.zeros(self.plan_rows.size, dtype=bool)
        pulled[np.flatnonzero(holding)] = rng.random(int(holding.sum())) < p
        self._only_those_who_can_pay(pulled, day)
        if pulled.any():
            rows, items, draws = self._take_plans(pulled)
            self.ledger.pulled_by_windfall += int(rows.size)
            self._enter(rows, items, draws, day)

    def _pull_by_subsidy(self, day: int, multiplier: float) -> None:
        """A subsidy on offer brings planned purchases (and only those) into the market early."""
        if self.plan_rows.size == 0 or self.entry_elasticity <= 0:
            return
        acting = self._acting(day)
        if not acting:  # no offer today (one offer per tool acting)
            return
        offers = self._offers(day, self.plan_rows, self.plan_items, self.plan_draws, acting)
        discount = sum(gov + merch for _, gov, merch in offers) / self.price
        extra_rate = max(multiplier, 0.0) * (subsidy_hazard_multiplier(discount, self.entry_elasticity) - 1.0)
        p = -np.expm1(-extra_rate / self.horizon_days)
        rng = self.model.streams.get(f"{self.kind}-induced-entry", day)
        pulled = rng.random(self.plan_rows.size) < p
        self._only_those_who_can_pay(pulled, day)
        if pulled.any():
            rows, items, draws = self._take_plans(pulled)
            self.ledger.pulled_by_subsidy += int(rows.size)
            self._enter(rows, items, draws, day)

    def _purchase(self, day: int, multiplier: float) -> None:
        self._purchasing = True
        try:
            self._purchase_today(day, multiplier)
        finally:
            self._purchasing = False

    def _purchase_today(self, day: int, multiplier: float) -> None:
        model = self.model
        hh = model.households
        params = model.params
        if len(self._pool) == self._pool_bought:
            return
        # Views of the pool with the items bought on earlier days still in place (their patience is infinite:
        # they are never bought again), valid until today's buyers leave it at the end.
        pool = self._pool_now()  # (while purchasing, the pool as it is: nothing dropped)
        rows, items, progress = pool.column("rows"), pool.column("items"), pool.column("progress")
        acting = self._acting(day)
        offers = self._offers(day, rows, items, self.pool_draws, acting) if acting else []
        if offers:
            gov_total = sum((gov for _, gov, _ in offers), np.zeros(rows.size))
            merch_total = sum((merch for _, _, merch in offers), np.zeros(rows.size))
            rate = multiplier / self.shopping_days * subsidy_hazard_multiplier((gov_total + merch_total) / self.price,
                                                                               self.timing_elasticity)
        else:
            # Without an offer the subsidy multiplier is (1 - 0)^(-elasticity) = 1 exactly.
            rate = multiplier / self.shopping_days
        progress += rate
        buying = (progress >= self._pool.column("patience")).nonzero()[0]
        if buying.size == 0:  # nobody's hazard passed their patience: what follows would find no buyer
            return
        # One purchase of a kind per household a day keeps the savings check exact: a household's first
        # item in the pool's order. (With one item per household, each household is in the pool once.)
        # Without an offer every item needs the same cash, so a household's first item that it can pay for
        # is its first item if it can pay at all: the savings check goes first, on fewer entries.
        if self.items > 1 and offers and buying.size > 1:  # one entry is its household's first
            buying = buying[first_item_of_each_household(rows[buying], self.in_market)]
        # A buyer counts on a subsidy only if the pool can still pay it when its turn comes;
        # the savings check uses what it will actually get. (Without an offer nobody expects anything: the
        # zeros below are scalars, the cash needed then the same for every buyer.)
        gov_expected = np.zeros(buying.size) if offers else 0.0
        merch_expected = np.zeros(buying.size) if offers else 0.0
        scrap_expected = np.zeros(buying.size, dtype=bool)
        for effect, gov, merch in offers:
            covered = model.funds[effect.name].coverable(gov[buying] * hh.weight)
            gov_expected += np.where(covered, gov[buying], 0.0)
            merch_expected += np.where(covered & (gov[buying] > 0), merch[buying], 0.0)
            if effect.scraps_old_item(self.kind):
                scrap_expected |= covered & (gov[buying] > 0)
        # What each one's old item fetches (cars; zero for appliances), kept beside ``buying`` as it is filtered.
        old_value = self.old_item_value_yuan(rows[buying], items[buying], day, pool.column("value_z")[buying])
        if self.kind == "cars":
            # The old car goes toward the new one's down payment: sold (its used value) or, to claim a
            # scrappage subsidy, scrapped (the recycler's price).
            proceeds = np.where(scrap_expected, params.car_scrap_value_yuan, old_value)
            cash_needed = np.maximum(self.cash_outlay_yuan - gov_expected - proceeds, 0.0)
        else:
            cash_needed = np.maximum(self.price - gov_expected - merch_expected, 0.0)
        affordable = hh.savings_yuan[rows[buying]] >= cash_needed
        if not affordable.all():
            self._give_up(day, buying[~affordable])
            buying, old_value = buying[affordable], old_value[affordable]
        if self.items > 1 and not offers and buying.size > 1:  # one entry is its household's first
            first = first_item_of_each_household(rows[buying], self.in_market)
            buying, old_value = buying[first], old_value[first]
        if buying.size == 0:
            return
        buyers, bought = rows[buying], items[buying]
        household_weight = hh.weight
        # Who claims: a share take-up of eligible buyers, and every buyer who needs the subsidy to pay.
        claims = ((pool.column("claim")[buying] < self.take_up)
                  | (hh.savings_yuan[buyers] < np.maximum(self.cash_outlay_yuan - old_value, 0.0)))
        received = np.zeros(buying.size)
        discount = np.zeros(buying.size)
        paid_mask = {}
        scrapped = np.zeros(buying.size, dtype=bool)
        for effect, gov, merch in offers:
            paid = model.funds[effect.name].pay_many(np.where(claims, gov[buying], 0.0) * household_weight,
                                                     "household", day)
            got = paid > 0
            received += paid / household_weight
            merchant_part = np.where(got, merch[buying], 0.0)  # the merchant discount comes with the subsidised sale
            discount += merchant_part
            paid_mask[effect.name] = got
            if effect.scraps_old_item(self.kind):
                scrapped |= got
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
            cash = np.maximum(self.cash_outlay_yuan - received
                              - np.where(scrapped, params.car_scrap_value_yuan, old_value), 0.0)
            online = np.zeros(buying.size, dtype=bool)
            above = 1.0
            model.books.cars_sold[day] += buying.size * household_weight
        else:
            cash = np.maximum(self.price - received - discount, 0.0)
            online_p = np.minimum(params.online_share["appliances"] * hh.online_affinity[buyers], 0.95)
            online = self.pool_draws["draw"][buying] < online_p
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
        for effect in model.tools_doing("on_durable_purchase"):
            effect.on_durable_purchase(self.kind, day, buyers, self.price, subsidised)
        keep = np.ones(rows.size, dtype=bool)
        keep[buying] = False
        self.in_market[buyers, bought] = False
        self.ledger.bought += int(buying.size)
        left = (~keep).nonzero()[0]
        self._pool.column("patience")[left] = np.inf
        self._pool_bought += left.size
        if 4 * self._pool_bought > len(self._pool):
            self._drop_bought()

    def _give_up(self, day: int, short: np.ndarray) -> None:
        """Entries at pool positions ``short`` are ready to buy but cannot pay: those that have been in the market
        ``durable_saving_wait_days`` drop the purchase and leave it."""
        entered = self._pool.column("entered_day")[short]
        leaving = short[day - entered >= self.saving_wait_days]
        if leaving.size == 0:
            return
        pool = self._pool
        self.in_market[pool.column("rows")[leaving], pool.column("items")[leaving]] = False
        pool.column("patience")[leaving] = np.inf  # removed lazily, as the items bought are
        self._pool_bought += leaving.size
        self.ledger.gave_up += int(leaving.size)

    def _record_dealers(self, buying: np.ndarray, paid_mask: dict[str, np.ndarray], household_weight: float) -> None:
        """Each car goes to a dealer in proportion to its market share."""
        dealers = self.model.car_dealers
        if not dealers:
            return
        bounds = self._dealer_draw_bounds
        if bounds is None or bounds.size != len(dealers):  # the dealers' shares are fixed for the run
            cum = np.cumsum([d.sales_weight for d in dealers])
            bounds = self._dealer_draw_bounds = cum / cum[-1]
        which = np.minimum(np.searchsorted(bounds, self.pool_draws["draw"][buying]), len(dealers) - 1)
        # Each sale's tool: the first (in the order of the tools) that paid for it, or none.
        names = [None, *paid_mask]
        tool_of = np.zeros(buying.size, dtype=np.int64)
        for i in range(len(names) - 1, 0, -1):
            tool_of[paid_mask[names[i]]] = i
        revenue = self.price * household_weight
        for dealer_index, tool in zip(which.tolist(), tool_of.tolist()):
            dealers[dealer_index].record_sale(household_weight, revenue, names[tool])

    def _windfall(self, day: int, buyers: np.ndarray, received: np.ndarray) -> None:
        """A subsidy received is cash the household did not have to spend: part of it is spent later."""
        if not np.count_nonzero(received):
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
        # It is cash all the same: it can bring forward other purchases the household had planned.
        windfall_to_durables(model, buyers, received)

    # ------------------------------------------------------------ accounting
    def account_problems(self, books) -> list[str]:
        """Stock-flow identities of planned purchases and of households in the market (items), given the run's
        books over every simulated day."""
        led = self.ledger
        problems = []
        label = f"durables {self.kind}"
        outstanding = (led.planned - led.matured - led.dropped_unaffordable - led.pulled_by_subsidy
                       - led.pulled_by_windfall)
        if outstanding != self.plan_rows.size or int(self.planned.sum()) != self.plan_rows.size:
            problems.append(f"{label}: planned purchases {led.planned} - matured {led.matured} - dropped as "
                            f"unaffordable {led.dropped_unaffordable} - brought forward by "
                            f"subsidies {led.pulled_by_subsidy} - by windfalls {led.pulled_by_windfall} = {outstanding}, "
                            f"but {self.plan_rows.size} are planned ({int(self.planned.sum())} items marked)")
        entered = led.seeded_in_market + led.matured + led.pulled_by_subsidy + led.pulled_by_windfall
        left_market = led.bought + led.gave_up
        if entered - left_market != self.pool_rows.size or int(self.in_market.sum()) != self.pool_rows.size:
            problems.append(f"{label}: entered the market {entered} - bought {led.bought} - gave up {led.gave_up} = "
                            f"{entered - left_market}, but {self.pool_rows.size} are in the market "
                            f"({int(self.in_market.sum())} items marked)")
        sold = books.cars_sold if self.kind == "cars" else books.appliances_sold
        weight = self.model.households.weight
        if not amounts_agree(float(sold.sum()), led.bought * weight, led.bought * weight):
            problems.append(f"{label}: {float(sold.sum()):,.1f} sold in the books, but {led.bought} purchases x "
                            f"weight {weight:,.3f} = {led.bought * weight:,.1f}")
        return problems
