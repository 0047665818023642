"""Who gains from a policy: household benefit by income decile, income quintile and urban or rural.

A household's gain is what it received from the programmes: the face value of
vouchers it redeemed (with the merchant's co-funded part), purchase subsidies
and the merchant discounts that came with them, and its share of night-market
discounts. The first two are booked per household (``DailyBooks.household_benefit_by_row``);
night-market discounts are booked only by reporting cell (district, urban or
rural, income quintile), so they are spread over the cell's households in
proportion to their everyday spending, the base the discount is paid on. The
programmes are paid from government budgets that households are not charged
for in the model, so no household is worse off by construction: "better off"
means it received a voucher, subsidy or discount of its own (night-market
discounts, spread thinly over a whole cell, do not count towards it).

``distribution_table`` gives, for each group, the share of households, the
average gain per household (yuan), the gain as a share of the group's income
over the horizon, and the share of households better off, the layout
PolicyEngine's distributional tables use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Income deciles and quintiles are by income per person, across the whole city.
N_DECILES = 10


def household_gains_yuan(model) -> np.ndarray:
    """What each simulated household received from the programmes over the horizon (yuan, one per row).

    Args:
        model: a finished ``CityEconomy`` (the policy run).
    """
    hh = model.households
    books = model.books
    gains = books.household_benefit_by_row.astype(float).copy()
    n_cells = hh.n_cells
    booked_by_row = np.bincount(hh.cell, weights=gains * hh.weight, minlength=n_cells)
    residual = np.maximum(books.household_benefit[:n_cells] - booked_by_row, 0.0)
    if residual.sum() > 0:
        base = hh.flow_spend_day_yuan.sum(axis=1)
        base_by_cell = np.bincount(hh.cell, weights=base, minlength=n_cells)
        share = np.divide(base, base_by_cell[hh.cell], out=np.zeros_like(base), where=base_by_cell[hh.cell] > 0)
        # residual is weighted yuan for the cell; each row stands for `weight` households.
        gains += residual[hh.cell] * share / hh.weight
    return gains


def income_deciles(income_per_capita_yuan: np.ndarray) -> np.ndarray:
    """Decile 0 (poorest) to 9 of each household by income per person."""
    cuts = np.quantile(income_per_capita_yuan, np.linspace(0, 1, N_DECILES + 1)[1:-1])
    return np.searchsorted(cuts, income_per_capita_yuan, side="right").astype(np.int8)


def distribution_table(model, replication: int = 0) -> pd.DataFrame:
    """Gains by group for one replication (rows: dimension, group).

    Columns: ``households`` (households represented), ``household_share`` (of all households),
    ``gain_per_household_yuan``, ``gain_share_of_income`` (gain ÷ the group's income over the
    horizon), ``share_better_off`` (share of the group's households that received a voucher, subsidy
    or discount of their own),
    ``income_per_household_yuan`` (over the horizon), ``gain_share`` (the group's share of all gains).
    """
    hh = model.households
    gains = household_gains_yuan(model)
    own = model.books.household_benefit_by_row > 0
    months = model.days * 12.0 / 365.0
    income = hh.income_month_yuan * months
    groups = {
        "income_decile": (income_deciles(hh.income_per_capita_yuan), [f"D{i + 1}" for i in range(N_DECILES)]),
        "income_quintile": (hh.quintile.astype(int), [f"Q{i + 1}" for i in range(5)]),
        "urban_rural": (hh.urban.astype(int), ["rural", "urban"]),
    }
    total_gain = float(gains.sum())
    rows = []
    for dimension, (codes, names) in groups.items():
        for code, name in enumerate(names):
            mask = codes == code
            n = int(mask.sum())
            g = float(gains[mask].sum())
            inc = float(income[mask].sum())
            rows.append({
                "replication": replication, "dimension": dimension, "group": name,
                "households": n * hh.weight,
                "household_share": n / hh.n if hh.n else 0.0,
                "gain_per_household_yuan": g / n if n else 0.0,
                "gain_share_of_income": g / inc if inc > 0 else 0.0,
                "share_better_off": float(own[mask].mean()) if n else 0.0,
                "income_per_household_yuan": inc / n if n else 0.0,
                "gain_share": g / total_gain if total_gain > 0 else 0.0,
            })
    return pd.DataFrame(rows)
