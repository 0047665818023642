"""Household flow spending: daily goods, catering, home goods, fuel and night-market spending.

Rule ``FlowSpending``: each household spends, on average, its normal daily
amount per sector times the calendar (``model/calendar.py``), outside
conditions (an epidemic) and income growth, times a city-wide daily shock.
Around that average each household's day is random: it shops on a day with
probability p and spends a lognormal basket of mean ``ticket`` (``trip_profile``).

Summing millions of independent household-days needs no loop over households:
the sum over a reporting cell has mean Σ b and variance Σ b·ticket·(e^{σ²} - p).
The rule draws that sum per cell from a gamma distribution with exactly this
mean and variance, so a city of any size costs the same per day. A gamma sum is
never negative and needs no floor, which matters in cells with few sampled
rows: there the spread exceeds the mean, and a normal draw floored at zero
would add spending that no household made (+25% on appliances at scale 0.005). Households whose own transactions
matter (voucher holders) are simulated transaction by transaction in
``model/tools/voucher.py`` with the same ``trip_profile``.

Rule ``DeferredSpending``: spending scheduled for later days, such as the part
of a windfall a household spends over the following weeks, or purchases a
voucher pulled forward and that are missing from later weeks.

Parameters (``model/parameters/behaviour.toml`` gives each one's value, unit, valid range and reference or
assumption):
``ticket_mean_yuan`` and ``ticket_sigma`` (basket sizes near the Shaoxing coupon thresholds, Xing et al.
2023), ``online_share`` and ``online_share_growth_per_year`` (NBS online retail share of 社零),
``common_daily_shock_sigma`` (the city-wide daily shock, drawn in ``model/economy.py``).
"""

from __future__ import annotations

import numpy as np

from model.households import HouseholdPopulation
from model.parameters import BehaviourParameters
from model.sectors import FLOW_SECTORS

#: Highest probability of a shopping trip in a sector on one day.
MAX_TRIP_PROBABILITY = 0.95


