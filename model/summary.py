"""Summarising runs: headline figures of a replication, targets, intervals across replications, daily series.

``replication_summary`` turns one policy/no-policy pair into the figures of ``summary.json`` (all
money in yuan): retail sales with and without the policy, outlay by tool and funding level,
leverage, each tool's own figures (its kind adds its own, ``ToolEffect.summary``), who benefits,
and each target: its simulated value with and without the plan, whether it is met with and without
it, and what the plan adds in percentage points (``contribution_pp``). A growth target is the
period's level over the simulated level of its prior period (the same dates a year earlier) in the
same replication (``prior_level``); a published base figure never enters it. Over replications,
each value becomes a mean with its 90% interval and each verdict a probability; since every
replication draws its own 社零 trend path (``model/trend.py``), the probabilities include what the
trend leaves open. ``combine_replications`` gives each figure as a mean and a 90%
interval across replications; ``daily_frames`` the tidy daily tables written as Parquet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from model.economy import CityEconomy
from model.households import N_QUINTILES
from model.rules.above_quota import above_quota_of, new_units_by_year
from model.rules.online_sellers import online_sellers_of
from model.scenario import Target
from model.sectors import CHANNELS, FLOW_SECTORS, NON_RETAIL, SECTOR_INDEX, SECTORS, SIZE_CLASSES
from model.simulation import PairResult

#: Target indicators that are a fraction of a whole (their contribution is a difference of fractions).
SHARE_INDICATORS = ("share_stores_open_24h",)

GOODS_SECTORS = [SECTOR_INDEX[s] for s in SECTORS if s not in ("catering",)]
NON_DURABLE_FLOW = [SECTOR_INDEX[s] for s in ("daily_goods", "catering", "fuel", "night_market")]


#: What each uplift and leverage figure of ``summary.json`` counts (repeated in README and scenarios/FORMAT.md).
FIGURE_DEFINITIONS = {
    "retail_sales_uplift": "extra 社零 within the horizon (start_date to end_date): policy run minus no-policy run",
    "retail_sales_uplift_with_payback": "extra 社零 from start_date to each replication's payback end "
                                        "(payback_end_dates; payback_end_date is the latest): the horizon plus the "
                                        "months after the last tool in which pulled-forward purchases are missing and "
                                        "windfalls are still spent",
    "net_leverage": "retail_sales_uplift / government_outlay (horizon)",
    "net_leverage_with_payback": "retail_sales_uplift_with_payback / government_outlay (after payback)",
    "gross_leverage": "supported sales / government_outlay (拉动比): 社零 in transactions the tools paid for, each "
                      "transaction once however many tools paid for it (horizon)",
    "tools.*.supported_sales": "社零 the tool paid for: voucher: whole ticket of each transaction that used one; "
                               "car_subsidy, appliance_trade_in: price less merchant discount of each subsidised unit; "
                               "night_market: night sales of the merchants that received its allowance on the nights "
                               "they received it, and transactions that used its consumer discount; "
                               "tourism_voucher: catering and goods spending of visits that used one; "
                               "resident_tourism: meals and goods of residents' trips that used a voucher; "
                               "sports_voucher: sports goods of purchases that used one; "
                               "morning_market: market transactions that used its discount",
    "tools.*.supported_non_retail_sales": "tourism_voucher: lodging and tickets of visits that used one; "
                                          "resident_tourism: of residents' trips that used a voucher; "
                                          "sports_voucher: services of purchases that used one (not 社零)",
    "tools.*.gross_leverage": "tools.*.supported_sales / tools.*.outlay",
    "government_outlay": "all the tools paid, including vouchers valid at end_date and redeemed after it",
    "targets.*.policy": "the target's indicator with the plan (targets.*.baseline: without); a growth target is the "
                        "period's level over the simulated level of its prior period (the same dates a year earlier) in "
                        "the same replication, minus one, never over a published base figure",
    "targets.*.met": "whether the target is met with the plan (met_without_policy: without); over several "
                     "replications, the share of replications in which it is (probability), which includes what the "
                     "社零 trend leaves open when the scenario gives its forecast error",
    "targets.*.contribution_pp": "what the plan adds, in percentage points: policy growth minus no-policy growth for "
                                 "a growth target; policy share minus no-policy share for a share target "
                                 "(share_stores_open_24h); policy level over no-policy level, minus one, for a "
                                 "level or count target",
    "tools.*.pacing": "paced tools only: outlay by tranche (keyed by release date), lapsed (unspent tranche money "
                      "closed by the next release, without carry-over), merchants_at_cap and merchants_paid (with a "
                      "per-merchant cap)",
    "above_quota_units": "merchants (shops, restaurants, stalls; not wholesalers, hotels or car dealers) at or above "
                         "the 限额以上 revenue threshold in the base year (at_base), and those below it then whose "
                         "annualised sales reach it in each horizon year (new_units, with and without the policy; "
                         "model/rules/above_quota.py)",
    "districts": "by county or district: 社零 bought by its households with and without the policy, the uplift and "
                 "its share of the baseline (visitors and institutions have no district)",
    "county_ranking": "scenarios with [county_ranking]: each county's rank by uplift share (1 = largest; across "
                      "replications its mean and interval), whether the top_n reward reaches it (across "
                      "replications, the probability), and the rewards' cost (not in government_outlay)",
    "stores_open_24h": "convenience stores (daily-goods shops of at most 200 m²) and the share of them open 24 hours "
                       "(open late each of the last 28 nights, model/rules/night_economy.py) on the horizon's last "
                       "night and on average over its nights, with and without the policy",
    "seller_online_retail": "网络零售额 as the statistics count it: online sales by the city's own sellers to buyers "
                            "anywhere (horizon), with and without the policy; local_seller_share is the share of "
                            "residents' online purchases bought from them (model/rules/online_sellers.py)",
}


def _retail_in(model: CityEconomy, start: dt.date | None = None, end: dt.date | None = None) -> np.ndarray:
    """Daily 社零 (days,) between two dates (whole horizon by default)."""
    daily = model.books.retail.sum(axis=(1, 2, 3, 4))
    if start is None:
        return daily
    a = (start - model.scenario.start).days
    b = (end - model.scenario.start).days
    return daily[a: b + 1]


def _period_slice(model: CityEconomy, start: dt.date, end: dt.date) -> slice:
    return slice((start - model.scenario.start).days, (end - model.scenario.start).days + 1)


def _indicator_sum(target: Target, model: CityEconomy, start: dt.date, end: dt.date) -> float:
    """The 社零 (or online 社零) a growth or level target counts, from ``start`` to ``end`` within ``model``'s days."""
    a = max((start - model.scenario.start).days, 0)
    b = min((end - model.scenario.start).days + 1, model.books.retail.shape[0])
    if b <= a:
        return 0.0
    if target.indicator.startswith("seller_online_retail"):
        return float(online_sellers_of(model).daily(model)[a:b].sum())
    retail = model.books.retail[a:b]
    if target.indicator.startswith("online_retail"):
        return float(retail[:, :, GOODS_SECTORS, CHANNELS.index("online")].sum())
    return float(retail.sum())


