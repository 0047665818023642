"""Scale only samples households: every sector and income quintile comes out the same at any scale.

Cells with few sampled rows (at scale 0.005 a cell of the example city holds a
few dozen households) have a daily spread larger than their mean; a cell sum
drawn from a distribution that is not exactly unbiased and non-negative shifts
their mean. The no-policy run at scale 0.005 must agree with scale 0.2 within
3% in every sector and every quintile, on the mean of replications.
"""

from __future__ import annotations

import tomllib

import numpy as np

from conftest import EXAMPLE
from model.economy import CityEconomy
from model.households import N_QUINTILES
from model.rng import RandomStreams
from model.scenario import scenario_from_dict
from model.sectors import SECTORS

#: The example city made four times larger, so that 200 replications at scale 0.005 sample ~12,000 car purchases
#: (cars are lumpy: their sampling noise, not any bias, sets how many replications a 3% check needs).
HOUSEHOLDS = 400_000


def _no_policy_sales(scenario, scale: float, replications: int) -> tuple[np.ndarray, np.ndarray]:
    """(replications x sectors, replications x quintiles) 社零 of households and all buyers in the no-policy run."""
    sectors, quintiles = [], []
    for r in range(replications):
        model = CityEconomy(scenario, scale=scale, streams=RandomStreams.from_seed(100, r), active_tools=set()).run()
        retail = model.books.retail
        hh = model.households
        sectors.append(retail.sum(axis=(0, 1, 3, 4)))
        by_cell = retail.sum(axis=(0, 2, 3, 4))[: hh.n_cells]
        _, _, quintile_of_cell = hh.cell_parts(hh.n_districts)
        quintiles.append([by_cell[quintile_of_cell == q].sum() for q in range(N_QUINTILES)])
    return np.array(sectors), np.array(quintiles)


def test_every_sector_and_quintile_agrees_between_scale_0_005_and_0_2():
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["city"]["households"]["value"] = HOUSEHOLDS
    raw["tools"] = {}
    scenario = scenario_from_dict(raw, str(EXAMPLE))
    small_s, small_q = _no_policy_sales(scenario, 0.005, 200)
    large_s, large_q = _no_policy_sales(scenario, 0.2, 30)
    for labels, small, large in ((SECTORS, small_s, large_s), ([f"Q{q + 1}" for q in range(N_QUINTILES)], small_q, large_q)):
        ratio = small.mean(axis=0) / large.mean(axis=0) - 1.0
        for label, r in zip(labels, ratio):
            assert abs(r) < 0.03, f"{label}: scale 0.005 differs from scale 0.2 by {r:+.1%}"
