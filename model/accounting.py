"""Books of a run, and the accounting identities checked at its end.

``DailyBooks`` records every sale by day, reporting cell (district x urban or
rural x income quintile, plus visitors and institutions), sector, channel and
merchant size class, and keeps an independent running total so that the
breakdowns can be checked against it. ``check_accounts`` raises
``AccountingError`` when any identity fails:

* outlay never exceeds the budget of any pool, at any funding level;
* pacing: no tranche pays more than was released by then (or, without carry-over, than its own
  amount), what lapsed is what closed tranches left, no merchant receives more than its cap;
* outlay equals the payments made to merchants and households;
* each tool kind's own identities (``ToolEffect.account_problems``), e.g. vouchers
  issued = redeemed + expired + outstanding;
* no household's savings are negative;
* breakdown sums equal totals;
* savings: the change in households' liquid savings = income − consumption −
  transfers to other wealth − cash paid for durables + cash vouchers saved −
  windfalls set aside for spending (``SavingsLedger``);
* durables: planned purchases made − matured − brought forward (by subsidies, by windfalls) = planned
  now; entered the market − bought = in the market now; purchases = units sold in the books
  (``DurableMarket.account_problems``);
* deferred spending scheduled = realised + beyond the last simulated day + lost
  to the floor (a cell cannot spend less than nothing);
* outlay of every voucher tool = face value × vouchers redeemed + what stored-value vouchers not spent
  in full drew;
* sales through the issuing payment platform = its share of every sale + the rest of each sale
  paid wholly through it (voucher transactions) + channel switching (planned purchases moved onto
  the platform to use a voucher);
* sales each tool supported, and the scenario's supported sales, are no more
  than the sales of the sectors they belong to.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field

import numpy as np

from model.sectors import CHANNELS, NON_RETAIL, SECTORS, SIZE_CLASSES

#: Relative tolerance of the identities (floating-point sums over millions of rows).
RELATIVE_TOLERANCE = 1e-9


class AccountingError(RuntimeError):
    """An accounting identity failed at the end of a run."""


@dataclass
class VoucherCounts:
    """Daily voucher flows of one tool (real vouchers, weighted).

    Attributes:
        issued, redeemed, expired: vouchers per day.
        outstanding: vouchers held at the end of each day.
        gross_spending_yuan: all spending in transactions that used a voucher, per day.
        induced_spending_yuan: spending in those transactions above what was planned, per day.
        partial_value_yuan: value drawn from stored-value vouchers not (yet) spent in full, per day: each
            draw counts here until its voucher is spent in full, when the voucher's earlier draws move into
            face value x redeemed (a negative entry). Zero for vouchers used whole.
    """

    issued: np.ndarray
    redeemed: np.ndarray
    expired: np.ndarray
    outstanding: np.ndarray
    gross_spending_yuan: np.ndarray
    induced_spending_yuan: np.ndarray
    partial_value_yuan: np.ndarray

    @classmethod
    def zeros(cls, days: int) -> "VoucherCounts":
        return cls(*(np.zeros(days) for _ in cls.__dataclass_fields__))


@dataclass
class SavingsLedger:
    """Every flow into and out of households' liquid savings during a run (sample rows, yuan, unweighted).

    Attributes:
        start_yuan: savings of all rows at the start.
        income_yuan: disposable income received.
        consumption_yuan: normal consumption other than durables paid from it.
        transfers_yuan: moved to (or, when negative, drawn from) other wealth: deposits, housing, pensions.
        durable_cash_yuan: cash paid for cars (down payments) and appliances.
        voucher_cash_yuan: cash a voucher saved (or, when negative, cost beyond its face value).
        windfall_spent_yuan: cash set aside to be spent over the following weeks.
    """

    start_yuan: float
    income_yuan: float = 0.0
    consumption_yuan: float = 0.0
    transfers_yuan: float = 0.0
    durable_cash_yuan: float = 0.0
    voucher_cash_yuan: float = 0.0
    windfall_spent_yuan: float = 0.0

    def expected_change(self) -> float:
        """Savings at the end less at the start, from the flows."""
        return (self.income_yuan - self.consumption_yuan - self.transfers_yuan - self.durable_cash_yuan
                + self.voucher_cash_yuan - self.windfall_spent_yuan)

    def size(self) -> float:
        """Scale of the flows, for the identity's tolerance."""
        return max(abs(self.start_yuan), abs(self.income_yuan), abs(self.consumption_yuan), abs(self.transfers_yuan),
                   abs(self.durable_cash_yuan), abs(self.voucher_cash_yuan), abs(self.windfall_spent_yuan), 1.0)


