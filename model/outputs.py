"""Writing a run's outputs: the summary, the daily tables and the manifest that reproduces it.

``RunResult`` holds the summary (``summary.json``), the tidy daily series (Parquet) and the
manifest, and writes them to a folder in one step: files go to a temporary folder that is renamed
into place only when everything is written, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.data_dictionary import run_readme, unit_names
from model import __version__
from model.output_folder import OutputFolder, write_folder
from model.rng import RandomStreams
from model.scenario import Scenario
from model.simulation import PairResult, replication_behaviour

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunResult:
    """What a scenario run produced.

    Attributes:
        scenario: the scenario run.
        summary: headline figures (single replication) or their means and 90% intervals.
        replications: per-replication summaries.
        frames: tidy daily tables by name.
        manifest: how to reproduce the run.
    """

    scenario: Scenario
    summary: dict[str, Any]
    replications: list[dict[str, Any]]
    frames: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    pairs: list[PairResult] = field(default_factory=list, repr=False)

    def write(self, out_dir: str | Path | OutputFolder) -> Path:
        """Write summary.json, the daily Parquet tables and manifest.json into ``out_dir``.

        The folder must not exist or be empty (or be claimed already). Files are written to a locked
        working folder beside it and moved into place at the end (``model/output_folder.py``), so a
        failure leaves nothing behind.

        Raises:
            OutputFolderError: ``out_dir`` exists and is not empty, or cannot be written.
        """
        def write_files(tmp: Path) -> None:
            for name, frame in self.frames.items():
                unit_names(frame).to_parquet(tmp / f"{name}.parquet", index=False)
            (tmp / "README.md").write_text(run_readme([f"{n}.parquet" for n in self.frames] + [
                "summary.json", "replications.json", "manifest.json"]), encoding="utf-8")
            for name, body in (("summary", self.summary), ("replications", self.replications),
                               ("manifest", self.manifest)):
                (tmp / f"{name}.json").write_text(json.dumps(body, ensure_ascii=False, indent=2, default=_json_default),
                                                  encoding="utf-8")

        if isinstance(out_dir, OutputFolder):  # claimed before the simulation (run.py run)
            with out_dir:
                write_files(out_dir.work)
                return out_dir.commit()
        return write_folder(out_dir, write_files)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def git_commit() -> str:
    """The project's git commit, with '+dirty' when the tree has changes; 'unknown' outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                                timeout=5).stdout.strip()
        if not commit:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def describe_commit(commit: str, lang: str = "en", digits: int | None = None) -> str:
    """``git_commit()``'s value as a report prints it, in the report's language.

    Args:
        commit: a commit hash, with '+dirty' when the tree had changes, or 'unknown' (run outside git).
        lang: 'zh' or 'en'.
        digits: print only this many digits of the hash (None: all).
    """
    zh = lang == "zh"
    if not commit or commit == "unknown":
        return "未记录（不在 git 仓库中运行）" if zh else "not recorded (run outside a git checkout)"
    dirty = commit.endswith("+dirty")
    digest = commit.removesuffix("+dirty")[:digits]
    if dirty:
        return digest + ("（含未提交的改动）" if zh else " (with uncommitted changes)")
    return digest


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages a run depends on."""
    out = {"python": platform.python_version(), "model": __version__}
    for pkg in ("mesa", "numpy", "scipy", "pandas", "pyarrow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def build_manifest(scenario: Scenario, scale: float, seed: int, replications: int,
                   streams: list[RandomStreams], tool_breakdown: bool) -> dict[str, Any]:
    """What reproduces a run: the scenario as run, seeds, scale, versions, commit."""
    return {
        "model_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
        "scenario_file": scenario.origin,
        "scenario": scenario.raw,
        "scenario_provenance": scenario.provenance,
        "unsourced_fields": list(scenario.unsourced),
        "behaviour_parameters": scenario.behaviour.as_dict(),
        "behaviour_sources": scenario.behaviour.sources,
        "scale": scale,
        "households_simulated": None,
        "seed": seed,
        "replications": replications,
        "replication_seeds": [s.describe() for s in streams],
        "behaviour_choice": scenario.behaviour_choice,
        "replication_behaviour": [replication_behaviour(scenario, s.replication)[1] for s in streams],
        "tool_breakdown": tool_breakdown,
        "versions": package_versions(),
        "git_commit": git_commit(),
    }
