"""Named random-number streams, so a policy run and its counterfactual share draws.

Each rule draws from its own stream, keyed by the rule's name and the day:
``streams.get("spending", day)``. A stream depends only on the run's seed, the
name and the day, never on what other rules drew before, so the policy run and
the no-policy run see the same daily demand shocks and the same durable
replacement candidates, and their difference is the policy's effect, not noise.
"""

from __future__ import annotations

import zlib

import numpy as np


class RandomStreams:
    """Independent generators keyed by (name, day), all derived from one SeedSequence.

    Attributes:
        seed_sequence: the run's root seed sequence.
    """

    def __init__(self, seed_sequence: np.random.SeedSequence):
        self.seed_sequence = seed_sequence

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
        key = (zlib.crc32(name.encode("utf-8")), day + 1)
        child = np.random.SeedSequence(
            self.seed_sequence.entropy, spawn_key=tuple(self.seed_sequence.spawn_key) + key
        )
        return np.random.Generator(np.random.PCG64(child))

    def describe(self) -> dict:
        """What reproduces these streams: root entropy and spawn key."""
        return {"entropy": int(self.seed_sequence.entropy), "spawn_key": list(self.seed_sequence.spawn_key)}