def prior_level(target: Target, model: CityEconomy, prior: CityEconomy | None = None) -> float | None:
    """The simulated level of a growth target's prior period (``Target.prior_period``) in this replication.

    Days of the prior period within the horizon come from ``model`` itself (so a policy that acted in
    them counts); days before it from ``prior``, the replication's no-policy run of the days before the
    horizon (``simulation.prior_period_run``). None for targets that are not growth targets.

    Raises:
        ValueError: the prior period starts before the horizon and no prior-period run is given.
    """
    period = target.prior_period
    if period is None:
        return None
    start, end = period
    level = _indicator_sum(target, model, start, end)
    if start < model.scenario.start:
        if prior is None or prior.scenario.start > start:
            raise ValueError(f"target {target.name}: its prior period {start} to {end} starts before the horizon "
                             f"({model.scenario.start}) and no run of those days was given")
        level += _indicator_sum(target, prior, start, min(end, model.scenario.start - dt.timedelta(days=1)))
    return level


def evaluate_target(target: Target, model: CityEconomy, prior: CityEconomy | None = None) -> float | None:
    """The simulated value of a target's indicator in ``model`` (None when out of scope).

    A growth target is the level of its period over the simulated level of its prior period in the same
    replication (``prior_level``), minus one: a published base statistic never enters it.
    """
    if target.indicator == "out_of_scope":
        return None
    books = model.books
    sl = _period_slice(model, target.period_start, target.period_end)
    if target.indicator in ("retail_sales_growth", "retail_sales_level", "online_retail_level", "online_retail_growth",
                            "seller_online_retail_level", "seller_online_retail_growth"):
        level = _indicator_sum(target, model, target.period_start, target.period_end)
    elif target.indicator == "above_quota_new_units":
        return float(above_quota_of(model).crossings(books, sl.start, sl.stop - 1)[0])
    elif target.indicator == "share_stores_open_24h":
        return _share_open_24h(model, sl.stop - 1)
    elif target.indicator == "tourism_revenue_level":
        level = float(books.retail[sl][:, model.visitor_cell].sum() + books.non_retail[sl].sum())
    else:  # per-capita consumption, urban or rural
        urban = target.indicator.endswith("_urban")
        hh = model.households
        mask = hh.urban == urban
        persons = float(hh.size[mask].sum()) * hh.weight
        days = sl.stop - sl.start
        # Normal consumption grows with income and moves with this replication's trend draw; plus how far
        # these households' spending in the non-durable flow sectors departed from its normal path (vouchers,
        # windfalls, calendar, conditions). Cars and appliances are left at their normal level: their sector
        # mixes durable events with flows.
        index = float((model.income_index[sl] * model.trend_shock[sl]).mean())
        normal = float(hh.consumption_month_yuan[mask].sum()) * hh.weight * 12.0 * days / 365.0 * index
        cells = np.unique(hh.cell[mask])
        retail = float(books.retail[sl][:, cells][:, :, NON_DURABLE_FLOW].sum())
        cols = [FLOW_SECTORS.index(SECTORS[i]) for i in NON_DURABLE_FLOW]
        expected = float(model.flow.base_yuan[cells][:, cols].sum()) * float(model.demand_index[sl].sum()) * \
            float(model.seasonality[sl][:, NON_DURABLE_FLOW].mean())
        return (normal + retail - expected) / max(persons, 1.0)
    if target.indicator.endswith("_growth"):
        return level / prior_level(target, model, prior) - 1.0
    return level


