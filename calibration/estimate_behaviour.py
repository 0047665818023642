"""Estimating the household behaviour parameters from the published evidence (``python run.py estimate``).

One set of behaviour parameters, and one ensemble of sets for its
uncertainty, serves every city and every study. This module is the model's
side of the estimation in ``calibration/estimation.py``:

* **What is estimated** and within which prior bounds: ``calibration/estimation.toml``
  ``[parameters]``; each bound must lie inside the parameter's documented
  valid range (``model/parameters/behaviour.toml``). Other parameters keep
  their documented values.
* **What it is estimated from**: every published figure in
  ``calibration/evidence.toml`` with a value or a range; a range is read as a
  90% interval, a point without a published error gets a stated relative
  standard deviation (``[uncertainty]``). Figures published only as a sign are
  not in the likelihood; the fit table shows how the estimate stands against them.
* **The simulator**: each study's scenario (its own programme: thresholds,
  validity, waves, allocation) in the national-average evidence city, against
  its no-policy counterfactual, at ``scale``, always on the same random
  numbers (root seed ``[method] seed``, replication 0).

It writes into the output folder (default ``calibration/estimated/``), all at
once or not at all:

* ``behaviour_estimate.toml``: the point estimate, each value marked ``derived``;
* ``behaviour_ensemble.csv``: ``ensemble_size`` parameter sets, one per row (set 0 first);
* ``behaviour_fit.csv``: every published figure beside the model at the point
  estimate and the 5-95% range over the ensemble, each simulated;
* ``behaviour_fit_runs.csv``: the simulated measures behind the fit table, one
  row per parameter set (the point estimate, then ensemble sets 0, 1, ...);
* ``estimation_design.csv``: every simulated parameter set and its moments;
* ``estimation_manifest.json``: command, settings, seed, digests of the settings
  and evidence files, timings, the machine's load, versions and commit;
* ``README.md``: the command, the time, the parameters (with how much of the
  posterior lies against a prior bound) and the fit table.

The committed estimate is checked by ``python run.py estimate --check``: the point estimate and the first ensemble
sets, simulated again, must reproduce ``behaviour_fit_runs.csv`` within the
tolerances of ``[check]``, or the estimate is stale and must be re-run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from calibration.estimation import EstimateResult, EstimationError, Moment, Prior, Settings, estimate
from calibration.evidence import EVIDENCE_FILE, Published, Study, read_evidence, rows_csv, run_study

CONFIG_FILE = Path(__file__).resolve().parent / "estimation.toml"
DEFAULT_OUT = Path(__file__).resolve().parent / "estimated"
#: z for the two-sided 90% interval a published range is read as.
Z90 = 1.6448536269514722


def _plain(value: Any) -> Any:
    return value["value"] if isinstance(value, dict) and "value" in value else value


@dataclass(frozen=True)
class EstimationConfig:
    """``estimation.toml`` as read.

    Attributes:
        path: the file.
        priors: estimated parameters and their bounds.
        settings: method settings.
        scale: share of the evidence city's households simulated.
        scale_by_study: per-study scale where a study needs more households.
        replications: replications per study and parameter set.
        range_coverage: coverage a published range is read as.
        point_relative_sd: sd of a point figure without a published error, relative to it.
        zero_sd: sd of a figure published as zero.
        fit_table_members: ensemble members simulated for the fit table's 5-95% range.
        check_members: ensemble members the CI check re-simulates besides the point estimate.
        check_tolerance_sd: how far (in the figure's standard deviations) a moment in the likelihood may move
            from the committed fit table before the estimate counts as stale.
        check_tolerance_other: the same for measures outside the likelihood, in their own units.
    """

    path: Path
    priors: tuple[Prior, ...]
    settings: Settings
    scale: float
    scale_by_study: dict[str, float]
    replications: int
    range_coverage: float
    point_relative_sd: float
    zero_sd: float
    fit_table_members: int
    check_members: int = 1
    check_tolerance_sd: float = 0.25
    check_tolerance_other: float = 0.05


def read_config(path: Path = CONFIG_FILE) -> EstimationConfig:
    """Read and check the estimation settings; errors name the file and the field."""
    from model.parameters import BehaviourParameters

    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except OSError as exc:
        raise EstimationError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise EstimationError(f"{path}: not valid TOML ({exc})") from None

    def number(table: dict, key: str, where: str, *, integer: bool = False, low: float = 0.0,
               high: float = math.inf) -> float:
        value = _plain(table.get(key))
        if value is None:
            raise EstimationError(f"{path}: {where}.{key} is missing")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and float(value) != int(value)):
            raise EstimationError(f"{path}: {where}.{key} must be a {'whole ' if integer else ''}number, got {value!r}")
        if not low <= value <= high:
            raise EstimationError(f"{path}: {where}.{key} = {value} is outside [{low}, {high}]")
        return int(value) if integer else float(value)

    method = raw.get("method", {})
    unc = raw.get("uncertainty", {})
    check = raw.get("check", {})
    settings = Settings(seed=number(method, "seed", "method", integer=True),
                        design_points=number(method, "design_points", "method", integer=True, low=1),
                        refine_points=number(method, "refine_points", "method", integer=True),
                        ensemble_size=number(method, "ensemble_size", "method", integer=True, low=1),
                        walkers=number(method, "walkers", "method", integer=True, low=2),
                        steps=number(method, "steps", "method", integer=True, low=1),
                        burn=number(method, "burn", "method", integer=True),
                        gp_restarts=number(method, "gp_restarts", "method", integer=True))
    scale_by_study = {k: number(method.get("scale_by_study", {}), k, "method.scale_by_study", low=1e-6, high=1.0)
                      for k in method.get("scale_by_study", {})}
    defaults = BehaviourParameters.default()
    priors = []
    for name, entry in raw.get("parameters", {}).items():
        where = f"parameters.{name}"
        low, high = number(entry, "low", where, low=-math.inf), number(entry, "high", where, low=-math.inf)
        try:
            valid = defaults.valid_range(name)
        except KeyError:
            raise EstimationError(f"{path}: {where}: no behaviour parameter {name!r} (see model/parameters/behaviour.toml)") from None
        if not (valid.min <= low < high <= valid.max):
            raise EstimationError(f"{path}: {where}: bounds [{low}, {high}] must satisfy low < high and lie inside "
                                  f"the valid range [{valid.min}, {valid.max}] ({valid.reason})")
        priors.append(Prior(name, low, high, str(entry.get("reason", ""))))
    if not priors:
        raise EstimationError(f"{path}: [parameters] lists nothing to estimate")
    return EstimationConfig(
        path=path, priors=tuple(priors), settings=settings,
        scale=number(method, "scale", "method", low=1e-6, high=1.0), scale_by_study=scale_by_study,
        replications=number(method, "replications", "method", integer=True, low=1),
        range_coverage=number(unc, "range_coverage", "uncertainty", low=0.5, high=0.999),
        point_relative_sd=number(unc, "point_relative_sd", "uncertainty", low=1e-6),
        zero_sd=number(unc, "zero_sd", "uncertainty", low=1e-6),
        fit_table_members=number(method, "fit_table_members", "method", integer=True, low=1),
        check_members=number(check, "members", "check", integer=True),
        check_tolerance_sd=number(check, "tolerance_sd", "check", low=1e-9),
        check_tolerance_other=number(check, "tolerance_other", "check", low=1e-9))


# ------------------------------------------------------------------ published figures as moments


def moment_key(study: str, measure: str) -> str:
    return f"{study}:{measure}"


def figure_moment(study: Study, pub: Published, config: EstimationConfig) -> Moment | None:
    """The target and standard deviation a published figure stands for (None: a sign only, not in the likelihood)."""
    from scipy.stats import norm

    key = moment_key(study.name, pub.measure)
    if pub.low is not None and pub.high is not None:
        z = float(norm.ppf(0.5 + config.range_coverage / 2))
        return Moment(key, (pub.low + pub.high) / 2, (pub.high - pub.low) / (2 * z), pub.text())
    if pub.value is not None:
        sd = config.zero_sd if pub.value == 0 else config.point_relative_sd * abs(pub.value)
        return Moment(key, float(pub.value), sd, pub.text())
    return None


def published_moments(studies: list[Study], config: EstimationConfig) -> list[Moment]:
    """Every published figure with a value or a range, as a moment."""
    out = []
    for s in studies:
        for pub in s.published:
            m = figure_moment(s, pub, config)
            if m is not None:
                out.append(m)
    return out


def behaviour_overrides(values: dict[str, float]) -> dict[str, Any]:
    """``{"a": 1, "b.key": 2}`` as a scenario [behaviour] table ``{"a": 1, "b": {"key": 2}}``."""
    out: dict[str, Any] = {}
    for path, value in values.items():
        name, _, key = path.partition(".")
        if key:
            out.setdefault(name, {})[key] = value
        else:
            out[name] = value
    return out


def simulate_studies(studies: list[Study], config: EstimationConfig, values: dict[str, float], *,
                     seed: int | None = None) -> dict[str, float]:
    """Every measure of every study at one parameter set, on the estimation's common random numbers."""
    seed = config.settings.seed if seed is None else seed
    out = {}
    for s in studies:
        res = run_study(s, scale=config.scale_by_study.get(s.name, config.scale), seed=seed,
                        replications=config.replications, behaviour=behaviour_overrides(values))
        for measure in res.measures:
            out[moment_key(s.name, measure)] = res.mean(measure)
    return out


# ------------------------------------------------------------------ the fit table


def judge(pub: Published, moment: Moment | None, model: float) -> tuple[bool | None, str]:
    """Whether the model's figure lands where the published one says, and how it stands: (reached, text).

    A published range is reached when the model's figure lies inside it; a published point when the figure is
    within two of its standard deviations (``[uncertainty]``); a published sign when the sign agrees. ``reached``
    is None when the model has no figure.
    """
    if model != model:
        return None, "model: not available"
    if moment is None:
        same = pub.verdict(model) == "same sign"
        return same, pub.verdict(model) + " (sign only: not in the likelihood)"
    z = (model - moment.target) / moment.sd
    if pub.low is not None and pub.high is not None:
        reached = pub.low <= model <= pub.high
        where = "in the published range" if reached else ("below" if model < pub.low else "above") + " the published range"
    else:
        reached = abs(z) <= 2
        where = "within 2 sd of the published point" if reached else "more than 2 sd from the published point"
    return reached, f"{'reached' if reached else 'NOT reached'}: {where}, z = {z:+.1f}"


def fit_rows(studies: list[Study], config: EstimationConfig, point_sim: dict[str, float],
             ensemble_sims: list[dict[str, float]]) -> list[dict[str, Any]]:
    """Each published figure (and each extra measure) beside the model at the estimate and over the ensemble."""
    rows = []
    for s in studies:
        entries = [(p.measure, p) for p in s.published] + [(m, None) for m in s.also]
        for measure, pub in entries:
            key = moment_key(s.name, measure)
            values = np.array([e.get(key, np.nan) for e in ensemble_sims], dtype=float)
            values = values[np.isfinite(values)]
            lo, hi = (np.percentile(values, [5, 95]) if values.size else (np.nan, np.nan))
            point = float(point_sim.get(key, np.nan))
            moment = figure_moment(s, pub, config) if pub is not None else None
            verdict = "model only" if pub is None else judge(pub, moment, point)[1]
            rows.append({
                "study": s.name, "measure": measure, "published": pub.text() if pub else "",
                "target": moment.target if moment else np.nan, "target_sd": moment.sd if moment else np.nan,
                "model_at_estimate": point, "ensemble_p05": float(lo), "ensemble_p95": float(hi),
                "ensemble_members": int(values.size), "verdict": verdict,
                "source": pub.source if pub else "model only",
            })
    return rows


def estimate_toml(result: EstimateResult, config: EstimationConfig, command: str, quick: bool = False) -> str:
    """The point estimate as a documented parameter table."""
    lines = ["# Behaviour parameters estimated jointly from the published evidence (calibration/evidence.toml).",
             f"# Made by: {command}", f"# Settings: {config.path.name}, seed {config.settings.seed}.", ""]
    if quick:
        lines[2:2] = ["# QUICK RUN (--quick): checks the pipeline; not an estimate to use or commit."]
    for prior, value in zip(result.priors, result.point):
        lines += [f'["{prior.name}"]', f"value = {float(value)!r}",
                  f"prior = [{prior.low:g}, {prior.high:g}]",
                  'derived = "highest posterior density among the posterior samples of python run.py estimate '
                  '(Gaussian-process surrogate of the evidence studies, synthetic likelihood, emcee)"', ""]
    return "\n".join(lines)


def ensemble_csv(result: EstimateResult) -> str:
    """The ensemble at full precision, so a run with set r simulates exactly what the estimation simulated."""
    rows = [{"set": i, **{k: repr(v) for k, v in d.items()}} for i, d in enumerate(result.as_dicts(result.ensemble))]
    return rows_csv(rows)


def design_csv(result: EstimateResult) -> str:
    keys = list(result.surrogate.keys)
    rows = []
    for i, (x, y) in enumerate(zip(result.design, result.simulated)):
        rows.append({"run": i, **{p.name: float(v) for p, v in zip(result.priors, x)},
                     **{k: float(v) for k, v in zip(keys, y)}})
    return rows_csv(rows)


def write_outputs(out_dir: Path, files: dict[str, str], *, replace: bool) -> Path:
    """Write every file into ``out_dir`` at once: a temporary folder renamed into place."""
    if out_dir.exists() and not replace:
        raise EstimationError(f"{out_dir}: folder exists; pass --replace to overwrite it or choose another --out")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}-old-{os.getpid()}")
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


