"""One run of a sweep, as a worker process (local pool or Dask) executes it.

``run_task`` applies a design point's field values to the sweep's scenario dict,
validates it, runs the policy and its counterfactual with the run's own
SeedSequence, and returns the row to store. It never raises for a problem of
the run itself: a run that fails comes back as a row with ``status = "error"``
and the error, so the sweep goes on. It depends only on its arguments, so the
same task gives the same row in any process on any machine.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.simulation import simulate_replication
from model.summary import replication_summary
from model.rng import RandomStreams
from model.scenario import scenario_from_dict
from model.sweeps.design import encode_value
from model.sweeps.spec import apply_overrides


@dataclass(frozen=True)
class RunContext:
    """What every run of a sweep shares; sent to each worker once.

    Attributes:
        base_raw: the scenario dict every run starts from.
        origin: names the scenario in error messages.
        scale: share of households simulated.
        outputs: dotted summary paths to keep.
        tool_breakdown: also run each tool alone.
        kinds: storage kind of each varied field (see ``design.value_kind``).
    """

    base_raw: dict[str, Any]
    origin: str
    scale: float
    outputs: tuple[str, ...]
    tool_breakdown: bool
    kinds: dict[str, str]


def seed_sequence(entropy: int, spawn_key: list[int] | tuple[int, ...]) -> np.random.SeedSequence:
    """The SeedSequence a row's ``seed_entropy`` and ``seed_spawn_key`` stand for."""
    return np.random.SeedSequence(int(entropy), spawn_key=tuple(int(k) for k in spawn_key))


def summary_value(summary: dict[str, Any], path: str) -> float:
    """The number at a dotted path of a run summary (NaN for None, 1/0 for true/false).

    Raises:
        KeyError: the path is not in the summary, with the keys there are.
        TypeError: the path leads to a table or to text.
    """
    node: Any = summary
    walked = []
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            here = ", ".join(node) if isinstance(node, dict) else "none"
            raise KeyError(f"output {path}: the run's summary has no '{part}' under "
                           f"'{'.'.join(walked) or '(top)'}' (it has: {here})")
        node = node[part]
        walked.append(part)
    if node is None:
        return math.nan
    if isinstance(node, bool):
        return 1.0 if node else 0.0
    if isinstance(node, (int, float)):
        return float(node)
    if isinstance(node, dict):
        raise TypeError(f"output {path} is a table ({', '.join(node)}); name one of its entries")
    raise TypeError(f"output {path} is {node!r}, not a number")


def _describe(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)
    last = f" (at {where[-1].filename.rsplit('/', 1)[-1]}:{where[-1].lineno})" if where else ""
    return f"{type(exc).__name__}: {exc}{last}"


def run_task(context: RunContext, task: dict[str, Any]) -> dict[str, Any]:
    """Run one task and return its row.

    Args:
        context: what the sweep's runs share.
        task: ``run_id``, ``point``, ``replication``, ``values`` ({path: value}), ``entropy``, ``spawn_key``.
    """
    started = time.perf_counter()
    row: dict[str, Any] = {
        "run_id": int(task["run_id"]), "point": int(task["point"]), "replication": int(task["replication"]),
        "seed_entropy": int(task["entropy"]), "seed_spawn_key": [int(k) for k in task["spawn_key"]],
        "status": "ok", "error": None,
    }
    for path, value in task["values"].items():
        row[f"param.{path}"] = encode_value(context.kinds[path], value)
    for out in context.outputs:
        row[f"out.{out}"] = None
    try:
        raw = apply_overrides(context.base_raw, task["values"], context.origin)
        scenario = scenario_from_dict(raw, f"{context.origin} (run {task['run_id']})")
        streams = RandomStreams(seed_sequence(task["entropy"], task["spawn_key"]))
        pair = simulate_replication(scenario, context.scale, streams, tool_breakdown=context.tool_breakdown)
        summary = replication_summary(pair)
        for out in context.outputs:
            row[f"out.{out}"] = summary_value(summary, out)
    except Exception as exc:  # a failed run is a row, not the end of the sweep
        row["status"] = "error"
        row["error"] = _describe(exc)
        for out in context.outputs:
            row[f"out.{out}"] = None
    row["seconds"] = time.perf_counter() - started
    return row
