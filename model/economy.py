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
9. savings grow on the first day of each month; tools close the day: vouchers
   expire, dealers are rewarded when a car programme ends (``ToolEffect.end_of_day``).

Policy tools are found by the registry in ``model/tools/``: each tool switched on
gets a budget pool (``GovernmentFund``) and a ``ToolEffect``; the rules of steps 3,
6 and 7 ask every tool for what it offers them.

A run with tools switched off uses the same random streams (``rng.py``), so it
is the policy run's counterfactual.
"""

from __future__ import annotations

import datetime as dt

import mesa
import numpy as np

from model.accounting import DailyBooks, check_accounts
from model.calendar import dates_between, seasonality
from model.government import GovernmentFund
from model.households import (HouseholdPopulation, appliances_replaced_per_year, expected_cars_bought_per_year,
                              generate_households)
from model.merchants import CarDealer, SALES_PARETO_INDEX, car_dealer_count, generate_merchants
from model.rng import RandomStreams
from model import tools as tool_kinds
from model.rules.durables import DurableMarket
from model.rules.night_economy import NightEconomy
from model.rules.spending import DeferredSpending, FlowSpending
from model.rules.visitors import VisitorFlow
from model.scenario import Scenario
from model.sectors import FLOW_SECTORS, SECTOR_INDEX, SECTORS

FLOW_IDX = [SECTOR_INDEX[s] for s in FLOW_SECTORS]


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
        books: the run's daily records.
        day: index of the next day to simulate.
    """

    def __init__(self, scenario: Scenario, *, scale: float, streams: RandomStreams,
                 active_tools: set[str] | None = None, population: HouseholdPopulation | None = None):
        # One random-number system: Mesa's own generators (model.rng, model.random) are a stream of the
        # run's RandomStreams like every rule's, though no rule draws from them.
        super().__init__(rng=streams.get("mesa"))
        self.scenario = scenario
        self.params = scenario.behaviour
        self.streams = streams
        self.scale = scale
        self.dates = dates_between(scenario.start, scenario.end)
        self.days = len(self.dates)
        base = population if population is not None else build_population(scenario, scale, streams)
        self.households = base.copy_mutable()
        hh = self.households
        n_hh_cells = hh.n_cells
        self.visitor_cell = n_hh_cells
        self.institution_cell = n_hh_cells + 1
        self.books = DailyBooks(self.days, n_hh_cells + 2, hh.n)
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
        self.funds = {n: GovernmentFund(n, t.budget_yuan, t.funding_shares, self.days)
                      for n, t in self.active_tools.items()}
        registry = tool_kinds.kinds()
        self.tool_effects = {n: registry[t.kind].effect(t, self) for n, t in self.active_tools.items()}
        self.car_market = DurableMarket(self, "cars", scenario.tools)
        self.appliance_market = DurableMarket(self, "appliances", scenario.tools)
        self.night = NightEconomy(self)
        self.visitor_flow = VisitorFlow(self)

        self.seasonality = seasonality(scenario.start, scenario.end)
        self.demand_condition, self.durable_condition, self.visitor_condition = self._conditions()
        # Base-year figures are annual averages, so income growth is counted from the middle of the base year.
        base_year_middle = dt.date(scenario.city.base_year, 7, 1)
        years = np.array([(d - base_year_middle).days / 365.25 for d in self.dates])
        self.income_index = (1.0 + scenario.city.income_growth_per_year) ** years
        self.online_index = (1.0 + self.params.online_share_growth_per_year) ** np.maximum(
            np.array([(d - scenario.start).days / 365.25 for d in self.dates]), 0.0)
        household_and_visitor = self._expected_sector_sales_per_day()
        s = scenario.city.non_household_retail_share
        # Firms and institutions buy goods, meals and fuel in proportion to what households and visitors
        # buy, but not private cars or night-market snacks: their cars are a small, separately registered
        # fleet, and counting them here would tie the city's car share to its institutional share.
        bought = household_and_visitor.copy()
        bought[[SECTOR_INDEX["cars"], SECTOR_INDEX["night_market"]]] = 0.0
        self.institutional_per_day = bought / max(bought.sum(), 1e-12) * household_and_visitor.sum() * s / (1.0 - s)
        self.savings_inflow_month = np.maximum(
            hh.income_month_yuan - hh.consumption_month_yuan * (1.0 - self.params.durable_share_of_consumption), 0.0)
        self.day = 0

    # ------------------------------------------------------------ set-up helpers
    def date(self, day: int) -> dt.date:
        """Calendar date of a day index."""
        return self.dates[day]

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

    def _conditions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Daily multipliers from outside conditions: demand and durables (days x sectors), visitors (days)."""
        demand = np.ones((self.days, len(SECTORS)))
        durables = np.ones((self.days, len(SECTORS)))
        visitors = np.ones(self.days)
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
        return demand, durables, visitors

    # ------------------------------------------------------------ the day
    def step(self) -> None:
        """Simulate one day: the daily order of the module docstring."""
        day = self.day
        if day >= self.days:
            self.running = False
            return
        shock = self._common_shock(day)
        flow_multipliers = (self.seasonality[day] * self.demand_condition[day] * self.income_index[day]
                            * shock[: len(SECTORS)])[FLOW_IDX]
        self._tools_do("before_spending", day)                      # 1. e.g. vouchers claimed
        self._flow_spending(day, flow_multipliers)                   # 2-4. spending, night economy, booking
        self._tools_do("after_flow_spending", day, flow_multipliers)  # 5. e.g. voucher holders transact
        self._durable_purchases(day)                                 # 6. cars and appliances
        self.visitor_flow.step(day, self.dates[day].month, self.visitor_condition[day], shock[-1])  # 7.
        self._institutional_purchases(day, shock)                    # 8.
        self._monthly_savings(day)                                   # 9. savings, then tools close the day
        self._tools_do("end_of_day", day)
        self.day += 1
        if self.day >= self.days:
            self.running = False

    # ------------------------------------------------------------ the day's parts
    def _common_shock(self, day: int) -> np.ndarray:
        """City-wide daily demand shocks, one per sector plus one for visitors (mean 1)."""
        sigma = self.params.common_daily_shock_sigma
        return np.exp(sigma * self.streams.get("shock", day).standard_normal(len(SECTORS) + 1) - sigma ** 2 / 2)

    def _tools_do(self, call: str, day: int, *args) -> None:
        """Every tool switched on makes its ``call`` of the daily order, in file order."""
        for effect in self.tool_effects.values():
            getattr(effect, call)(day, *args)

    def _flow_spending(self, day: int, flow_multipliers: np.ndarray) -> None:
        """Households' flow spending plus what earlier windfalls and pull-forwards scheduled, the night
        economy's share of it, booked by cell, sector, channel and size class."""
        flows = self.flow.draw(flow_multipliers, self.streams.get("spending", day))
        flows = np.maximum(flows + self.deferred.today(day), 0.0)
        self.night.step(day, flows)
        online = np.minimum(self.flow.online_share * self.online_index[day], 0.95)
        above = self.above_quota_share.copy()
        above[SECTOR_INDEX["night_market"]] = self.night.above_quota_share_tonight
        self.books.book_flows(day, flows, online, above, FLOW_IDX)

    def _durable_purchases(self, day: int) -> None:
        """Replacement decisions and purchases of cars, then of appliances."""
        for market in (self.car_market, self.appliance_market):
            sector = SECTOR_INDEX[market.kind]
            market.step(day, self.seasonality[day, sector] * self.durable_condition[day, sector],
                        self.streams.get(market.kind, day))

    def _institutional_purchases(self, day: int, shock: np.ndarray) -> None:
        """Firms and institutions buy their share of 社零."""
        institutional = (self.institutional_per_day * self.seasonality[day] * self.income_index[day]
                         * shock[: len(SECTORS)])
        cell = np.array([self.institution_cell])
        for sector, amount in enumerate(institutional):
            if amount > 0:
                self.books.book_sales(day, cell, sector, np.array([False]), self.above_quota_share[sector],
                                      np.array([amount]))

    def _monthly_savings(self, day: int) -> None:
        """On the first day of each month (after the first day), households save what they did not spend."""
        if self.dates[day].day == 1 and day > 0:
            self.households.savings_yuan += self.savings_inflow_month * self.income_index[day]

    def run(self, progress=None) -> "CityEconomy":
        """Step through the horizon, then check the accounts.

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
        return self
