"""Government funds: one budget pool per policy tool, split by funding level.

A ``GovernmentFund`` holds the tool's budget as pools by
funding level (province, city, county...), pays merchants and households on the
tool's behalf, splits each payment across levels in proportion to their
contributions, and never pays more than the pool holds: a payment larger than
what is left is cut to what is left, and the pool reports itself exhausted.

**Pacing** (declared once for every tool kind in ``model/tools/base.py``: ``tranches``,
``carry_over_unspent``, ``per_merchant_cap_yuan``). A budget released in tranches can pay only
what has been released: with ``carry_over_unspent`` what a tranche left unspent stays available,
without it the rest of a tranche lapses when the next is released (a yearly pool, Diqing
001_c005bbefdbaa2487.txt §二(五)13). A pool whose current tranche is spent closes until the next
release and is announced exhausted only when nothing more will come. A per-merchant cap limits
what any one merchant (shop, restaurant, dealer) receives from the pool over the programme
(Pingliang 003_22cfb6eea19a02d1.txt §三(五)18: at most 20万 to each of the top-5 car dealers):
``pay_merchants`` cuts each claim to what the merchant has left under its cap.

A fund makes no decision of its own: it pays when a tool's rule claims from it
(``model/tools/``). So it is a plain ledger, not a Mesa agent with a ``step``.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


class GovernmentFund:
    """A policy tool's budget pool.

    Attributes:
        tool_name: the tool it funds.
        budget_by_level: budget by funding level (yuan).
        paid_by_level: paid so far by level (yuan).
        paid_by_payee: paid so far by payee kind ('merchant', 'household') (yuan).
        daily_outlay: outlay by day index (yuan).
        exhausted_day: first day the pool could not pay in full with nothing more to be released, or None.
        release_days: day index on which each tranche is released (0 for one released at the start).
        release_yuan: each tranche's amount (yuan); one tranche of the whole budget when none are declared.
        carry_over_unspent: whether what a tranche leaves unspent stays available after the next release.
        paid_by_tranche: paid out of each tranche (yuan).
        lapsed_yuan: unspent amounts of tranches closed by the next release (without carry-over).
        per_merchant_cap_yuan: the most one merchant receives over the programme (yuan), or None.
        paid_by_merchant: paid to each identified merchant (yuan), by the merchant's index.
    """

    def __init__(self, tool_name: str, budget_yuan: float, funding_shares: dict[str, float], days: int,
                 releases: tuple[tuple[int, float], ...] = (), carry_over_unspent: bool = True,
                 per_merchant_cap_yuan: float | None = None):
        self.tool_name = tool_name
        self.budget_by_level = {level: budget_yuan * share for level, share in funding_shares.items()}
        self.paid_by_level = {level: 0.0 for level in funding_shares}
        self.paid_by_payee: dict[str, float] = defaultdict(float)
        self.daily_outlay = np.zeros(days)
        self.exhausted_day: int | None = None
        self._shares = dict(funding_shares)
        releases = tuple(releases) or ((0, self.budget_yuan),)
        self.release_days = np.array([max(int(d), 0) for d, _ in releases])
        self.release_yuan = np.array([float(a) for _, a in releases])
        self.carry_over_unspent = carry_over_unspent
        self.paid_by_tranche = np.zeros(len(releases))
        self.lapsed_yuan = 0.0
        self.per_merchant_cap_yuan = per_merchant_cap_yuan
        self.paid_by_merchant = np.zeros(0)
        self._tranche = -1        # the latest tranche released
        self._tranche_closed = False
        self.begin_day(0)

    # ------------------------------------------------------------ pacing
    def begin_day(self, day: int) -> None:
        """Release the tranches due by ``day`` (the economy calls it each morning, before tools act)."""
        due = int(self.release_days.searchsorted(day, side="right")) - 1  # np.searchsorted without its wrapper
        while self._tranche < due:
            if self._tranche >= 0 and not self.carry_over_unspent:
                self.lapsed_yuan += float(self.release_yuan[self._tranche] - self.paid_by_tranche[self._tranche])
            self._tranche += 1
            self._tranche_closed = False

    @property
    def released_yuan(self) -> float:
        """Released so far (yuan)."""
        return float(self.release_yuan[: self._tranche + 1].sum())

    @property
    def more_to_come(self) -> bool:
        """Whether tranches remain to be released."""
        return self._tranche + 1 < len(self.release_yuan)

    def _available(self) -> float:
        if self._tranche < 0:
            return 0.0
        if self.carry_over_unspent:
            return self.released_yuan - self.paid_yuan
        return float(self.release_yuan[self._tranche] - self.paid_by_tranche[self._tranche])

    def _announce_short(self, day: int) -> None:
        """A claim was refused or cut: closed until the next tranche, or exhausted when none remains."""
        if self.more_to_come:
            self._tranche_closed = True
        elif self.exhausted_day is None:
            self.exhausted_day = day

    # ------------------------------------------------------------ the pool
    @property
    def budget_yuan(self) -> float:
        """Total budget."""
        return float(sum(self.budget_by_level.values()))

    @property
    def paid_yuan(self) -> float:
        """Total paid."""
        return float(sum(self.paid_by_level.values()))

    @property
    def remaining_yuan(self) -> float:
        """What the pool can pay now: what is released and not yet spent (or lapsed), within the budget."""
        return max(0.0, min(self.budget_yuan - self.paid_yuan, self._available()))

    @property
    def open_for_claims(self) -> bool:
        """Whether the programme still takes claims: once the pool has refused or cut a payment it is
        announced as exhausted (or closed until its next tranche), so households and merchants stop counting on it."""
        return self.exhausted_day is None and not self._tranche_closed and self.remaining_yuan > 0

    def can_pay(self, amount_yuan: float) -> bool:
        """Whether the pool holds at least ``amount_yuan``."""
        return amount_yuan <= self.remaining_yuan * (1 + 1e-12) + 1e-9

    def pay(self, amount_yuan: float, payee: str, day: int) -> float:
        """Pay up to ``amount_yuan`` to a payee kind; returns what was paid."""
        if amount_yuan <= 0:
            return 0.0
        paid = min(float(amount_yuan), self.remaining_yuan)
        if paid < amount_yuan:
            self._announce_short(day)
        if paid <= 0:
            return 0.0
        for level, share in self._shares.items():
            self.paid_by_level[level] += paid * share
        self.paid_by_payee[payee] += paid
        self.daily_outlay[day] += paid
        self.paid_by_tranche[max(self._tranche, 0)] += paid
        if self.remaining_yuan <= 1e-6 * max(self.budget_yuan, 1.0):
            self._announce_short(day)
        return paid

    def coverable(self, amounts_yuan: np.ndarray) -> np.ndarray:
        """Which claims of a first-come-first-served queue the pool could pay in full (nothing is paid)."""
        amounts = np.asarray(amounts_yuan, dtype=float)
        return np.cumsum(amounts) <= self.remaining_yuan * (1 + 1e-12) + 1e-9

    def pay_many(self, amounts_yuan: np.ndarray, payee: str, day: int) -> np.ndarray:
        """Pay a queue of claims in order, first come first served, until the pool is empty.

        Returns the amount paid on each claim (a claim the pool cannot cover in full is refused).
        """
        amounts = np.asarray(amounts_yuan, dtype=float)
        if amounts.size == 0:
            return amounts.copy()
        covered = self.coverable(amounts)
        paid = np.where(covered, amounts, 0.0)
        total = float(paid.sum())
        if not covered.all():
            self._announce_short(day)
        if total > 0:
            self.pay(total, payee, day)
        return paid

    # ------------------------------------------------------------ merchants with a cap
    def merchant_room(self, merchants: np.ndarray) -> np.ndarray:
        """What each of ``merchants`` (indices) may still receive under the per-merchant cap (inf without one)."""
        merchants = np.asarray(merchants, dtype=np.int64)
        if self.per_merchant_cap_yuan is None:
            return np.full(merchants.shape, np.inf)
        self._grow(merchants)
        return np.maximum(self.per_merchant_cap_yuan - self.paid_by_merchant[merchants], 0.0)

    def _grow(self, merchants: np.ndarray) -> None:
        if merchants.size and merchants.max() >= self.paid_by_merchant.size:
            grown = np.zeros(int(merchants.max()) + 1)
            grown[: self.paid_by_merchant.size] = self.paid_by_merchant
            self.paid_by_merchant = grown

    def pay_merchants(self, amounts_yuan: np.ndarray, merchants: np.ndarray, day: int) -> tuple[np.ndarray, float]:
        """Pay identified merchants (indices, each once per call): each claim cut to the merchant's room
        under the per-merchant cap, then all cut in proportion when the pool holds less.

        Returns:
            each merchant's pay, and the total paid (yuan).
        """
        merchants = np.asarray(merchants, dtype=np.int64)
        claims = np.minimum(np.asarray(amounts_yuan, dtype=float), self.merchant_room(merchants))
        due = float(claims.sum())
        if due <= 0:
            return np.zeros(claims.shape), 0.0
        paid = self.pay(due, "merchant", day)
        each = claims * (paid / due)
        self._grow(merchants)
        np.add.at(self.paid_by_merchant, merchants, each)
        return each, paid

    def pacing_problems(self) -> list[str]:
        """The pacing identities that fail (empty when all hold): tranches, lapses and per-merchant caps."""
        out = []
        tol = 1e-9 * max(self.budget_yuan, 1.0) + 1e-6
        if abs(float(self.paid_by_tranche.sum()) - self.paid_yuan) > tol:
            out.append(f"tool {self.tool_name}: paid by tranche sums to {self.paid_by_tranche.sum():,.2f}, "
                       f"not the outlay {self.paid_yuan:,.2f}")
        if self.carry_over_unspent:
            over = np.cumsum(self.paid_by_tranche) - np.cumsum(self.release_yuan)
        else:
            over = self.paid_by_tranche - self.release_yuan
        if (over > tol).any():
            k = int(np.argmax(over))
            out.append(f"tool {self.tool_name}: tranche {k + 1} paid {over[k]:,.2f} more than was released")
        if not self.carry_over_unspent:
            closed = max(self._tranche, 0)
            lapsed = float((self.release_yuan[:closed] - self.paid_by_tranche[:closed]).sum())
            if abs(lapsed - self.lapsed_yuan) > tol:
                out.append(f"tool {self.tool_name}: lapsed {self.lapsed_yuan:,.2f} but closed tranches left {lapsed:,.2f}")
        if self.per_merchant_cap_yuan is not None and self.paid_by_merchant.size:
            worst = float(self.paid_by_merchant.max())
            if worst > self.per_merchant_cap_yuan * (1 + 1e-9) + 1e-6:
                out.append(f"tool {self.tool_name}: a merchant received {worst:,.2f}, above the cap "
                           f"{self.per_merchant_cap_yuan:,.2f}")
        identified = float(self.paid_by_merchant.sum())
        if identified > self.paid_by_payee.get("merchant", 0.0) * (1 + 1e-9) + 1e-6:
            out.append(f"tool {self.tool_name}: paid to identified merchants {identified:,.2f} exceeds paid to "
                       f"merchants {self.paid_by_payee.get('merchant', 0.0):,.2f}")
        return out