# ------------------------------------------------------------------ the whole estimation


@dataclass(frozen=True)
class _StudiesSimulator:
    """``simulate_studies`` as a picklable callable, so a process pool can run parameter sets in parallel."""

    studies: tuple[Study, ...]
    config: EstimationConfig

    def __call__(self, values: dict[str, float]) -> dict[str, float]:
        return simulate_studies(list(self.studies), self.config, values)


class LoadLog:
    """The machine's load average (1 minute) sampled at every progress line: the estimation's time depends on it."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.sample()

    def sample(self) -> None:
        try:
            self.samples.append(float(os.getloadavg()[0]))
        except OSError:  # pragma: no cover - platforms without a load average
            pass

    def summary(self) -> dict[str, Any]:
        s = self.samples
        return {"cores": os.cpu_count(), "load_1min_start": s[0] if s else None, "load_1min_end": s[-1] if s else None,
                "load_1min_min": min(s) if s else None, "load_1min_max": max(s) if s else None,
                "load_1min_mean": round(sum(s) / len(s), 2) if s else None, "samples": len(s)}


@dataclass
class EstimationRun:
    """What ``run_estimation`` produced.

    Attributes:
        result: the estimate.
        rows: the fit table.
        runs: the simulated moments behind the fit table: ``("point", moments)`` then ``("set i", moments)``.
        timings: seconds per phase and simulator calls.
    """

    result: EstimateResult
    rows: list[dict[str, Any]]
    runs: list[tuple[str, dict[str, float]]]
    timings: dict[str, Any]


def run_estimation(config: EstimationConfig, studies: list[Study], *, progress: Callable[[str], None] | None = None,
                   verify_members: int | None = None, workers: int = 1) -> EstimationRun:
    """Estimate, then simulate the estimate and the ensemble for the fit table.

    ``verify_members`` ensemble members (default ``config.fit_table_members``) are simulated for the fit table's
    5-95% range; ``workers`` processes run parameter sets in parallel (the result does not depend on it).
    """
    from concurrent.futures import ProcessPoolExecutor

    say = progress or (lambda _line: None)
    moments = published_moments(studies, config)
    simulator = _StudiesSimulator(tuple(studies), config)
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    mapper = (lambda f, sets: pool.map(f, sets)) if pool is not None else None
    try:
        started = time.perf_counter()
        result = estimate(simulator, list(config.priors), moments, config.settings, progress=say, map_sets=mapper)
        estimated = time.perf_counter()
        count = verify_members if verify_members is not None else config.fit_table_members
        members = result.as_dicts(result.ensemble)[:count]
        sims = list((mapper or map)(simulator, [result.as_dicts(result.point)[0], *members]))
        point_sim, ensemble_sims = sims[0], sims[1:]
        say(f"fit table: the estimate and {len(members)} ensemble members simulated")
    finally:
        if pool is not None:
            pool.shutdown()
    rows = fit_rows(studies, config, point_sim, ensemble_sims)
    timings = {"estimation_seconds": round(estimated - started, 1),
               "fit_table_seconds": round(time.perf_counter() - estimated, 1),
               "simulator_calls": int(result.design.shape[0]) + 1 + len(members)}
    runs = [("point", point_sim)] + [(f"set {i}", sim) for i, sim in enumerate(ensemble_sims)]
    return EstimationRun(result, rows, runs, timings)


def runs_csv(runs: list[tuple[str, dict[str, float]]]) -> str:
    """The fit table's simulated moments, one row per parameter set (what the CI check reproduces)."""
    keys = list(dict.fromkeys(k for _, sim in runs for k in sim))
    return rows_csv([{"run": name, **{k: repr(float(sim.get(k, np.nan))) for k in keys}} for name, sim in runs])


