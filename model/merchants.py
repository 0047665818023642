"""Merchants: shops, restaurants and stalls as numpy columns; car dealers as Mesa agents.

Shops and restaurants number in the tens of thousands, so like households they
are columns of arrays. Each has a sector, a district, annual sales, a size class
(above or below the 限额以上 reporting threshold), a floor area and a cost of
opening late. Their decisions are written over the whole population:

* ``opt_in_to_voucher``: join a voucher scheme when the expected margin on the
  sales it brings beats the cost of joining and of any co-funded discount;
* the late-opening decision lives in ``model/rules/night_economy.py``, which also keeps each
  merchant's state as a **24-hour store** (a convenience store open late every night of the last
  ``NIGHTS_OPEN_FOR_24H``), whose share of convenience stores plans set targets on.

Car dealers are few and ranked by sales for top-N rewards, so each is an object
(``CarDealer``) recording its sales; it decides nothing day by day (buyers choose
it in proportion to its market share), so it is not a Mesa agent with a ``step``.

Parameters (``model/parameters/behaviour.toml``, each with its unit, range and reference or assumption):
``merchant_gross_margin``, ``voucher_admin_cost_yuan`` and ``voucher_expected_leverage`` (the opt-in),
``night_late_cost_yuan`` and ``night_late_cost_sigma`` (the cost of one night open late).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.parameters import BehaviourParameters
from model.city import City
from model.sectors import SECTOR_INDEX, SECTORS

#: Annual main-business revenue above which a unit is 限额以上 (above the reporting quota), yuan.
#: source: NBS 批发和零售业、住宿和餐饮业统计报表制度 (the 社零 survey's directory rule, as the indicator notes
#: of NBS retail releases state it): 限额以上 units are wholesale units with annual main-business revenue of
#: 20 million yuan and over, retail units with 5 million and over, accommodation and catering units with
#: 2 million and over. Appliances, fuel and car dealers are retail; night-market stalls are mostly catering.
#: Merchants crossing it are counted in ``model/rules/above_quota.py``.
ABOVE_QUOTA_THRESHOLD_YUAN = {
    "daily_goods": 5e6, "catering": 2e6, "appliances": 5e6, "cars": 5e6, "fuel": 5e6, "night_market": 2e6,
}
#: Pareto tail index of merchant sales: a few large merchants hold much of the market.
#: assumption: retail firm sizes are close to Zipf (index near 1); 1.1 keeps the mean finite.
SALES_PARETO_INDEX = 1.1
#: Sectors whose merchants may open late for the night economy.
NIGHT_SECTORS = ("daily_goods", "catering", "night_market")
#: Largest floor area of a convenience store (便利店), m². assumption: the national retail-format standard
#: (GB/T 18106 零售业态分类) describes the 便利店 format as about 100 m²; 200 m² leaves room for larger chain stores.
CONVENIENCE_STORE_MAX_AREA_M2 = 200.0
#: Nights in a row a shop must have stayed open late to count as a 24-hour store (24小时便利店).
#: assumption: the model decides opening night by night and has no hours after midnight, so a store that
#: kept late hours every night for four weeks stands for one that stays open around the clock.
NIGHTS_OPEN_FOR_24H = 28


def convenience_stores(sector, floor_area_m2):
    """Which merchants are convenience stores: daily-goods shops of at most CONVENIENCE_STORE_MAX_AREA_M2."""
    return (sector == SECTOR_INDEX["daily_goods"]) & (floor_area_m2 <= CONVENIENCE_STORE_MAX_AREA_M2)


@dataclass
class MerchantPopulation:
    """Shops, restaurants and stalls (not car dealers) as columns.

    Attributes:
        sector: sector index (into SECTORS).
        district: district index.
        annual_sales_yuan: normal annual sales (yuan).
        above_quota: above the 限额以上 reporting threshold.
        floor_area_m2: floor area (square metres).
        late_cost_yuan: extra cost of one night open late (yuan).
        night_eligible: in a sector that can open late.
    """

    sector: np.ndarray
    district: np.ndarray
    annual_sales_yuan: np.ndarray
    above_quota: np.ndarray
    floor_area_m2: np.ndarray
    late_cost_yuan: np.ndarray
    night_eligible: np.ndarray

    @property
    def n(self) -> int:
        """Number of merchants."""
        return int(self.sector.shape[0])

    def above_quota_share(self) -> np.ndarray:
        """Share of each sector's sales made by above-quota merchants (SECTORS order)."""
        out = np.zeros(len(SECTORS))
        for i in range(len(SECTORS)):
            mask = self.sector == i
            total = self.annual_sales_yuan[mask].sum()
            out[i] = self.annual_sales_yuan[mask & self.above_quota].sum() / total if total > 0 else 0.0
        return out


