"""The named random streams: each (name, day) generator is numpy's SeedSequence path, bit for bit.

``RandomStreams.get`` computes the seeding words of a block of days at once (``model/rng.py``); these
tests hold it to ``PCG64(SeedSequence(entropy, spawn_key + (crc32(name), day + 1)))``, the definition every
committed result (the golden run, sweeps' stored seeds) was made with.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from model.rng import SEED_BLOCK_DAYS, RandomStreams, daily_seed_words


def reference(streams: RandomStreams, name: str, day: int) -> np.random.Generator:
    """The generator by its definition: a SeedSequence for (name, day), then PCG64."""
    seq = streams.seed_sequence
    key = tuple(seq.spawn_key) + (zlib.crc32(name.encode("utf-8")), day + 1)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seq.entropy, spawn_key=key)))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), replication=st.integers(0, 2**40), day=st.integers(-1, 5 * SEED_BLOCK_DAYS),
       name=st.text(min_size=1, max_size=12), child=st.booleans())
def test_every_stream_is_the_seed_sequence_one(seed, replication, day, name, child):
    streams = RandomStreams.from_seed(seed, replication)
    if child:
        streams = streams.child("prior_period")
    got = streams.get(name, day)
    want = reference(streams, name, day)
    assert got.bit_generator.state == want.bit_generator.state
    assert (got.random(4) == want.random(4)).all()


def test_block_edges_and_repeated_calls_give_the_same_generator():
    streams = RandomStreams.from_seed(7, 3)
    for day in (SEED_BLOCK_DAYS - 2, SEED_BLOCK_DAYS - 1, SEED_BLOCK_DAYS, 2 * SEED_BLOCK_DAYS - 1):
        first = streams.get("spending", day).standard_normal(3)
        again = streams.get("spending", day).standard_normal(3)  # a fresh generator, not the one already used
        assert (first == again).all()
        assert (first == reference(streams, "spending", day).standard_normal(3)).all()
    assert (streams.get("spending", 4).random(2) != streams.get("spending", 5).random(2)).all()


def test_sequence_entropy_and_long_spawn_keys_follow_numpy():
    words = daily_seed_words((2**70 + 5, 0, 9), (1, 2**33, 0), 4, np.array([0, 1, 2**32 - 1]))
    for i, last in enumerate((0, 1, 2**32 - 1)):
        seq = np.random.SeedSequence((2**70 + 5, 0, 9), spawn_key=(1, 2**33, 0, last))
        assert (words[i] == seq.generate_state(4, np.uint64)).all()


def test_precomputed_words_serve_pcg64_only():
    streams = RandomStreams.from_seed(0)
    seeding = streams.get("spending", 0).bit_generator.seed_seq
    with pytest.raises(ValueError, match="PCG64 only"):
        seeding.generate_state(8, np.uint32)