@functools.lru_cache(maxsize=64)
def _runs(sectors: tuple[int, ...]) -> tuple[tuple[int, int, int], ...]:
    """Consecutive runs of sector indices: (first, one past the last, position of the first in ``sectors``)."""
    if len(set(sectors)) != len(sectors):
        raise ValueError(f"sectors booked twice in one call: {sectors}")
    runs = []
    for at, sector in enumerate(sectors):
        if runs and sector == runs[-1][1]:
            runs[-1][1] += 1
        else:
            runs.append([sector, sector + 1, at])
    return tuple(tuple(r) for r in runs)


@dataclass
class DailyBooks:
    """Everything a run records, by day.

    Attributes:
        retail: 社零 sales (days, cells, sectors, channels, size classes), yuan.
        non_retail: lodging and tickets (days, 2), yuan; not in 社零.
        retail_running_total: the same sales summed as they were booked (days,), for the check.
        vouchers: voucher flows by tool.
        merchant_cofunding: merchant-funded discounts by tool (days,), yuan.
        household_benefit: subsidies and voucher value received, by household cell (yuan).
        household_benefit_by_row: the part of it paid to identified households, per simulated household
            (yuan received by each household it stands for: vouchers redeemed and purchase subsidies with
            their merchant discounts). Night-market discounts are booked by cell only; see model/distribution.py.
        night_merchants_open: merchants open late per night.
        stores_open_24h: convenience stores open 24 hours per night (``rules/night_economy.py``).
        cars_sold, appliances_sold: units per day (real, weighted).
        subsidised_units: units sold with a subsidy, by tool (days,).
        supported_sales: by tool, 社零 sales the tool paid for (days, sectors), yuan: the numerator of the
            gross leverage (拉动比) governments publish. Vouchers: the whole ticket of each transaction that
            used one; purchase subsidies: the price (less any merchant discount) of each subsidised unit;
            night allowances: the night sales of the merchants that received one, on the nights they did;
            night consumer discounts: the transactions that used one; tourism vouchers: the catering and
            goods spending of the visits that used one.
        supported_any: the same for the whole scenario, each transaction once (days, sectors): a car
            paid for by a subsidy and a car voucher counts once.
        supported_non_retail: by tool, lodging and tickets of visits that used a tourism voucher (yuan);
            never in 社零 figures.
        platform_payment_share: share of every sale paid through the payment platform app vouchers are
            issued on (behaviour ``voucher_platform_share``).
        platform_sales: sales paid through that platform (days,), yuan: what a study using the
            platform's data sees. The platform's share of every sale, plus the rest of sales paid wholly
            through it (``platform_only_sales``), plus ``channel_switching``.
        platform_only_sales: sales paid wholly through the platform (the extra spending in transactions
            that used an app voucher) (days,), yuan.
        channel_switching: planned purchases that would have been paid through another channel and were
            paid through the platform to use an app voucher (days,), yuan: new to the platform, not to 社零.
    """

    days: int
    n_cells: int
    n_households: int = 0
    retail: np.ndarray = field(init=False)
    non_retail: np.ndarray = field(init=False)
    retail_running_total: np.ndarray = field(init=False)
    vouchers: dict[str, VoucherCounts] = field(default_factory=dict)
    merchant_cofunding: dict[str, np.ndarray] = field(default_factory=dict)
    household_benefit: np.ndarray = field(init=False)
    household_benefit_by_row: np.ndarray = field(init=False)
    night_merchants_open: np.ndarray = field(init=False)
    stores_open_24h: np.ndarray = field(init=False)
    cars_sold: np.ndarray = field(init=False)
    appliances_sold: np.ndarray = field(init=False)
    subsidised_units: dict[str, np.ndarray] = field(default_factory=dict)
    supported_sales: dict[str, np.ndarray] = field(default_factory=dict)
    supported_any: np.ndarray = field(init=False)
    supported_non_retail: dict[str, float] = field(default_factory=dict)
    platform_payment_share: float = 0.0
    platform_sales: np.ndarray = field(init=False)
    platform_only_sales: np.ndarray = field(init=False)
    channel_switching: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.platform_sales = np.zeros(self.days)
        self.platform_only_sales = np.zeros(self.days)
        self.channel_switching = np.zeros(self.days)
        self.supported_any = np.zeros((self.days, len(SECTORS)))
        self.retail = np.zeros((self.days, self.n_cells, len(SECTORS), len(CHANNELS), len(SIZE_CLASSES)))
        self.non_retail = np.zeros((self.days, len(NON_RETAIL)))
        self.retail_running_total = np.zeros(self.days)
        self.household_benefit = np.zeros(self.n_cells)
        self.household_benefit_by_row = np.zeros(self.n_households)
        self.night_merchants_open = np.zeros(self.days)
        self.stores_open_24h = np.zeros(self.days)
        self.cars_sold = np.zeros(self.days)
        self.appliances_sold = np.zeros(self.days)

    def book_sales(self, day: int, cells: np.ndarray, sector: int, online: np.ndarray,
                   above_quota_share: float | np.ndarray, amounts_yuan: np.ndarray, on_platform: bool = False) -> None:
        """Book individual sales (one per entry) in one sector, split by size class in proportion.

        ``above_quota_share`` is one share for all entries or one per entry; ``on_platform``: the sales are
        paid wholly through the voucher platform (otherwise its share of them).
        """
        amounts = np.asarray(amounts_yuan, dtype=float)
        if amounts.size == 0:
            return
        total = float(amounts.sum())
        if on_platform:
            self.platform_sales[day] += total
            self.platform_only_sales[day] += total
        else:
            self.platform_sales[day] += self.platform_payment_share * total
        channel = np.asarray(online, dtype=np.int64)
        view = self.retail[day, :, sector]
        np.add.at(view, (cells, channel, 0), amounts * above_quota_share)
        np.add.at(view, (cells, channel, 1), amounts * (1.0 - above_quota_share))
        self.retail_running_total[day] += total  # amounts.sum(), taken once

    def book_sale(self, day: int, cell: int, sector: int, online: bool, above_quota_share: float,
                  amount_yuan: float) -> None:
        """Book one sale (a cell's whole purchase in a sector, e.g. firms' and institutions' or visitors'):
        ``book_sales`` with one entry, the same arithmetic without the array calls."""
        amount = float(amount_yuan)
        self.platform_sales[day] += self.platform_payment_share * amount
        cell_sales = self.retail[day, cell, sector, int(bool(online))]
        cell_sales[0] += amount * above_quota_share
        cell_sales[1] += amount * (1.0 - above_quota_share)
        self.retail_running_total[day] += amount

    def book_flows(self, day: int, amounts: np.ndarray, online_share: np.ndarray, above_quota_share: np.ndarray,
                   sectors: list[int], cell_offset: int = 0) -> None:
        """Book aggregate flows (cells x given sectors) split by online share (same shape) and size (by sector)."""
        n = amounts.shape[0]
        online = amounts * online_share
        shop = amounts - online
        above = above_quota_share[sectors][None, :]
        below = 1 - above
        split = np.empty((n, len(sectors), len(CHANNELS), len(SIZE_CLASSES)))
        np.multiply(shop, above, out=split[:, :, 0, 0])
        np.multiply(shop, below, out=split[:, :, 0, 1])
        np.multiply(online, above, out=split[:, :, 1, 0])
        np.multiply(online, below, out=split[:, :, 1, 1])
        view = self.retail[day, cell_offset: cell_offset + n]  # a view: (cells, sectors, channels, sizes)
        for first, last, at in _runs(tuple(sectors)):  # runs of consecutive sectors: slices, not fancy indexing
            view[:, first: last] += split[:, at: at + last - first]
        total = amounts.sum()
        self.retail_running_total[day] += total
        self.platform_sales[day] += self.platform_payment_share * float(total)

    def switch_to_platform(self, day: int, amount_yuan: float) -> None:
        """Planned purchases (already booked) moved onto the voucher platform from another payment channel."""
        self.platform_sales[day] += amount_yuan
        self.channel_switching[day] += amount_yuan

    def up_to(self, days: int) -> "DailyBooks":
        """The same books for the first ``days`` days only (views, not copies)."""
        out = copy.copy(self)
        out.days = days
        for name in ("retail", "non_retail", "retail_running_total", "night_merchants_open", "stores_open_24h",
                     "cars_sold", "appliances_sold", "supported_any", "platform_sales", "platform_only_sales",
                     "channel_switching"):
            setattr(out, name, getattr(self, name)[:days])
        for name in ("merchant_cofunding", "subsidised_units", "supported_sales"):
            setattr(out, name, {k: v[:days] for k, v in getattr(self, name).items()})
        out.vouchers = {k: VoucherCounts(*(getattr(c, f)[:days] for f in VoucherCounts.__dataclass_fields__))
                        for k, c in self.vouchers.items()}
        return out

    def voucher_counts(self, tool: str) -> VoucherCounts:
        if tool not in self.vouchers:
            self.vouchers[tool] = VoucherCounts.zeros(self.days)
        return self.vouchers[tool]

    def cofunding(self, tool: str) -> np.ndarray:
        if tool not in self.merchant_cofunding:
            self.merchant_cofunding[tool] = np.zeros(self.days)
        return self.merchant_cofunding[tool]

    def supported(self, tool: str) -> np.ndarray:
        """The tool's supported sales (days, sectors)."""
        if tool not in self.supported_sales:
            self.supported_sales[tool] = np.zeros((self.days, len(SECTORS)))
        return self.supported_sales[tool]

    def subsidised(self, tool: str) -> np.ndarray:
        if tool not in self.subsidised_units:
            self.subsidised_units[tool] = np.zeros(self.days)
        return self.subsidised_units[tool]