def generate_merchants(city: City, sector_sales_yuan: np.ndarray, params: BehaviourParameters,
                       rng: np.random.Generator) -> MerchantPopulation:
    """Draw merchants for every sector but cars, with Pareto-distributed sales summing to the sector's sales.

    Args:
        city: the city (merchant densities and districts).
        sector_sales_yuan: expected annual sales by sector (SECTORS order).
        params: behaviour parameters (late-opening costs).
        rng: generator.
    """
    sectors, districts, sales = [], [], []
    shares = np.array([d.household_share for d in city.districts])
    for name in SECTORS:
        if name == "cars":
            continue
        count = max(1, int(round(city.households * city.merchants_per_1000_households[name] / 1000.0)))
        size = (rng.pareto(SALES_PARETO_INDEX, count) + 1.0)
        sales.append(size / size.sum() * sector_sales_yuan[SECTOR_INDEX[name]])
        sectors.append(np.full(count, SECTOR_INDEX[name], dtype=np.int8))
        districts.append(rng.choice(len(shares), size=count, p=shares / shares.sum()).astype(np.int16))
    sector = np.concatenate(sectors)
    annual = np.concatenate(sales)
    threshold = np.array([ABOVE_QUOTA_THRESHOLD_YUAN[s] for s in SECTORS])[sector]
    # Floor area grows less than proportionally with sales; median shop about 60 m2 (assumption).
    area = 60.0 * (annual / np.median(annual)) ** 0.5
    area = np.clip(area, 10.0, 20000.0)
    late_cost = params.night_late_cost_yuan * (area / 100.0) ** 0.5 * np.exp(
        params.night_late_cost_sigma * rng.standard_normal(sector.shape[0]))
    night = np.isin(sector, [SECTOR_INDEX[s] for s in NIGHT_SECTORS])
    return MerchantPopulation(sector=sector, district=np.concatenate(districts), annual_sales_yuan=annual,
                              above_quota=annual >= threshold, floor_area_m2=area, late_cost_yuan=late_cost,
                              night_eligible=night)


def opt_in_to_voucher(merchants: MerchantPopulation, sectors: tuple[str, ...], budget_yuan: float,
                      cofunding_share: float, participating_limit: int | None,
                      params: BehaviourParameters) -> np.ndarray:
    """Which merchants join a voucher scheme (boolean per merchant).

    A merchant expects its share of the eligible sectors' sales times the
    programme's face value times ``voucher_expected_leverage`` in extra sales;
    it joins when the margin on them exceeds the cost of joining plus the
    discounts it co-funds. Where the plan fixes the number of participating
    merchants (Pingliang names 35 shops), the ones with the largest expected
    gain among those willing join.
    """
    idx = [SECTOR_INDEX[s] for s in sectors if s != "cars"]
    eligible = np.isin(merchants.sector, idx)
    sales = np.where(eligible, merchants.annual_sales_yuan, 0.0)
    total = sales.sum()
    if total <= 0:
        return np.zeros(merchants.n, dtype=bool)
    share = sales / total
    voucher_sales = share * budget_yuan * params.voucher_expected_leverage
    margin = np.array([params.merchant_gross_margin[s] for s in SECTORS])[merchants.sector]
    gain = margin * voucher_sales - cofunding_share * share * budget_yuan - params.voucher_admin_cost_yuan
    willing = eligible & (gain > 0)
    if participating_limit is not None and willing.sum() > participating_limit:
        order = np.argsort(-np.where(willing, gain, -np.inf))
        chosen = np.zeros(merchants.n, dtype=bool)
        chosen[order[:participating_limit]] = True
        return chosen
    return willing


class CarDealer:
    """A car dealership: sells cars and competes for top-N sales rewards.

    Attributes:
        sales_weight: relative market share.
        cars_sold: cars sold in the run (real cars, weighted).
        subsidised_cars_sold: cars sold with a purchase subsidy, by subsidy tool.
        revenue_yuan: sales revenue in the run.
        rewards_yuan: top-N rewards received.
    """

    def __init__(self, sales_weight: float):
        self.sales_weight = sales_weight
        self.cars_sold = 0.0
        self.subsidised_cars_sold: dict[str, float] = {}
        self.revenue_yuan = 0.0
        self.rewards_yuan = 0.0

    def record_sale(self, cars: float, revenue_yuan: float, subsidy_tool: str | None) -> None:
        """Book cars sold (weighted count) and their revenue."""
        self.cars_sold += cars
        self.revenue_yuan += revenue_yuan
        if subsidy_tool is not None:
            self.subsidised_cars_sold[subsidy_tool] = self.subsidised_cars_sold.get(subsidy_tool, 0.0) + cars


def car_dealer_count(households: float) -> int:
    """Number of car dealers for a city: about one per 20,000 households, at least three.

    assumption: Pingliang (about 0.6 million households) names 17 dealers in its car
    programme (003_22cfb6eea19a02d1.txt); larger cities have proportionally more.
    """
    return max(3, int(round(households / 20000.0)))
