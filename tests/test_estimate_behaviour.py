"""The model's side of the estimation (calibration/estimate_behaviour.py): figures, settings, outputs, end to end."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace

import numpy as np
import pytest

from calibration.estimate_behaviour import (CONFIG_FILE, behaviour_overrides, figure_moment, fit_rows, read_config,
                                            run_estimation, write_outputs)
from calibration.estimation import EstimationError, Prior, Settings
from calibration.evidence import EVIDENCE_FILE, Published, Study, read_evidence

CONFIG = read_config(CONFIG_FILE)


def study_with(*published: Published) -> Study:
    return Study("s", "s", "s", {}, post_days=30, window_days=91, published=list(published), also=["redemption_rate"])


def test_published_figures_become_targets_with_stated_uncertainty():
    s = study_with()
    rng = figure_moment(s, Published("m", None, 3.4, 5.8, None, "x"), CONFIG)
    assert rng.target == pytest.approx(4.6) and rng.sd == pytest.approx(2.4 / (2 * 1.6448536), rel=1e-6)
    point = figure_moment(s, Published("m", 3.0, None, None, None, "x"), CONFIG)
    assert point.target == 3.0 and point.sd == pytest.approx(0.2 * 3.0)
    zero = figure_moment(s, Published("m", 0.0, None, None, None, "x"), CONFIG)
    assert zero.target == 0.0 and zero.sd == pytest.approx(0.15)
    assert figure_moment(s, Published("m", None, None, None, "negative", "x"), CONFIG) is None
    assert rng.key == "s:m"


def test_committed_settings_estimate_at_least_50_sets_inside_valid_ranges():
    assert CONFIG.settings.ensemble_size >= 50
    from model.parameters import BehaviourParameters
    defaults = BehaviourParameters.default()
    for p in CONFIG.priors:
        valid = defaults.valid_range(p.name)
        assert valid.min <= p.low < p.high <= valid.max and p.reason, p
    # Every study has at least one figure in the likelihood or is a sign-only check.
    names = {s.name for s in read_evidence(EVIDENCE_FILE)}
    assert set(CONFIG.scale_by_study) <= names


def test_overrides_nest_table_entries():
    assert behaviour_overrides({"a": 1.0, "b.x": 2.0, "b.y": 3.0}) == {"a": 1.0, "b": {"x": 2.0, "y": 3.0}}


@pytest.mark.parametrize("edit, message", [
    (('low = 0.0\nhigh = 1.0\nreason = "value per yuan', 'low = 0.0\nhigh = 1.5\nreason = "value per yuan'),
     "parameters.topup_value_share: bounds [0.0, 1.5] must satisfy low < high and lie inside the valid range [0.0, 1.0]"),
    (('[parameters.voucher_loss_aversion]', '[parameters.voucher_loss_aversionn]'),
     "no behaviour parameter 'voucher_loss_aversionn'"),
    (('seed = 20260', 'seed = "x"'), "method.seed must be a whole number"),
])
def test_bad_settings_are_refused_naming_the_field(tmp_path, edit, message):
    text = CONFIG_FILE.read_text(encoding="utf-8")
    assert edit[0] in text
    bad = tmp_path / "estimation.toml"
    bad.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(EstimationError) as info:
        read_config(bad)
    assert str(bad) in str(info.value) and message in str(info.value), str(info.value)


def test_outputs_are_written_all_at_once_and_never_overwritten_silently(tmp_path):
    out = tmp_path / "estimated"
    write_outputs(out, {"a.csv": "1\n", "b.toml": "x = 1\n"}, replace=False)
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.toml"]
    with pytest.raises(EstimationError, match="folder exists"):
        write_outputs(out, {"a.csv": "2\n"}, replace=False)
    # A write that fails half-way leaves the previous outputs as they were and nothing else behind.
    with pytest.raises(OSError):
        write_outputs(out, {"a.csv": "2\n", "missing/sub.csv": "x"}, replace=True)
    assert (out / "a.csv").read_text() == "1\n" and sorted(p.name for p in tmp_path.iterdir()) == ["estimated"]
    write_outputs(out, {"c.csv": "3\n"}, replace=True)
    assert sorted(p.name for p in out.iterdir()) == ["c.csv"]


def test_fit_table_states_reached_or_not_for_every_figure():
    s = study_with(Published("m", None, 3.4, 5.8, None, "paper A"), Published("m", 3.0, None, None, None, "paper B"),
                   Published("d", None, None, None, "negative", "paper C"))
    point = {"s:m": 5.0, "s:d": -0.2, "s:redemption_rate": 0.7}
    ensemble = [{"s:m": v, "s:d": -0.1, "s:redemption_rate": 0.7} for v in (4.0, 5.0, 6.0)]
    rows = fit_rows([s], CONFIG, point, ensemble)
    assert [r["verdict"].split(":")[0] for r in rows] == ["reached", "NOT reached", "same sign (sign only", "model only"]
    assert rows[1]["verdict"].endswith(f"z = {(5.0 - 3.0) / 0.6:+.1f}")
    assert rows[0]["ensemble_p05"] == pytest.approx(4.1) and rows[0]["ensemble_p95"] == pytest.approx(5.9)
    assert rows[0]["ensemble_members"] == 3


def test_end_to_end_on_the_car_study(tmp_path):
    """The whole pipeline on one cheap study and two parameters: it runs, and the ensemble moves off the prior."""
    cars = [s for s in read_evidence(EVIDENCE_FILE) if s.name == "car_subsidy"]
    config = replace(CONFIG, priors=(Prior("durable_timing_elasticity.cars", 0.5, 8.0),
                                     Prior("durable_shopping_days.cars", 20.0, 240.0)),
                     settings=Settings(seed=5, design_points=10, refine_points=0, ensemble_size=12, walkers=8, steps=60,
                                       burn=30, gp_restarts=0),
                     scale_by_study={"car_subsidy": 0.05})
    lines = []
    run = run_estimation(config, cars, progress=lines.append, verify_members=2)
    result, rows, timings = run.result, run.rows, run.timings
    assert [name for name, _ in run.runs] == ["point", "set 0", "set 1"]
    assert result.design.shape == (10, 2) and result.ensemble.shape == (12, 2)
    assert timings["simulator_calls"] == 10 + 1 + 2
    assert any("design: run 10 of 10" in line for line in lines)
    (row,) = [r for r in rows if r["measure"] == "car_reversal_share"]
    assert math.isfinite(row["model_at_estimate"]) and row["ensemble_members"] == 2 and row["target"] == 1.0
    # The fit table is made of the stored runs: the point estimate's run and the members' 5-95% range.
    assert row["model_at_estimate"] == run.runs[0][1]["car_subsidy:car_reversal_share"]
    members = [sim["car_subsidy:car_reversal_share"] for _, sim in run.runs[1:]]
    assert row["ensemble_p05"] == pytest.approx(np.percentile(members, 5))
    # Two processes give the same estimate: every parameter set runs on the same random numbers wherever it runs.
    parallel = run_estimation(config, cars, verify_members=2, workers=2)
    np.testing.assert_array_equal(parallel.result.simulated, result.simulated)
    np.testing.assert_array_equal(parallel.result.ensemble, result.ensemble)
    np.testing.assert_array_equal([r["model_at_estimate"] for r in parallel.rows], [r["model_at_estimate"] for r in rows])


def test_cli_refuses_an_existing_output_folder_before_running(tmp_path, capsys):
    from conftest import run_py

    (tmp_path / "estimated").mkdir()
    code, _, stderr = run_py(capsys, "estimate", "--out", tmp_path / "estimated")
    assert code == 2 and "folder exists; pass --replace" in stderr, stderr


def test_a_quick_run_never_writes_the_estimate_runs_use():
    import subprocess
    import sys

    from conftest import ROOT

    done = subprocess.run([sys.executable, "run.py", "estimate", "--quick", "--replace"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--quick: a quick run checks the pipeline" in done.stderr, done.stderr