def target_met(target: Target, value: float | None) -> bool | None:
    """Whether a simulated value meets the target."""
    if value is None or target.value is None:
        return None
    return bool(value >= target.value)


def contribution_pp(target: Target, value_policy: float | None, value_baseline: float | None) -> float | None:
    """What the plan adds to a target's indicator, in percentage points: of growth for a growth target
    (policy growth minus no-policy growth); of the share for a share target (policy share minus no-policy
    share: 1% of stores open 24 hours against 2% is one point, not 100%); of the no-policy level for a level
    or count target (so the same number as the growth it adds when the prior period is the same)."""
    if value_policy is None or value_baseline is None:
        return None
    if target.indicator.endswith("_growth") or target.indicator in SHARE_INDICATORS:
        return 100.0 * (value_policy - value_baseline)
    return 100.0 * (value_policy / value_baseline - 1.0) if value_baseline else None


def _budget_exhausted(model: CityEconomy, name: str) -> str | None:
    fund = model.funds.get(name)
    if fund is None or fund.exhausted_day is None:
        return None
    return model.date(fund.exhausted_day).isoformat()


def _pacing(fund, tool) -> dict[str, Any]:
    """What a paced pool released, paid and let lapse, by tranche, and how many merchants reached their cap."""
    out: dict[str, Any] = {
        "paid_by_tranche": {d.isoformat(): float(p) for (d, _), p in zip(tool.tranches, fund.paid_by_tranche)}
        if tool.tranches else None,
        "lapsed": fund.lapsed_yuan,
        "merchants_at_cap": None, "merchants_paid": None,
    }
    if tool.per_merchant_cap_yuan is not None:
        paid = fund.paid_by_merchant
        out["merchants_at_cap"] = int((paid >= tool.per_merchant_cap_yuan * (1 - 1e-9)).sum())
        out["merchants_paid"] = int((paid > 0).sum())
    return out


def district_results(pol: CityEconomy, base: CityEconomy) -> dict[str, dict[str, float | None]]:
    """社零 bought by each district's households, with and without the policy, and the uplift (yuan; share of
    the baseline). Households shop where they live in the model; visitors' and institutions' purchases have no
    district and are left out."""
    hh = pol.households
    district_of_cell, _, _ = hh.cell_parts(hh.n_districts)
    p = pol.books.retail.sum(axis=(0, 2, 3, 4))[: hh.n_cells]
    b = base.books.retail.sum(axis=(0, 2, 3, 4))[: hh.n_cells]
    out = {}
    for i, district in enumerate(pol.scenario.city.districts):
        mask = district_of_cell == i
        policy, baseline = float(p[mask].sum()), float(b[mask].sum())
        out[district.name] = {"retail_sales_baseline": baseline, "retail_sales_policy": policy,
                              "retail_sales_uplift": policy - baseline,
                              "uplift_share": (policy - baseline) / baseline if baseline > 0 else None}
    return out


