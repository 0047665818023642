"""Where a sweep's runs execute: in this process, a local process pool, or a Dask distributed cluster.

Each engine takes the runs' shared ``RunContext`` once and a stream of tasks,
keeps a bounded number in flight (so neither tasks nor rows pile up in the
parent) and yields rows as runs finish, in whatever order they finish.

- ``InProcess``: one run after another here (``--workers 1``; easiest to debug).
- ``LocalPool``: ``concurrent.futures.ProcessPoolExecutor`` with fresh (spawned)
  worker processes, one per core by default: the embedded default.
- ``DaskEngine``: an existing Dask distributed scheduler (``--scheduler ADDRESS``).
  Before any run it checks that the scheduler answers, that it has workers, and
  that it and they load the same model code as this process (a hash of
  ``model/``), since otherwise the same sweep would not give the same rows.
  The scheduler (which unpickles tasks) and the workers must be able to import
  ``model``: start them from the project folder, every listener bound to loopback
  or a trusted interface (``cd PROJECT && PYTHONPATH=. dask scheduler --host 127.0.0.1
  --dashboard-address 127.0.0.1:8787`` and ``PYTHONPATH=. dask worker ADDRESS --host 127.0.0.1
  --dashboard-address 127.0.0.1:0``), or install the project where they run.
  A run lost with its worker is submitted again (``DaskEngine.map_unordered``).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing
import os
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from model.sweeps.worker import RunContext, run_task

MODEL_DIR = Path(__file__).resolve().parent.parent


class EngineError(RuntimeError):
    """The engine cannot run the sweep (no workers, different code, a worker process died)."""


class SchedulerUnreachable(EngineError):
    """No Dask scheduler answers at the address given."""


def code_fingerprint() -> str:
    """A hash of the model's code, parameters and data files, to check workers run what this process runs."""
    digest = hashlib.sha256()
    for path in sorted(MODEL_DIR.rglob("*")):
        if path.suffix in (".py", ".toml", ".csv") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(MODEL_DIR)).encode("utf-8"))
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def default_workers() -> int:
    """Worker processes of the local pool: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class InProcess:
    """Runs tasks one after another in this process.

    Attributes:
        workers: always 1.
        description: for messages.
    """

    workers = 1
    description = "this process"

    def map_unordered(self, context: RunContext, tasks: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Rows of ``tasks``, one at a time."""
        for task in tasks:
            yield run_task(context, task)

    def close(self) -> None:
        """Nothing to release."""


_POOL_CONTEXT: RunContext | None = None


def _pool_init(context: RunContext, parent: int) -> None:
    global _POOL_CONTEXT
    _POOL_CONTEXT = context
    _end_with_parent(parent)


def _end_with_parent(parent: int, every_seconds: float = 1.0) -> None:
    """End this worker process when its parent goes away, however it went (even SIGKILL).

    A killed parent cannot stop its pool, and a worker blocked on a long run would otherwise go on
    computing for nobody; a daemon thread that sees the parent gone ends the process at once. The
    parent's pid comes from the parent itself: a worker still starting when its parent died would
    otherwise take its new parent (init) for the real one.
    """
    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(every_seconds)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _pool_run(task: dict[str, Any]) -> dict[str, Any]:
    return run_task(_POOL_CONTEXT, task)


def _bounded(submit: Callable[[dict[str, Any]], Any], tasks: Iterator[dict[str, Any]], window: int) -> list[Any]:
    """Submit up to ``window`` tasks; returns the futures."""
    futures = []
    for task in tasks:
        futures.append(submit(task))
        if len(futures) >= window:
            break
    return futures


