"""Running a scenario: its design with the counterfactual, replications, summary and outputs.

``run_scenario`` is the whole job of ``run.py run``: for each replication it simulates the
design with its no-policy counterfactual (``model/simulation.py``), summarises it
(``model/summary.py``), and returns a ``RunResult`` (``model/outputs.py``) that writes the
summary, daily tables and manifest in one step.

Replications are independent (each has its own random streams, behaviour set, population and
社零 trend draw), so with ``workers`` > 1 they run in that many worker processes
(``ReplicationPool``), each replication whole in one process, and are put back in replication
order: the summary is the same figures whatever the worker count. The pool's processes are
spawned once and kept for the next run of this process (compare's designs, the dashboard's
updates), since starting one costs about a second. Replication r always runs in worker r mod W, so
the population, counterfactual and prior period that worker made for it are reused by the next design
(``model/counterfactual_cache.py``; in this process too when replications run here).
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import os
import sys
import threading
import time
from typing import Any

import pandas as pd

from model.distribution import distribution_table
from model.outputs import RunResult, build_manifest
from model.rng import RandomStreams
from model.scenario import Scenario
from model.simulation import intervals_cover, replication_plans, runs_per_replication, simulate_replication
from model.summary import FIGURE_DEFINITIONS, combine_replications, daily_frames, replication_summary

__all__ = ["RunResult", "run_scenario", "default_workers", "ReplicationPool", "WorkerError"]

#: Worker processes used at most by default: the machine this is run on has two cores.
DEFAULT_MAX_WORKERS = 2


class WorkerError(RuntimeError):
    """A worker process died (killed, or out of memory) before its replication was done."""


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers(replications: int) -> int:
    """Worker processes for ``replications``: one (this process) for a single replication, otherwise
    as many as there are cores, at most ``DEFAULT_MAX_WORKERS`` and at most one per replication."""
    if replications <= 1:
        return 1
    return max(1, min(DEFAULT_MAX_WORKERS, available_cores(), replications))


def simulate_and_summarise(scenario: Scenario, behaviour: str, scale: float, streams: RandomStreams,
                           tool_breakdown: bool, progress=None, keep_model: bool = False) -> dict[str, Any]:
    """One replication, simulated and summarised: what ``run_scenario`` keeps of it (the same in a worker).

    ``scenario`` carries the replication's behaviour already and ``behaviour`` says which it is
    (``replication_behaviour``, chosen in the parent process, so workers run what it chose).
    """
    pair = simulate_replication(scenario, scale, streams, tool_breakdown=tool_breakdown, progress=progress,
                                behaviour=behaviour)
    r = streams.replication
    return {"replication": r, "households": pair.policy.households.n, "seconds": pair.seconds,
            "summary": replication_summary(pair),
            "frames": {**daily_frames(pair, r), "household_distribution": distribution_table(pair.policy, r)},
            "pair": pair if keep_model else None}


def _replicate(scenario: Scenario, behaviour: str, scale: float, seed: int, replication: int,
               tool_breakdown: bool) -> dict[str, Any]:
    """A worker's task: replication ``replication`` of a run seeded with ``seed``."""
    return simulate_and_summarise(scenario, behaviour, scale, RandomStreams.from_seed(seed, replication),
                                  tool_breakdown)


def _ready() -> None:
    """A task that only makes a worker start (``ReplicationPool.warm``)."""


def _worker_init(parent: int) -> None:
    from model.sweeps.engines import _end_with_parent

    _end_with_parent(parent)


class ReplicationPool:
    """Spawned worker processes that run replications, kept for the process's later runs.

    Spawned, not forked: threads of this process (the dashboard's server, Arrow's) cannot leave a
    child deadlocked. ``shared(workers)`` gives the pool of that size, starting it on first use.

    Each worker is a single-process executor of its own and task r goes to worker r mod W (``map``'s
    ``keys``), so replication r of every run of this process is made in the same worker, where its
    population, counterfactual and prior period are kept (``model/counterfactual_cache.py``): a second
    design or a dashboard update reuses them. A ProcessPoolExecutor of W processes would hand tasks to
    whichever process is free, and a replication would find its counterfactual in the other worker.

    Attributes:
        workers: worker processes.
    """

    _shared: dict[int, "ReplicationPool"] = {}
    _lock = threading.Lock()

    def __init__(self, workers: int):
        self.workers = workers
        context = multiprocessing.get_context("spawn")
        self._executors = [cf.ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_worker_init,
                                                  initargs=(os.getpid(),)) for _ in range(workers)]

    @classmethod
    def shared(cls, workers: int) -> "ReplicationPool":
        """The pool of ``workers`` processes of this process (started now if it is not running)."""
        with cls._lock:
            pool = cls._shared.get(workers)
            if pool is None:
                pool = cls._shared[workers] = cls(workers)
            return pool

    @classmethod
    def close_all(cls) -> None:
        """Stop every shared pool (at exit)."""
        with cls._lock:
            pools, cls._shared = list(cls._shared.values()), {}
        for pool in pools:
            for executor in pool._executors:
                executor.shutdown(wait=True, cancel_futures=True)

    def _discard(self) -> None:
        with self._lock:
            if self._shared.get(self.workers) is self:
                del self._shared[self.workers]
        for executor in self._executors:
            executor.shutdown(wait=False, cancel_futures=True)

    def warm(self) -> None:
        """Start every worker process and have it import the model, so the next run does not wait for it."""
        self.map(_ready, [() for _ in range(self.workers)])

    def each_worker(self, fn) -> list[Any]:
        """``fn()`` once in every worker process, by worker (e.g. ``counterfactual_cache.stats``)."""
        return self.map(fn, [() for _ in range(self.workers)])

    def map(self, fn, argument_lists: list[tuple], done=None, keys: list[int] | None = None) -> list[Any]:
        """``fn(*arguments)`` for each of ``argument_lists`` in the worker processes, results in the same order.

        Args:
            fn: a module-level function (workers import it by name).
            done: called with each result as it finishes (in whatever order they finish).
            keys: task i runs in worker ``keys[i] % workers`` (default: ``i``); give the replication, so a
                replication always runs where its counterfactual is kept.

        Raises:
            WorkerError: a worker process died; the pool's processes are stopped and the pool discarded (the
                next run starts a new one).
            Whatever ``fn`` raised, for the first task that raised (the others not yet started are dropped).
        """
        keys = list(range(len(argument_lists))) if keys is None else keys
        try:
            futures = {self._executors[key % self.workers].submit(fn, *arguments): i
                       for i, (key, arguments) in enumerate(zip(keys, argument_lists, strict=True))}
        except (cf.process.BrokenProcessPool, RuntimeError):
            self._terminate()
            raise WorkerError("the replication workers had stopped; run again") from None
        out: list[Any] = [None] * len(argument_lists)
        try:
            for future in cf.as_completed(futures):
                out[futures[future]] = future.result()
                if done is not None:
                    done(out[futures[future]])
        except cf.process.BrokenProcessPool as exc:
            self._terminate()  # the other workers' tasks are of the same run: stop them too
            raise WorkerError(f"a replication worker process died ({exc}); perhaps out of memory: "
                              "run again with fewer workers (--workers 1) or a smaller scale") from None
        except Exception:
            for future in futures:  # a task failed: drop those not started, keep the pool
                future.cancel()
            raise
        except BaseException:  # Ctrl-C, SIGTERM: stop the workers now rather than after their replications
            self._terminate()
            raise
        return out

    def _terminate(self) -> None:
        """Stop the worker processes at once and discard the pool."""
        for executor in self._executors:
            for process in list((getattr(executor, "_processes", None) or {}).values()):
                process.terminate()
        self._discard()


