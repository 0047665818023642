"""Spending sectors, and which of them count in 社会消费品零售总额 (retail sales).

The statistics bureau defines 社会消费品零售总额 (社零) as retail sales of
consumer goods plus catering revenue. Lodging, tickets and other services are
not part of it; the model tracks them as ``NON_RETAIL`` and reports them
separately (tourism plans such as Lhasa's and Diqing's need them).

Sector order is fixed: every array with a sector axis uses ``SECTORS`` order.
"""

from __future__ import annotations

#: Household and visitor spending sectors that are part of 社零, in array order.
SECTORS: tuple[str, ...] = (
    "daily_goods",   # food, clothing, daily necessities bought in shops or online
    "catering",      # restaurants, take-away: catering revenue (餐饮收入)
    "appliances",    # household appliances and home goods (家电家居)
    "cars",          # passenger cars (汽车类)
    "fuel",          # petrol and diesel for private vehicles (石油及制品类)
    "night_market",  # spending at night markets and late-opening shops (夜间消费)
)
SECTOR_INDEX: dict[str, int] = {name: i for i, name in enumerate(SECTORS)}

#: Sectors whose purchases are durable replacements driven by a hazard, not a daily flow.
DURABLE_SECTORS: tuple[str, ...] = ("appliances", "cars")

#: Sectors bought as a daily flow (the aggregate spending rule covers these).
FLOW_SECTORS: tuple[str, ...] = tuple(s for s in SECTORS if s not in ("cars",))

#: Spending that is not in 社零, reported separately.
NON_RETAIL: tuple[str, ...] = ("lodging", "tickets")

#: Chinese labels for tables and charts.
SECTOR_LABELS_ZH: dict[str, str] = {
    "daily_goods": "日用消费品",
    "catering": "餐饮",
    "appliances": "家电家居",
    "cars": "汽车",
    "fuel": "石油制品",
    "night_market": "夜间消费",
    "lodging": "住宿",
    "tickets": "门票",
}

#: Merchant size classes: above or below the 限额以上 reporting threshold.
SIZE_CLASSES: tuple[str, ...] = ("above_quota", "below_quota")
#: Purchase channels.
CHANNELS: tuple[str, ...] = ("in_shop", "online")

#: Funding levels of government budget pools.
FUNDING_LEVELS: tuple[str, ...] = ("central", "province", "city", "county")


def sector_indices(names: list[str] | tuple[str, ...]) -> list[int]:
    """Array indices of the named sectors, in the order given."""
    return [SECTOR_INDEX[n] for n in names]
