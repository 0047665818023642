"""Sensitivity indices from a sweep's results: which varied assumptions drive each output.

Reads a sweep results folder (``results/sweeps/<name>/``: ``sweep.json``,
``design.parquet``, the ``runs/`` Parquet dataset), averages each output over
the replications of each design point (so indices describe the model's
expected response, not its run-to-run noise), and computes with SALib:

- Sobol design: first-order ``S1`` and total ``ST`` indices with confidence
  intervals (``SALib.analyze.sobol``; ``S2`` too when the sweep sampled for it).
  ``S1`` is the share of the output's variance a field explains alone; ``ST``
  adds its interactions. An ``ST`` near 0 means the field can be fixed anywhere
  in its range.
- Morris design: ``mu_star`` (mean absolute elementary effect, in output units
  per move across the field's whole range, with a confidence interval),
  ``mu`` and ``sigma`` (spread of the effects: non-linearity or interactions),
  from ``SALib.analyze.morris``.

Results are printed, saved beside the sweep's results as ``sensitivity.csv``
(one row per output and field), ``sensitivity.json`` and a chart
``sensitivity.png``. Command: ``python run.py sensitivity RESULTS_DIR_OR_SWEEP_FILE``
(or ``python run.py sweep FILE --analyse`` after the runs).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.sweeps.design import design_seed
from model.sweeps.spec import SweepError, SweepSpec
from model.sweeps.store import read_design, read_meta, read_results

SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("mu_star", "mu_star_conf", "mu", "sigma")


class SensitivityError(SweepError):
    """Results that cannot be analysed: names the folder, what is missing and how to fix it."""


@dataclass
class SensitivityResult:
    """Sensitivity indices of a sweep's outputs.

    Attributes:
        folder: the sweep results folder analysed.
        spec: the sweep.
        method: 'sobol' or 'morris'.
        table: one row per output and field: ``output``, ``field`` and the index columns
            (S1, S1_conf, ST, ST_conf for Sobol; mu_star, mu_star_conf, mu, sigma for Morris).
        second_order: Sobol only: per output, ``{"field_a|field_b": {"S2", "S2_conf"}}``.
        skipped: outputs not analysed, with the reason.
        points: design points.
        runs_used: successful runs averaged.
        runs_failed: failed runs (their points averaged over the remaining replications).
        conf_level: confidence level of the intervals.
    """

    folder: Path
    spec: SweepSpec
    method: str
    table: pd.DataFrame
    second_order: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    points: int = 0
    runs_used: int = 0
    runs_failed: int = 0
    conf_level: float = 0.95

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``sensitivity.json``)."""
        cols = SOBOL_COLUMNS if self.method == "sobol" else MORRIS_COLUMNS
        outputs: dict[str, Any] = {}
        for out, group in self.table.groupby("output", sort=False):
            outputs[out] = {"fields": {row["field"]: {c: _plain(row[c]) for c in cols} for _, row in group.iterrows()}}
            if out in self.second_order:
                outputs[out]["second_order"] = self.second_order[out]
        return {
            "sweep": self.spec.name, "folder": str(self.folder), "method": self.method,
            "design": self.spec.design, "samples": self.spec.samples, "replications": self.spec.replications,
            "points": self.points, "runs_used": self.runs_used, "runs_failed": self.runs_failed,
            "conf_level": self.conf_level,
            "averaged_over_replications": self.spec.replications > 1,
            "field_ranges": {f.path: [f.low, f.high] for f in self.spec.fields},
            "outputs": outputs, "skipped": self.skipped,
        }


