"""The tiny city's reference run, against its committed golden figures (``tests/golden_run.py``).

Any change to a mechanism moves some of these figures; regenerate the golden
file only deliberately (``python tests/golden_run.py --regenerate``) after
checking the change is the one intended.
"""

from __future__ import annotations

import json

import pytest

from golden_run import GOLDEN, golden_figures


def test_tiny_city_reproduces_its_golden_figures():
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    actual = golden_figures()
    assert set(actual) == set(expected)
    moved = {k: (expected[k], actual[k]) for k in expected
             if (expected[k] is None) != (actual[k] is None)
             or (expected[k] is not None and actual[k] != pytest.approx(expected[k], rel=1e-9, abs=1e-6))}
    assert not moved, f"figures moved from the golden run (expected, now): {moved}"
