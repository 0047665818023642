"""The no-policy work of a replication, made once per process and reused by every design (issue 12).

A replication's household population, its no-policy counterfactual run and its prior-period run
(``model/simulation.py``) do not depend on the design: the guide requires "the no-policy run is the
same whatever the design" and ``tests/test_counterfactual.py`` holds two random designs' no-policy
books to bit-identity. So when a process runs the same replication for a second design (compare's
designs, the dashboard's updates, a sweep's settings of one tool), ``simulate_replication`` takes them
from this cache instead of simulating them again; for Pingliang that is 731 + 365 of a replication's
1,827 simulated days.

**What the key is, and why it is sufficient.** The three runs read, of everything a replication is
given: the scenario's dates, city, behaviour parameters and outside conditions (every field of
``Scenario`` except those ``IGNORED_FIELDS`` blanks, each with its reason); the scale; the random
streams (root entropy, spawn key = seed and replication, pool size); and of the design, two dates only:

* the **payback end** (``economy.payback_end_date``), which sets how many days the counterfactual
  simulates; it depends on the tools' dates and on behaviour parameters;
* the **first day of the prior period** (``simulation.prior_period_start``), which the growth targets
  set and which sets the prior-period run's days.

``fingerprint`` hashes (SHA-256) the pickled scenario with the ignored fields blanked, the scale and the
streams' seed; the baseline's key adds the payback end, the prior run's the prior period's first day.
Behaviour enters through ``scenario.behaviour``: callers pass the scenario with the replication's own
behaviour (``simulation.replication_behaviour``). The code is not in the key: the cache lives in one
process, whose code does not change (tests that patch the model's code run with the cache off,
``tests/conftest.py``). Two equal scenarios that pickle differently only miss; they never hit wrongly.

**Nothing downstream may change a cached run.** Stored runs and populations have every numpy array
made read-only (``_freeze``): a summary or a caller of ``keep_models`` that wrote into a cached
baseline would raise instead of changing what the next design gets. A hit returns a shallow copy of
the run whose ``scenario`` (and ``streams``) are the asking design's, so a summary reading the design
from the counterfactual sees its own, as with a fresh run.

**Bound.** Least recently used entries are dropped beyond ``max_bytes`` of arrays (default
``DEFAULT_MAX_MB`` = 1,024 MB a process, ``POLICY_SIM_COUNTERFACTUAL_CACHE_MB`` to change, 0 turns
the cache off). A replication's entry is about 17 MB for Pingliang and 17 to 45 MB for Tianjin at a
dashboard's 20,000 households or scale 0.02 (population, counterfactual to the payback end, prior
period), so a worker keeps 20 or more replications: the dashboard's 8, a compare of 32, and
with ``ReplicationPool``'s affinity (replication r always in worker r mod W) twice that over two
workers. Two processes and the parent stay within 3 GB on a 23 GB machine. A run of more replications
than fit cycles through the cache and misses every time (LRU), at no more cost than without it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from model.scenario import Scenario

#: Default bound of one process's cache, MB of numpy arrays (see the module docstring).
DEFAULT_MAX_MB = 1024
#: Environment variable giving the bound in MB (0: no cache).
MAX_MB_ENV = "POLICY_SIM_COUNTERFACTUAL_CACHE_MB"

#: Scenario fields the no-policy runs never read, with what they are blanked to and why.
IGNORED_FIELDS: dict[str, tuple[Any, str]] = {
    "name": ("", "a label"),
    "title": ("", "a label"),
    "origin": ("", "the file it came from (a sweep's runs each have their own)"),
    "tools": ({}, "no tool runs in them; the payback end, the one thing of the tools they depend on, is keyed"),
    "targets": ({}, "read by summaries only; the prior period's first day, what the prior run needs, is keyed"),
    "raw": ({}, "the file as read (tools included): documentation of the run, not read by the model"),
    "provenance": ({}, "documentation of the numbers"),
    "unsourced": ((), "documentation of the numbers"),
    "county_ranking": (None, "read by the summary, from the policy run"),
    "behaviour_choice": ("", "decides which behaviour a replication runs; that behaviour itself is keyed"),
}
#: Scenario fields the no-policy runs read (all in the key).
KEYED_FIELDS = ("start", "end", "city", "behaviour", "conditions")


def no_policy_part(scenario: Scenario) -> Scenario:
    """The scenario with every field the no-policy runs do not read blanked (``IGNORED_FIELDS``)."""
    return dataclasses.replace(scenario, **{name: blank for name, (blank, _) in IGNORED_FIELDS.items()})


def fingerprint(scenario: Scenario, scale: float, streams) -> str:
    """SHA-256 of what a replication's population and no-policy runs depend on, design dates aside.

    ``scenario`` carries the replication's behaviour; ``streams`` are the replication's (``RandomStreams``).
    """
    seq = streams.seed_sequence
    what = (no_policy_part(scenario), float(scale).hex(), int(seq.entropy), tuple(int(k) for k in seq.spawn_key),
            int(seq.pool_size))
    return hashlib.sha256(pickle.dumps(what, protocol=4)).hexdigest()


def baseline_key(scenario: Scenario, scale: float, streams) -> tuple:
    """The counterfactual's key: the fingerprint and the payback end (how many days it simulates)."""
    from model.economy import payback_end_date

    return ("baseline", fingerprint(scenario, scale, streams), payback_end_date(scenario))


