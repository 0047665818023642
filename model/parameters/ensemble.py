"""Which behaviour parameters a replication runs with: the estimated ensemble, its point estimate, or the documented values.

``python run.py estimate`` writes the point estimate and an ensemble of
parameter sets that represents what the published evidence leaves open
(``calibration/estimated/``). When that ensemble is there, replication r of
any run uses set r (cycling when there are more replications than sets), so a
90% interval over replications spans both the model's sampling noise and the
behavioural uncertainty; ``point`` runs every replication at the point
estimate; ``documented`` runs the values in ``behaviour.toml``. Without an
estimate, every choice falls back to the documented values and says so.

A scenario's own ``[behaviour]`` overrides always win: an ensemble set only
replaces parameters the scenario left at their defaults.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from model.parameters import BehaviourParameters

ESTIMATE_DIR = Path(__file__).resolve().parent.parent.parent / "calibration" / "estimated"
ENSEMBLE_FILE = "behaviour_ensemble.csv"
ESTIMATE_FILE = "behaviour_estimate.toml"
CHOICES = ("ensemble", "point", "documented")


@dataclass(frozen=True)
class BehaviourEnsemble:
    """The estimated behaviour: point estimate and parameter sets, by parameter path (``name`` or ``name.key``).

    Attributes:
        folder: where it was read from.
        point: the point estimate.
        sets: the ensemble, set 0 first.
    """

    folder: Path
    point: dict[str, float]
    sets: tuple[dict[str, float], ...]


class EnsembleError(ValueError):
    """An estimate folder that cannot be used (names the file and what is wrong)."""


def read_ensemble(folder: Path) -> BehaviourEnsemble | None:
    """The estimate in ``folder``, or None when there is none."""
    ensemble_path, estimate_path = folder / ENSEMBLE_FILE, folder / ESTIMATE_FILE
    if not ensemble_path.exists() and not estimate_path.exists():
        return None
    if not (ensemble_path.exists() and estimate_path.exists()):
        raise EnsembleError(f"{folder}: needs both {ENSEMBLE_FILE} and {ESTIMATE_FILE} (re-run python run.py estimate)")
    with open(estimate_path, "rb") as handle:
        point = {name: float(entry["value"]) for name, entry in tomllib.load(handle).items()}
    sets = []
    with open(ensemble_path, newline="", encoding="utf-8") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            values = {k: float(v) for k, v in row.items() if k != "set"}
            if set(values) != set(point):
                raise EnsembleError(f"{ensemble_path}: row {i + 1} has parameters {sorted(values)}, "
                                    f"the estimate has {sorted(point)}")
            sets.append(values)
    if not sets:
        raise EnsembleError(f"{ensemble_path}: no parameter sets")
    return BehaviourEnsemble(folder, point, tuple(sets))


@lru_cache(maxsize=4)
def committed_ensemble(folder: Path = ESTIMATE_DIR) -> BehaviourEnsemble | None:
    """The project's committed estimate (read once per process), or None."""
    return read_ensemble(folder)


def _as_overrides(values: dict[str, float], behaviour: BehaviourParameters) -> dict[str, Any]:
    """Paths the scenario did not override, as a with_overrides table."""
    out: dict[str, Any] = {}
    for path, value in values.items():
        if path in behaviour.overridden or path.partition(".")[0] in behaviour.overridden:
            continue
        name, _, key = path.partition(".")
        current = getattr(behaviour, name)
        if key:
            out.setdefault(name, {})[key] = value
        else:
            out[name] = int(round(value)) if isinstance(current, int) and not isinstance(current, bool) else value
    return out


def behaviour_for_replication(behaviour: BehaviourParameters, replication: int, choice: str = "ensemble",
                              ensemble: BehaviourEnsemble | None = None) -> tuple[BehaviourParameters, str]:
    """The behaviour replication ``replication`` runs with, and a line saying which it is (for the manifest).

    Args:
        behaviour: the scenario's behaviour (documented values plus its own overrides).
        replication: replication index, from 0.
        choice: 'ensemble', 'point' or 'documented'.
        ensemble: the estimate to use (default the committed one).
    """
    if choice not in CHOICES:
        raise ValueError(f"behaviour choice {choice!r} is not one of {', '.join(CHOICES)}")
    if choice == "documented":
        return behaviour, "documented values (model/parameters/behaviour.toml)"
    ensemble = ensemble if ensemble is not None else committed_ensemble()
    if ensemble is None:
        return behaviour, "documented values (model/parameters/behaviour.toml): no estimate committed yet"
    if choice == "point":
        values, label = ensemble.point, f"point estimate ({ensemble.folder.name}/{ESTIMATE_FILE})"
    else:
        index = replication % len(ensemble.sets)
        values, label = ensemble.sets[index], f"ensemble set {index} of {len(ensemble.sets)} ({ensemble.folder.name}/{ENSEMBLE_FILE})"
    return behaviour.with_overrides(_as_overrides(values, behaviour), origin=label), label
