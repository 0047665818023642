"""Faults survived: writers killed mid-write, concurrent writers, a lost Dask worker, a killed sweep parent.

Each test makes the fault happen at a known moment (a patched writer that kills its own process, a Dask
worker killed after the first row) rather than at a random time, so it cannot pass without the fault.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT
from model.output_folder import (PARTIAL_SUFFIX, STALE_AFTER_SECONDS, OutputFolderError, check_output_folder,
                                 claim_output_folder)

RUN_ARGS = ["--scale", "0.005", "--quiet", "--replications", "1"]


def litter(folder: Path) -> list[str]:
    """Hidden working folders left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def run_killed_while_writing(out: Path, how: signal.Signals) -> subprocess.CompletedProcess:
    """`run.py run` into ``out`` whose process sends itself ``how`` after writing its first Parquet file."""
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import pandas as pd
        real = pd.DataFrame.to_parquet
        def to_parquet(self, path, *a, **k):
            real(self, path, *a, **k)
            os.kill(os.getpid(), signal.{how.name})
            import time; time.sleep(5)
        pd.DataFrame.to_parquet = to_parquet
        import run
        sys.exit(run.main(["run", {str(EXAMPLE)!r}, "--out", {str(out)!r}, *{RUN_ARGS!r}]))
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True, timeout=300)


# ------------------------------------------------------------------ writing


