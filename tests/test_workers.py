"""Replications in worker processes (``model/runner.py``): the same figures whatever the number of workers.

Each replication has its own streams, behaviour set, population and trend draw, so where it runs cannot
change it; these tests hold the summary, the per-replication summaries, the daily tables, the CLI's
summary.json and the target search's curve to exact equality between one and two workers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import EXAMPLE, ROOT, build, small_city
from model.runner import ReplicationPool, WorkerError, default_workers, run_scenario

TOOLS = {
    "vouchers": {"kind": "voucher", "sectors": ["catering", "daily_goods"], "face_value_yuan": 20.0,
                 "threshold_yuan": 100.0, "budget_yuan": 120000.0, "start_date": "2023-02-01",
                 "end_date": "2023-02-20", "release_every_days": 7, "validity_days": 7},
    "cars": {"kind": "car_subsidy", "subsidy_per_car_yuan": 6000.0, "budget_yuan": 300000.0,
             "start_date": "2023-02-01", "end_date": "2023-02-28"},
}


def tiny_city() -> dict:
    raw = small_city(households=3000, start="2023-02-01", end="2023-03-31", tools=TOOLS)
    raw["targets"] = {"level": {"indicator": "retail_sales_level", "value": 1.0e8, "period": "2023-02-01..2023-03-31",
                                "description": "test target"}}
    return raw


def test_one_and_two_workers_give_the_same_summary_and_tables():
    scenario = build(tiny_city())
    one = run_scenario(scenario, scale=1.0, seed=5, replications=3, workers=1)
    two = run_scenario(scenario, scale=1.0, seed=5, replications=3, workers=2)
    assert one.manifest["workers"] == 1 and two.manifest["workers"] == 2
    assert json.dumps(one.summary, sort_keys=True) == json.dumps(two.summary, sort_keys=True)
    assert one.replications == two.replications
    assert one.replications[0] != one.replications[1]  # replications differ: the comparison is not vacuous
    assert set(one.frames) == set(two.frames)
    for name in one.frames:
        pd.testing.assert_frame_equal(one.frames[name], two.frames[name], check_exact=True)


def test_cli_summary_json_is_the_same_with_one_and_two_workers(tmp_path):
    written = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "run", str(EXAMPLE), "--scale", "0.005",
                               "--seed", "2", "--replications", "3", "--no-tool-breakdown", "--workers", str(workers),
                               "--quiet", "--out", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        written[workers] = (out / "summary.json").read_text(encoding="utf-8")
        assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["workers"] == workers
    assert written[1] == written[2]
    assert json.loads(written[1])["replications"] == 3


def test_target_search_is_the_same_with_one_and_two_workers():
    from model.planning.target import find_budget

    curves = [find_budget(tiny_city(), "vouchers", origin="test", probability=0.5, max_budget=240000.0, grid_steps=2,
                          replications=2, scale=1.0, seed=1, curve_points=0, workers=w) for w in (1, 2)]
    assert curves[0].points == curves[1].points and curves[0].budget_yuan == curves[1].budget_yuan
    assert len(curves[0].points) >= 2


def test_default_workers_use_both_cores_only_for_several_replications():
    assert default_workers(1) == 1
    assert 1 <= default_workers(8) <= 2
    assert default_workers(8) == min(2, len(os.sched_getaffinity(0)))


def test_a_dead_worker_is_reported_and_keep_models_needs_this_process():
    pool = ReplicationPool(1)  # its own pool, not the shared one
    with pytest.raises(WorkerError, match="worker process died"):
        pool.map(os._exit, [(3,)])
    with pytest.raises(ValueError, match="workers=1"):
        run_scenario(build(tiny_city()), scale=1.0, replications=2, keep_models=True, workers=2)


def test_workers_run_the_behaviour_the_parent_chose(tmp_path, monkeypatch):
    """The ensemble is read where the run starts: workers run replication r's set even if they could not read it."""
    from test_behaviour_ensemble import POINT, write_estimate

    from model.parameters import ensemble as ens

    sets = [{"topup_value_share": 0.05, "pull_forward_share.catering": 0.6},
            {"topup_value_share": 0.6, "pull_forward_share.catering": 0.05}]
    e = write_estimate(tmp_path / "est", sets, POINT)
    scenario = build(tiny_city())
    documented = run_scenario(scenario, scale=1.0, seed=5, replications=2, workers=1, tool_breakdown=False)
    monkeypatch.setattr(ens, "committed_ensemble", lambda folder=None: e)  # in this process only
    one = run_scenario(scenario, scale=1.0, seed=5, replications=2, workers=1, tool_breakdown=False)
    two = run_scenario(scenario, scale=1.0, seed=5, replications=2, workers=2, tool_breakdown=False)
    assert one.replications == two.replications
    assert one.replications != documented.replications