def _plain(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _point_means(folder: Path, spec: SweepSpec, points: int) -> tuple[pd.DataFrame, int, int]:
    """Per design point, each output's mean over its successful replications."""
    columns = ["point", "status", *[f"out.{o}" for o in spec.outputs]]
    rows = read_results(folder, columns)
    runs = points * spec.replications
    if len(rows) < runs:
        raise SensitivityError(str(folder), "(runs)", f"the sweep is not finished: {len(rows)} of {runs} runs recorded; "
                                                     f"run `python run.py sweep {spec.origin}` again to finish it")
    ok = rows[rows["status"] == "ok"]
    failed = len(rows) - len(ok)
    means = ok.groupby("point")[[f"out.{o}" for o in spec.outputs]].mean()
    missing = sorted(set(range(points)) - set(means.index))
    if missing:
        raise SensitivityError(str(folder), "(runs)",
                               f"{len(missing)} design point(s) have no successful run (first: point {missing[0]}); "
                               f"{failed} run(s) failed. Fix the cause and rerun the sweep with --retry-failed")
    return means.sort_index(), len(ok), failed


def analyse(folder: str | Path, outputs: list[str] | None = None, *, conf_level: float = 0.95,
            num_resamples: int = 1000) -> SensitivityResult:
    """Sensitivity indices of a finished Sobol or Morris sweep.

    Args:
        folder: the sweep's results folder.
        outputs: output paths to analyse (default: all the sweep kept).
        conf_level: confidence level of the bootstrap intervals.
        num_resamples: bootstrap resamples.

    Raises:
        SensitivityError: not a Sobol or Morris sweep, the sweep is unfinished, a point has
            no successful run, or an output is not in the sweep.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    folder = Path(folder)
    spec = SweepSpec.from_dict(read_meta(folder)["spec"])
    if spec.design not in ("sobol", "morris"):
        raise SensitivityError(str(folder), "design", f"sensitivity indices need a sobol or morris design; "
                                                      f"this sweep is {spec.design}")
    chosen = list(outputs or spec.outputs)
    for out in chosen:
        if out not in spec.outputs:
            raise SensitivityError(str(folder), f"--output {out}", f"not an output of this sweep; it kept "
                                                                   f"{', '.join(spec.outputs)}")
    design = read_design(folder).sort_values("point")
    points = len(design)
    means, used, failed = _point_means(folder, spec, points)
    problem = spec.problem()
    seed = design_seed(spec.seed)
    records, second, skipped = [], {}, {}
    for out in chosen:
        y = means[f"out.{out}"].to_numpy(dtype=float)
        if np.isnan(y).any():
            skipped[out] = f"{int(np.isnan(y).sum())} point(s) have no value (e.g. leverage with no outlay)"
            continue
        if np.ptp(y) == 0:
            skipped[out] = "the output is the same at every point: nothing to apportion"
            continue
        if spec.design == "sobol":
            res = sobol_analyze.analyze(problem, y, calc_second_order=spec.second_order, num_resamples=num_resamples,
                                        conf_level=conf_level, seed=seed)
            for j, path in enumerate(spec.paths):
                records.append({"output": out, "field": path, **{c: float(res[c][j]) for c in SOBOL_COLUMNS}})
            if spec.second_order:
                pairs = {}
                for a in range(len(spec.paths)):
                    for b in range(a + 1, len(spec.paths)):
                        pairs[f"{spec.paths[a]}|{spec.paths[b]}"] = {"S2": _plain(res["S2"][a, b]),
                                                                     "S2_conf": _plain(res["S2_conf"][a, b])}
                second[out] = pairs
        else:
            x = design[[f"drawn.{p}" for p in spec.paths]].to_numpy(dtype=float)
            res = morris_analyze.analyze(problem, x, y, num_resamples=num_resamples, conf_level=conf_level,
                                         num_levels=spec.levels, seed=seed)
            for j, path in enumerate(spec.paths):
                records.append({"output": out, "field": path, **{c: float(res[c][j]) for c in MORRIS_COLUMNS}})
    cols = ["output", "field", *(SOBOL_COLUMNS if spec.design == "sobol" else MORRIS_COLUMNS)]
    table = pd.DataFrame.from_records(records, columns=cols)
    return SensitivityResult(folder, spec, spec.design, table, second, skipped, points, used, failed, conf_level)


# ------------------------------------------------------------------ showing and saving


def _is_money(output: str) -> bool:
    """Whether an output is an amount of yuan (uplift, outlay, sales), not a ratio or share."""
    return output.endswith("_yuan") or output.split(".")[-1] in (
        "retail_sales_uplift", "retail_sales_baseline", "retail_sales_policy", "government_outlay",
        "merchant_cofunding", "household_benefit", "outlay", "uplift")


def _readable(value: float) -> str:
    """A number with thousands separators and three significant digits, without e-notation."""
    if value == 0 or not np.isfinite(value):
        return f"{value:.0f}"
    decimals = max(0, 2 - int(np.floor(np.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def format_result(result: SensitivityResult) -> str:
    """A plain-text table per output, fields ordered by importance."""
    lines = [f"Sensitivity of sweep {result.spec.name} ({result.method}, {result.points} points, "
             f"{result.runs_used} runs averaged over {result.spec.replications} replication(s) per point"
             + (f", {result.runs_failed} failed runs left out" if result.runs_failed else "") + ")"]
    pct = int(round(result.conf_level * 100))
    width = max([len(f) for f in result.spec.paths] + [5])
    for out, group in result.table.groupby("output", sort=False):
        lines.append(f"\n  {out}")
        if result.method == "sobol":
            lines.append(f"    {'field':<{width}}  {'S1':>7} {f'±{pct}%':>7}  {'ST':>7} {f'±{pct}%':>7}")
            for _, r in group.sort_values("ST", ascending=False).iterrows():
                lines.append(f"    {r['field']:<{width}}  {r['S1']:7.3f} {r['S1_conf']:7.3f}  {r['ST']:7.3f} {r['ST_conf']:7.3f}")
        else:
            # Effects on money outputs are in yuan: print them in 万元 with separators, never in e-notation.
            money = _is_money(out)
            unit = 1e4 if money else 1.0
            lines[-1] += " (effects in 万元, 10,000 yuan)" if money else ""
            lines.append(f"    {'field':<{width}}  {'mu*':>12} {f'±{pct}%':>12} {'mu':>12} {'sigma':>12}")
            for _, r in group.sort_values("mu_star", ascending=False).iterrows():
                cells = [_readable(r[k] / unit) for k in ("mu_star", "mu_star_conf", "mu", "sigma")]
                lines.append(f"    {r['field']:<{width}}  " + " ".join(f"{c:>12}" for c in cells))
    for out, reason in result.skipped.items():
        lines.append(f"\n  {out}: not analysed: {reason}")
    return "\n".join(lines)


def plot(result: SensitivityResult, path: str | Path) -> Path:
    """Draw the indices: Sobol S1 and ST bars with intervals, or Morris mu* against sigma; one panel per output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(result.table["output"]))
    n = max(1, len(outputs))
    k = len(result.spec.paths)
    if result.method == "sobol":
        fig, axes = plt.subplots(n, 1, figsize=(9, 1.2 + 0.55 * k * n + 0.6 * n), squeeze=False)
    else:
        fig, axes = plt.subplots(1, n, figsize=(5.5 * n, 4.6), squeeze=False)
    axes = axes.ravel()
    for ax, out in zip(axes, outputs):
        group = result.table[result.table["output"] == out]
        if result.method == "sobol":
            ypos = np.arange(len(group))
            ax.barh(ypos - 0.2, group["S1"], height=0.38, xerr=group["S1_conf"], label="S1 first order", color="#4c72b0",
                    capsize=3)
            ax.barh(ypos + 0.2, group["ST"], height=0.38, xerr=group["ST_conf"], label="ST total", color="#dd8452",
                    capsize=3)
            ax.set_yticks(ypos, group["field"])
            ax.invert_yaxis()
            ax.axvline(0, color="black", linewidth=0.6)
            ax.set_xlabel(f"Sobol index (share of variance; bars ±{int(result.conf_level * 100)}% interval)")
            ax.legend(loc="best", fontsize=8, framealpha=0.8)
        else:
            # Effects on money outputs in 10,000 yuan (万元), so the axes read as planners state amounts (no 1e6 offsets).
            unit, unit_name = (1e4, " (10,000 yuan)") if _is_money(out) else (1.0, "")
            group = group.assign(mu_star=group["mu_star"] / unit, mu_star_conf=group["mu_star_conf"] / unit,
                                 sigma=group["sigma"] / unit)
            ax.errorbar(group["mu_star"], group["sigma"], xerr=group["mu_star_conf"], fmt="o", color="#4c72b0", capsize=3)
            top = float(max((group["mu_star"] + group["mu_star_conf"].fillna(0)).max(), group["sigma"].max(), 1e-12))
            # Points are numbered and the numbers keyed in the legend, so long field names never overlap;
            # numbers of points that fall together are stacked instead of printed on top of each other.
            seen: dict[tuple[int, int], int] = {}
            for i, (_, r) in enumerate(group.iterrows(), start=1):
                spot = (int(round(r["mu_star"] / top * 40)), int(round(r["sigma"] / top * 40)))
                stack = seen.get(spot, 0)
                seen[spot] = stack + 1
                ax.annotate(str(i), (r["mu_star"], r["sigma"]), fontsize=8, xytext=(5, 4 + 10 * stack),
                            textcoords="offset points")
                # The first part of a path (tools., behaviour.) is the same for many fields; the rest tells them apart.
                ax.plot([], [], " ", label=f"{i}: {r['field'].split('.', 1)[-1]}")
            top *= 1.1
            ax.plot([0, top], [0, top], color="grey", linewidth=0.6, linestyle="--", label="sigma = mu*")
            ax.set_xlim(0, top * 1.25)
            ax.set_ylim(0, top)
            ax.set_xlabel(f"mu* (mean |effect| across the range){unit_name}")
            ax.set_ylabel(f"sigma (spread of effects){unit_name}")
            ax.legend(fontsize=7, loc="upper left", framealpha=0.85, handlelength=0)
        ax.set_title(out, fontsize=10)
    for ax in axes[len(outputs):]:
        ax.axis("off")
    fig.suptitle(f"Sensitivity: sweep {result.spec.name} ({result.method}, {result.points} points, "
                 f"{result.spec.replications} replication(s) each)", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return path


def write(result: SensitivityResult, out_dir: str | Path | None = None) -> dict[str, Path]:
    """Save ``sensitivity.csv``, ``sensitivity.json`` and ``sensitivity.png`` (beside the results by default)."""
    out = Path(out_dir) if out_dir is not None else result.folder
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "sensitivity.csv", "json": out / "sensitivity.json", "png": out / "sensitivity.png"}
    tmp_csv = paths["csv"].with_name(".sensitivity.csv.tmp")
    result.table.to_csv(tmp_csv, index=False)
    os.replace(tmp_csv, paths["csv"])
    tmp_json = paths["json"].with_name(".sensitivity.json.tmp")
    tmp_json.write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp_json, paths["json"])
    if len(result.table):
        plot(result, paths["png"])
    else:
        paths.pop("png")
    return paths