def amounts_agree(a: float, b: float, scale: float) -> bool:
    """Whether two amounts agree to the identities' tolerance (relative to ``scale``, plus a micro-yuan)."""
    return abs(a - b) <= RELATIVE_TOLERANCE * max(abs(scale), 1.0) + 1e-6


def check_accounts(model) -> None:
    """Check the identities of a finished run; raise ``AccountingError`` naming the one that broke.

    Args:
        model: a ``CityEconomy`` after its last step.
    """
    problems = []
    books = getattr(model, "books_with_payback", model.books)  # every simulated day, once the run has finished
    for fund in model.funds.values():
        if fund.paid_yuan > fund.budget_yuan * (1 + RELATIVE_TOLERANCE) + 1e-6:
            problems.append(f"tool {fund.tool_name}: outlay {fund.paid_yuan:,.2f} exceeds budget {fund.budget_yuan:,.2f}")
        for level, paid in fund.paid_by_level.items():
            if paid > fund.budget_by_level[level] * (1 + RELATIVE_TOLERANCE) + 1e-6:
                problems.append(f"tool {fund.tool_name}: {level} outlay {paid:,.2f} exceeds its budget {fund.budget_by_level[level]:,.2f}")
        payments = sum(fund.paid_by_payee.values())
        if not amounts_agree(payments, fund.paid_yuan, fund.budget_yuan):
            problems.append(f"tool {fund.tool_name}: outlay {fund.paid_yuan:,.2f} differs from payments {payments:,.2f}")
        if not amounts_agree(fund.daily_outlay.sum(), fund.paid_yuan, fund.budget_yuan):
            problems.append(f"tool {fund.tool_name}: daily outlay sums to {fund.daily_outlay.sum():,.2f}, not {fund.paid_yuan:,.2f}")
    for fund in model.funds.values():
        problems.extend(fund.pacing_problems())
    for effect in model.tool_effects.values():
        problems.extend(effect.account_problems())
    lowest = float(model.households.savings_yuan.min()) if model.households.n else 0.0
    if lowest < -1e-6:
        problems.append(f"a household's savings went negative ({lowest:,.2f} yuan)")
    total = books.retail.sum()
    running = books.retail_running_total.sum()
    if not amounts_agree(total, running, running):
        problems.append(f"breakdowns sum to {total:,.2f} but sales booked total {running:,.2f}")
    by_day = books.retail.sum(axis=(1, 2, 3, 4))
    worst = np.max(np.abs(by_day - books.retail_running_total)) if books.days else 0.0
    if worst > RELATIVE_TOLERANCE * max(np.abs(books.retail_running_total).max(initial=0.0), 1.0) + 1e-6:
        problems.append(f"daily breakdowns differ from daily totals by up to {worst:,.4f} yuan")
    # Benefit paid to identified households is part of the benefit booked by cell (which adds night discounts).
    by_row = float(books.household_benefit_by_row.sum()) * model.households.weight
    by_cell = float(books.household_benefit.sum())
    if by_row > by_cell * (1 + RELATIVE_TOLERANCE) + 1e-6:
        problems.append(f"benefit paid to households {by_row:,.2f} exceeds the benefit booked by cell {by_cell:,.2f}")
    problems += _stock_flow_problems(model, books)
    for market in (model.car_market, model.appliance_market):
        problems += market.account_problems(books)
    if problems:
        raise AccountingError("; ".join(problems))