def prior_key(scenario: Scenario, scale: float, streams) -> tuple:
    """The prior-period run's key: the fingerprint and the prior period's first day."""
    from model.simulation import prior_period_start

    return ("prior", fingerprint(scenario, scale, streams), prior_period_start(scenario))


def population_key(scenario: Scenario, scale: float, streams) -> tuple:
    """The population's key: the fingerprint."""
    return ("population", fingerprint(scenario, scale, streams))


def _walk_arrays(obj, seen: set[int], found: list[np.ndarray]) -> None:
    """Every numpy array reachable from ``obj`` through containers and the model's own objects."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        found.append(obj)
    elif isinstance(obj, dict):
        for value in obj.values():
            _walk_arrays(value, seen, found)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            _walk_arrays(value, seen, found)
    elif type(obj).__module__.startswith("model."):  # our objects; not Mesa's, numpy's generators or modules
        if hasattr(obj, "__dict__"):
            _walk_arrays(vars(obj), seen, found)
        for name in getattr(type(obj), "__slots__", ()):
            _walk_arrays(getattr(obj, name, None), seen, found)


def _freeze(obj) -> int:
    """Make every array reachable from ``obj`` read-only; the bytes they hold (each buffer once)."""
    found: list[np.ndarray] = []
    _walk_arrays(obj, set(), found)
    owners: dict[int, int] = {}
    for array in found:
        array.setflags(write=False)
        base = array
        while isinstance(base.base, np.ndarray):
            base = base.base
        owners[id(base)] = base.nbytes
    return sum(owners.values())


@dataclass
class CacheStats:
    """Counts since the cache was made or cleared.

    Attributes:
        hits, misses: by kind ('population', 'baseline', 'prior').
        evictions: entries dropped to keep within the bound.
    """

    hits: dict[str, int] = dataclasses.field(default_factory=dict)
    misses: dict[str, int] = dataclasses.field(default_factory=dict)
    evictions: int = 0


class CounterfactualCache:
    """A process's populations, counterfactuals and prior-period runs by replication, least recently used dropped.

    Attributes:
        max_bytes: bound on the arrays kept (0: keep nothing).
        enabled: when false, every request is made afresh and nothing is kept.
        stats: hits, misses and evictions.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.enabled = max_bytes > 0
        self.stats = CacheStats()
        self._entries: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # a Dask worker runs tasks in threads

    @property
    def bytes(self) -> int:
        """Bytes of arrays kept."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Drop every entry and reset the counts."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.stats = CacheStats()

    def get_or_make(self, key: tuple, make: Callable[[], Any], keep: bool = True) -> tuple[Any, bool]:
        """The value kept under ``key``, or ``make()`` kept there (frozen): (value, whether it was kept already).
        With ``keep`` false nothing is looked up or kept (a caller that knows no later design will ask again)."""
        kind = key[0]
        if not self.enabled or not keep:
            return make(), False
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.stats.hits[kind] = self.stats.hits.get(kind, 0) + 1
                return entry[0], True
            self.stats.misses[kind] = self.stats.misses.get(kind, 0) + 1
        value = make()  # outside the lock: another thread may make the same value, and one of them is kept
        size = _freeze(value)
        with self._lock:
            if size <= self.max_bytes and key not in self._entries:
                self._entries[key] = (value, size)
                self._bytes += size
                while self._bytes > self.max_bytes:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self._bytes -= dropped
                    self.stats.evictions += 1
        return value, False


def _max_bytes_from_environment() -> int:
    text = os.environ.get(MAX_MB_ENV)
    if text is None or not text.strip():
        return DEFAULT_MAX_MB * 2**20
    try:
        mb = float(text)
    except ValueError:
        raise ValueError(f"{MAX_MB_ENV}={text!r}: not a number of MB (0 turns the cache off)") from None
    if mb < 0:
        raise ValueError(f"{MAX_MB_ENV}={text!r}: must be 0 (no cache) or more MB")
    return int(mb * 2**20)


#: This process's cache (each worker process has its own).
CACHE = CounterfactualCache(_max_bytes_from_environment())


# ------------------------------------------------------------------ what simulate_replication asks for


def population(scenario: Scenario, scale: float, streams, keep: bool = True):
    """The replication's households (read-only columns when kept; runs take ``copy_mutable`` of them)."""
    from model.economy import build_population

    value, _ = CACHE.get_or_make(population_key(scenario, scale, streams),
                                 lambda: build_population(scenario, scale, streams), keep)
    return value


