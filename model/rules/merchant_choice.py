"""Which merchant a transaction goes to: bigger baskets go more often to large (限额以上) merchants.

Rule ``large_merchant_share``: the chance that a transaction of basket B in a
sector is made at an above-quota merchant has log-odds

    logit(p) = logit(p0) + large_merchant_basket_elasticity · ln(B / B0),

where p0 is the above-quota share of the merchants the transaction could go
to (their share of sales) and B0 the sector's mean basket, so that an ordinary
basket goes where ordinary spending goes. Households buying a big basket go to
supermarkets, chain restaurants and department stores; a small one to the
corner shop. A voucher whose threshold makes baskets bigger therefore moves
extra sales toward large merchants, the more so the higher the threshold:
Xing et al. (2023) find the Shaoxing coupon response skewed to bigger firms,
Chen et al. (2025) find the extra spending went disproportionately to large
businesses.

Parameter (``model/parameters/behaviour.toml``): ``large_merchant_basket_elasticity``.
"""

from __future__ import annotations

import numpy as np


def large_merchant_share(basket_yuan: np.ndarray, mean_basket_yuan: float | np.ndarray, base_share: float | np.ndarray,
                         elasticity: float) -> np.ndarray:
    """Chance that a transaction of ``basket_yuan`` is made at an above-quota merchant.

    Args:
        basket_yuan: the transaction's value.
        mean_basket_yuan: the sector's mean basket, where the chance equals ``base_share``.
        base_share: above-quota merchants' share of the sales the transaction could go to.
        elasticity: change in log-odds per unit change in log basket (0: basket size does not matter).
    """
    base = np.clip(np.asarray(base_share, dtype=float), 0.0, 1.0)
    inner = (base > 0) & (base < 1)
    safe = np.where(inner, base, 0.5)
    log_odds = np.log(safe / (1.0 - safe)) + elasticity * np.log(
        np.maximum(basket_yuan, 1e-9) / np.maximum(mean_basket_yuan, 1e-9))
    return np.where(inner, 1.0 / (1.0 + np.exp(-log_odds)), base)
