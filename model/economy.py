"""The city economy: a Mesa model stepping one day at a time.

``CityEconomy`` holds the households (numpy columns), merchants (numpy columns),
car dealers and government funds (ledgers: they decide nothing day by day, so
they are not Mesa agents), and applies the economic rules in a fixed daily order:

1. tools act before spending: vouchers released today are claimed
   (``ToolEffect.before_spending``, e.g. ``tools/voucher.py``);
2. households' flow spending is drawn per reporting cell (``rules/spending.py``),
   plus spending scheduled by earlier windfalls and pull-forwards;
3. merchants decide whether to open late and night spending is realised
   (``rules/night_economy.py``);
4. flow sales are booked by cell, sector, channel and merchant size;
5. tools act on the day's spending: voucher holders transact, top up or let
   vouchers wait (``ToolEffect.after_flow_spending``);
6. households decide to replace cars and appliances and buy them, with subsidies
   (``rules/durables.py``);
7. visitors arrive and spend (``rules/visitors.py``);
8. firms and institutions buy their share of 社零;
9. on the first day of each month households receive income, pay for
   consumption and move what they save beyond their liquid buffer to other
   wealth (savings are stationary without policy); tools close the day: vouchers
   expire, dealers are rewarded when a car programme ends (``ToolEffect.end_of_day``).

Policy tools are found by the registry in ``model/tools/``: each tool switched on
gets a budget pool (``GovernmentFund``) and a ``ToolEffect``; the rules of steps 3,
6 and 7 ask every tool for what it offers them.

A run with tools switched off uses the same random streams (``rng.py``), so it
is the policy run's counterfactual.

**Forecast baseline.** Households' flow spending, durable replacement and firms' and
institutions' purchases follow ``demand_index``: the city's 社零 trend from its base-year level,
times this replication's draw of what the trend leaves open (``model/trend.py``), shared by the
policy run and its counterfactual. Visits follow their own measured path (``[conditions]`` on
visitors, against the scenario's reference level of visits) times the same draw (``trend_shock``).
Income (savings) follows ``income_index``.

**Horizon and payback.** A run simulates past the scenario's ``end_date`` until
``payback_end_date``: the last tool's end plus the longest window over which
its effects can still pay back (pull-forward, windfall and durable-shopping
windows, at least a year for durables), on the same random streams. Days after
the horizon change nothing before it. After the run ``books`` holds the
horizon (what targets are judged on and what is reported by date);
``books_with_payback`` holds every simulated day.
"""

from __future__ import annotations

import datetime as dt

import mesa
import numpy as np

from model.accounting import DailyBooks, SavingsLedger, check_accounts
from model.calendar import dates_between, seasonality
from model.government import GovernmentFund
from model.households import (HouseholdPopulation, appliances_replaced_per_year, expected_cars_bought_per_year,
                              generate_households)
from model.merchants import CarDealer, SALES_PARETO_INDEX, car_dealer_count, generate_merchants
from model.rng import RandomStreams
from model import tools as tool_kinds
from model.tools.base import ToolEffect
from model.rules.durables import DurableMarket
from model.rules.night_economy import NightEconomy
from model.rules.online_sellers import online_sellers_of
from model.rules.spending import DeferredSpending, FlowSpending
from model.rules.visitors import VisitorFlow
from model.scenario import Scenario
from model.trend import RetailTrend, TrendPath
from model.sectors import FLOW_SECTORS, SECTOR_INDEX, SECTORS

FLOW_IDX = [SECTOR_INDEX[s] for s in FLOW_SECTORS]

#: Durable dips last a few shopping delays; a year at least, whatever the parameters.
MIN_DURABLE_PAYBACK_DAYS = 365
#: Shopping delays (means) after which the pool of households in the market has refilled.
SHOPPING_DELAYS_TO_REFILL = 4


