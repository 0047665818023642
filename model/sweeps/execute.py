"""Running a whole sweep: plan the runs, skip finished ones, stream rows to Parquet, and re-run one row.

``run_sweep`` checks everything it can before the first run (the results
folder, every design point as a valid scenario, the engine), then hands tasks
to the engine and writes finished rows in batches: a part file when
``batch_rows`` rows are waiting or ``flush_seconds`` have passed, and whatever
is finished when the sweep stops, however it stops. So the parent holds at most
one batch of rows, and rerunning the same command resumes where it left off.

Run ``i`` (``point * replications + replication``) is seeded with
``SeedSequence(seed, spawn_key=(i,))``, the ``i``-th child of
``SeedSequence(seed).spawn(runs)``; with ``common_random_numbers`` every point's
replication ``r`` uses ``spawn_key=(r,)`` instead, so differences between points
are not blurred by different random draws.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

from model.outputs import PROJECT_ROOT, git_commit, package_versions
from model.scenario import ScenarioError, scenario_from_dict
from model.sweeps.design import Design, build_design, decode_value, value_kind
from model.sweeps.engines import code_fingerprint, make_engine
from model.sweeps.spec import SweepError, SweepSpec, apply_overrides
from model.sweeps.store import ResultStore, param_column, read_design, read_meta, read_results
from model.sweeps.worker import RunContext, run_task

DEFAULT_BATCH_ROWS = 100
DEFAULT_FLUSH_SECONDS = 10.0


def default_folder(spec: SweepSpec) -> Path:
    """Where a sweep's results go unless told: ``results/sweeps/<name>/``."""
    return PROJECT_ROOT / "results" / "sweeps" / spec.name


def run_context(spec: SweepSpec) -> RunContext:
    """What every run of ``spec`` shares."""
    return RunContext(base_raw=spec.base_raw, origin=spec.scenario_file, scale=spec.scale, outputs=spec.outputs,
                      tool_breakdown=spec.tool_breakdown, kinds={f.path: value_kind(f) for f in spec.fields})


def spawn_key(spec: SweepSpec, run_id: int, replication: int) -> tuple[int, ...]:
    """The spawn key of a run's SeedSequence under the sweep's seed."""
    return (replication,) if spec.common_random_numbers else (run_id,)


def plan_tasks(spec: SweepSpec, design: Design, skip: set[int]) -> Iterator[dict[str, Any]]:
    """The tasks still to run, in run-id order, made one at a time."""
    for point, values in enumerate(design.values):
        for replication in range(spec.replications):
            run_id = point * spec.replications + replication
            if run_id in skip:
                continue
            yield {"run_id": run_id, "point": point, "replication": replication, "values": values,
                   "entropy": spec.seed, "spawn_key": spawn_key(spec, run_id, replication)}


def check_points(spec: SweepSpec, design: Design, points: Iterator[int]) -> None:
    """Validate the scenario of each design point, so a bad combination fails before any run.

    Raises:
        SweepError: naming the sweep file, the scenario field and the point's values.
    """
    for point in points:
        values = design.values[point]
        try:
            scenario_from_dict(apply_overrides(spec.base_raw, values, spec.scenario_file), spec.scenario_file)
        except ScenarioError as exc:
            shown = ", ".join(f"{k} = {v!r}" for k, v in values.items())
            raise SweepError(spec.origin, exc.field_path,
                             f"design point {point} ({shown}) makes an invalid scenario: {exc.reason}") from None