atexit.register(ReplicationPool.close_all)


def run_scenario(scenario: Scenario, *, scale: float = 0.05, seed: int = 0, replications: int = 1,
                 tool_breakdown: bool = True, progress: bool = False, keep_models: bool = False,
                 workers: int | None = None) -> RunResult:
    """Run a scenario with its counterfactual, ``replications`` times.

    Args:
        scenario: a validated scenario.
        scale: share of households simulated (1 = all); outputs are weighted to city size.
        seed: root seed; replication r uses SeedSequence(seed, spawn_key=(r,)).
        replications: independent replications.
        tool_breakdown: also run each tool alone (when there are several) for per-tool uplift.
        progress: show a progress bar on standard error (with workers, it moves as replications finish).
        keep_models: keep the model objects in ``RunResult.pairs`` (for tests and charts; runs in this process).
        workers: processes the replications run in (``default_workers`` when None); the summary is the same
            whatever their number.
    """
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if keep_models and workers not in (None, 1):
        raise ValueError("keep_models keeps the model objects of this process: run with workers=1")
    workers = 1 if keep_models else min(workers or default_workers(replications), replications)
    streams = [RandomStreams.from_seed(seed, r) for r in range(replications)]
    # Each replication's own behaviour sets its payback end, hence its days.
    plans = replication_plans(scenario, replications, tool_breakdown)
    bar = None
    update = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=sum(p.days for p in plans), unit="day", desc=f"{scenario.name} x{replications}",
                   file=sys.stderr, mininterval=0.5)
        update = bar.update
    started = time.perf_counter()
    try:
        if workers == 1:
            outputs = [simulate_and_summarise(plans[r].scenario, plans[r].behaviour, scale, st, tool_breakdown, update,
                                              keep_models)
                       for r, st in enumerate(streams)]
        else:
            outputs = ReplicationPool.shared(workers).map(
                _replicate, [(plans[r].scenario, plans[r].behaviour, scale, seed, r, tool_breakdown)
                             for r in range(replications)],
                done=None if bar is None else lambda out: bar.update(plans[out["replication"]].days),
                keys=list(range(replications)))
    finally:
        if bar is not None:
            bar.close()
    frames = [o["frames"] for o in outputs]
    combined = {name: pd.concat([f[name] for f in frames], ignore_index=True) for name in frames[0]}
    manifest = build_manifest(scenario, scale, seed, replications, streams, tool_breakdown)
    manifest["households_simulated"] = outputs[-1]["households"]
    # Run time is here, not in summary.json, so the summary is a function of scenario, seed, scale and replications.
    manifest["seconds_per_replication"] = [o["seconds"] for o in outputs]
    manifest["workers"] = workers
    manifest["wall_seconds"] = time.perf_counter() - started
    summaries = [o["summary"] for o in outputs]
    summary = {"scenario": scenario.name, "title": scenario.title, "city": scenario.city.name,
               "start_date": scenario.start.isoformat(), "end_date": scenario.end.isoformat(),
               # each replication runs to the payback end its own behaviour sets; the latest, and all of them
               "payback_end_date": max(p.payback_end for p in plans).isoformat(),
               "payback_end_dates": sorted({p.payback_end.isoformat() for p in plans}),
               "figures": FIGURE_DEFINITIONS,
               "scale": scale, "seed": seed, "replications": replications, "currency": "yuan",
               "intervals_cover": intervals_cover(manifest["replication_behaviour"], scenario),
               **combine_replications(summaries)}
    pairs = [o["pair"] for o in outputs] if keep_models else []
    return RunResult(scenario, summary, summaries, combined, manifest, pairs)
