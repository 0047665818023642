"""Sweeps: design points, seeds, streaming to Parquet, resume, failures, re-runs, local pool against Dask, bad input.

Runs use the small example city over one quarter at a small scale, so a run
takes about a tenth of a second. The Dask test starts a real LocalCluster:
a scheduler and two single-thread worker processes talking over TCP on loopback.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import EXAMPLE, ROOT

import run as run_cli
from model.sweeps import SchedulerUnreachable, SweepError, build_design, load_sweep, read_results, rerun, run_sweep
from model.sweeps.engines import DaskEngine, InProcess, LocalPool
from model.sweeps.execute import plan_tasks

SWEEPS = ROOT / "scenarios" / "sweeps"

# One quarter of the example city instead of its year: the tools and the target cut to fit.
QUARTER = """
[fixed]
"scenario.start_date" = "2023-04-01"
"scenario.end_date" = "2023-06-30"
"tools.car_subsidy.end_date" = "2023-06-30"
"tools.night_allowance.end_date" = "2023-06-30"
"targets.retail_growth_2023.period" = "2023-04-01..2023-06-30"
"""


def sweep_file(tmp_path: Path, head: str, vary: str, fixed: str = QUARTER, name: str = "sweep.toml") -> Path:
    """Write a sweep file over the example city."""
    path = tmp_path / name
    path.write_text(f'[sweep]\nscenario = "{EXAMPLE.as_posix()}"\nscale = 0.005\n{head}\n{fixed}\n{vary}\n',
                    encoding="utf-8")
    return path


GRID_VARY = """
[[vary]]
field = "tools.spring_vouchers.face_value_yuan"
values = [10, 30]
assumption = "test"