def payback_end_date(scenario: Scenario) -> dt.date:
    """Last day a run simulates: the horizon's end or, when later, the last tool's end plus the payback window.

    The window is the longest a tool's effects can last after its last day: a
    voucher still valid then, plus the pull-forward or windfall window of its
    redemption; a durable pool refilling over several shopping delays, and at
    least a year. It depends on the design's dates and the parameters only.
    """
    if not scenario.tools:
        return scenario.end
    p = scenario.behaviour
    last_end = max(t.end for t in scenario.tools.values())
    last_use = max(t.last_effect_date for t in scenario.tools.values())  # e.g. a voucher still valid after the end
    durable_window = max(MIN_DURABLE_PAYBACK_DAYS, int(SHOPPING_DELAYS_TO_REFILL * max(p.durable_shopping_days.values())))
    spending_window = max(int(p.pull_forward_days), int(p.windfall_spending_days))
    return max(scenario.end, last_end + dt.timedelta(days=durable_window),
               last_use + dt.timedelta(days=spending_window))


def build_population(scenario: Scenario, scale: float, streams: RandomStreams) -> HouseholdPopulation:
    """The household population of a run (shared by the policy run and its counterfactual)."""
    return generate_households(scenario.city, scenario.behaviour, scale, streams.get("population"))