def _stock_flow_problems(model, books: DailyBooks) -> list[str]:
    """The stock-flow identities: savings, deferred spending, voucher outlay, supported sales."""
    problems = []
    ledger = model.savings_ledger
    change = float(model.households.savings_yuan.sum()) - ledger.start_yuan
    if abs(change - ledger.expected_change()) > RELATIVE_TOLERANCE * 10 * ledger.size() + 1e-6:
        problems.append(f"savings changed by {change:,.2f} yuan but income − consumption − transfers − durable cash "
                        f"+ voucher cash − windfalls set aside = {ledger.expected_change():,.2f}")
    deferred = model.deferred
    accounted = deferred.realised_yuan + deferred.unrealised_yuan + deferred.lost_to_floor_yuan
    size = max(abs(deferred.scheduled_total_yuan), abs(deferred.realised_yuan), abs(deferred.lost_to_floor_yuan), 1.0)
    if abs(deferred.scheduled_total_yuan - accounted) > 1e-7 * size + 1e-6:
        problems.append(f"deferred spending scheduled {deferred.scheduled_total_yuan:,.2f} yuan != realised "
                        f"{deferred.realised_yuan:,.2f} + beyond the last day {deferred.unrealised_yuan:,.2f} "
                        f"+ lost to the floor {deferred.lost_to_floor_yuan:,.2f}")
    for name, tool in model.active_tools.items():
        face = getattr(tool, "face_value_yuan", None)
        if face is None or name not in books.vouchers:
            continue
        paid = model.funds[name].paid_yuan
        counts = books.vouchers[name]
        expected = face * float(counts.redeemed.sum()) + float(counts.partial_value_yuan.sum())
        if not amounts_agree(paid, expected, max(paid, expected)):
            problems.append(f"tool {name}: outlay {paid:,.2f} differs from face value x vouchers redeemed + value "
                            f"drawn from stored-value vouchers not spent in full {expected:,.2f}")
    retail_total = float(books.retail.sum())
    only = float(books.platform_only_sales.sum())
    switched = float(books.channel_switching.sum())
    platform = float(books.platform_sales.sum())
    expected_platform = books.platform_payment_share * (retail_total - only) + only + switched
    if not amounts_agree(platform, expected_platform, max(retail_total, switched)):
        problems.append(f"sales through the voucher platform {platform:,.2f} != its share "
                        f"{books.platform_payment_share:g} of sales not paid wholly through it "
                        f"{retail_total - only:,.2f} + sales paid wholly through it {only:,.2f} + channel switching "
                        f"{switched:,.2f}")
    sector_sales = books.retail.sum(axis=(0, 1, 3, 4))
    for label, supported in [(f"tool {n}", a.sum(axis=0)) for n, a in books.supported_sales.items()] + \
            [("all tools", books.supported_any.sum(axis=0))]:
        over = supported > sector_sales * (1 + RELATIVE_TOLERANCE) + 1e-6
        for j in np.flatnonzero(over):
            problems.append(f"{label}: supported {SECTORS[j]} sales {supported[j]:,.2f} exceed the sector's sales "
                            f"{sector_sales[j]:,.2f}")
    return problems
