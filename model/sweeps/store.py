"""The results folder of a sweep: a Parquet dataset written a batch at a time, and how to resume it.

Layout of ``results/sweeps/<name>/``:

- ``sweep.json``: the checked sweep (``SweepSpec.to_dict``), its fingerprint, versions and commit;
- ``design.parquet``: one row per design point, the values applied and (for sampled designs) as drawn;
- ``runs/part-NNNNNN.parquet``: one file per batch of finished runs; together a Parquet dataset of
  attempts: ``run_id``, ``point``, ``replication``, ``status`` (ok or error), ``error``, ``seconds``,
  ``seed_entropy``, ``seed_spawn_key``, ``param.<field path>`` and ``out.<output path>``.
  A run that failed and was retried (``--retry-failed``) has a row per attempt, so read the results with
  ``read_results(folder)``: one row per run id (its successful attempt, else its latest). Reading the
  dataset directly (``pandas.read_parquet(folder / "runs")``) gives every attempt and would count such
  runs twice.

Every file is written under a dot-name and renamed into place (``os.replace``),
so a sweep stopped at any moment leaves only whole files; readers skip dot-names.
Resuming reads the run ids already present. A lock file keeps two sweeps from
writing into one folder at once.
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.sweeps.design import ARROW_TYPES, Design, value_kind
from model.sweeps.spec import SweepError, SweepSpec

PART_PATTERN = re.compile(r"part-(\d{6,})\.parquet")
BASE_COLUMNS = ("run_id", "point", "replication", "status", "error", "seconds", "seed_entropy", "seed_spawn_key")


def output_column(path: str) -> str:
    """The results column of an output path."""
    return f"out.{path}"


def param_column(path: str) -> str:
    """The results column of a varied field path."""
    return f"param.{path}"


def row_schema(spec: SweepSpec) -> pa.Schema:
    """The Arrow schema of a sweep's run rows (the same in every part file)."""
    fields = [
        pa.field("run_id", pa.int64(), nullable=False),
        pa.field("point", pa.int64(), nullable=False),
        pa.field("replication", pa.int64(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("error", pa.string()),
        pa.field("seconds", pa.float64()),
        pa.field("seed_entropy", pa.int64(), nullable=False),
        pa.field("seed_spawn_key", pa.list_(pa.int64()), nullable=False),
    ]
    fields += [pa.field(param_column(f.path), ARROW_TYPES[value_kind(f)]) for f in spec.fields]
    fields += [pa.field(output_column(o), pa.float64()) for o in spec.outputs]
    return pa.schema(fields)


def _write_atomic(path: Path, write) -> None:
    """Write through ``write(tmp_path)`` to a dot-named file, flush it to disk, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _part_files(runs_dir: Path) -> list[Path]:
    if not runs_dir.is_dir():
        return []
    parts = (p for p in runs_dir.iterdir() if PART_PATTERN.fullmatch(p.name))
    return sorted(parts, key=lambda p: int(PART_PATTERN.fullmatch(p.name).group(1)))


def _read_parts(folder: Path, columns: list[str] | None) -> pd.DataFrame:
    meta_path = folder / "sweep.json"
    if not meta_path.is_file():
        raise SweepError(str(folder), "(folder)", "not a sweep results folder: no sweep.json")
    spec = SweepSpec.from_dict(json.loads(meta_path.read_text(encoding="utf-8"))["spec"])
    schema = row_schema(spec)
    if columns is not None:
        missing = [c for c in columns if c not in schema.names]
        if missing:
            raise SweepError(str(folder), missing[0], "no such column in this sweep's results")
        schema = pa.schema([schema.field(c) for c in columns])
    tables = []
    for part in _part_files(folder / "runs"):
        try:
            tables.append(pq.read_table(part, columns=schema.names).cast(schema))
        except (pa.ArrowException, OSError) as exc:
            raise SweepError(str(part), "(file)", f"cannot read this results file: {exc}") from None
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return table.to_pandas()


def read_results(folder: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A sweep's run rows, one per run id, sorted by run id.

    A run with several attempts (a failed run retried) is represented by its successful attempt if it has
    one, else by its latest.

    Args:
        folder: the sweep's results folder.
        columns: columns to read (``run_id`` is always read); all when None.
    """
    folder = Path(folder)
    if columns is not None and "run_id" not in columns:
        columns = ["run_id", *columns]
    read = columns if columns is None or "status" in columns else [*columns, "status"]
    frame = _read_parts(folder, read)
    ok_last = frame.assign(_ok=frame["status"] == "ok").sort_values("_ok", kind="stable")  # part order kept within
    frame = ok_last.drop_duplicates(subset="run_id", keep="last").drop(columns="_ok")
    if columns is not None and "status" not in columns:
        frame = frame.drop(columns="status")
    return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


_RUN_IN_MESSAGE = re.compile(r" \(run \d+\)")


def error_summary(folder: str | Path) -> list[tuple[str, int]]:
    """The failed runs' errors grouped by exception type and message, most common first.

    Run numbers and Dask task keys are taken out of the messages first, so one error met by many
    runs is counted once with its number of runs.
    """
    from model.sweeps.engines import strip_task_keys

    rows = read_results(folder, ["status", "error"])
    errors = rows.loc[rows["status"] == "error", "error"].fillna("(no message)")
    kinds = errors.map(lambda m: strip_task_keys(_RUN_IN_MESSAGE.sub("", m)))
    counts = kinds.value_counts(sort=False)
    return sorted(((str(k), int(n)) for k, n in counts.items()), key=lambda item: (-item[1], item[0]))


def read_meta(folder: str | Path) -> dict[str, Any]:
    """The ``sweep.json`` of a results folder."""
    path = Path(folder) / "sweep.json"
    if not path.is_file():
        raise SweepError(str(folder), "(folder)", "not a sweep results folder: no sweep.json")
    return json.loads(path.read_text(encoding="utf-8"))


def read_design(folder: str | Path) -> pd.DataFrame:
    """The ``design.parquet`` of a results folder."""
    return pd.read_parquet(Path(folder) / "design.parquet")


class ResultStore:
    """Writes a sweep's rows into its results folder, a batch per file, and knows which runs are done.

    Attributes:
        folder: the results folder.
        spec: the sweep.
        schema: the Arrow schema of a row.
    """

    def __init__(self, folder: str | Path, spec: SweepSpec):
        self.folder = Path(folder)
        self.spec = spec
        self.schema = row_schema(spec)
        self._next_part = 1
        self._locked = False

    @property
    def runs_dir(self) -> Path:
        """Where the part files go."""
        return self.folder / "runs"

    @property
    def started(self) -> bool:
        """Whether a sweep was started here before."""
        return (self.folder / "sweep.json").is_file()

    def check(self) -> None:
        """Refuse a folder that holds other things or a different sweep.

        Raises:
            SweepError: the folder belongs to another sweep, or the sweep file or scenario changed since.
        """
        if self.folder.exists() and not self.folder.is_dir():
            raise SweepError(str(self.folder), "(folder)", "exists and is not a folder; choose another --out")
        if self.started:
            meta = read_meta(self.folder)
            if meta.get("fingerprint") != self.spec.fingerprint():
                raise SweepError(str(self.folder), "(folder)",
                                 f"holds results of a different sweep ({meta.get('spec', {}).get('origin')}): the sweep "
                                 "file, its scenario or a [fixed] value changed since they were written; "
                                 "choose another --out (or delete the folder to start again)")
        elif self.folder.is_dir() and any(p for p in self.folder.iterdir() if not p.name.startswith(".")):
            raise SweepError(str(self.folder), "(folder)", "exists, is not empty and holds no sweep.json; choose another --out")

    def finished(self, retry_failed: bool = False) -> set[int]:
        """Run ids already recorded (only successful ones with ``retry_failed``)."""
        if not self.started:
            return set()
        frame = read_results(self.folder, ["run_id", "status"])
        if retry_failed:
            frame = frame[frame["status"] == "ok"]
        return set(int(r) for r in frame["run_id"])

    def initialise(self, design: Design, meta: dict[str, Any]) -> None:
        """Write ``sweep.json`` and ``design.parquet`` of a new sweep (nothing when resuming)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(exist_ok=True)
        if self.started:
            return
        frame = design.frame()
        _write_atomic(self.folder / "design.parquet", lambda p: frame.to_parquet(p, index=False))
        body = {"fingerprint": self.spec.fingerprint(), "spec": self.spec.to_dict(), **meta}
        text = json.dumps(body, ensure_ascii=False, indent=2)
        _write_atomic(self.folder / "sweep.json", lambda p: p.write_text(text, encoding="utf-8"))

    # -------------------------------------------------------------- lock

    def lock(self) -> None:
        """Take the folder's lock; a stale lock of a process that died is taken over.

        Raises:
            SweepError: another live sweep holds it.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / ".lock"
        me = f"{socket.gethostname()} {os.getpid()}"
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    host, pid = path.read_text().split()
                except (OSError, ValueError):
                    host, pid = "", "0"
                if host == socket.gethostname() and _alive(int(pid)):
                    raise SweepError(str(self.folder), "(folder)",
                                     f"another sweep (process {pid}) is writing here; wait for it or stop it") from None
                path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(me)
            self._locked = True
            break
        for stale in self.runs_dir.glob(".part-*.tmp") if self.runs_dir.is_dir() else []:
            stale.unlink(missing_ok=True)
        parts = _part_files(self.runs_dir)
        self._next_part = (int(PART_PATTERN.fullmatch(parts[-1].name).group(1)) + 1) if parts else 1

    def unlock(self) -> None:
        """Release the lock."""
        if self._locked:
            (self.folder / ".lock").unlink(missing_ok=True)
            self._locked = False

    # -------------------------------------------------------------- writing

    def write_batch(self, rows: Iterable[dict[str, Any]]) -> Path | None:
        """Write finished runs as one new part file; returns it (None for no rows)."""
        rows = list(rows)
        if not rows:
            return None
        table = pa.Table.from_pylist(rows, schema=self.schema)
        path = self.runs_dir / f"part-{self._next_part:06d}.parquet"
        _write_atomic(path, lambda p: pq.write_table(table, p))
        self._next_part += 1
        return path


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
