"""The points of a sweep: which value each varied field takes at each design point.

Grids are the Cartesian product of each field's values (first field slowest).
Latin hypercube, Sobol (Saltelli's scheme, ``SALib.sample.sobol``) and Morris
(``SALib.sample.morris``) draw points with SALib, so the sensitivity analysis
gets exactly the sample structure its estimators expect. The sampler's seed
is derived from the sweep's seed, so the same sweep file gives the same points.

``Design.drawn`` keeps the numbers as drawn (before whole-number rounding) for
the analysis; ``Design.values`` holds what each run applies to its scenario.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from model.sweeps.spec import SweepSpec, VariedField


def value_kind(field: VariedField) -> str:
    """How a field's values are stored in a Parquet column: float, int, bool, str or json."""
    if field.is_range:
        return "int" if field.integer else "float"
    values = field.values
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "float"
    if all(isinstance(v, str) for v in values):
        return "str"
    return "json"


ARROW_TYPES = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "str": pa.string(), "json": pa.string()}


def encode_value(kind: str, value: Any) -> Any:
    """A field value as stored in its column."""
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    return value


def decode_value(kind: str, stored: Any) -> Any:
    """A stored column value back as the scenario takes it."""
    if kind == "json":
        return json.loads(stored)
    if kind == "float":
        return float(stored)
    if kind == "int":
        return int(stored)
    if kind == "bool":
        return bool(stored)
    return str(stored)


def design_seed(seed: int) -> int:
    """A 32-bit sampler seed drawn from the sweep's seed (SALib's Morris sampler takes only 32 bits)."""
    return int(np.random.SeedSequence(seed, spawn_key=(2 ** 32 - 1,)).generate_state(1)[0])


@dataclass
class Design:
    """The design points of a sweep.

    Attributes:
        spec: the sweep.
        drawn: (points, fields) numbers as the sampler drew them; None for grids.
        values: per point, ``{field path: value applied}``.
    """

    spec: SweepSpec
    drawn: np.ndarray | None
    values: list[dict[str, Any]]

    @property
    def points(self) -> int:
        """Number of design points."""
        return len(self.values)

    @property
    def runs(self) -> int:
        """Number of runs: points times replications."""
        return self.points * self.spec.replications

    def frame(self) -> pd.DataFrame:
        """One row per point: ``point``, ``param.<path>`` (as applied, encoded) and ``drawn.<path>``."""
        data: dict[str, Any] = {"point": np.arange(self.points, dtype=np.int64)}
        for j, f in enumerate(self.spec.fields):
            kind = value_kind(f)
            data[f"param.{f.path}"] = pd.array([encode_value(kind, v[f.path]) for v in self.values],
                                               dtype=pd.ArrowDtype(ARROW_TYPES[kind]))
            if self.drawn is not None:
                data[f"drawn.{f.path}"] = self.drawn[:, j]
        return pd.DataFrame(data)


def _sample(spec: SweepSpec) -> np.ndarray:
    problem = spec.problem()
    seed = design_seed(spec.seed)
    if spec.design == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, spec.samples, calc_second_order=spec.second_order, seed=seed)
    if spec.design == "morris":
        from SALib.sample import morris

        return morris.sample(problem, spec.samples, num_levels=spec.levels, seed=seed)
    from SALib.sample import latin

    return latin.sample(problem, spec.samples, seed=seed)


def build_design(spec: SweepSpec) -> Design:
    """The design points of ``spec``."""
    if spec.design == "grid":
        axes = [f.grid_values() for f in spec.fields]
        values = [dict(zip(spec.paths, combo)) for combo in itertools.product(*axes)]
        return Design(spec, None, values)
    drawn = np.asarray(_sample(spec), dtype=float)
    values = [{f.path: f.cast(row[j]) for j, f in enumerate(spec.fields)} for row in drawn]
    return Design(spec, drawn, values)


def points_count(spec: SweepSpec) -> int:
    """How many points ``spec``'s design has, without drawing them."""
    k = len(spec.fields)
    if spec.design == "grid":
        return int(np.prod([len(f.grid_values()) for f in spec.fields]))
    if spec.design == "sobol":
        return spec.samples * (2 * k + 2 if spec.second_order else k + 2)
    if spec.design == "morris":
        return spec.samples * (k + 1)
    return spec.samples