def trip_profile(spend_day_yuan: np.ndarray, sector_mean_spend_yuan: float, ticket_mean_yuan: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Probability of a trip on a day and mean basket (yuan) for a person spending ``spend_day_yuan`` a day.

    Transactions are made by persons: a household's day is the sum of its
    members' days, each spending the household's per-person amount. People who
    spend more shop both more often and in bigger baskets: the basket scales
    with the square root of spending relative to the sector's per-person mean.
    The product trip_probability x ticket equals the day's expected spending.
    """
    rel = np.maximum(spend_day_yuan, 1e-9) / max(sector_mean_spend_yuan, 1e-9)
    ticket = ticket_mean_yuan * np.sqrt(rel)
    trip_probability = spend_day_yuan / ticket
    capped = trip_probability > MAX_TRIP_PROBABILITY
    trip_probability = np.where(capped, MAX_TRIP_PROBABILITY, trip_probability)
    ticket = np.where(capped, spend_day_yuan / MAX_TRIP_PROBABILITY, ticket)
    return trip_probability, ticket


class FlowSpending:
    """Daily flow spending of all households, drawn per reporting cell.

    Attributes:
        base_yuan: expected daily spending per cell and flow sector at multiplier 1 (cells x flow sectors).
        noise_sd_yuan: standard deviation of the cell's daily sum from household-level randomness.
        online_share: base-year share bought online per cell and flow sector.
        sector_mean_spend_yuan: mean household daily spending per flow sector (for trip profiles).
    """

    def __init__(self, households: HouseholdPopulation, params: BehaviourParameters):
        household_weight = households.weight
        spend = households.flow_spend_day_yuan
        cells = households.cell
        n_cells = households.n_cells
        n_flow = len(FLOW_SECTORS)
        size = households.size.astype(float)
        per_person = spend / size[:, None]
        # Per-person mean spending by sector: trip profiles are per person.
        self.sector_mean_spend_yuan = per_person.mean(axis=0) if households.n else np.ones(n_flow)
        self.base_yuan = np.zeros((n_cells, n_flow))
        variance = np.zeros((n_cells, n_flow))
        online_weighted = np.zeros((n_cells, n_flow))
        spread = np.exp(params.ticket_sigma ** 2)
        for j, sector in enumerate(FLOW_SECTORS):
            sector_spend = spend[:, j]
            trip_probability, ticket = trip_profile(per_person[:, j], self.sector_mean_spend_yuan[j],
                                                    params.ticket_mean_yuan[sector])
            self.base_yuan[:, j] = np.bincount(cells, weights=sector_spend * household_weight, minlength=n_cells)
            # A household's variance is its members' summed; weighted rows stand for w households
            # each, so the sampled cell sum has variance w² Σ Var.
            variance[:, j] = np.bincount(
                cells, weights=sector_spend * ticket * (spread - trip_probability) * household_weight * household_weight,
                minlength=n_cells)
            online_weighted[:, j] = np.bincount(
                cells, weights=sector_spend * households.online_affinity * household_weight, minlength=n_cells)
        self.noise_sd_yuan = np.sqrt(np.maximum(variance, 0.0))
        # Gamma(k, θ) has mean kθ and variance kθ²: k = mean²/var, θ = var/mean. Empty cells draw 0
        # (a shape of 0 gives exactly 0); a cell without spread draws its mean (huge shape, tiny scale).
        mean = self.base_yuan
        var = np.maximum(variance, 1e-12 * mean * mean)
        with np.errstate(invalid="ignore", divide="ignore"):
            self._gamma_shape = np.where(mean > 0, mean * mean / var, 0.0)
            self._gamma_scale = np.where(mean > 0, var / mean, 1.0)
        base_share = np.array([params.online_share.get(s, 0.0) for s in FLOW_SECTORS])
        with np.errstate(invalid="ignore", divide="ignore"):
            affinity = np.where(self.base_yuan > 0, online_weighted / self.base_yuan, 1.0)
        self.online_share = np.clip(affinity * base_share[None, :], 0.0, 0.95)
        # How a cell splits extra spending (windfalls) across flow sectors: its own spending pattern.
        totals = self.base_yuan.sum(axis=1, keepdims=True)
        overall = self.base_yuan.sum(axis=0) / max(self.base_yuan.sum(), 1e-12)
        self.cell_sector_split = np.where(totals > 0, self.base_yuan / np.maximum(totals, 1e-12), overall[None, :])

    def draw(self, multipliers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Today's spending (cells x flow sectors, yuan), given today's multipliers per flow sector.

        ``multipliers`` already includes the calendar, conditions, income growth
        and the city-wide shock. A cell's sum is gamma with the cell's exact mean and
        variance, so it is never negative and its mean is unbiased at any scale.
        """
        return rng.gamma(self._gamma_shape, self._gamma_scale) * multipliers[None, :]


class DeferredSpending:
    """Spending scheduled for later days, by reporting cell and flow sector.

    Amounts are spread evenly over a window of days. A difference array keeps
    scheduling and reading O(1) per entry however long the window.

    Attributes:
        scheduled_total_yuan: everything scheduled so far (positive and negative).
        unrealised_yuan: the part scheduled for days after the last simulated day.
        realised_yuan: the part that changed booked spending (``settle``).
        lost_to_floor_yuan: the part a cell could not realise because its spending cannot go below zero
            (a pull-forward's missing purchases in a cell that spent nothing that day); negative.
    """

    def __init__(self, days: int, n_cells: int):
        self._diff = np.zeros((days + 1, n_cells, len(FLOW_SECTORS)))
        self._rate = np.zeros((n_cells, len(FLOW_SECTORS)))
        self._days = days
        self.scheduled_total_yuan = 0.0
        self.unrealised_yuan = 0.0
        self.realised_yuan = 0.0
        self.lost_to_floor_yuan = 0.0

    def schedule(self, start_day: int, window_days: int, cells: np.ndarray, amounts_yuan: np.ndarray) -> None:
        """Spread ``amounts_yuan`` (entries x flow sectors) over ``window_days`` days from ``start_day``."""
        if cells.size == 0 or start_day >= self._days:
            return
        rate = amounts_yuan / window_days
        end = start_day + window_days
        np.add.at(self._diff[start_day], cells, rate)
        if end < self._days:
            np.add.at(self._diff[end], cells, -rate)
            beyond = 0.0
        else:
            beyond = float(rate.sum()) * (end - self._days)
        self.scheduled_total_yuan += float(amounts_yuan.sum())
        self.unrealised_yuan += beyond

    def today(self, day: int) -> np.ndarray:
        """Deferred spending falling on ``day`` (cells x flow sectors); call once per day in order."""
        self._rate += self._diff[day]
        return self._rate

    def settle(self, day: int, drawn: np.ndarray) -> np.ndarray:
        """Today's flow spending (cells x flow sectors): ``drawn`` plus what falls due today, never below zero.

        Records what the deferred part changed (realised) and what the floor refused (lost).
        """
        combined = drawn + self.today(day)
        flows = np.maximum(combined, 0.0)
        self.realised_yuan += float((flows - drawn).sum())
        self.lost_to_floor_yuan -= float((flows - combined).sum())
        return flows