def file_digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(config: EstimationConfig, result: EstimateResult, timings: dict[str, Any], command: str, *,
             quick: bool = False, evidence_file: Path = EVIDENCE_FILE, machine: dict[str, Any] | None = None) -> str:
    from model.outputs import git_commit, package_versions

    return json.dumps({
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "quick": quick,
        "config_file": str(config.path.name),
        "config_sha256": file_digest(config.path),
        "evidence_file": evidence_file.name,
        "evidence_sha256": file_digest(evidence_file),
        "settings": config.settings.__dict__,
        "scale": config.scale, "scale_by_study": config.scale_by_study, "replications": config.replications,
        "priors": [p.__dict__ for p in config.priors],
        "moments": [m.__dict__ for m in result.moments],
        "point_estimate": result.as_dicts(result.point)[0],
        "posterior_samples": int(result.chain.shape[0]),
        "acceptance_fraction": result.acceptance,
        "prior_edges": edge_table(result),
        "timings": timings,
        "machine": machine or {},
        "versions": package_versions(),
        "git_commit": git_commit(),
    }, indent=2, default=float)


def edge_table(result: EstimateResult) -> list[dict[str, Any]]:
    """Each parameter: bounds, point, ensemble 5-95%, and the share of the posterior against each bound."""
    from calibration.estimation import edge_shares

    shares = edge_shares(result.priors, result.chain)
    lo, hi = np.percentile(result.ensemble, [5, 95], axis=0)
    return [{"parameter": p.name, "low": p.low, "high": p.high, "point": float(v), "ensemble_p05": float(a),
             "ensemble_p95": float(b), "posterior_near_low": s[0], "posterior_near_high": s[1]}
            for p, v, a, b, s in zip(result.priors, result.point, lo, hi, shares)]