class LocalPool:
    """A pool of spawned worker processes on this machine.

    Spawned (not forked) processes start clean, so threads of this process
    (Arrow's, the progress bar's) cannot leave a child deadlocked.

    Attributes:
        workers: worker processes.
        description: for messages.
    """

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        self.description = f"a local pool of {self.workers} processes"
        self._executor: cf.ProcessPoolExecutor | None = None

    def map_unordered(self, context: RunContext, tasks: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Rows of ``tasks`` as they finish, with at most 2 tasks per worker in flight."""
        self._executor = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_pool_init, initargs=(context, os.getpid()))
        tasks = iter(tasks)
        pending = set(_bounded(lambda t: self._executor.submit(_pool_run, t), tasks, 2 * self.workers))
        while pending:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                try:
                    row = future.result()
                except cf.process.BrokenProcessPool as exc:
                    raise EngineError(f"a worker process died ({exc}); perhaps out of memory. "
                                      "Finished runs are saved: rerun the same command to resume") from None
                yield row
                for task in tasks:
                    pending.add(self._executor.submit(_pool_run, task))
                    break

    def close(self) -> None:
        """Stop the workers, dropping tasks not yet started."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


class DaskEngine:
    """Runs tasks on a Dask distributed cluster through its scheduler.

    Attributes:
        address: the scheduler's address, e.g. ``tcp://10.0.0.5:8786``.
        workers: worker threads the cluster has (sets how many tasks are in flight).
        description: for messages.
    """

    def __init__(self, address: str, connect_timeout: float = 10.0, max_attempts: int = 4,
                 recovery_timeout: float = 120.0):
        """Connect and check the cluster, before any run.

        Args:
            address: the scheduler's address.
            connect_timeout: seconds to wait for the scheduler and its first worker.
            max_attempts: times a run may be lost with its worker before the sweep stops.
            recovery_timeout: seconds to wait for a worker after one was lost.

        Raises:
            SchedulerUnreachable: nothing answers at ``address`` within ``connect_timeout`` seconds.
            EngineError: the cluster has no workers, or they cannot import this model or run other code.
        """
        try:
            from distributed import Client
        except ImportError:
            raise EngineError("--scheduler needs the 'distributed' package: pip install \"dask[distributed]\"") from None
        self.address = address
        self.max_attempts = max_attempts
        self.recovery_timeout = recovery_timeout
        _probe(address, connect_timeout)
        self._client = _connect(Client, address, connect_timeout)
        try:
            self._check(connect_timeout)
        except BaseException:
            self._client.close()
            raise
        self.description = f"the Dask cluster at {address} ({self.workers} worker threads)"
        self._futures: list[Any] = []

    def _check(self, timeout: float) -> None:
        try:
            self._client.wait_for_workers(1, timeout=timeout)
        except Exception:
            raise EngineError(f"the Dask scheduler at {self.address} has no workers (waited {timeout:g} s)") from None
        mine = code_fingerprint()
        # The scheduler unpickles task graphs too, so it needs the model as much as the workers do.
        try:
            on_scheduler = self._client.run_on_scheduler(code_fingerprint)
        except Exception as exc:
            raise EngineError(f"the Dask scheduler at {self.address} cannot load this model ({type(exc).__name__}: "
                              f"{exc}); start it from the project folder or install the project where it runs") from None
        if on_scheduler != mine:
            raise EngineError(f"the Dask scheduler at {self.address} loads different model code from this folder; "
                              "restart it from this project")
        try:
            prints = self._client.run(code_fingerprint)
        except Exception as exc:
            raise EngineError(f"workers of the Dask scheduler at {self.address} cannot run this model "
                              f"({type(exc).__name__}: {exc}); start them from the project folder or install the "
                              "project where they run") from None
        different = sorted(w for w, fp in prints.items() if fp != mine)
        if different:
            raise EngineError(f"workers {', '.join(different)} of the Dask scheduler at {self.address} run different "
                              "model code from this folder, so they would not give the same rows; update them")
        info = self._client.scheduler_info(n_workers=-1) if _takes_n_workers(self._client) else self._client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def map_unordered(self, context: RunContext, tasks: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Rows of ``tasks`` as they finish, with at most 2 tasks per worker thread in flight.

        ``run_task`` turns every exception the model raises into an error row, so a future that fails
        here failed for the cluster's reasons: its worker died (``KilledWorker``), the worker holding the
        shared context left (``FutureCancelledError``: lost dependencies), a connection broke. Such a run
        is not the run's result: it is submitted again (after the context is sent again if it was lost),
        up to ``max_attempts`` times in all.

        Raises:
            EngineError: a run was lost ``max_attempts`` times, or no worker came back within
                ``recovery_timeout`` seconds; rows already yielded are kept by the caller.
        """
        from distributed import as_completed

        shared = {"context": self._client.scatter(context, broadcast=True, hash=False)}
        tasks = iter(tasks)
        by_future: dict[Any, dict[str, Any]] = {}
        lost: dict[int, int] = {}  # run id -> times lost so far

        def submit(task: dict[str, Any]):
            future = self._client.submit(run_task, shared["context"], task, pure=False)
            by_future[future] = task
            return future

        queue = as_completed(_bounded(submit, tasks, 2 * self.workers), loop=self._client.loop)
        self._futures = list(by_future)
        for future in queue:
            task = by_future.pop(future)
            try:
                row = future.result()
            except Exception as exc:
                future.release()
                run_id = task["run_id"]
                lost[run_id] = lost.get(run_id, 0) + 1
                if lost[run_id] >= self.max_attempts:
                    raise EngineError(f"run {run_id} was lost {lost[run_id]} times on the Dask cluster at "
                                      f"{self.address} (last: {cluster_failure(exc)}): perhaps it runs a worker out "
                                      "of memory, or workers keep leaving. Finished runs are saved: rerun the same "
                                      "command to resume") from None
                self._recover(shared, context)
                queue.add(submit(task))
                self._futures = list(by_future)
                continue
            future.release()
            yield row
            for task in tasks:
                queue.add(submit(task))
                break
            self._futures = list(by_future)

    def _recover(self, shared: dict[str, Any], context: RunContext) -> None:
        """Wait for a worker and send the shared context again if no worker holds it any more."""
        try:
            self._client.wait_for_workers(1, timeout=self.recovery_timeout)
        except Exception:
            raise EngineError(f"the Dask cluster at {self.address} has no workers left (waited "
                              f"{self.recovery_timeout:g} s). Finished runs are saved: start workers and rerun the "
                              "same command to resume") from None
        if shared["context"].status != "finished":
            shared["context"] = self._client.scatter(context, broadcast=True, hash=False)

    def close(self) -> None:
        """Cancel tasks not yet finished and disconnect (the cluster itself keeps running)."""
        try:
            if self._futures:
                self._client.cancel(self._futures)
        finally:
            self._client.close()


def _probe(address: str, timeout: float) -> None:
    """Fail at once when nothing listens at a TCP address (distributed would retry until its timeout)."""
    match = re.fullmatch(r"(?:tcp://)?\[?([^\[\]/]+?)\]?:(\d+)/?", address)
    if match is None:
        if "://" not in address:
            raise SchedulerUnreachable(f"{address!r} is not a scheduler address; expected tcp://HOST:PORT")
        return  # another protocol (tls://, ucx://): distributed knows how to reach it
    try:
        socket.create_connection((match.group(1), int(match.group(2))), timeout=timeout).close()
    except OSError as exc:
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {address}: "
                                   f"{exc.strerror or type(exc).__name__}") from None


def _connect(client_class, address: str, timeout: float):
    """A distributed Client, or SchedulerUnreachable within about ``timeout`` seconds.

    The connection is made in a daemon thread because a port that accepts TCP
    but does not speak Dask's protocol (a web server, say) can keep the
    client's handshake waiting well past its own timeout.
    """
    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            outcome["client"] = client_class(address, timeout=timeout, set_as_default=False)
        except Exception as exc:  # OSError, TimeoutError, ValueError for a malformed address
            outcome["error"] = exc

    thread = threading.Thread(target=connect, name=f"connect {address}", daemon=True)
    thread.start()
    thread.join(timeout + 3)
    if thread.is_alive():
        raise SchedulerUnreachable(f"something listens at {address} but no Dask scheduler answered within "
                                   f"{timeout:g} s; check the address and port")
    if "error" in outcome:
        exc = outcome["error"]
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {address} within {timeout:g} s: "
                                   f"{type(exc).__name__}: {exc}")
    return outcome["client"]


def _takes_n_workers(client) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters


def cluster_failure(exc: BaseException) -> str:
    """A cluster failure in words, without Dask's task keys (which differ for every run)."""
    return f"{type(exc).__name__}: {strip_task_keys(str(exc))}"


_KEY_ID = r"(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"  # a token or a uuid
_TASK_KEY = re.compile(rf"\('[\w.]+-{_KEY_ID}'(?:, \d+)*\)|[\w.]+-{_KEY_ID}")


def strip_task_keys(message: str) -> str:
    """``message`` with Dask task keys (``run_task-<32 hex digits or a uuid>``) replaced by ``<task>``."""
    return _TASK_KEY.sub("<task>", message)


def make_engine(scheduler: str | None = None, workers: int | None = None, connect_timeout: float = 10.0):
    """The engine a sweep command asks for: Dask with a scheduler address, else a local pool (or this process for 1 worker)."""
    if scheduler:
        return DaskEngine(scheduler, connect_timeout=connect_timeout)
    if workers == 1:
        return InProcess()
    return LocalPool(workers)
