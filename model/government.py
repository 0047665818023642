"""Government funds: one budget pool per policy tool, split by funding level.

A ``GovernmentFund`` holds the tool's budget as pools by
funding level (province, city, county...), pays merchants and households on the
tool's behalf, splits each payment across levels in proportion to their
contributions, and never pays more than the pool holds: a payment larger than
what is left is cut to what is left, and the pool reports itself exhausted.

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
        exhausted_day: first day the pool could not pay in full, or None.
    """

    def __init__(self, tool_name: str, budget_yuan: float, funding_shares: dict[str, float], days: int):
        self.tool_name = tool_name
        self.budget_by_level = {level: budget_yuan * share for level, share in funding_shares.items()}
        self.paid_by_level = {level: 0.0 for level in funding_shares}
        self.paid_by_payee: dict[str, float] = defaultdict(float)
        self.daily_outlay = np.zeros(days)
        self.exhausted_day: int | None = None
        self._shares = dict(funding_shares)

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
        """What the pool still holds."""
        return max(0.0, self.budget_yuan - self.paid_yuan)

    @property
    def open_for_claims(self) -> bool:
        """Whether the programme still takes claims: once the pool has refused or cut a payment it is
        announced as exhausted, so households and merchants stop counting on it."""
        return self.exhausted_day is None and self.remaining_yuan > 0

    def can_pay(self, amount_yuan: float) -> bool:
        """Whether the pool holds at least ``amount_yuan``."""
        return amount_yuan <= self.remaining_yuan * (1 + 1e-12) + 1e-9

    def pay(self, amount_yuan: float, payee: str, day: int) -> float:
        """Pay up to ``amount_yuan`` to a payee kind; returns what was paid."""
        if amount_yuan <= 0:
            return 0.0
        paid = min(float(amount_yuan), self.remaining_yuan)
        if paid < amount_yuan and self.exhausted_day is None:
            self.exhausted_day = day
        if paid <= 0:
            return 0.0
        for level, share in self._shares.items():
            self.paid_by_level[level] += paid * share
        self.paid_by_payee[payee] += paid
        self.daily_outlay[day] += paid
        if self.remaining_yuan <= 1e-6 * max(self.budget_yuan, 1.0) and self.exhausted_day is None:
            self.exhausted_day = day
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
        if not covered.all() and self.exhausted_day is None:
            self.exhausted_day = day
        if total > 0:
            self.pay(total, payee, day)
        return paid
