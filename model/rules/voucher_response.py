"""How a household holding a voucher responds: a trip made to use it, and the earmarked value it spends.

The voucher tool (``model/tools/voucher.py``) follows each voucher from
release to redemption; the two household decisions below are the rules it
applies, each in one place.

* **A trip made to use a voucher** (``voucher_trip_worthwhile``). A holder
  with no planned transaction in the voucher's sectors that day, who thinks
  of the voucher (``voucher_attention_per_day``), makes a trip to use it when
  the face value, less what waiting would still give, beats what the trip
  costs it: the trip's own cost (time, travel: ``voucher_trip_cost_yuan``) and
  the unvalued part of what it must add to an ordinary basket to reach the
  threshold. The ordinary basket itself is what the household buys on such
  trips and is worth its price to it; it is spending the voucher brings
  about (in part pulled from later: ``pull_forward_share``). Liu et al.
  (2021) find 3.4-5.8 yuan of extra spending per yuan redeemed in Hangzhou,
  concentrated in catering: far more than top-ups to the threshold alone can
  give, so most of it is trips and meals that would not have happened.
* **Earmarked value** (``earmarked_trade_up_yuan``). What a voucher saves on
  a transaction that would have happened anyway is not treated as cash: a
  share of it (``voucher_earmark_share``) stays in the voucher's category and
  is spent there and then, on pricier items in the same basket, which so
  exceeds the threshold. Liu et al. (2021) explain the coupon effect by
  mental accounting; Xing et al. (2023) find winners shifted toward pricier
  items; Kim, Koh & Lyou (2023) find restricted money was not treated like
  cash; Chen et al. (2025) find the largest increases among users whose usual
  spending already exceeds the threshold. The rest of the saving is cash,
  spent at the household's windfall propensity (``model/households.py``
  ``windfall_mpc``). A voucher usable in every retail sector carries no label
  beyond money (``voucher_is_labelled``): its whole saving is cash.
* **Several coupons held at once** (``chance_used_later``). A household
  holding n coupons of a kind (a pack, 券包, or coupons of several batches)
  gives up the one it is deciding about unless at least n later planned
  transactions reach the threshold before it expires: the more it holds, the
  less waiting is worth, and the more it tops up or makes trips. This is how
  a pack of small coupons is used on several ordinary transactions where one
  coupon of the same total value would need one large basket; Xing et al.
  (2023) study Shaoxing's weekly packs, the Ant Group/PKU report finds the
  biggest response among low spenders, whose ordinary transactions are small.
* **Stored-value vouchers** (``stored_value_chance_used_later``). A balance
  (e.g. a relief card) is drawn on by every usable transaction until it is
  spent; what waiting leaves is the chance that later planned spending at
  participating merchants uses the balance up anyway (Kim, Koh & Lyou 2023).

Because these rules rest on the household's own transactions, the response
per yuan differs by its usual spending: a low spender's coupon needs a top-up
or a trip (new spending of several yuan per yuan), a high spender's goes on a
basket that already reaches the threshold and adds only the earmarked
trade-up, though it redeems more coupons (Ant Group/PKU report: about 5.0 per
yuan among low spenders, 2.6 among high; Chen et al. 2025: large gains among
users already above the threshold). ``tests/test_voucher_response.py``
measures both.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr
from scipy.stats import binom


def expected_shortfall_yuan(threshold_yuan: float, basket_mean_yuan: np.ndarray, sigma: float) -> np.ndarray:
    """E[max(T - B, 0)] for a lognormal basket B of mean ``basket_mean_yuan`` and log spread ``sigma``."""
    if threshold_yuan <= 0:
        return np.zeros(np.shape(basket_mean_yuan))
    m = np.maximum(basket_mean_yuan, 1e-9)
    d = (np.log(threshold_yuan) - np.log(m) + sigma ** 2 / 2) / sigma
    return threshold_yuan * ndtr(d) - m * ndtr(d - sigma)


def voucher_trip_worthwhile(face_weight_yuan: np.ndarray, wait_value_share: np.ndarray, threshold_yuan: float,
                            basket_mean_yuan: np.ndarray, sigma: float, unvalued_share: np.ndarray,
                            trip_cost_yuan: float) -> np.ndarray:
    """Whether a holder makes a trip to use the voucher today.

    Args:
        face_weight_yuan: face value as the household weighs it (loss aversion on the last day included).
        wait_value_share: chance a planned transaction would use the voucher anyway before it expires.
        threshold_yuan: the voucher's threshold (at least its face value).
        basket_mean_yuan: mean basket of such a trip (the household's ordinary basket in the sector).
        sigma: log spread of baskets.
        unvalued_share: share of the price of goods bought only to reach the threshold that the household
            does not value (1 - their value per yuan).
        trip_cost_yuan: cost of the trip itself.
    """
    shortfall = expected_shortfall_yuan(threshold_yuan, basket_mean_yuan, sigma)
    return face_weight_yuan * (1.0 - wait_value_share) > trip_cost_yuan + shortfall * unvalued_share


def voucher_is_labelled(voucher_sectors: tuple[str, ...], retail_sectors: tuple[str, ...]) -> bool:
    """Whether a voucher carries a label beyond money: it is usable in some retail sectors only.

    A voucher good in every retail sector is labelled only as money, so its
    saving is cash (Kan, Peng & Wang 2017 find an MPC of about 0.25 out of
    Taiwan's universal vouchers, like cash); one restricted to some sectors is
    not treated like cash (Kim, Koh & Lyou 2023).
    """
    retail = set(s for s in retail_sectors if s not in ("lodging", "tickets"))
    return not retail <= set(voucher_sectors)


def earmarked_trade_up_yuan(face_yuan: float, induced_yuan: np.ndarray, earmark_share: float) -> np.ndarray:
    """Extra spending on pricier items in the redeeming basket: the earmarked share of what the voucher saves.

    The saving is the face value less what the voucher already made the
    household add (a top-up, or a trip's basket); nothing is earmarked when
    the household already spent more than the face value because of it.
    """
    return earmark_share * np.maximum(face_yuan - induced_yuan, 0.0)


def chance_used_later(coupons_held: np.ndarray, days_left: np.ndarray, daily_chance: np.ndarray) -> np.ndarray:
    """Chance a coupon is used on planned spending before it expires, when the household holds several.

    Each later day brings a planned, usable transaction reaching the threshold with probability
    ``daily_chance``; the coupon being decided about is used later anyway only if at least
    ``coupons_held`` such transactions come in ``days_left`` days (one coupon per transaction).
    With one coupon this is 1 - (1 - p)^d.
    """
    p = np.clip(daily_chance, 0.0, 1.0)
    return binom.sf(np.maximum(coupons_held, 1) - 1, np.maximum(days_left, 0), p)


def stored_value_chance_used_later(balance_yuan: np.ndarray, days_left: np.ndarray,
                                   daily_usable_spend_yuan: np.ndarray) -> np.ndarray:
    """Share of a stored-value balance that later planned spending at participating merchants would use anyway."""
    later = np.maximum(days_left, 0) * np.maximum(daily_usable_spend_yuan, 0.0)
    return np.minimum(later / np.maximum(balance_yuan, 1e-9), 1.0)
