"""Numbers for people: one unit convention, and no more digits than the replications support.

Budgets, outlays and effects are shown in 万元 (10,000 yuan), 社零 levels in
亿元 (100 million yuan). A figure with a 90% interval over replications is
rounded to the decimal place of the first significant digit of its
interval's half-width, and its interval with it; a figure from a single
replication has no interval, so it is shown to three significant digits (2,884
as 2,880: the fourth digit of one draw is noise), and a figure that is the same
in every replication is shown without one.
"""

from __future__ import annotations

import math

import numpy as np

WAN = 1e4
YI = 1e8


def decimals_for(width: float, scale: float = 1.0) -> int:
    """Decimal places (negative: tens, hundreds) at the first significant digit of an interval's half-width."""
    width = abs(width)
    if not math.isfinite(width) or width <= 0:
        return 0
    return -int(math.floor(math.log10(width / 2)))


def significant(value: float, digits: int = 3) -> int:
    """Decimal places that show ``value`` to ``digits`` significant digits (0 for large numbers)."""
    if value == 0 or not math.isfinite(value):
        return 0
    return max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))


def fmt_number(value: float | None, decimals: int, thousands: bool = True) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if decimals < 0:
        value = round(value, decimals)
        decimals = 0
    text = f"{value:,.{decimals}f}" if thousands else f"{value:.{decimals}f}"
    return text.lstrip("-") if float(text.replace(",", "")) == 0 else text


def estimate(values, unit: float = 1.0) -> dict:
    """Mean, 5th and 95th percentile of per-replication values, in display units (``unit`` yuan per unit)."""
    arr = np.array([v for v in values if v is not None], dtype=float) / unit
    if arr.size == 0:
        return {"mean": None, "low": None, "high": None, "n": 0}
    return {"mean": float(arr.mean()), "low": float(np.percentile(arr, 5)), "high": float(np.percentile(arr, 95)),
            "n": int(arr.size)}


def decimals_of(e: dict) -> int:
    """Decimal places an estimate supports: from its interval, or three significant digits for one replication."""
    if e["mean"] is None:
        return 0
    width = (e["high"] - e["low"]) if e["n"] > 1 else 0.0
    if width > 1e-9 * max(abs(e["mean"]), 1.0):
        return max(min(decimals_for(width), significant(e["mean"], 6)), -12)
    mean = e["mean"]
    if e["n"] > 1 or mean == 0 or not math.isfinite(mean):  # the same in every replication: exact to 3 digits
        return significant(mean, 3)
    # One draw: three significant digits, rounding whole numbers too (significant() stops at the units).
    return 2 - int(math.floor(math.log10(abs(mean))))


def has_interval(e: dict) -> bool:
    """Whether an estimate varies between replications (so it has an interval to show)."""
    return e["n"] > 1 and e["mean"] is not None and (e["high"] - e["low"]) > 1e-9 * max(abs(e["mean"]), 1.0)


def fmt_estimate(e: dict, lang: str = "zh", interval: bool = True, decimals: int | None = None,
                 stacked: bool = False) -> str:
    """'12.3（9.8 至 14.1）' with the interval, or '12.3' alone; rounded to what the interval supports.
    ``stacked`` puts the interval on a line of its own (narrow table columns)."""
    if e["mean"] is None:
        return "—"
    d = decimals_of(e) if decimals is None else decimals
    text = fmt_number(e["mean"], d)
    if interval and has_interval(e):
        lo, hi = fmt_number(e["low"], d), fmt_number(e["high"], d)
        text += ("\n" if stacked else "") + (f"（{lo} 至 {hi}）" if lang == "zh" else f" ({lo} to {hi})")
    return text


def fmt_share(value: float | None, digits: int = 0) -> str:
    """A fraction as a percentage."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{100 * value:.{digits}f}%"


def fmt_probability(value: float | None, replications: int, lang: str = "zh") -> str:
    """A share of replications as a percentage with the count it comes from: '40%（4/10）'."""
    if value is None:
        return "—"
    k = int(round(value * replications))
    return f"{100 * value:.0f}%（{k}/{replications}）" if lang == "zh" else f"{100 * value:.0f}% ({k}/{replications})"