[[vary]]
field = "behaviour.voucher_attention_per_day"
range = [0.1, 0.3]
steps = 2
assumption = "test"
"""


def small_grid(tmp_path: Path, replications: int = 2, extra: str = "") -> Path:
    """A 2 x 2 grid with replications: 8 runs of about 0.1 s."""
    return sweep_file(tmp_path, f'name = "t-grid"\ndesign = "grid"\nreplications = {replications}\nseed = 11\n'
                                f'outputs = ["retail_sales_uplift", "government_outlay", "net_leverage"]\n{extra}',
                      GRID_VARY)


def rows_without_time(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.drop(columns=["seconds"]).reset_index(drop=True)
    out["seed_spawn_key"] = out["seed_spawn_key"].map(lambda k: tuple(int(x) for x in k))
    return out


# ------------------------------------------------------------------ designs and seeds


def test_grid_points_are_the_product_of_field_values(tmp_path):
    spec = load_sweep(small_grid(tmp_path))
    design = build_design(spec)
    assert design.points == 4 and design.runs == 8
    pairs = [(v["tools.spring_vouchers.face_value_yuan"], v["behaviour.voucher_attention_per_day"]) for v in design.values]
    assert pairs == [(10, 0.1), (10, 0.3), (30, 0.1), (30, 0.3)]


def test_each_run_has_its_own_spawned_seed(tmp_path):
    spec = load_sweep(small_grid(tmp_path))
    tasks = list(plan_tasks(spec, build_design(spec), skip=set()))
    assert [t["run_id"] for t in tasks] == list(range(8))
    children = np.random.SeedSequence(11).spawn(8)
    for task, child in zip(tasks, children):
        mine = np.random.SeedSequence(task["entropy"], spawn_key=task["spawn_key"])
        assert (mine.generate_state(4) == child.generate_state(4)).all()
    assert len({tuple(t["spawn_key"]) for t in tasks}) == 8
    crn = load_sweep(small_grid(tmp_path), {"common_random_numbers": True})
    keys = [t["spawn_key"] for t in plan_tasks(crn, build_design(crn), skip=set())]
    assert keys == [(0,), (1,)] * 4


def test_sampled_designs_are_reproducible_and_fit_their_ranges():
    sobol = load_sweep(SWEEPS / "small_city_sobol.toml")
    a, b = build_design(sobol), build_design(sobol)
    assert a.points == 8 * (4 + 2)
    assert a.values == b.values
    for f in sobol.fields:
        drawn = [v[f.path] for v in a.values]
        assert min(drawn) >= f.low and max(drawn) <= f.high
        assert len(set(drawn)) > 3
    assert all(isinstance(v["tools.spring_vouchers.face_value_yuan"], int) for v in a.values)
    other_seed = build_design(load_sweep(SWEEPS / "small_city_sobol.toml", {"seed": 1}))
    assert other_seed.values != a.values

    morris = load_sweep(SWEEPS / "small_city_morris.toml")
    design = build_design(morris)
    k = len(morris.fields)
    assert design.points == 4 * (k + 1)
    # Along a Morris trajectory each step moves exactly one field.
    for t in range(4):
        block = design.drawn[t * (k + 1):(t + 1) * (k + 1)]
        assert all((np.diff(block, axis=0) != 0).sum(axis=1) == 1)

    grid = load_sweep(SWEEPS / "small_city_grid.toml")
    assert build_design(grid).runs == 3 * 2 * 2


# ------------------------------------------------------------------ running, streaming, resuming


def test_rows_stream_to_parquet_and_a_row_reruns_exactly(tmp_path):
    spec = load_sweep(small_grid(tmp_path))
    out = tmp_path / "results"
    # Batches close by count only: no flush by the clock, however slow the machine (a timed flush would
    # split the batches differently from run to run).
    report = run_sweep(spec, out, engine=InProcess(), batch_rows=3, flush_seconds=float("inf"))
    assert report.complete and report.ran == 8 and report.failed == 0
    parts = sorted((out / "runs").glob("part-*.parquet"))
    assert len(parts) == 3  # 3 + 3 + 2 rows: written as runs finished, not at the end
    assert not list(out.rglob(".*.tmp"))
    rows = read_results(out)
    assert list(rows["run_id"]) == list(range(8))
    assert (rows["status"] == "ok").all()
    assert rows["out.retail_sales_uplift"].nunique() == 8  # every run drew its own numbers
    assert list(rows["param.tools.spring_vouchers.face_value_yuan"]) == [10, 10, 10, 10, 30, 30, 30, 30]
    # The Parquet folder reads as one dataset with ordinary tools.
    assert len(pd.read_parquet(out / "runs")) == 8

    again = rerun(out, 5)
    assert again.identical is True
    assert again.new["out.retail_sales_uplift"] == rows.loc[5, "out.retail_sales_uplift"]
    assert again.new["seed_spawn_key"] == [5]
    other = rerun(out, 4)  # same point, other seed: a different number
    assert other.new["out.retail_sales_uplift"] != again.new["out.retail_sales_uplift"]


class StopAfter(InProcess):
    """Runs in this process and is 'interrupted' (Ctrl-C) after a number of runs."""

    def __init__(self, runs: int):
        self.runs = runs

    def map_unordered(self, context, tasks):
        for i, row in enumerate(super().map_unordered(context, tasks)):
            if i == self.runs:
                raise KeyboardInterrupt
            yield row


def test_stopped_sweep_resumes_and_skips_finished_runs(tmp_path):
    spec = load_sweep(small_grid(tmp_path))
    out = tmp_path / "results"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out, engine=StopAfter(5), batch_rows=100)
    # Stopped before a batch was full: the five finished runs were written on the way out.
    assert sorted(read_results(out)["run_id"]) == [0, 1, 2, 3, 4]
    assert not (out / ".lock").exists()
    report = run_sweep(spec, out, engine=InProcess())
    assert report.already_done == 5 and report.ran == 3 and report.complete
    resumed = read_results(out)
    assert list(resumed["run_id"]) == list(range(8))
    clean = read_results(run_sweep(spec, tmp_path / "clean", engine=InProcess()).folder)
    pd.testing.assert_frame_equal(rows_without_time(resumed), rows_without_time(clean))
    # Nothing left to do: the same command again runs nothing.
    assert run_sweep(spec, out, engine=InProcess()).ran == 0


def test_max_runs_leaves_the_rest_for_later(tmp_path):
    spec = load_sweep(small_grid(tmp_path, replications=1))
    out = tmp_path / "results"
    first = run_sweep(spec, out, engine=InProcess(), max_runs=3)
    assert first.ran == 3 and not first.complete
    second = run_sweep(spec, out, engine=InProcess())
    assert second.ran == 1 and second.complete


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    import model.sweeps.worker as worker

    real = worker.simulate_replication

    def flaky(scenario, scale, streams, **kw):
        if scenario.tools["spring_vouchers"].face_value_yuan == 30 and scenario.behaviour.voucher_attention_per_day > 0.2:
            raise RuntimeError("simulated failure for face value 30")
        return real(scenario, scale, streams, **kw)

    monkeypatch.setattr(worker, "simulate_replication", flaky)
    spec = load_sweep(small_grid(tmp_path))
    out = tmp_path / "results"
    report = run_sweep(spec, out, engine=InProcess())
    assert report.complete and report.failed == 2
    rows = read_results(out)
    failed = rows[rows["status"] == "error"]
    assert list(failed["run_id"]) == [6, 7]
    assert failed["error"].str.contains("RuntimeError: simulated failure for face value 30").all()
    assert failed["out.retail_sales_uplift"].isna().all()
    assert rows[rows["status"] == "ok"]["out.retail_sales_uplift"].notna().all()
    # A plain rerun treats failed runs as done; --retry-failed runs them again.
    assert run_sweep(spec, out, engine=InProcess()).ran == 0
    monkeypatch.setattr(worker, "simulate_replication", real)
    retried = run_sweep(spec, out, engine=InProcess(), retry_failed=True)
    assert retried.ran == 2 and retried.failed == 0
    rows = read_results(out)
    assert len(rows) == 8 and (rows["status"] == "ok").all()


def test_a_folder_of_another_sweep_is_refused(tmp_path):
    out = tmp_path / "results"
    run_sweep(load_sweep(small_grid(tmp_path, replications=1)), out, engine=InProcess(), max_runs=1)
    changed = load_sweep(small_grid(tmp_path, replications=1), {"seed": 12})
    with pytest.raises(SweepError, match="different sweep"):
        run_sweep(changed, out, engine=InProcess())


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, protocol="tcp",
                                       host="127.0.0.1", dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()


def test_local_pool_and_dask_cluster_give_the_same_rows(tmp_path, dask_cluster):
    assert dask_cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    spec = load_sweep(small_grid(tmp_path))
    pool = run_sweep(spec, tmp_path / "pool", engine=LocalPool(2))
    dask = DaskEngine(dask_cluster.scheduler_address)
    try:
        assert dask.workers == 2
        on_dask = run_sweep(spec, tmp_path / "dask", engine=dask, batch_rows=2)
    finally:
        dask.close()
    assert pool.complete and on_dask.complete and pool.failed == on_dask.failed == 0
    a, b = read_results(tmp_path / "pool"), read_results(tmp_path / "dask")
    pd.testing.assert_frame_equal(rows_without_time(a), rows_without_time(b))
    assert a["out.retail_sales_uplift"].nunique() == 8


# ------------------------------------------------------------------ bad input


def test_unknown_field_path_is_named(tmp_path):
    path = sweep_file(tmp_path, 'design = "grid"', '[[vary]]\nfield = "tools.spring_vouchers.face_valu"\nvalues = [1, 2]\n')
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    assert err.value.field_path == "tools.spring_vouchers.face_valu"
    assert "no such field" in str(err.value) and str(path) in str(err.value)
    behaviour = sweep_file(tmp_path, 'design = "grid"', '[[vary]]\nfield = "behaviour.attention"\nvalues = [1, 2]\n')
    with pytest.raises(SweepError, match="behaviour.attention.*no such behaviour parameter"):
        load_sweep(behaviour)


@pytest.mark.parametrize("rng", ["[]", "[20]", "[20, 20]", "[30, 10]"])
def test_empty_range_is_refused(tmp_path, rng):
    path = sweep_file(tmp_path, 'design = "latin_hypercube"\nsamples = 4',
                      f'[[vary]]\nfield = "tools.spring_vouchers.face_value_yuan"\nrange = {rng}\n')
    with pytest.raises(SweepError, match="empty range") as err:
        load_sweep(path)
    assert err.value.field_path == "tools.spring_vouchers.face_value_yuan"


def test_sobol_with_a_list_valued_field_is_refused(tmp_path):
    vary = ('[[vary]]\nfield = "tools.spring_vouchers.face_value_yuan"\nvalues = [10, 20]\n'
            '[[vary]]\nfield = "behaviour.voucher_attention_per_day"\nrange = [0.1, 0.3]\n')
    with pytest.raises(SweepError, match="design 'sobol' needs a numeric range") as err:
        load_sweep(sweep_file(tmp_path, 'design = "sobol"\nsamples = 4', vary))
    assert err.value.field_path == "tools.spring_vouchers.face_value_yuan"
    with pytest.raises(SweepError, match="power of 2"):
        load_sweep(sweep_file(tmp_path, 'design = "sobol"\nsamples = 6', vary.replace("values = [10, 20]", "range = [10, 20]")))


def test_other_bad_input_is_named(tmp_path):
    with pytest.raises(SweepError, match="not in a run's summary"):
        load_sweep(sweep_file(tmp_path, 'design = "grid"\noutputs = ["retail_uplift"]', GRID_VARY))
    with pytest.raises(SweepError, match="tools.TOOL.FIGURE"):
        load_sweep(sweep_file(tmp_path, 'design = "grid"\noutputs = ["tools.nope.uplift"]', GRID_VARY))
    with pytest.raises(SweepError, match="grid over a range needs steps"):
        load_sweep(sweep_file(tmp_path, 'design = "grid"', GRID_VARY.replace("steps = 2\n", "")))
    with pytest.raises(SweepError, match="fixed: scenario.end_dat"):
        load_sweep(sweep_file(tmp_path, 'design = "grid"', GRID_VARY, fixed='[fixed]\n"scenario.end_dat" = "2023-06-30"\n'))


def test_a_design_point_that_makes_an_invalid_scenario_fails_before_any_run(tmp_path):
    vary = ('[[vary]]\nfield = "tools.spring_vouchers.face_value_yuan"\nvalues = [20, 80]\n')
    spec = load_sweep(sweep_file(tmp_path, 'design = "grid"', vary))
    out = tmp_path / "results"
    with pytest.raises(SweepError, match="design point 1 .*80.*below the face value") as err:
        run_sweep(spec, out, engine=InProcess())
    assert err.value.field_path == "tools.spring_vouchers.threshold_yuan"
    assert not out.exists()


def test_unreachable_scheduler_fails_fast_naming_the_address(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    started = time.perf_counter()
    with pytest.raises(SchedulerUnreachable, match=address):
        DaskEngine(address, connect_timeout=2)
    out = tmp_path / "results"
    code = run_cli.main(["sweep", str(small_grid(tmp_path)), "--scheduler", address, "--connect-timeout", "2",
                         "--out", str(out), "--quiet"])
    assert code == 2
    assert address in capsys.readouterr().err
    assert not out.exists()  # nothing started, nothing written
    assert time.perf_counter() - started < 20


def test_a_port_that_is_not_a_dask_scheduler_fails_within_the_timeout(tmp_path):
    import http.server
    import subprocess
    import sys
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.server_address[1]}"
    out = tmp_path / "results"
    try:
        # In a child process: the abandoned handshake stays there, not in the test process.
        done = subprocess.run([sys.executable, str(ROOT / "run.py"), "sweep", str(small_grid(tmp_path)), "--scheduler",
                               address, "--connect-timeout", "2", "--out", str(out)],
                              capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
    assert done.returncode == 2
    assert address in done.stderr and "no Dask scheduler answered" in done.stderr
    assert not out.exists()


def test_command_line_runs_resumes_and_reruns(tmp_path, capsys):
    path = small_grid(tmp_path, replications=1)
    out = tmp_path / "results"
    assert run_cli.main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet", "--max-runs", "2"]) == 0
    assert "2 runs left" in capsys.readouterr().out
    assert run_cli.main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert "4 of 4 done" in capsys.readouterr().out
    assert run_cli.main(["sweep", str(path), "--out", str(out), "--rerun", "3"]) == 0
    printed = capsys.readouterr().out
    assert "identical to the stored row: yes" in printed and "spawn_key=(3,)" in printed
    bad = sweep_file(tmp_path, 'design = "grid"', '[[vary]]\nfield = "tools.x.y"\nvalues = [1]\n', name="bad.toml")
    assert run_cli.main(["sweep", str(bad), "--out", str(tmp_path / "bad")]) == 2
    assert "tools.x.y" in capsys.readouterr().err