def test_sigterm_while_writing_leaves_nothing(tmp_path):
    out = tmp_path / "res"
    proc = run_killed_while_writing(out, signal.SIGTERM)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "nothing half-written" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_sigkill_while_writing_is_cleaned_by_the_next_run(tmp_path):
    out = tmp_path / "res"
    proc = run_killed_while_writing(out, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    # A killed process cannot clean up: its working folder, with a partial Parquet file, is what it leaves ...
    assert litter(tmp_path) == [f".res{PARTIAL_SUFFIX}"]
    assert list((tmp_path / f".res{PARTIAL_SUFFIX}").glob("*.parquet"))
    assert not out.exists()
    # ... and the next run into the same folder takes it over at once (nobody holds its lock).
    done = run_cli("run", str(EXAMPLE), "--out", str(out), *RUN_ARGS)
    assert done.returncode == 0, done.stderr
    assert litter(tmp_path) == [] and (out / "summary.json").is_file()


def test_a_dead_writers_folder_is_cleaned_by_a_run_into_another_folder(tmp_path):
    proc = run_killed_while_writing(tmp_path / "first", signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    stale = tmp_path / f".first{PARTIAL_SUFFIX}"
    old = time.time() - STALE_AFTER_SECONDS - 1
    os.utime(stale, (old, old))
    done = run_cli("run", str(EXAMPLE), "--out", str(tmp_path / "second"), *RUN_ARGS)
    assert done.returncode == 0, done.stderr
    assert litter(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["second"]


def test_a_live_writers_folder_is_never_cleaned(tmp_path):
    with claim_output_folder(tmp_path / "busy") as busy:
        (busy.work / "half.parquet").write_bytes(b"x")
        old = time.time() - STALE_AFTER_SECONDS - 1
        os.utime(busy.work, (old, old))
        with claim_output_folder(tmp_path / "other") as other:
            other.commit()
        assert (busy.work / "half.parquet").is_file()
        busy.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "other"]
    assert (tmp_path / "busy" / "half.parquet").is_file()


def test_a_second_writer_is_refused_while_the_first_writes_and_after(tmp_path):
    out = tmp_path / "res"
    first = claim_output_folder(out)
    with pytest.raises(OutputFolderError, match="not empty .another run is writing it now"):
        claim_output_folder(out)
    (first.work / "summary.json").write_text("{}", encoding="utf-8")
    assert first.commit() == out
    with pytest.raises(OutputFolderError, match="output folder exists and is not empty"):
        claim_output_folder(out)
    assert litter(tmp_path) == []


def test_a_folder_filled_meanwhile_refuses_the_commit_cleanly(tmp_path):
    out = tmp_path / "res"
    folder = claim_output_folder(out)
    (folder.work / "mine.json").write_text("{}", encoding="utf-8")
    out.mkdir()
    (out / "theirs.json").write_text("{}", encoding="utf-8")  # someone else wrote it without our lock
    with pytest.raises(OutputFolderError, match="not empty .another run wrote it meanwhile"):
        folder.commit()
    assert [p.name for p in out.iterdir()] == ["theirs.json"] and litter(tmp_path) == []


def test_two_concurrent_runs_into_one_folder(tmp_path):
    out = tmp_path / "res"
    cmd = [sys.executable, str(ROOT / "run.py"), "run", str(EXAMPLE), "--out", str(out), *RUN_ARGS]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    assert "not empty" in loser and "Traceback" not in loser
    assert (out / "summary.json").is_file() and litter(tmp_path) == []


@pytest.mark.parametrize("out, reason", [
    ("/proc/x", "is inside /proc, a system folder"),
    ("{tmp}/a_file/sub", "cannot write under {tmp}/a_file: it is a file"),
    ("{tmp}/full", "output folder exists and is not empty"),
])
def test_bad_out_is_refused_before_any_simulation(tmp_path, out, reason):
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x", encoding="utf-8")
    out, reason = out.format(tmp=tmp_path), reason.format(tmp=tmp_path)
    with pytest.raises(OutputFolderError, match=reason):
        check_output_folder(out)
    started = time.perf_counter()
    proc = run_cli("run", str(EXAMPLE), "--out", out, "--scale", "0.05")
    assert proc.returncode == 2 and reason in proc.stderr and f"--out {out}" in proc.stderr
    assert "Traceback" not in proc.stderr and "社零" not in proc.stdout
    assert time.perf_counter() - started < 20  # refused before the simulation (which takes longer at this scale)
    assert (tmp_path / "full" / "keep.txt").read_text(encoding="utf-8") == "x"


def test_an_unwritable_place_is_refused(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere; permissions cannot be tested")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(OutputFolderError, match="cannot write in"):
        check_output_folder(locked / "res")


# ------------------------------------------------------------------ sweeps


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("settle", [0.0, 3.0], ids=["while-starting", "while-computing"])
def test_pool_workers_end_when_the_sweep_parent_is_killed(tmp_path, settle):
    sweep = tmp_path / "slow.toml"
    # Whole-year runs at a larger scale, more of them than two workers finish in a few seconds on a quiet
    # machine, so the workers are still busy when the parent dies.
    sweep.write_text(f'[sweep]\nscenario = "{EXAMPLE.as_posix()}"\nscale = 0.2\nname = "slow"\ndesign = "grid"\n'
                     'outputs = ["retail_sales_uplift"]\n[[vary]]\nfield = "tools.spring_vouchers.face_value_yuan"\n'
                     f'values = {list(range(10, 41))}\nassumption = "test"\n', encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "sweep", str(sweep), "--out", str(tmp_path / "r"),
                               "--workers", "2", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = [c for c in _children(parent.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
        assert len(workers) >= 2, "the pool did not start"
        time.sleep(settle)  # 0: killed while the workers still import; 3: while they compute
        workers = [w for w in workers if _running(w)]
        assert workers, "no pool worker was running when the parent was killed"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    # A busy worker ends within a second or two; one still starting (imports on a loaded machine) when it starts.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(_running(w) for w in workers):
        time.sleep(0.2)
    assert not any(_running(w) for w in workers), "pool workers outlived their parent"


@pytest.fixture
def one_worker_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, protocol="tcp",
                                       host="127.0.0.1", dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()


def test_a_sweep_whose_only_dask_worker_is_killed_gets_every_run_done(tmp_path, one_worker_cluster):
    from test_sweep import small_grid

    from model.sweeps import load_sweep, read_results, run_sweep
    from model.sweeps.engines import DaskEngine

    killed = []

    class KillAfterFirstRow(DaskEngine):
        def map_unordered(self, context, tasks):
            for row in super().map_unordered(context, tasks):
                if not killed:
                    # The worker holds the shared context and runs the next task: both are lost with it.
                    (pid,) = self._client.run(os.getpid).values()
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                yield row

    spec = load_sweep(small_grid(tmp_path))
    engine = KillAfterFirstRow(one_worker_cluster.scheduler_address, recovery_timeout=60)
    outcome: dict = {}

    def sweep() -> None:
        try:
            outcome["report"] = run_sweep(spec, tmp_path / "r", engine=engine, batch_rows=1)
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=sweep, daemon=True)
    thread.start()
    thread.join(timeout=180)
    engine.close()
    assert not thread.is_alive(), "the sweep did not finish within 3 minutes"
    assert "error" not in outcome, outcome.get("error")
    report = outcome["report"]
    assert killed and report.complete and report.failed == 0 and report.ran == 8
    rows = read_results(tmp_path / "r")
    assert list(rows["run_id"]) == list(range(8)) and (rows["status"] == "ok").all()
    # Nothing recorded twice, nothing recorded as an error of the run.
    import pandas as pd

    raw = pd.read_parquet(tmp_path / "r" / "runs")
    assert len(raw) == 8


def test_failed_runs_exit_non_zero_grouped_without_run_numbers(tmp_path, monkeypatch, capsys):
    import model.sweeps.worker as worker
    import run as run_module
    from test_sweep import small_grid

    def broken(scenario, scale, streams, **kw):
        raise ValueError("no data for this city")

    monkeypatch.setattr(worker, "simulate_replication", broken)
    path = small_grid(tmp_path, replications=1)
    out = tmp_path / "r"
    assert run_module.main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "4 of 4 runs failed" in err and "1 distinct error(s)" in err
    assert "4 x ValueError: no data for this city" in err
    assert f"--out {out} --retry-failed" in err
    # A plain rerun finds every run recorded, and still says they failed.
    assert run_module.main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 1
    assert "4 of 4 runs failed" in capsys.readouterr().err


def test_error_summary_strips_run_numbers_and_task_keys():
    from model.sweeps.engines import strip_task_keys
    from model.sweeps.store import _RUN_IN_MESSAGE

    a = "FutureCancelledError: run_task-3f2a9c0d4b5e6f708192a3b4c5d6e7f8 cancelled for reason: lost dependencies."
    b = "FutureCancelledError: run_task-00000000000000000000000000000abc cancelled for reason: lost dependencies."
    c = "FutureCancelledError: run_task-c74b0fea-7f1a-4b35-bb26-01bcc4ecb9b9 cancelled for reason: lost dependencies."
    assert strip_task_keys(a) == strip_task_keys(b) == strip_task_keys(c) == \
        "FutureCancelledError: <task> cancelled for reason: lost dependencies."
    assert _RUN_IN_MESSAGE.sub("", "ScenarioError: x.toml (run 17): tools.a: bad") == "ScenarioError: x.toml: tools.a: bad"