class CityEconomy(mesa.Model):
    """One city, one run: households, merchants, government funds and visitors, day by day.

    Attributes:
        scenario: the scenario run.
        params: behaviour parameters.
        households: household columns (this run's own copy of savings and durables).
        merchants: shop and restaurant columns.
        car_dealers: CarDealer agents.
        funds: budget pools by tool name (tools switched on only).
        tool_effects: what each tool switched on does, by tool name (``model/tools/``), in file order.
        books: the run's daily records (after the run: the horizon's only).
        books_with_payback: after the run, the records of every simulated day, to ``payback_end``.
        dates: the horizon's dates (start_date to end_date).
        simulated_dates: every simulated date, to ``payback_end``.
        horizon_days: days in the horizon.
        savings_at_horizon_end: households' liquid savings at the end of the horizon's last day.
        savings_ledger: every flow into and out of liquid savings (for the stock-flow check).
        day: index of the next day to simulate.
    """

    def __init__(self, scenario: Scenario, *, scale: float, streams: RandomStreams,
                 active_tools: set[str] | None = None, population: HouseholdPopulation | None = None,
                 trend: TrendPath | None = None):
        # One random-number system: Mesa's own generators (model.rng, model.random) are a stream of the
        # run's RandomStreams like every rule's, though no rule draws from them.
        super().__init__(rng=streams.get("mesa"))
        self.scenario = scenario
        self.params = scenario.behaviour
        self.streams = streams
        self.scale = scale
        self.dates = dates_between(scenario.start, scenario.end)
        self.horizon_days = len(self.dates)
        self.payback_end = payback_end_date(scenario)
        self.simulated_dates = dates_between(scenario.start, self.payback_end)
        self.days = len(self.simulated_dates)
        base = population if population is not None else build_population(scenario, scale, streams)
        self.households = base.copy_mutable()
        hh = self.households
        n_hh_cells = hh.n_cells
        self.visitor_cell = n_hh_cells
        self.institution_cell = n_hh_cells + 1
        self.books = DailyBooks(self.days, n_hh_cells + 2, hh.n, platform_payment_share=self.params.voucher_platform_share)
        self.flow = FlowSpending(hh, self.params)
        self.deferred = DeferredSpending(self.days, n_hh_cells)

        sector_sales = self._expected_sector_sales_per_day() * 365.0
        self.merchants = generate_merchants(scenario.city, sector_sales, self.params, streams.get("merchants"))
        self.above_quota_share = self.merchants.above_quota_share()
        self.above_quota_share[SECTOR_INDEX["cars"]] = 1.0  # car dealers report above the quota
        dealer_rng = streams.get("dealers")
        weights = dealer_rng.pareto(SALES_PARETO_INDEX, car_dealer_count(scenario.city.households)) + 1.0
        self.car_dealers = [CarDealer(float(wt)) for wt in weights]

        self.active_tools = {n: t for n, t in scenario.tools.items() if active_tools is None or n in active_tools}
        self.funds = {n: GovernmentFund(n, t.budget_yuan, t.funding_shares, self.days,
                                        releases=tuple(((d - scenario.start).days, a) for d, a in t.tranches),
                                        carry_over_unspent=t.carry_over_unspent,
                                        per_merchant_cap_yuan=t.per_merchant_cap_yuan)
                      for n, t in self.active_tools.items()}
        registry = tool_kinds.kinds()
        self.tool_effects = {n: registry[t.kind].effect(t, self) for n, t in self.active_tools.items()}
        self._tools_doing: dict[str, list] = {}
        # Each household's usual liquid buffer: its savings before the durable markets add what their shoppers
        # have saved toward a purchase by the first day (``DurableMarket._seed_pool``).
        self.savings_buffer_yuan = hh.savings_yuan.copy()
        self.car_market = DurableMarket(self, "cars", self.active_tools)
        self.appliance_market = DurableMarket(self, "appliances", self.active_tools)
        self.night = NightEconomy(self)
        self.visitor_flow = VisitorFlow(self)

        self.seasonality = seasonality(scenario.start, self.payback_end)
        (self.demand_condition, self.durable_condition, self.visitor_condition,
         self.institution_condition) = self._conditions()
        # Base-year figures are annual averages, so income growth is counted from the middle of the base year.
        base_year_middle = dt.date(scenario.city.base_year, 7, 1)
        years = np.array([(d - base_year_middle).days / 365.25 for d in self.simulated_dates])
        self.income_index = (1.0 + scenario.city.income_growth_per_year) ** years
        # The forecast baseline (model/trend.py): every part of 社零 demand follows the city's 社零 trend and
        # this replication's draw of what the trend leaves open; a given path (a prior-period run) is reused.
        city = scenario.city
        self.trend = trend if trend is not None else TrendPath.draw(
            city.retail_trend or RetailTrend(city.income_growth_per_year), city.base_year, streams)
        self.trend_shock = self.trend.shock(self.simulated_dates)
        self.demand_index = self.trend.index(self.simulated_dates)
        self.online_index = (1.0 + self.params.online_share_growth_per_year) ** np.maximum(
            np.array([(d - scenario.start).days / 365.25 for d in self.simulated_dates]), 0.0)
        household_and_visitor = self._expected_sector_sales_per_day()
        s = scenario.city.non_household_retail_share
        # Firms and institutions buy goods, meals and fuel in proportion to what households and visitors
        # buy, but not private cars or night-market snacks: their cars are a small, separately registered
        # fleet, and counting them here would tie the city's car share to its institutional share.
        bought = household_and_visitor.copy()
        bought[[SECTOR_INDEX["cars"], SECTOR_INDEX["night_market"]]] = 0.0
        self.institutional_per_day = bought / max(bought.sum(), 1e-12) * household_and_visitor.sum() * s / (1.0 - s)
        # Liquid savings: income in, consumption out, cash for durables when bought. What a household saves
        # beyond its liquid buffer goes to other wealth (deposits, housing, pensions), so in the no-policy run
        # the buffer is stationary around where it started: each month the transfer is the income left after
        # normal consumption and the durable cash it expects to pay (``DurableMarket.expected_cash_per_year_yuan``:
        # what its purchases would take from savings, net of a trade-in, for the purchases it can pay for), plus
        # a share of any gap to its buffer; a household shopping for a car transfers nothing until it has bought.
        self.expected_durable_cash_month = (self.car_market.expected_cash_per_year_yuan()
                                            + self.appliance_market.expected_cash_per_year_yuan()) / 12.0
        self.savings_ledger = SavingsLedger(start_yuan=float(hh.savings_yuan.sum()))
        online_sellers_of(self)  # 网络零售额's rule is fixed before the run, so a statistic it cannot fit fails now
        self.day = 0

    # ------------------------------------------------------------ set-up helpers
    def date(self, day: int) -> dt.date:
        """Calendar date of a day index (days after the horizon included)."""
        return self.simulated_dates[day]

    def _expected_sector_sales_per_day(self) -> np.ndarray:
        """Normal daily sales by sector (SECTORS order) from households and visitors, base year."""
        out = np.zeros(len(SECTORS))
        out[FLOW_IDX] = self.flow.base_yuan.sum(axis=0)
        city = self.scenario.city
        p = self.params
        hh = self.households
        own = np.where(hh.urban, city.car_owners_per_100_households["urban"], city.car_owners_per_100_households["rural"]) / 100.0
        cars_per_year = float(np.sum(expected_cars_bought_per_year(own, hh.income_month_yuan, p))) * hh.weight
        out[SECTOR_INDEX["cars"]] += cars_per_year * p.car_price_yuan / 365.0
        out[SECTOR_INDEX["appliances"]] += city.households * appliances_replaced_per_year(p) * p.appliance_price_yuan / 365.0
        v = city.visitors
        if v is not None:
            for sector in ("catering", "daily_goods"):
                out[SECTOR_INDEX[sector]] += v.visitors_per_year / 365.0 * v.spend_per_visit_yuan.get(sector, 0.0)
        return out

    def _conditions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Daily multipliers from outside conditions: household demand and durables (days x sectors), visitors
        (days), and firms' and institutions' purchases (days x sectors): these follow the demand conditions
        unless a condition says ``institutions = false``."""
        demand = np.ones((self.days, len(SECTORS)))
        durables = np.ones((self.days, len(SECTORS)))
        visitors = np.ones(self.days)
        institutions = np.ones((self.days, len(SECTORS)))
        start = self.scenario.start
        for cond in self.scenario.conditions:
            cols = [SECTOR_INDEX[s] for s in cond.sectors if s in SECTOR_INDEX] or list(range(len(SECTORS)))
            for period in cond.periods:
                a = max((period.start - start).days, 0)
                b = min((period.end - start).days, self.days - 1)
                if b < a:
                    continue
                if cond.applies_to == "visitors":
                    visitors[a: b + 1] *= period.multiplier
                elif cond.applies_to == "durables":
                    durables[a: b + 1, cols] *= period.multiplier
                else:
                    demand[a: b + 1, cols] *= period.multiplier
                    if cond.institutions:
                        institutions[a: b + 1, cols] *= period.multiplier
        return demand, durables, visitors, institutions

    # ------------------------------------------------------------ the day
    def step(self) -> None:
        """Simulate one day: the daily order of the module docstring."""
        day = self.day
        if day >= self.days:
            self.running = False
            return
        shock = self._common_shock(day)
        flow_multipliers = (self.seasonality[day] * self.demand_condition[day] * self.demand_index[day]
                            * shock[: len(SECTORS)])[FLOW_IDX]
        for fund in self.funds.values():                             # tranches due today are released
            fund.begin_day(day)
        self._tools_do("before_spending", day)                      # 1. e.g. vouchers claimed
        self._flow_spending(day, flow_multipliers)                   # 2-4. spending, night economy, booking
        self._tools_do("after_flow_spending", day, flow_multipliers)  # 5. e.g. voucher holders transact
        self._durable_purchases(day)                                 # 6. cars and appliances
        self.visitor_flow.step(day, self.simulated_dates[day].month,
                               self.visitor_condition[day] * self.trend_shock[day], shock[-1])  # 7.
        self._institutional_purchases(day, shock)                    # 8.
        self._monthly_savings(day)                                   # 9. savings, then tools close the day
        self._tools_do("end_of_day", day)
        self.day += 1
        if self.day == self.horizon_days:
            self.savings_at_horizon_end = self.households.savings_yuan.copy()
        if self.day >= self.days:
            self.running = False

    # ------------------------------------------------------------ the day's parts
    def _common_shock(self, day: int) -> np.ndarray:
        """City-wide daily demand shocks, one per sector plus one for visitors (mean 1)."""
        sigma = self.params.common_daily_shock_sigma
        return np.exp(sigma * self.streams.get("shock", day).standard_normal(len(SECTORS) + 1) - sigma ** 2 / 2)

    def tools_doing(self, call: str) -> list:
        """The tools switched on whose ``call`` does something, in file order: those whose kind overrides the
        base class's (``ToolEffect``) default, which does nothing (or says no). Skipping the others is the
        same run with fewer Python calls a day."""
        doing = self._tools_doing.get(call)
        if doing is None:
            default = getattr(ToolEffect, call)
            doing = self._tools_doing[call] = [e for e in self.tool_effects.values()
                                               if getattr(type(e), call, None) is not default]
        return doing

    def _tools_do(self, call: str, day: int, *args) -> None:
        """Every tool switched on makes its ``call`` of the daily order, in file order."""
        for effect in self.tools_doing(call):
            getattr(effect, call)(day, *args)

    def _flow_spending(self, day: int, flow_multipliers: np.ndarray) -> None:
        """Households' flow spending plus what earlier windfalls and pull-forwards scheduled, the night
        economy's share of it, booked by cell, sector, channel and size class."""
        flows = self.deferred.settle(day, self.flow.draw(flow_multipliers, self.streams.get("spending", day)))
        self.night.step(day, flows)
        online = np.minimum(self.flow.online_share * self.online_index[day], 0.95)
        above = self.above_quota_share.copy()
        above[SECTOR_INDEX["night_market"]] = self.night.above_quota_share_tonight
        self.books.book_flows(day, flows, online, above, FLOW_IDX)

    def _durable_purchases(self, day: int) -> None:
        """Replacement decisions and purchases of cars, then of appliances."""
        for market in (self.car_market, self.appliance_market):
            sector = SECTOR_INDEX[market.kind]
            market.step(day, self.seasonality[day, sector] * self.durable_condition[day, sector]
                        * self.demand_index[day],
                        self.streams.get(market.kind, day))

    def _institutional_purchases(self, day: int, shock: np.ndarray) -> None:
        """Firms and institutions buy their share of 社零, under the demand conditions that apply to them."""
        institutional = (self.institutional_per_day * self.seasonality[day] * self.institution_condition[day]
                         * self.demand_index[day] * shock[: len(SECTORS)])
        # As Python floats (book_sale takes float(amount) all the same): iterating an array makes a numpy scalar each.
        for sector, amount in enumerate(institutional.tolist()):
            if amount > 0:
                self.books.book_sale(day, self.institution_cell, sector, False, self.above_quota_share[sector], amount)

    def _monthly_savings(self, day: int) -> None:
        """On the first day of each month (after the first day): a month's income in, normal consumption out,
        and the transfer to other wealth (see ``__init__``)."""
        if self.simulated_dates[day].day != 1 or day == 0:
            return
        hh = self.households
        p = self.params
        income = hh.income_month_yuan * self.income_index[day]
        consumption = hh.consumption_month_yuan * self.income_index[day] * (1.0 - p.durable_share_of_consumption)
        transfer = (income - consumption - self.expected_durable_cash_month
                    + p.savings_buffer_adjustment_per_month * (hh.savings_yuan - self.savings_buffer_yuan))
        # A household shopping for a good it saves toward (``DurableMarket.saves_while_shopping``: cars) keeps what
        # it saves liquid, for the down payment: it entered the market able to pay (``DurableMarket.can_pay``), and
        # moving its savings to other wealth could leave it short.
        if hh.n:
            for market in (self.car_market, self.appliance_market):
                if market.saves_while_shopping:
                    np.copyto(transfer, 0.0, where=market.in_market.any(axis=1))
        income_yuan, consumption_yuan = float(income.sum()), float(consumption.sum())
        # savings += income - consumption - transfer, in the arrays already made (household-sized: each new
        # one costs the machine more than the arithmetic).
        left = np.subtract(income, consumption, out=income)
        hh.savings_yuan += np.subtract(left, transfer, out=left)
        ledger = self.savings_ledger
        ledger.income_yuan += income_yuan
        ledger.consumption_yuan += consumption_yuan
        ledger.transfers_yuan += float(transfer.sum())

    def run(self, progress=None) -> "CityEconomy":
        """Step through the horizon and the payback window, check the accounts, then keep the horizon's books.

        Args:
            progress: optional callable called with 1 after each day (a progress bar's update).

        Raises:
            AccountingError: an accounting identity failed.
        """
        while self.day < self.days:
            self.step()
            if progress is not None:
                progress(1)
        check_accounts(self)
        self.books_with_payback = self.books
        self.books = self.books.up_to(self.horizon_days)
        return self
