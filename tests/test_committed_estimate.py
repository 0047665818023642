"""The committed behaviour estimate (calibration/estimated/) is the one every run uses, and it still holds.

The CI check: the estimate was made from the current settings (calibration/estimation.toml) and published
figures (calibration/evidence.toml), its fit table is made of its stored runs, and the point estimate and the
first ensemble set, simulated again at the estimation's small scale and seed, reproduce those runs within the
tolerances stated in estimation.toml [check] (about 25 s of simulation). When a mechanism change moves a figure
further, the estimate is stale: re-run ``python run.py estimate --workers 2 --replace`` (BENCHMARKS.md).
"""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from calibration.estimate_behaviour import (CONFIG_FILE, figure_moment, judge, moment_key, published_moments,
                                            read_config, reproduce_fit)
from calibration.estimation import EstimationError
from calibration.evidence import read_evidence
from model.parameters import BehaviourParameters
from model.parameters.ensemble import ESTIMATE_DIR, committed_ensemble, read_ensemble

CONFIG = read_config(CONFIG_FILE)
STUDIES = read_evidence()


def _manifest(folder=ESTIMATE_DIR) -> dict:
    return json.loads((folder / "estimation_manifest.json").read_text(encoding="utf-8"))


def _csv(name: str, folder=ESTIMATE_DIR) -> list[dict]:
    with open(folder / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_an_estimate_is_committed_from_the_current_settings_and_figures():
    ensemble = committed_ensemble()
    assert ensemble is not None, "no estimate committed in calibration/estimated/ (python run.py estimate)"
    made = _manifest()
    assert made["quick"] is False and "python run.py estimate" in made["command"]
    assert len(ensemble.sets) >= 50 and len(ensemble.sets) == CONFIG.settings.ensemble_size
    # The settings and figures it was made from are today's: same parameters and bounds, same targets.
    assert [(p["name"], p["low"], p["high"]) for p in made["priors"]] == [(p.name, p.low, p.high) for p in CONFIG.priors]
    assert made["settings"] == CONFIG.settings.__dict__
    now = published_moments(STUDIES, CONFIG)
    assert [(m["key"], m["target"], m["sd"]) for m in made["moments"]] == [(m.key, m.target, m.sd) for m in now]
    # Every set lies in the prior box (hence in the documented valid ranges), and the sets differ.
    defaults = BehaviourParameters.default()
    for p in CONFIG.priors:
        values = np.array([s[p.name] for s in ensemble.sets] + [ensemble.point[p.name]])
        assert np.all((p.low <= values) & (values <= p.high)), p.name
        valid = defaults.valid_range(p.name)
        assert valid.min <= values.min() and values.max() <= valid.max
    assert len({tuple(sorted(s.items())) for s in ensemble.sets}) == len(ensemble.sets)


def test_the_fit_table_is_made_of_the_stored_runs():
    runs = {r.pop("run"): {k: float(v) for k, v in r.items()} for r in _csv("behaviour_fit_runs.csv")}
    members = [v for k, v in runs.items() if k.startswith("set ")]
    assert len(members) == CONFIG.fit_table_members
    for row in _csv("behaviour_fit.csv"):
        key = f"{row['study']}:{row['measure']}"
        assert float(row["model_at_estimate"]) == pytest.approx(runs["point"][key], rel=1e-5, nan_ok=True)
        values = np.array([m[key] for m in members])
        values = values[np.isfinite(values)]
        if values.size:
            lo, hi = np.percentile(values, [5, 95])
            assert float(row["ensemble_p05"]) == pytest.approx(lo, rel=1e-5, abs=1e-9)
            assert float(row["ensemble_p95"]) == pytest.approx(hi, rel=1e-5, abs=1e-9)


def test_every_figure_the_estimate_misses_carries_its_reason_and_no_other_does():
    """The evidence table shows a reason beside every miss; a reason beside a figure that is reached is stale.

    A figure is missed when the point estimate misses it (the fit table) or when the ensemble's mean does (what
    ``python run.py evidence`` judges, replication r on set r): judged here on the stored fit runs of the point
    and the ensemble members, with the same rule as both tables."""
    runs = {r.pop("run"): {k: float(v) for k, v in r.items()} for r in _csv("behaviour_fit_runs.csv")}
    members = [v for k, v in runs.items() if k.startswith("set ")]
    for study in STUDIES:
        for pub in study.published:
            key, moment = moment_key(study.name, pub.measure), figure_moment(study, pub, CONFIG)
            at_point = judge(pub, moment, runs["point"][key])[0]
            over_members = judge(pub, moment, float(np.nanmean([m[key] for m in members])))[0]
            if at_point and over_members:
                assert pub.why_missed is None, f"{study.name} {pub.measure}: reached, but evidence.toml says why_missed"
            else:
                assert pub.why_missed, (f"{study.name} {pub.measure} (point reached: {at_point}, ensemble mean "
                                        f"reached: {over_members}): record why_missed in evidence.toml")


def test_runs_use_the_committed_estimate_by_default():
    from model.simulation import intervals_cover, replication_behaviour
    from conftest import build, small_city

    scenario = build(small_city())
    labels = [replication_behaviour(scenario, r)[1] for r in range(3)]
    assert [l.split(" (")[0] for l in labels] == [f"ensemble set {r} of {CONFIG.settings.ensemble_size}" for r in range(3)]
    assert intervals_cover(labels).startswith("sampling noise and behavioural uncertainty")
    b = replication_behaviour(scenario, 1)[0].behaviour
    for p in CONFIG.priors:
        name, _, key = p.name.partition(".")
        value = getattr(b, name)[key] if key else getattr(b, name)
        assert value == pytest.approx(committed_ensemble().sets[1][p.name]), p.name


def test_the_committed_ensemble_reproduces_its_fit_table_at_small_scale():
    """The CI check proper: simulate the point estimate and the first ensemble set again (about 25 s)."""
    rows = reproduce_fit(ESTIMATE_DIR, CONFIG, STUDIES)
    assert {r["run"] for r in rows} == {"point"} | {f"set {i}" for i in range(CONFIG.check_members)}
    moved = [f"{r['run']} {r['moment']}: committed {r['stored']:.4f}, now {r['now']:.4f} (tolerance {r['tolerance']:.4f})"
             for r in rows if not r["ok"]]
    assert not moved, "the estimate is stale (re-run python run.py estimate --workers 2 --replace):\n" + "\n".join(moved)


def test_the_check_catches_a_moved_figure_and_refuses_a_quick_or_foreign_estimate(tmp_path):
    """Tamper test: the same check on a copy whose stored runs are edited (no simulation: replayed runs)."""
    folder = tmp_path / "estimated"
    shutil.copytree(ESTIMATE_DIR, folder)
    runs = {r["run"]: {k: float(v) for k, v in r.items() if k != "run"} for r in _csv("behaviour_fit_runs.csv")}
    ensemble = read_ensemble(folder)

    def replay(values):  # what simulating the set gave when the estimate was made
        name = "point" if values == ensemble.point else f"set {ensemble.sets.index(values)}"
        return dict(runs[name])

    assert all(r["ok"] for r in reproduce_fit(folder, CONFIG, STUDIES, simulate=replay))
    # Move one figure in the likelihood by 1.5 tolerances: exactly that row fails.
    key = published_moments(STUDIES, CONFIG)[0].key
    sd = published_moments(STUDIES, CONFIG)[0].sd
    text = (folder / "behaviour_fit_runs.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    point = text[1].split(",")
    point[header.index(key)] = repr(runs["point"][key] + 1.5 * CONFIG.check_tolerance_sd * sd)
    text[1] = ",".join(point)
    (folder / "behaviour_fit_runs.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    bad = [r for r in reproduce_fit(folder, CONFIG, STUDIES, simulate=replay) if not r["ok"]]
    assert [(r["run"], r["moment"]) for r in bad] == [("point", key)]
    # A quick run is never accepted as the estimate.
    made = _manifest(folder)
    (folder / "estimation_manifest.json").write_text(json.dumps({**made, "quick": True}), encoding="utf-8")
    with pytest.raises(EstimationError, match="--quick"):
        reproduce_fit(folder, CONFIG, STUDIES, simulate=replay)
    (folder / "estimation_manifest.json").write_text(json.dumps({**made, "scale": made["scale"] * 2}), encoding="utf-8")
    with pytest.raises(EstimationError, match="other \\[method\\] seed or scales"):
        reproduce_fit(folder, CONFIG, STUDIES, simulate=replay)


def test_the_target_search_runs_replication_r_on_ensemble_set_r_as_run_does():
    """The budget search's probability spans the behaviour ensemble, as its output says: each replication at a
    budget gives the same 社零 as run_scenario's replication (ensemble set r), which differs between sets."""
    from conftest import build
    from model.planning.target import evaluate_budget
    from model.runner import run_scenario
    from test_target import voucher_plan

    raw = voucher_plan()
    raw["city"]["households"]["value"] = 4000
    run = run_scenario(build(raw), scale=0.5, seed=2, replications=2, tool_breakdown=False, workers=1)
    levels = [r["retail_sales_policy"] for r in run.replications]
    assert [m.split(" (")[0] for m in run.manifest["replication_behaviour"]] == ["ensemble set 0 of 60",
                                                                                 "ensemble set 1 of 60"]
    point = evaluate_budget(raw, "<test>", "v", "spring", 200000, step=0, scale=0.5, seed=2, replications=2,
                            purpose="test")
    assert point.indicator_mean == pytest.approx(np.mean(levels), rel=1e-12)
    assert point.indicator_p05 == pytest.approx(np.percentile(levels, 5), rel=1e-12)