def format_edges(result: EstimateResult) -> str:
    lines = [f"{'parameter':<34} {'prior':>15} {'estimate':>9} {'ensemble 5-95%':>20}  posterior within 5% of a bound"]
    for e in edge_table(result):
        prior = f"[{e['low']:g}, {e['high']:g}]"
        span = f"{e['ensemble_p05']:.3g} to {e['ensemble_p95']:.3g}"
        flags = []
        for side in ("low", "high"):
            share = e[f"posterior_near_{side}"]
            if share >= 0.2:
                flags.append(f"{share:.0%} at the {'lower' if side == 'low' else 'upper'} bound")
        lines.append(f"{e['parameter']:<34} {prior:>15} {e['point']:>9.3g} {span:>20}  {'; '.join(flags) or '-'}")
    return "\n".join(lines)


def format_fit(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'study':<16} {'measure':<34} {'published':<12} {'at estimate':>11} {'ensemble 5-95%':>20}  verdict"]
    for r in rows:
        span = f"{r['ensemble_p05']:.2f} to {r['ensemble_p95']:.2f}"
        lines.append(f"{r['study']:<16} {r['measure']:<34} {r['published']:<12} {r['model_at_estimate']:>11.3f} "
                     f"{span:>20}  {r['verdict']}")
    return "\n".join(lines)


