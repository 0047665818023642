"""Numbers for people: rounding to what an interval supports, units, probabilities with their counts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from model.reporting.numbers import decimals_of, estimate, fmt_estimate, fmt_number, fmt_probability, significant


def test_a_figure_is_rounded_to_its_intervals_first_digit():
    # 6,669.6122 亿元 with an interval 6,650-6,690 is shown to the ten: the interval cannot support more.
    assert fmt_estimate({"mean": 6669.6122, "low": 6650.0, "high": 6690.0, "n": 10}, "en") == "6,670 (6,650 to 6,690)"
    assert fmt_estimate({"mean": 1.2351, "low": 1.2341, "high": 1.2359, "n": 10}, "zh") == "1.2351（1.2341 至 1.2359）"
    assert fmt_estimate({"mean": 0.96, "low": 0.75, "high": 1.23, "n": 3}, "en") == "1.0 (0.8 to 1.2)"
    # One replication: no interval, three significant digits.
    assert fmt_estimate(estimate([66_696_122_000.0], 1e8), "zh") == "667"
    # ... whole numbers too: Pingliang's one-replication extra 社零 of 28,843,000 yuan printed as "2,884" (万元), four
    # digits of one draw whose ten-replication interval is 2,000 to 5,000.
    assert fmt_estimate(estimate([28_843_000.0], 1e4), "en") == "2,880"
    assert fmt_estimate(estimate([-123_456.0], 1.0), "en") == "-123,000"
    assert fmt_estimate(estimate([0.58837], 1.0), "en") == "0.588"
    # The same in every replication: no interval shown.
    assert fmt_estimate(estimate([2_992_230.0] * 3, 1e4), "zh") == "299"
    assert fmt_number(-0.001, 1) == "0.0" and fmt_number(1234.56, 1) == "1,234.6" and fmt_number(1250.0, -2) == "1,200"


def test_probabilities_carry_their_counts():
    assert fmt_probability(0.4, 10, "zh") == "40%（4/10）" and fmt_probability(0.5, 2, "en") == "50% (1/2)"
    assert fmt_probability(None, 3) == "—"


@given(st.floats(min_value=-1e9, max_value=1e9), st.floats(min_value=1e-3, max_value=1e8))
def test_the_rounding_step_is_set_by_the_interval(mean, width):
    e = {"mean": mean, "low": mean - width / 2, "high": mean + width / 2, "n": 5}
    step = 10.0 ** -decimals_of(e)
    cap = 10.0 ** -significant(mean, 6)  # never more than six significant digits
    # The last digit shown is no finer than a tenth of the half-width and no coarser than the half-width.
    assert step <= max(width / 2, cap) * (1 + 1e-9)
    assert step * 10 > width / 2 * (1 - 1e-9) or step >= cap * (1 - 1e-9)
    shown = float(fmt_estimate(e, "en").split(" (")[0].replace(",", ""))
    assert abs(shown - mean) <= step / 2 * (1 + 1e-9) + 1e-9 * abs(mean)