def county_ranking(districts: dict[str, dict[str, float | None]], top_n: int, reward_yuan: float | None
                   ) -> dict[str, Any]:
    """Counties ranked by their 社零 uplift share (1 = largest), which of them the top-``top_n`` reward reaches,
    and what the rewards cost. Ties keep the file's order."""
    order = sorted(districts, key=lambda d: -(districts[d]["uplift_share"] or 0.0))
    rank = {d: order.index(d) + 1 for d in districts}
    return {"rank": rank, "rewarded": {d: rank[d] <= top_n for d in districts},
            "reward_outlay": top_n * reward_yuan if reward_yuan is not None else None}


def _districts_and_ranking(pol: CityEconomy, base: CityEconomy) -> dict[str, Any]:
    districts = district_results(pol, base)
    ranking = pol.scenario.county_ranking
    out: dict[str, Any] = {"districts": districts}
    if ranking is not None:
        out["county_ranking"] = county_ranking(districts, ranking.top_n, ranking.reward_yuan)
    return out


def _share_open_24h(model: CityEconomy, day: int) -> float | None:
    """Share of the city's convenience stores open 24 hours on night ``day`` (None when it has none)."""
    stores = int(model.night.convenience.sum())
    return float(model.books.stores_open_24h[day]) / stores if stores else None


def _mean_share_24h(model: CityEconomy) -> float | None:
    """Average over the horizon's nights of the share of convenience stores open 24 hours."""
    stores = int(model.night.convenience.sum())
    return float(model.books.stores_open_24h.mean()) / stores if stores else None


def _above_quota_units(pol: CityEconomy, base: CityEconomy) -> dict[str, Any]:
    """Merchants at or above the 限额以上 threshold at base, and those entering it in each horizon year."""
    policy, baseline = new_units_by_year(pol), new_units_by_year(base)
    return {"at_base": above_quota_of(pol).above_at_base(),
            "new_units": {year: {"policy": policy[year], "baseline": baseline[year]} for year in policy}}


def _seller_online_retail(pol: CityEconomy, base: CityEconomy) -> dict[str, Any]:
    """网络零售额 of the city's own sellers over the horizon, with and without the policy (cities that give it)."""
    rule = online_sellers_of(pol)
    if rule is None:
        return {}
    policy, baseline = float(rule.daily(pol).sum()), float(online_sellers_of(base).daily(base).sum())
    return {"seller_online_retail": {"policy": policy, "baseline": baseline, "uplift": policy - baseline,
                                     "local_seller_share": rule.share}}


