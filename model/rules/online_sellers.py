"""网络零售额 as the statistics count it: online sales by the city's own sellers, to buyers anywhere.

The 社零 books record what the city's residents buy online (from sellers anywhere). The 网络零售额
that plans set targets for is the other side of the market: the commerce departments count the
online sales of shops registered in the city, through public platforms or their own sites, to
buyers anywhere, goods and services (NBS indicator note: 网上零售额 "通过公共网络交易平台（包括
自建网站和第三方平台）实现的商品和服务零售额之和"; the provincial commerce bureaus publish it by seller
location, e.g. Sichuan 2021, 7,000亿). In a small remote prefecture the two differ by an order of
magnitude: residents buy most things from sellers elsewhere, and local sellers sell mostly local
specialities to buyers outside (Diqing's 2021 网络零售额 is about 1.4亿 against about 17亿 of
residents' online purchases).

Rule ``OnlineSellers``, one day at a time after the run (it changes nothing in the run):

    local sellers' online sales(d) = λ · residents' online purchases(d) + outside buyers(d)

* λ, the share of residents' online purchases made from the city's own sellers, is fixed once so
  that in the statistic's year the residents' part is ``resident_buyer_share`` of the statistic,
  given the purchases the model expects that year (no draws: the policy run and its counterfactual
  share it). Policy reaches 网络零售额 through this part only: a voucher that moves residents'
  online purchases moves local sellers' sales by λ times as much.
* Outside buyers' purchases start at (1 − ``resident_buyer_share``) of the statistic in its year and
  grow at ``outside_growth_per_year`` plus a growth shock drawn once per replication (standard
  deviation ``outside_growth_sigma``, stream ``online_sellers``), so the verdict on a growth target
  carries the uncertainty of a trend the city does not control. They are spread evenly over days.

The scenario gives the statistic, the share and the growth as ``[city.online_sellers]``, each with
its source, derivation or assumption (scenarios/FORMAT.md).

Behaviour parameters read (``model/parameters/behaviour.toml``), for the purchases the model expects:
``online_share`` and ``online_share_growth_per_year`` (NBS online share of 社零), ``appliance_price_yuan``.
"""

from __future__ import annotations

import datetime as dt
import numpy as np

from model.city import OnlineSellerSettings
from model.households import appliances_replaced_per_year
from model.sectors import CHANNELS, SECTOR_INDEX

#: Days per year in growth exponents (the model's other growth indexes use the same).
DAYS_PER_YEAR = 365.25


def year_middle(year: int) -> dt.date:
    """The date annual figures are centred on (as the model's income index is)."""
    return dt.date(year, 7, 1)


def expected_resident_online_yuan(model, year: int) -> float:
    """Residents' online purchases the model expects in ``year`` without shocks, conditions or policy (yuan).

    Flow sectors: each cell's normal spending times its online share, with the online share's and
    income's growth at the middle of ``year`` as the run applies them; appliances: normal
    replacements times their online share. Cars are never bought online in the model.
    """
    middle = year_middle(year)
    p = model.params
    city = model.scenario.city
    income = (1.0 + city.income_growth_per_year) ** ((middle - year_middle(city.base_year)).days / DAYS_PER_YEAR)
    online_growth = (1.0 + p.online_share_growth_per_year) ** max((middle - model.scenario.start).days / DAYS_PER_YEAR, 0.0)
    flow = float((model.flow.base_yuan * np.minimum(model.flow.online_share * online_growth, 0.95)).sum())
    appliances = (city.households * appliances_replaced_per_year(p) * p.appliance_price_yuan / 365.0
                  * min(p.online_share.get("appliances", 0.0), 0.95))
    return (flow + appliances) * 365.0 * income


def resident_online_daily(books, n_household_cells: int) -> np.ndarray:
    """Residents' online purchases by day (yuan): the online channel of the household cells, every sector."""
    return books.retail[:, :n_household_cells, :, CHANNELS.index("online")].sum(axis=(1, 2, 3))


def local_seller_share(settings: OnlineSellerSettings, expected_resident_online: float) -> float:
    """λ: the share of residents' online purchases bought from the city's own sellers.

    Raises:
        ValueError: the statistic's residents' part exceeds all the online purchases the model expects.
    """
    if expected_resident_online <= 0:
        return 0.0
    share = settings.resident_buyer_share * settings.base_yuan / expected_resident_online
    if share > 1.0:
        raise ValueError(
            f"city.online_sellers: resident_buyer_share x base_yuan = {settings.resident_buyer_share * settings.base_yuan:,.0f} "
            f"yuan exceeds all the residents' online purchases the model expects in {settings.base_year} "
            f"({expected_resident_online:,.0f} yuan); accepted: a share at most {expected_resident_online / settings.base_yuan:.3f}")
    return share


def outside_daily_yuan(settings: OnlineSellerSettings, dates, growth_shock: float) -> np.ndarray:
    """Local sellers' online sales to buyers outside the city, by day (yuan)."""
    growth = settings.outside_growth_per_year + settings.outside_growth_sigma * growth_shock
    middle = year_middle(settings.base_year)
    years = np.array([(d - middle).days / DAYS_PER_YEAR for d in dates])
    return (1.0 - settings.resident_buyer_share) * settings.base_yuan / DAYS_PER_YEAR * (1.0 + growth) ** years


def local_sellers_online_sales(resident_daily: np.ndarray, dates, settings: OnlineSellerSettings, share: float,
                               growth_shock: float) -> np.ndarray:
    """网络零售额 by day (yuan): λ times residents' online purchases plus outside buyers' purchases."""
    return share * np.asarray(resident_daily, dtype=float) + outside_daily_yuan(settings, dates, growth_shock)


class OnlineSellers:
    """The rule applied to a finished run.

    Attributes:
        settings: the city's ``[city.online_sellers]``.
        share: λ, fixed from the model's expectations (the same in a run and its counterfactual).
        growth_shock: this replication's standard-normal draw for outside buyers' growth.
    """

    def __init__(self, model):
        self.settings: OnlineSellerSettings = model.scenario.city.online_sellers
        self.share = local_seller_share(self.settings, expected_resident_online_yuan(model, self.settings.base_year))
        self.growth_shock = float(model.streams.get("online_sellers").standard_normal())

    def daily(self, model, books=None) -> np.ndarray:
        """网络零售额 of the city's sellers by day of ``books`` (the horizon's by default), yuan."""
        books = model.books if books is None else books
        dates = model.simulated_dates[: books.days]
        return local_sellers_online_sales(resident_online_daily(books, model.households.n_cells), dates,
                                          self.settings, self.share, self.growth_shock)


def online_sellers_of(model) -> OnlineSellers | None:
    """The rule for ``model``'s city (built once per run), or None when the city gives no 网络零售额 statistic."""
    if model.scenario.city.online_sellers is None:
        return None
    rule = getattr(model, "_online_sellers", None)
    if rule is None:
        rule = OnlineSellers(model)
        model._online_sellers = rule
    return rule