def _as_run_of(model, scenario: Scenario, streams=None):
    """A kept run as the asking design's: a shallow copy (sharing the read-only arrays) with its scenario."""
    mine = copy.copy(model)
    mine.scenario = scenario
    if streams is not None:
        mine.streams = streams
    return mine


def baseline(scenario: Scenario, scale: float, streams, population, progress: Callable[[int], None] | None = None,
             keep: bool = True):
    """The replication's no-policy counterfactual, run to the design's payback end.

    A kept run moves ``progress`` by its days at once, so a progress bar's total still adds up.
    """
    from model.economy import CityEconomy

    model, kept = CACHE.get_or_make(
        baseline_key(scenario, scale, streams),
        lambda: CityEconomy(scenario, scale=scale, streams=streams, active_tools=set(), population=population).run(progress),
        keep)
    if not kept:
        return model
    if progress is not None:
        progress(model.days)
    return _as_run_of(model, scenario, streams)


def prior(scenario: Scenario, scale: float, streams, population, trend, progress: Callable[[int], None] | None = None,
          keep: bool = True):
    """The replication's prior-period run (``simulation.prior_period_run``), or None when there is none."""
    from model.simulation import prior_period_run, prior_period_scenario

    if prior_period_scenario(scenario) is None:
        return None
    model, kept = CACHE.get_or_make(
        prior_key(scenario, scale, streams),
        lambda: prior_period_run(scenario, scale, streams, population=population, trend=trend, progress=progress),
        keep)
    if not kept:
        return model
    if progress is not None:
        progress(model.days)
    return _as_run_of(model, prior_period_scenario(scenario))


def clear() -> None:
    """Empty this process's cache (a worker's, through ``ReplicationPool.each_worker``): e.g. a benchmark timing
    what a replication costs, not what reusing one saves."""
    CACHE.clear()


def stats() -> dict[str, Any]:
    """This process's cache: its counts, entries and bytes (a worker's, through ``ReplicationPool.each_worker``)."""
    with CACHE._lock:
        return {"pid": os.getpid(), "enabled": CACHE.enabled, "hits": dict(CACHE.stats.hits),
                "misses": dict(CACHE.stats.misses), "evictions": CACHE.stats.evictions,
                "entries": len(CACHE), "bytes": CACHE.bytes}
