"""The durable markets' bookkeeping helpers (``model/rules/durables.py``) against their plain definitions.

``first_item_of_each_household`` must pick what ``np.unique(rows, return_index=True)`` picks;
``EntryColumns`` must hold the same entries, in the same order, as lists appended to, cut at the front
and filtered would. The market's results rest on both being exact (the order of the pool is
the order buyers are paid in).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from model.rules.durables import EntryColumns, first_item_of_each_household


def by_unique(keys: np.ndarray) -> np.ndarray:
    once = np.zeros(keys.size, dtype=bool)
    once[np.unique(keys, return_index=True)[1]] = True
    return once


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), households=st.integers(1, 30), share=st.floats(0.05, 1.0))
def test_first_item_of_each_household_is_what_unique_picks(seed, households, share):
    """Entries of a pool (each household-item once, in any order), any subset of them in pool order."""
    rng = np.random.default_rng(seed)
    in_market = rng.random((households, 3)) < share
    rows, _ = np.nonzero(in_market)
    order = rng.permutation(rows.size)
    rows = rows[order][rng.random(rows.size) < 0.7]
    assert (first_item_of_each_household(rows, in_market) == by_unique(rows)).all()


def test_first_item_of_each_household_by_hand():
    in_market = np.array([[True, True, False], [False, True, False], [True, True, True], [False, False, True]])
    rows = np.array([2, 0, 1, 2, 0, 3, 2])
    assert first_item_of_each_household(rows, in_market).tolist() == [True, True, True, False, False, True, False]
    assert first_item_of_each_household(np.zeros(0, dtype=np.int64), in_market).size == 0


operations = st.lists(st.one_of(
    st.tuples(st.just("append"), st.integers(0, 700)),
    st.tuples(st.just("drop"), st.floats(0, 1)),
    st.tuples(st.just("keep"), st.integers(0, 2**32 - 1))), max_size=25)


@settings(max_examples=100, deadline=None)
@given(ops=operations)
def test_entry_columns_hold_what_lists_would(ops):
    stock = EntryColumns({"rows": np.int64, "value": np.float64})
    want_rows: list[int] = []
    want_value: list[float] = []
    counter = 0
    for op, arg in ops:
        if op == "append":
            rows = np.arange(counter, counter + arg)
            counter += arg
            stock.append({"rows": rows, "value": rows * 0.5})
            want_rows += rows.tolist()
            want_value += (rows * 0.5).tolist()
        elif op == "drop":
            k = int(arg * len(want_rows))
            stock.drop_first(k)
            del want_rows[:k], want_value[:k]
        else:
            keep = np.random.default_rng(arg).random(len(want_rows)) < 0.6
            taken = stock.take(np.flatnonzero(~keep))
            assert taken["rows"].tolist() == [r for r, k in zip(want_rows, keep) if not k]
            stock.keep_only(np.flatnonzero(keep))
            want_rows = [r for r, k in zip(want_rows, keep) if k]
            want_value = [v for v, k in zip(want_value, keep) if k]
        assert len(stock) == len(want_rows)
        assert stock.column("rows").tolist() == want_rows
        assert stock.column("value").tolist() == want_value
        assert stock.column("rows").dtype == np.int64
