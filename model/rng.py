"""Named random-number streams, so a policy run and its counterfactual share draws.

Each rule draws from its own stream, keyed by the rule's name and the day:
``streams.get("spending", day)``. A stream depends only on the run's seed, the
name and the day, never on what other rules drew before, so the policy run and
the no-policy run see the same daily demand shocks and the same durable
replacement candidates, and their difference is the policy's effect, not noise.

The generator for (name, day) is ``PCG64(SeedSequence(entropy, spawn_key + (crc32(name), day + 1)))``.
Building a SeedSequence and seeding a PCG64 from it costs about 40 µs, several times a simulated day; so
for the daily streams ``get`` computes the seeding words of a block of days at once
(``daily_seed_words``: numpy's SeedSequence algorithm, the same arithmetic on arrays of days) and hands
each day's words to PCG64 directly. The generators are bit for bit those of the SeedSequence path
(tests/test_rng.py compares them over seeds, spawn keys, names and days).
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.random.bit_generator import ISeedSequence

# numpy's SeedSequence constants (numpy/random/bit_generator.pyx; O'Neill's seed_seq_fe), uint32 arithmetic.
_INIT_A = 0x43B0D7E5
_MULT_A = 0x931E8875
_INIT_B = 0x8B51F9DD
_MULT_B = 0x58F38DED
_MIX_MULT_L = 0xCA01F9DD
_MIX_MULT_R = 0x4973F715
_XSHIFT = np.uint32(16)
_MASK32 = 0xFFFFFFFF
#: Days whose seeding words one vectorised pass computes.
SEED_BLOCK_DAYS = 512


def _uint32_words(value) -> list[int]:
    """A non-negative integer (or a sequence of them) as numpy's SeedSequence splits it: 32-bit words, least
    significant first (each integer of a sequence in turn)."""
    if not isinstance(value, (int, np.integer)):
        return [w for v in value for w in _uint32_words(v)]
    value = int(value)
    if value < 0:
        raise ValueError(f"seed words must be non-negative, got {value}")
    words = [0] if value == 0 else []
    while value > 0:
        words.append(value & _MASK32)
        value >>= 32
    return words


def daily_seed_words(entropy: int, spawn_key: tuple[int, ...], pool_size: int, last_words: np.ndarray) -> np.ndarray:
    """What ``SeedSequence(entropy, spawn_key + (w,)).generate_state(4, np.uint64)`` gives for each ``w`` of
    ``last_words`` (each below 2**32), as an array (len(last_words), 4) of uint64.

    numpy's algorithm: the entropy words (padded to the pool size) and the spawn key's words are hashed
    into a pool of ``pool_size`` words, which ``generate_state`` hashes out again. The hash constants
    advance the same way whatever the words, so the whole block is done with array arithmetic.
    """
    head = _uint32_words(entropy)
    head += [0] * max(pool_size - len(head), 0)  # a spawn key is always present here
    for k in spawn_key:
        head += _uint32_words(k)
    n = len(last_words)
    words = [np.full(n, w, dtype=np.uint32) for w in head] + [np.asarray(last_words, dtype=np.uint32)]
    hash_const = _INIT_A

    def hashmix(value: np.ndarray) -> np.ndarray:
        nonlocal hash_const
        value = value ^ np.uint32(hash_const)
        hash_const = (hash_const * _MULT_A) & _MASK32
        value = value * np.uint32(hash_const)
        return value ^ (value >> _XSHIFT)

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
        return result ^ (result >> _XSHIFT)

    zero = np.zeros(n, dtype=np.uint32)
    pool = [hashmix(words[i] if i < len(words) else zero) for i in range(pool_size)]
    for i_src in range(pool_size):
        for i_dst in range(pool_size):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
    for i_src in range(pool_size, len(words)):
        for i_dst in range(pool_size):
            pool[i_dst] = mix(pool[i_dst], hashmix(words[i_src]))
    out = np.empty((n, 8), dtype=np.uint32)
    hash_const = _INIT_B
    for i in range(8):
        value = pool[i % pool_size] ^ np.uint32(hash_const)
        hash_const = (hash_const * _MULT_B) & _MASK32
        value = value * np.uint32(hash_const)
        out[:, i] = value ^ (value >> _XSHIFT)
    return out.astype("<u4").view("<u8").astype(np.uint64)


class _SeedWords(ISeedSequence):
    """Seeding words already computed, handed to PCG64 in place of the SeedSequence that gives them."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray):
        self.words = words

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError("precomputed seeding words serve PCG64 only (4 uint64 words)")
        return self.words


class RandomStreams:
    """Independent generators keyed by (name, day), all derived from one SeedSequence.

    Attributes:
        seed_sequence: the run's root seed sequence.
    """

    def __init__(self, seed_sequence: np.random.SeedSequence):
        self.seed_sequence = seed_sequence
        self._blocks: dict[tuple[int, int], np.ndarray] = {}  # (crc32 of a name, block) -> seeding words

    @classmethod
    def from_seed(cls, seed: int, replication: int = 0) -> "RandomStreams":
        """Streams for replication ``replication`` of a run seeded with ``seed``."""
        return cls(np.random.SeedSequence(seed, spawn_key=(replication,)))

    @property
    def replication(self) -> int:
        """The replication index these streams were made for (``from_seed``'s ``replication``)."""
        key = self.seed_sequence.spawn_key
        return int(key[0]) if key else 0

    def child(self, name: str) -> "RandomStreams":
        """Streams of their own for a separate run within this replication (e.g. the prior period before
        the horizon), independent of these streams' daily draws; ``replication`` is unchanged."""
        key = tuple(self.seed_sequence.spawn_key) + (zlib.crc32(name.encode("utf-8")), 0)
        return RandomStreams(np.random.SeedSequence(self.seed_sequence.entropy, spawn_key=key))

    def get(self, name: str, day: int = -1) -> np.random.Generator:
        """The generator for rule ``name`` on ``day`` (-1 for set-up draws)."""
        crc = zlib.crc32(name.encode("utf-8"))
        if day < 0:  # set-up draws, once a run: the SeedSequence itself
            key = (crc, day + 1)
            child = np.random.SeedSequence(
                self.seed_sequence.entropy, spawn_key=tuple(self.seed_sequence.spawn_key) + key
            )
            return np.random.Generator(np.random.PCG64(child))
        block, offset = divmod(day + 1, SEED_BLOCK_DAYS)
        words = self._blocks.get((crc, block))
        if words is None:
            seq = self.seed_sequence
            first = block * SEED_BLOCK_DAYS
            words = daily_seed_words(seq.entropy, tuple(seq.spawn_key) + (crc,), seq.pool_size,
                                     np.arange(first, first + SEED_BLOCK_DAYS, dtype=np.int64))
            self._blocks[(crc, block)] = words
        return np.random.Generator(np.random.PCG64(_SeedWords(words[offset])))

    def describe(self) -> dict:
        """What reproduces these streams: root entropy and spawn key."""
        return {"entropy": int(self.seed_sequence.entropy), "spawn_key": list(self.seed_sequence.spawn_key)}