def replication_summary(pair: PairResult) -> dict[str, Any]:
    """The headline figures of one replication (all money in yuan)."""
    pol, base = pair.policy, pair.baseline
    scenario = pol.scenario
    retail_policy = float(pol.books.retail.sum())
    retail_base = float(base.books.retail.sum())
    uplift = retail_policy - retail_base
    retail_base_with_payback = float(base.books_with_payback.retail.sum())
    uplift_with_payback = float(pol.books_with_payback.retail.sum()) - retail_base_with_payback
    outlay = float(sum(f.paid_yuan for f in pol.funds.values()))
    supported = float(pol.books.supported_any.sum())  # each transaction once, however many tools paid for it
    cofunding = float(sum(a.sum() for a in pol.books.merchant_cofunding.values()))
    by_level: dict[str, float] = {}
    for fund in pol.funds.values():
        for level, paid in fund.paid_by_level.items():
            by_level[level] = by_level.get(level, 0.0) + paid

    tools = {}
    alone_total = 0.0
    for name, tool in scenario.tools.items():
        fund = pol.funds[name]
        entry: dict[str, Any] = {
            "kind": tool.kind,
            "budget": tool.budget_yuan,
            "outlay": fund.paid_yuan,
            "outlay_by_level": dict(fund.paid_by_level),
            "merchant_cofunding": float(pol.books.merchant_cofunding.get(name, np.zeros(1)).sum()),
            "budget_exhausted_date": _budget_exhausted(pol, name),
            "supported_sales": float(pol.books.supported_sales.get(name, np.zeros(1)).sum()),
        }
        if name in pol.books.supported_non_retail:
            entry["supported_non_retail_sales"] = pol.books.supported_non_retail[name]
        entry["gross_leverage"] = entry["supported_sales"] / fund.paid_yuan if fund.paid_yuan > 0 else None
        alone = pair.tool_alone.get(name, pol if len(scenario.tools) == 1 else None)
        if alone is not None:
            tool_uplift = float(alone.books.retail.sum()) - retail_base
            alone_total += tool_uplift
            alone_outlay = alone.funds[name].paid_yuan
            entry["uplift"] = tool_uplift
            entry["net_leverage"] = tool_uplift / alone_outlay if alone_outlay > 0 else None
            tool_uplift_with_payback = float(alone.books_with_payback.retail.sum()) - retail_base_with_payback
            entry["uplift_with_payback"] = tool_uplift_with_payback
            entry["net_leverage_with_payback"] = tool_uplift_with_payback / alone_outlay if alone_outlay > 0 else None
            entry["outlay_when_alone"] = alone_outlay
        if name in pol.books.vouchers:
            c = pol.books.vouchers[name]
            entry["vouchers"] = {
                "issued": float(c.issued.sum()), "redeemed": float(c.redeemed.sum()),
                "expired": float(c.expired.sum()), "outstanding": float(c.outstanding[-1]),
                "redemption_rate": float(c.redeemed.sum() / c.issued.sum()) if c.issued.sum() > 0 else None,
            }
        if tool.tranches or tool.per_merchant_cap_yuan is not None:
            entry["pacing"] = _pacing(fund, tool)
        pol.tool_effects[name].summary(entry)
        tools[name] = entry

    hh = pol.households
    n_hh_cells = hh.n_cells
    _, urban_of_cell, quintile_of_cell = hh.cell_parts(hh.n_districts)
    cell_uplift = (pol.books.retail.sum(axis=(0, 2, 3, 4)) - base.books.retail.sum(axis=(0, 2, 3, 4)))[:n_hh_cells]
    benefit = pol.books.household_benefit[:n_hh_cells]
    total_benefit = float(benefit.sum())

    def shares(values: np.ndarray) -> dict[str, float | None]:
        total = float(values.sum())
        out = {f"Q{q + 1}": (float(values[quintile_of_cell == q].sum()) / total if total else None) for q in range(N_QUINTILES)}
        out["rural"] = float(values[urban_of_cell == 0].sum()) / total if total else None
        out["urban"] = float(values[urban_of_cell == 1].sum()) / total if total else None
        return out

    targets = {}
    for name, target in scenario.targets.items():
        value_p = evaluate_target(target, pol, pair.prior)
        value_b = evaluate_target(target, base, pair.prior)
        entry = {
            "indicator": target.indicator, "target": target.value,
            "policy": value_p, "baseline": value_b,
            "met": target_met(target, value_p), "met_without_policy": target_met(target, value_b),
            "contribution_pp": contribution_pp(target, value_p, value_b),
        }
        if target.prior_period is not None:
            entry["judged_against"] = (f"simulated {target.prior_period[0]} to {target.prior_period[1]} of the same "
                                       "replication (with the policy for the policy run, without for the other)")
            entry["prior_policy"] = prior_level(target, pol, pair.prior)
            entry["prior_baseline"] = prior_level(target, base, pair.prior)
            entry["published_prior_yuan"] = target.base_value_yuan
        entry.update({"description": target.description, "out_of_scope_reason": target.out_of_scope_reason})
        targets[name] = entry

    non_retail_uplift = {k: float(pol.books.non_retail[:, i].sum() - base.books.non_retail[:, i].sum())
                         for i, k in enumerate(NON_RETAIL)}
    # What the voucher platform's data show: its share of every sale, the sales paid wholly through it and
    # the planned purchases moved onto it to use app vouchers (channel switching, new to the platform only).
    platform_uplift = float(pol.books.platform_sales.sum() - base.books.platform_sales.sum())
    switching = float(pol.books.channel_switching.sum() - base.books.channel_switching.sum())
    wholly = float(pol.books.platform_only_sales.sum() - base.books.platform_only_sales.sum())
    other_channels = (1.0 - pol.books.platform_payment_share) * (uplift - wholly)
    size_uplift = (pol.books.retail.sum(axis=(0, 1, 2, 3)) - base.books.retail.sum(axis=(0, 1, 2, 3)))
    return {
        "retail_sales_baseline": retail_base,
        "retail_sales_policy": retail_policy,
        "retail_sales_uplift": uplift,
        "retail_sales_uplift_share": uplift / retail_base if retail_base else None,
        "retail_sales_uplift_with_payback": uplift_with_payback,
        "government_outlay": outlay,
        "government_outlay_by_level": by_level,
        "merchant_cofunding": cofunding,
        "gross_leverage": supported / outlay if outlay > 0 else None,
        "net_leverage": uplift / outlay if outlay > 0 else None,
        "net_leverage_with_payback": uplift_with_payback / outlay if outlay > 0 else None,
        "platform": {"measured_uplift": platform_uplift, "channel_switching": switching,
                     "uplift_paid_through_other_channels": other_channels},
        "uplift_above_quota_share": float(size_uplift[0] / uplift) if uplift > 0 else None,
        "uplift_by_sector": {s: float(pol.books.retail[:, :, i].sum() - base.books.retail[:, :, i].sum())
                             for i, s in enumerate(SECTORS)},
        "non_retail_uplift": non_retail_uplift,
        "tools": tools,
        "tool_interaction_uplift": (uplift - alone_total) if len(scenario.tools) > 1 and pair.tool_alone else None,
        "household_benefit": total_benefit,
        "benefit_share": shares(benefit),
        "uplift_share_by_household_group": shares(cell_uplift),
        "night_merchants_open_per_night": {"policy": float(pol.books.night_merchants_open.mean()),
                                           "baseline": float(base.books.night_merchants_open.mean())},
        "cars_sold": {"policy": float(pol.books.cars_sold.sum()), "baseline": float(base.books.cars_sold.sum())},
        **_seller_online_retail(pol, base),
        "above_quota_units": _above_quota_units(pol, base),
        **_districts_and_ranking(pol, base),
        "stores_open_24h": {"convenience_stores": int(pol.night.convenience.sum()),
                            "share_at_end": {"policy": _share_open_24h(pol, pol.horizon_days - 1),
                                             "baseline": _share_open_24h(base, base.horizon_days - 1)},
                            "share_mean": {"policy": _mean_share_24h(pol), "baseline": _mean_share_24h(base)}},
        "targets": targets,
    }