def _versions() -> dict[str, str]:
    out = package_versions()
    for pkg in ("SALib", "dask", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


@dataclass
class SweepReport:
    """What a call of ``run_sweep`` did.

    Attributes:
        folder: the results folder.
        runs_total: runs in the whole sweep.
        already_done: runs found finished when it started.
        ran: runs it finished.
        failed: of those, runs that raised.
        seconds: wall time of the runs (after the checks).
        engine: where the runs executed.
        complete: whether every run of the sweep is now recorded.
        warnings: things the user should know (e.g. resumed with different model code).
    """

    folder: Path
    runs_total: int
    already_done: int
    ran: int = 0
    failed: int = 0
    seconds: float = 0.0
    engine: str = ""
    complete: bool = False
    warnings: list[str] = field(default_factory=list)


class _RowBuffer:
    """Finished rows waiting to be written; writes a part file when full or old enough.

    Attributes:
        store: where part files go.
        batch_rows: rows that make a part file.
        flush_seconds: the longest rows wait before being written.
        rows: rows waiting.
        last: when the last part file was written (monotonic seconds).
    """

    def __init__(self, store: ResultStore, batch_rows: int, flush_seconds: float):
        self.store = store
        self.batch_rows = batch_rows
        self.flush_seconds = flush_seconds
        self.rows: list[dict[str, Any]] = []
        self.last = time.monotonic()

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch_rows or time.monotonic() - self.last >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        rows, self.rows = self.rows, []
        self.store.write_batch(rows)
        self.last = time.monotonic()


def _raise_interrupt(signum, frame):  # SIGTERM stops a sweep like Ctrl-C: finished rows are written first
    raise KeyboardInterrupt(f"signal {signum}")


def run_sweep(spec: SweepSpec, out: str | Path | None = None, *, engine=None, scheduler: str | None = None,
              workers: int | None = None, connect_timeout: float = 10.0, retry_failed: bool = False,
              max_runs: int | None = None, progress: bool = False, batch_rows: int = DEFAULT_BATCH_ROWS,
              flush_seconds: float = DEFAULT_FLUSH_SECONDS) -> SweepReport:
    """Run the runs of ``spec`` not yet in its results folder.

    Args:
        spec: a checked sweep (``load_sweep``).
        out: results folder (default ``results/sweeps/<name>/``).
        engine: an engine object to use (tests); else one is made from ``scheduler``/``workers``.
        scheduler: a Dask scheduler address; None for the local pool.
        workers: local worker processes (default one per core; 1 runs in this process).
        connect_timeout: seconds to wait for the scheduler and its workers.
        retry_failed: run again the runs recorded as errors.
        max_runs: stop after this many runs (the rest are left for a later call).
        progress: show a progress bar (runs done, rate, time left) on standard error.
        batch_rows: rows per part file at most.
        flush_seconds: write waiting rows at least this often.

    Raises:
        SweepError: the results folder or a design point is wrong (before any run).
        SchedulerUnreachable, EngineError: the engine cannot run (before any run), or its workers died.
        KeyboardInterrupt: the sweep was stopped; finished rows are written first.
    """
    folder = Path(out) if out is not None else default_folder(spec)
    design = build_design(spec)
    store = ResultStore(folder, spec)
    store.check()
    done = store.finished(retry_failed)
    report = SweepReport(folder, design.runs, len(done))
    if store.started and len(done) < design.runs:
        stored = read_meta(folder).get("code_fingerprint")
        if stored and stored != code_fingerprint():
            report.warnings.append(f"{folder}: the model code changed since this sweep started; "
                                   "its earlier and new rows come from different code")
    todo_points = sorted({run_id // spec.replications for run_id in range(design.runs) if run_id not in done})
    if max_runs is not None:
        firsts = [r for r in range(design.runs) if r not in done][:max_runs]
        todo_points = sorted({r // spec.replications for r in firsts})
    check_points(spec, design, iter(todo_points))
    if len(done) >= design.runs:
        report.complete = True
        return report

    own_engine = engine is None
    if own_engine:
        engine = make_engine(scheduler, workers, connect_timeout)
    report.engine = engine.description
    bar = None
    previous_handler = None
    try:
        store.lock()
        store.initialise(design, {
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "command": sys.argv, "design_points": design.points, "runs": design.runs,
            "versions": _versions(), "git_commit": git_commit(), "code_fingerprint": code_fingerprint(),
        })
        if threading.current_thread() is threading.main_thread():
            previous_handler = signal.signal(signal.SIGTERM, _raise_interrupt)
        todo = design.runs - len(done)
        if max_runs is not None:
            todo = min(todo, max_runs)
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=design.runs, initial=len(done), unit="run", desc=spec.name, file=sys.stderr,
                       mininterval=0.5, smoothing=0.1)
        tasks = itertools.islice(plan_tasks(spec, design, done), todo)
        buffer = _RowBuffer(store, batch_rows, flush_seconds)
        started = time.perf_counter()
        try:
            for row in engine.map_unordered(run_context(spec), tasks):
                buffer.add(row)
                report.ran += 1
                report.failed += row["status"] != "ok"
                if bar is not None:
                    bar.update(1)
                    if report.failed:
                        bar.set_postfix(failed=report.failed, refresh=False)
        finally:
            buffer.flush()
            report.seconds = time.perf_counter() - started
    finally:
        if bar is not None:
            bar.close()
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
        if own_engine:
            engine.close()
        store.unlock()
    report.complete = report.already_done + report.ran >= design.runs
    return report


# ------------------------------------------------------------------ one row again


@dataclass
class Rerun:
    """One run done again.

    Attributes:
        run_id: the run.
        stored: its stored row, or None if the sweep has not run it yet.
        new: the row just computed.
        outputs: the output paths compared.
    """

    run_id: int
    stored: dict[str, Any] | None
    new: dict[str, Any]
    outputs: tuple[str, ...]

    @property
    def identical(self) -> bool | None:
        """Whether status and every output equal the stored row's (None when nothing is stored)."""
        if self.stored is None:
            return None
        if self.stored["status"] != self.new["status"]:
            return False
        for out in self.outputs:
            a, b = self.stored[f"out.{out}"], self.new[f"out.{out}"]
            a = math.nan if a is None else a
            b = math.nan if b is None else b
            if not (a == b or (math.isnan(a) and math.isnan(b))):
                return False
        return True


def rerun(folder: str | Path, run_id: int) -> Rerun:
    """Run ``run_id`` of the sweep in ``folder`` again, in this process.

    With a stored row, its own field values and seed (``seed_entropy``,
    ``seed_spawn_key``) drive the run, so the row alone (with the sweep's
    ``sweep.json``) reproduces it; without one, the design and the sweep's seed do.

    Raises:
        SweepError: no such run id in this sweep.
    """
    folder = Path(folder)
    spec = SweepSpec.from_dict(read_meta(folder)["spec"])
    design = read_design(folder)
    runs = len(design) * spec.replications
    if not 0 <= run_id < runs:
        raise SweepError(str(folder), "--rerun", f"run id {run_id} is not in this sweep (0 to {runs - 1})")
    rows = read_results(folder)
    match = rows[rows["run_id"] == run_id]
    stored = None
    kinds = {f.path: value_kind(f) for f in spec.fields}
    if len(match):
        stored = match.iloc[0].to_dict()
        stored["seed_spawn_key"] = [int(k) for k in stored["seed_spawn_key"]]
        stored = {k: (None if _is_missing(v) else v) for k, v in stored.items()}
        source = stored
        entropy, key = stored["seed_entropy"], stored["seed_spawn_key"]
        point, replication = int(stored["point"]), int(stored["replication"])
    else:
        point, replication = divmod(run_id, spec.replications)
        source = design.iloc[point].to_dict()
        entropy, key = spec.seed, spawn_key(spec, run_id, replication)
    values = {p: decode_value(kinds[p], source[param_column(p)]) for p in spec.paths}
    task = {"run_id": run_id, "point": point, "replication": replication, "values": values,
            "entropy": entropy, "spawn_key": key}
    return Rerun(run_id, stored, run_task(run_context(spec), task), spec.outputs)


def _is_missing(value: Any) -> bool:
    try:
        return value is None or (isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False