def readme(config: EstimationConfig, run: EstimationRun, command: str, wall_seconds: float, machine: dict[str, Any],
           quick: bool) -> str:
    """The estimate folder's README: what made it, how long it took, the parameters and the fit table."""
    from model.outputs import git_commit

    r = run.result
    lines = ["# Estimated household behaviour (issue 13)", ""]
    if quick:
        lines += ["**QUICK RUN (`--quick`): a check of the pipeline, not an estimate to use or commit.**", ""]
    lines += [
        "Made by", "", "```", command, "```", "",
        f"from code {git_commit()} on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, settings "
        f"`calibration/{config.path.name}` (seed {config.settings.seed}), figures `calibration/evidence.toml`. "
        f"Wall time {wall_seconds / 60:.1f} min ({run.timings['estimation_seconds']:.0f} s estimating, "
        f"{run.timings['fit_table_seconds']:.0f} s simulating the fit table, {run.timings['simulator_calls']} parameter "
        f"sets simulated) on {machine.get('cores')} cores, 1-minute load average {machine.get('load_1min_min')} to "
        f"{machine.get('load_1min_max')} (mean {machine.get('load_1min_mean')}).", "",
        "Every run uses this estimate by default: replication r runs `behaviour_ensemble.csv` set r (cycling), so "
        "intervals over replications include behavioural uncertainty; `--behaviour point` runs "
        "`behaviour_estimate.toml` alone, `--behaviour documented` the values in `model/parameters/behaviour.toml`. "
        "`python run.py estimate --check` re-simulates the point estimate "
        "and the first ensemble sets and compares them with `behaviour_fit_runs.csv` within the tolerances in "
        "`[check]`.", "",
        "## Parameters", "",
        "| parameter | prior | estimate | ensemble 5-95% | posterior within 5% of the lower / upper bound |",
        "|---|---|---|---|---|"]
    for e in edge_table(r):
        lines.append(f"| {e['parameter']} | {e['low']:g} to {e['high']:g} | {e['point']:.3g} | "
                     f"{e['ensemble_p05']:.3g} to {e['ensemble_p95']:.3g} | "
                     f"{e['posterior_near_low']:.0%} / {e['posterior_near_high']:.0%} |")
    lines += ["", f"Posterior: {r.chain.shape[0]} samples, emcee acceptance {r.acceptance:.2f}; ensemble of "
              f"{r.ensemble.shape[0]} sets.", "",
              "## Fit table", "",
              f"Model at the point estimate and the 5-95% range over {run.rows[0]['ensemble_members'] if run.rows else 0} "
              "simulated ensemble sets (all on the estimation's random numbers, so the range is behavioural "
              "uncertainty only), beside each published figure (`behaviour_fit.csv`).", "",
              "| study | measure | published | at estimate | ensemble 5-95% | verdict |", "|---|---|---|---|---|---|"]
    for row in run.rows:
        lines.append(f"| {row['study']} | {row['measure']} | {row['published'] or '-'} | {row['model_at_estimate']:.3f} | "
                     f"{row['ensemble_p05']:.3f} to {row['ensemble_p95']:.3f} | {row['verdict']} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the committed estimate still reproduces


def reproduce_fit(folder: Path, config: EstimationConfig, studies: list[Study], *, members: int | None = None,
                  simulate: Callable[[dict[str, float]], dict[str, float]] | None = None) -> list[dict[str, Any]]:
    """Re-simulate the committed point estimate and its first ensemble sets; compare with the committed fit runs.

    Returns one row per run and measure: stored and new value, tolerance, and whether it holds. Raises
    EstimationError when the folder is not a full estimate made with the current settings and figures.
    """
    from model.parameters.ensemble import read_ensemble

    ensemble = read_ensemble(folder)
    runs_file = folder / "behaviour_fit_runs.csv"
    manifest_file = folder / "estimation_manifest.json"
    if ensemble is None or not runs_file.exists() or not manifest_file.exists():
        raise EstimationError(f"{folder}: no complete estimate (behaviour_estimate.toml, behaviour_ensemble.csv, "
                              "behaviour_fit_runs.csv, estimation_manifest.json); run python run.py estimate")
    made = json.loads(manifest_file.read_text(encoding="utf-8"))
    if made.get("quick"):
        raise EstimationError(f"{manifest_file}: made with --quick, not an estimate to use")
    if made.get("settings", {}).get("seed") != config.settings.seed or made.get("scale") != config.scale or \
            made.get("scale_by_study") != config.scale_by_study or made.get("replications") != config.replications:
        raise EstimationError(f"{manifest_file}: made with other [method] seed or scales than {config.path.name}; "
                              "re-run python run.py estimate")
    import csv

    with open(runs_file, newline="", encoding="utf-8") as handle:
        stored = {row.pop("run"): {k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)}
    count = config.check_members if members is None else members
    wanted = [("point", ensemble.point)] + [(f"set {i}", ensemble.sets[i]) for i in range(min(count, len(ensemble.sets)))]
    missing = [name for name, _ in wanted if name not in stored]
    if missing:
        raise EstimationError(f"{runs_file}: no stored runs for {', '.join(missing)}")
    sd = {m.key: m.sd for m in published_moments(studies, config)}
    simulate = simulate or (lambda values: simulate_studies(studies, config, values))
    rows = []
    for name, values in wanted:
        now = simulate(values)
        for key in sorted(stored[name]):  # a measure added since is not part of the estimate; one removed fails
            old, new = stored[name].get(key, np.nan), float(now.get(key, np.nan))
            tol = config.check_tolerance_sd * sd[key] if key in sd else config.check_tolerance_other
            both_nan = old != old and new != new
            ok = both_nan or (old == old and new == new and abs(new - old) <= tol)
            rows.append({"run": name, "moment": key, "stored": old, "now": new, "tolerance": tol, "ok": bool(ok)})
    return rows


def format_check(rows: list[dict[str, Any]]) -> str:
    bad = [r for r in rows if not r["ok"]]
    lines = [f"{'run':<7} {'moment':<50} {'committed':>10} {'now':>10} {'tolerance':>10}"]
    for r in rows:
        lines.append(f"{r['run']:<7} {r['moment']:<50} {r['stored']:>10.4f} {r['now']:>10.4f} {r['tolerance']:>10.4f}"
                     f"{'' if r['ok'] else '  MOVED'}")
    lines.append(f"\n{len(rows) - len(bad)} of {len(rows)} measures reproduce the committed fit runs"
                 + ("" if not bad else "; the estimate is stale: re-run python run.py estimate --workers 2 --replace"))
    return "\n".join(lines)


def main_with_args(args) -> int:
    """``run.py estimate``: estimate and write the outputs (raises EstimationError for a bad request)."""
    config = read_config(Path(args.config))
    studies = read_evidence(Path(args.evidence_file))
    out = Path(args.out)
    if getattr(args, "check", False):
        rows = reproduce_fit(out, config, studies)
        print(format_check(rows))
        return 0 if all(r["ok"] for r in rows) else 1
    if args.quick and out.resolve() == DEFAULT_OUT.resolve():
        raise EstimationError(f"--quick: a quick run checks the pipeline and is never the estimate runs use; give "
                              f"--out another folder than {DEFAULT_OUT}")
    if out.exists() and not args.replace:
        raise EstimationError(f"{out}: folder exists; pass --replace to overwrite it or choose another --out")
    if args.quick:
        s = config.settings
        config = EstimationConfig(**{**config.__dict__, "settings": Settings(
            seed=s.seed, design_points=max(2 * len(config.priors) + 2, 24), refine_points=8, ensemble_size=s.ensemble_size,
            walkers=s.walkers, steps=200, burn=200, gp_restarts=0)})
    load = LoadLog()
    wall_start = time.perf_counter()

    def progress(line: str) -> None:
        load.sample()
        if not args.quiet:
            print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    command = "python run.py estimate " + " ".join(sys.argv[2:]) if len(sys.argv) > 1 else "python run.py estimate"
    run = run_estimation(config, studies, progress=progress, verify_members=args.verify_members, workers=args.workers)
    load.sample()
    wall = time.perf_counter() - wall_start
    machine = load.summary()
    run.timings["wall_seconds"] = round(wall, 1)
    result = run.result
    files = {
        "behaviour_estimate.toml": estimate_toml(result, config, command, bool(args.quick)),
        "behaviour_ensemble.csv": ensemble_csv(result),
        "behaviour_fit.csv": rows_csv(run.rows),
        "behaviour_fit_runs.csv": runs_csv(run.runs),
        "estimation_design.csv": design_csv(result),
        "estimation_manifest.json": manifest(config, result, run.timings, command, quick=bool(args.quick),
                                             evidence_file=Path(args.evidence_file), machine=machine),
        "README.md": readme(config, run, command, wall, machine, bool(args.quick)),
    }
    write_outputs(out, files, replace=args.replace)
    print(format_edges(result))
    print()
    print(format_fit(run.rows))
    print(f"\nestimation {run.timings['estimation_seconds']:.0f} s, fit table {run.timings['fit_table_seconds']:.0f} s, "
          f"wall {wall / 60:.1f} min (load {machine['load_1min_min']} to {machine['load_1min_max']} on "
          f"{machine['cores']} cores); written to {out}")
    return 0