# ------------------------------------------------------------------ across replications


def _collect(values: list[Any]) -> Any:
    """Combine one figure across replications: numbers → mean and 90% interval; dicts recursively."""
    first = values[0]
    if isinstance(first, dict):
        keys = list(first)
        return {k: _collect([v.get(k) for v in values]) for k in keys}
    if isinstance(first, bool) or first is None or isinstance(first, str):
        if all(isinstance(v, bool) for v in values):
            return {"probability": float(np.mean(values))}
        return first
    if isinstance(first, (int, float)):
        nums = np.array([np.nan if v is None else float(v) for v in values])
        return {"mean": float(np.nanmean(nums)), "p05": float(np.nanpercentile(nums, 5)),
                "p95": float(np.nanpercentile(nums, 95))}
    return first


def combine_replications(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One replication: its figures as they are; several: each figure as a mean and a 90% interval."""
    if len(summaries) == 1:
        return summaries[0]
    return _collect(summaries)


# ------------------------------------------------------------------ tidy daily series


def daily_frames(pair: PairResult, replication: int) -> dict[str, pd.DataFrame]:
    """Tidy daily series of one replication: retail by breakdown, outlay, vouchers, activity."""
    pol, base = pair.policy, pair.baseline
    hh = pol.households
    dates = pd.to_datetime(pd.Series(pol.dates))
    days = len(dates)
    district_of_cell, urban_of_cell, quintile_of_cell = hh.cell_parts(hh.n_districts)
    names = [d.name for d in pol.scenario.city.districts]
    extra = ["visitors", "institutions"]
    location = [f"{names[d]}/{'urban' if u else 'rural'}" for d, u in zip(district_of_cell, urban_of_cell)] + extra
    district = [names[d] for d in district_of_cell] + extra
    urban_rural = ["urban" if u else "rural" for u in urban_of_cell] + extra
    quintile = [f"Q{q + 1}" for q in quintile_of_cell] + extra

    def by_cells(arr: np.ndarray, labels: list[str]) -> tuple[list[str], np.ndarray]:
        cats = list(dict.fromkeys(labels))
        idx = np.array([cats.index(x) for x in labels])
        out = np.zeros((arr.shape[0], len(cats)))
        for j in range(len(cats)):
            out[:, j] = arr[:, idx == j].sum(axis=1)
        return cats, out

    pieces = []

    def add(dimension: str, cats: list[str], p: np.ndarray, b: np.ndarray) -> None:
        k = len(cats)
        pieces.append(pd.DataFrame({
            "date": np.repeat(dates.values, k), "replication": replication, "dimension": dimension,
            "category": np.tile(np.array(cats, dtype=object), days),
            "retail_sales_baseline": b.reshape(-1), "retail_sales_policy": p.reshape(-1),
        }))

    P, B = pol.books.retail, base.books.retail
    add("total", ["all"], P.sum(axis=(1, 2, 3, 4))[:, None], B.sum(axis=(1, 2, 3, 4))[:, None])
    add("sector", list(SECTORS), P.sum(axis=(1, 3, 4)), B.sum(axis=(1, 3, 4)))
    add("channel", list(CHANNELS), P.sum(axis=(1, 2, 4)), B.sum(axis=(1, 2, 4)))
    add("size_class", list(SIZE_CLASSES), P.sum(axis=(1, 2, 3)), B.sum(axis=(1, 2, 3)))
    pc, bc = P.sum(axis=(2, 3, 4)), B.sum(axis=(2, 3, 4))
    for dimension, labels in (("location", location), ("district", district), ("urban_rural", urban_rural),
                              ("income_quintile", quintile)):
        cats, pv = by_cells(pc, labels)
        _, bv = by_cells(bc, labels)
        add(dimension, cats, pv, bv)
    retail = pd.concat(pieces, ignore_index=True)
    retail["retail_sales_uplift"] = retail["retail_sales_policy"] - retail["retail_sales_baseline"]
    retail["dimension"] = retail["dimension"].astype("category")

    rows = []
    # Outlay by date runs to the last payment: a voucher still valid at the horizon's end may be redeemed after it.
    paying = [np.flatnonzero(f.daily_outlay)[-1] + 1 for f in pol.funds.values() if f.daily_outlay.any()]
    outlay_days = max([days] + paying)
    outlay_dates = pd.to_datetime(pd.Series(pol.simulated_dates[:outlay_days]))
    for name, fund in pol.funds.items():
        total = fund.paid_yuan
        for level, paid in fund.paid_by_level.items():
            share = paid / total if total > 0 else 0.0
            rows.append(pd.DataFrame({"date": outlay_dates.values, "replication": replication, "tool": name,
                                      "level": level, "outlay_yuan": fund.daily_outlay[:outlay_days] * share}))
    outlay = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["date", "replication", "tool", "level", "outlay_yuan"])

    vrows = []
    for name, c in pol.books.vouchers.items():
        vrows.append(pd.DataFrame({"date": dates.values, "replication": replication, "tool": name,
                                   "issued": c.issued, "redeemed": c.redeemed, "expired": c.expired,
                                   "outstanding": c.outstanding, "gross_spending_yuan": c.gross_spending_yuan,
                                   "induced_spending_yuan": c.induced_spending_yuan}))
    vouchers = pd.concat(vrows, ignore_index=True) if vrows else pd.DataFrame(
        columns=["date", "replication", "tool", "issued", "redeemed", "expired", "outstanding",
                 "gross_spending_yuan", "induced_spending_yuan"])

    activity = pd.DataFrame({
        "date": dates.values, "replication": replication,
        "night_merchants_open_policy": pol.books.night_merchants_open,
        "night_merchants_open_baseline": base.books.night_merchants_open,
        "cars_sold_policy": pol.books.cars_sold, "cars_sold_baseline": base.books.cars_sold,
        "appliances_sold_policy": pol.books.appliances_sold, "appliances_sold_baseline": base.books.appliances_sold,
        "lodging_policy": pol.books.non_retail[:, 0], "lodging_baseline": base.books.non_retail[:, 0],
        "tickets_policy": pol.books.non_retail[:, 1], "tickets_baseline": base.books.non_retail[:, 1],
        "merchant_cofunding_yuan": sum(pol.books.merchant_cofunding.values(), np.zeros(days)),
    })
    return {"daily_retail": retail, "daily_outlay": outlay, "daily_vouchers": vouchers, "daily_activity": activity}
