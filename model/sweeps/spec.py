"""Reading and checking a sweep file, so that every mistake is reported before any run starts.

``load_sweep`` reads the TOML (format in ``model/sweeps/__init__.py``), loads
the scenario it names, applies the ``[fixed]`` overrides, checks every varied
field path against the scenario, every range, the fit between the design and
its fields, and every output path against what a run reports. Problems raise
``SweepError`` (a ``ScenarioError``, so ``run.py`` prints it as
``error: FILE: FIELD: reason``).

A ``SweepSpec`` round-trips through a plain dict (``to_dict``/``from_dict``)
that is stored in the results folder as ``sweep.json``; the analysis and
``--rerun`` read it from there, so they need neither the sweep file nor the
scenario file once a sweep has started.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.commands import CommandError, check_scale
from model.parameters import BehaviourParameters
from model.scenario import ScenarioError, get_field, load_scenario, scenario_from_dict, set_field
from model.scenario_schema import read_toml

DESIGNS = ("grid", "latin_hypercube", "sobol", "morris")

# Top-level keys of ``model.summary.replication_summary`` that a sweep may keep ("seconds" is the run time column).
SUMMARY_KEYS = (
    "retail_sales_baseline", "retail_sales_policy", "retail_sales_uplift", "retail_sales_uplift_share",
    "retail_sales_uplift_with_payback", "government_outlay", "government_outlay_by_level", "merchant_cofunding",
    "gross_leverage", "net_leverage", "net_leverage_with_payback", "platform", "uplift_above_quota_share",
    "uplift_by_sector", "non_retail_uplift", "tools", "tool_interaction_uplift", "household_benefit",
    "benefit_share", "uplift_share_by_household_group", "night_merchants_open_per_night", "cars_sold", "targets",
)
# Per-tool figures that exist only when each tool is also run alone (or the scenario has one tool).
TOOL_ALONE_KEYS = ("uplift", "net_leverage", "outlay_when_alone", "uplift_with_payback", "net_leverage_with_payback")
DEFAULT_OUTPUTS = ("retail_sales_uplift", "government_outlay", "net_leverage")
SWEEP_KEYS = {"name", "scenario", "variant", "design", "samples", "second_order", "levels", "replications", "scale",
              "seed", "common_random_numbers", "outputs", "tool_breakdown", "description"}
VARY_KEYS = {"field", "range", "values", "steps", "integer", "source", "assumption", "description"}


class SweepError(ScenarioError):
    """A sweep that cannot be run: names the sweep file, the field and the reason."""


@dataclass(frozen=True)
class VariedField:
    """One scenario field a sweep varies.

    Attributes:
        path: dotted field path in the scenario, e.g. ``tools.spring_vouchers.face_value_yuan``.
        low: lower end of the range (None for listed values).
        high: upper end of the range (None for listed values).
        values: the listed values (None for a range).
        steps: points across the range in a grid design (None otherwise).
        integer: whether drawn values are rounded to whole numbers.
        note: the source or assumption behind the range or list.
    """

    path: str
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] | None = None
    steps: int | None = None
    integer: bool = False
    note: str = ""

    @property
    def is_range(self) -> bool:
        """Whether the field varies over a numeric range (not a list of values)."""
        return self.values is None

    def grid_values(self) -> list[Any]:
        """The values a grid design takes for this field."""
        if self.values is not None:
            return list(self.values)
        if self.steps == 1:
            points = [(self.low + self.high) / 2.0]
        else:
            points = [self.low + (self.high - self.low) * i / (self.steps - 1) for i in range(self.steps)]
        return [self.cast(p) for p in points]

    def cast(self, value: float) -> Any:
        """A drawn number as the scenario takes it: rounded for whole-number fields."""
        if self.integer:
            return int(round(value))
        return float(value)


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep.

    Attributes:
        name: identifier; results go to ``results/sweeps/<name>/`` by default.
        origin: the sweep file (for messages).
        scenario_file: the scenario file the sweep varies.
        variant: the scenario variant used, or None.
        design: grid, latin_hypercube, sobol or morris.
        samples: design size (see the module docstring of ``model.sweeps``); None for grid.
        second_order: Sobol only: sample for pairwise indices too.
        levels: Morris only: levels per field.
        replications: runs per design point.
        scale: share of households simulated.
        seed: root seed of the runs' SeedSequences.
        common_random_numbers: replication r of every point uses the same seed (spawn key (r,)).
        outputs: dotted paths into a run's summary that become columns.
        tool_breakdown: whether each run also runs every tool alone (needed for per-tool uplift).
        fixed: overrides applied to every run, by field path.
        fields: the varied fields, in file order.
        base_raw: the scenario dict (variant and fixed overrides applied) every run starts from.
        description: free text from the file.
    """

    name: str
    origin: str
    scenario_file: str
    variant: str | None
    design: str
    samples: int | None
    second_order: bool
    levels: int
    replications: int
    scale: float
    seed: int
    common_random_numbers: bool
    outputs: tuple[str, ...]
    tool_breakdown: bool
    fixed: dict[str, Any]
    fields: tuple[VariedField, ...]
    base_raw: dict[str, Any] = field(repr=False)
    description: str = ""

    @property
    def paths(self) -> list[str]:
        """The varied field paths, in order."""
        return [f.path for f in self.fields]

    def problem(self) -> dict[str, Any]:
        """The SALib problem definition of the ranged fields."""
        return {"num_vars": len(self.fields), "names": self.paths,
                "bounds": [[f.low, f.high] for f in self.fields]}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, stored as ``sweep.json``."""
        out = dataclasses.asdict(self)
        out["fields"] = [dataclasses.asdict(f) for f in self.fields]
        for f in out["fields"]:
            if f["values"] is not None:
                f["values"] = list(f["values"])
        out["outputs"] = list(self.outputs)
        return json.loads(json.dumps(out, default=_json_default))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SweepSpec":
        """The spec back from ``to_dict``."""
        data = dict(data)
        data["fields"] = tuple(VariedField(**{**f, "values": None if f["values"] is None else tuple(f["values"])})
                               for f in data["fields"])
        data["outputs"] = tuple(data["outputs"])
        return cls(**data)

    def fingerprint(self) -> str:
        """A hash of everything that decides the rows: a results folder belongs to one fingerprint."""
        data = self.to_dict()
        for key in ("name", "origin", "scenario_file", "description"):
            data.pop(key)
        for f in data["fields"]:
            f.pop("note")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in sweep.json")


# ------------------------------------------------------------------ field paths


def _behaviour_defaults() -> dict[str, Any]:
    return BehaviourParameters.default().as_dict()


def _unwrap(value: Any) -> Any:
    return value["value"] if isinstance(value, dict) and "value" in value else value


def field_value(raw: dict[str, Any], path: str, origin: str) -> Any:
    """The value at ``path``, with behaviour parameters taken from their defaults when the scenario omits them.

    Also descends into sourced tables (``{ value = { a = 1 }, source = ... }``) by their inner keys.

    Raises:
        ScenarioError: no such field.
    """
    try:
        return get_field(raw, path, origin)
    except ScenarioError:
        pass
    parts = path.split(".")
    if parts[0] == "behaviour":
        # The scenario leaves this parameter at its documented default.
        node: Any = _behaviour_defaults()
        for i, part in enumerate(parts[1:]):
            if not isinstance(node, dict) or part not in node:
                known = ", ".join(sorted(node)) if isinstance(node, dict) else "none (not a table)"
                raise ScenarioError(origin, path, f"no such behaviour parameter '{'.'.join(parts[1:i + 2])}' "
                                                  f"(see model/parameters/behaviour.toml; known here: {known[:300]})")
            node = node[part]
        return node
    node = raw
    for part in parts:
        node = _unwrap(node)
        if not isinstance(node, dict) or part not in node:
            raise ScenarioError(origin, path, "no such field in the scenario")
        node = node[part]
    return _unwrap(node)


def apply_field(raw: dict[str, Any], path: str, value: Any, origin: str) -> None:
    """Set ``path`` to ``value`` in a raw scenario dict (in place).

    Uses ``model.scenario.set_field``; creates the ``[behaviour]`` table (and a
    dict-valued parameter's table) when the scenario has none, and descends into
    sourced tables, which ``set_field`` does not.
    """
    parts = path.split(".")
    if parts[0] == "behaviour" and len(parts) >= 2:
        node = raw.setdefault("behaviour", {})
        for part in parts[1:-1]:
            child = node.get(part)
            if isinstance(child, dict) and "value" in child:
                child = {**child, "value": dict(child["value"])}
                node[part] = child
                node = child["value"]
                continue
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
        return
    try:
        set_field(raw, path, value, origin=origin)
        return
    except ScenarioError:
        pass
    node: Any = raw
    for part in parts[:-1]:
        if isinstance(node, dict) and "value" in node and isinstance(node["value"], dict):
            node["source"] = f"override of {path}"
            node.pop("assumption", None)
            node = node["value"]
        if not isinstance(node, dict) or part not in node:
            raise ScenarioError(origin, path, f"no table '{part}' on this path")
        node = node[part]
    if isinstance(node, dict) and "value" in node and isinstance(node["value"], dict):
        node = node["value"]
    if not isinstance(node, dict):
        raise ScenarioError(origin, path, "no such field in the scenario")
    node[parts[-1]] = value


def apply_overrides(base_raw: dict[str, Any], values: dict[str, Any], origin: str) -> dict[str, Any]:
    """A copy of ``base_raw`` with each ``path: value`` applied."""
    raw = copy.deepcopy(base_raw)
    for path, value in values.items():
        apply_field(raw, path, value, origin)
    return raw


# ------------------------------------------------------------------ reading the file


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _sourced(value: Any) -> Any:
    """A ``{ value = ..., source/assumption = ... }`` entry's value; anything else as it is."""
    if isinstance(value, dict) and "value" in value and set(value) <= {"value", "source", "assumption", "note"}:
        return value["value"]
    return value


def _read_field(origin: str, i: int, entry: Any, design: str, base_raw: dict[str, Any], scenario_file: str,
                fixed: dict[str, Any]) -> VariedField:
    where = f"vary[{i}]"
    if not isinstance(entry, dict):
        raise SweepError(origin, where, "expected a table with field = \"path\" and range = [low, high] or values = [...]")
    unknown = set(entry) - VARY_KEYS
    if unknown:
        raise SweepError(origin, f"{where}.{sorted(unknown)[0]}", f"unknown key; expected {', '.join(sorted(VARY_KEYS))}")
    path = entry.get("field")
    if not isinstance(path, str) or not path:
        raise SweepError(origin, f"{where}.field", "expected the dotted path of a scenario field, e.g. "
                                                   "\"tools.spring_vouchers.face_value_yuan\"")
    if path in fixed:
        raise SweepError(origin, path, "is both in [fixed] and varied")
    try:
        current = field_value(base_raw, path, scenario_file)
    except ScenarioError as exc:
        raise SweepError(origin, path, f"{exc.reason} of {scenario_file}") from None
    if isinstance(current, dict):
        raise SweepError(origin, path, f"is a table ({', '.join(current)}), not a value; vary one of its entries")
    note = str(entry.get("source") or ("assumption: " + entry["assumption"] if "assumption" in entry else ""))
    has_range, has_values = "range" in entry, "values" in entry
    if has_range == has_values:
        raise SweepError(origin, path, "give either range = [low, high] or values = [...]")
    if has_values:
        values = entry["values"]
        if not isinstance(values, list) or not values:
            raise SweepError(origin, path, "empty list of values: give at least one")
        if design != "grid":
            raise SweepError(origin, path, f"design '{design}' needs a numeric range = [low, high] for every field, "
                                           f"but this field lists values {values!r}; use design = \"grid\" for listed values")
        if "steps" in entry:
            raise SweepError(origin, f"{path}.steps", "steps goes with a range, not with listed values")
        return VariedField(path, values=tuple(values), integer=bool(entry.get("integer", False)), note=note)
    rng = entry["range"]
    if not isinstance(rng, list) or len(rng) != 2 or not all(_is_number(v) for v in rng):
        if isinstance(rng, list) and len(rng) < 2:
            raise SweepError(origin, path, f"empty range {rng!r}: give range = [low, high] with low < high")
        raise SweepError(origin, path, f"expected range = [low, high] with two numbers, got {rng!r}")
    low, high = rng
    if not low < high:
        raise SweepError(origin, path, f"empty range [{low}, {high}]: low must be below high")
    if not _is_number(current):
        raise SweepError(origin, path, f"is {current!r} in the scenario, not a number; a range needs a numeric field")
    integer_default = isinstance(current, int) and isinstance(low, int) and isinstance(high, int)
    integer = entry.get("integer", integer_default)
    if not isinstance(integer, bool):
        raise SweepError(origin, f"{path}.integer", f"expected true or false, got {integer!r}")
    steps = entry.get("steps")
    if design == "grid":
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise SweepError(origin, f"{path}.steps", "a grid over a range needs steps = N (points, ends included, N >= 1)")
    elif steps is not None:
        raise SweepError(origin, f"{path}.steps", f"steps is for grid designs; design '{design}' draws its own points")
    return VariedField(path, low=float(low), high=float(high), steps=steps, integer=integer, note=note)


def _read_outputs(origin: str, outputs: Any, scenario) -> tuple[str, ...]:
    if outputs is None:
        return DEFAULT_OUTPUTS
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) and o for o in outputs):
        raise SweepError(origin, "sweep.outputs", "expected a non-empty list of summary paths, e.g. "
                                                  "[\"retail_sales_uplift\", \"net_leverage\"]")
    if len(set(outputs)) != len(outputs):
        raise SweepError(origin, "sweep.outputs", "lists an output twice")
    for out in outputs:
        parts = out.split(".")
        if parts[0] not in SUMMARY_KEYS:
            raise SweepError(origin, f"sweep.outputs: {out}",
                             f"'{parts[0]}' is not in a run's summary; expected one of {', '.join(SUMMARY_KEYS)}")
        if parts[0] == "tools":
            if len(parts) < 3 or parts[1] not in scenario.tools:
                raise SweepError(origin, f"sweep.outputs: {out}",
                                 f"expected tools.TOOL.FIGURE with TOOL one of {', '.join(scenario.tools) or '(none)'}")
        if parts[0] == "targets":
            if len(parts) < 3 or parts[1] not in scenario.targets:
                raise SweepError(origin, f"sweep.outputs: {out}",
                                 f"expected targets.TARGET.FIGURE with TARGET one of {', '.join(scenario.targets) or '(none)'}")
    return tuple(outputs)


def _needs_breakdown(outputs: tuple[str, ...], scenario) -> list[str]:
    """Outputs that exist only when each tool is also run alone."""
    if len(scenario.tools) <= 1:
        return []
    return [o for o in outputs if o == "tool_interaction_uplift"
            or re.fullmatch(r"tools\.[^.]+\.(" + "|".join(TOOL_ALONE_KEYS) + r")", o)]


def _integer(origin: str, table: dict, key: str, default: Any, minimum: int) -> Any:
    value = table.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise SweepError(origin, f"sweep.{key}", f"expected a whole number of at least {minimum}, got {value!r}")
    return value


def load_sweep(path: str | Path, changes: dict[str, Any] | None = None) -> SweepSpec:
    """Read and check a sweep file.

    Args:
        path: the sweep TOML.
        changes: replacements for ``[sweep]`` keys (e.g. ``{"samples": 4}``) and, under
            ``"fixed"``, extra ``[fixed]`` overrides; for tests and benchmarks.

    Raises:
        SweepError: naming the sweep file, the field and what is wrong.
        ScenarioError: the scenario file itself is wrong.
    """
    path = Path(path)
    origin = str(path)
    if not path.exists():
        raise SweepError(origin, "(file)", f"no such sweep file {path}")
    try:  # UTF-8, size and nesting limits, as for scenario files
        data = read_toml(path, origin)
    except ScenarioError as exc:
        raise SweepError(origin, exc.field_path, exc.reason) from None
    unknown = set(data) - {"sweep", "fixed", "vary"}
    if unknown:
        raise SweepError(origin, sorted(unknown)[0], "unknown top-level table; expected [sweep], [fixed], [[vary]]")
    head = data.get("sweep")
    if not isinstance(head, dict):
        raise SweepError(origin, "sweep", "missing [sweep] table")
    head = dict(head)
    changes = dict(changes or {})
    fixed_raw = dict(data.get("fixed", {}))
    fixed_raw.update(changes.pop("fixed", {}))
    head.update(changes)
    unknown = set(head) - SWEEP_KEYS
    if unknown:
        raise SweepError(origin, f"sweep.{sorted(unknown)[0]}", f"unknown key; expected {', '.join(sorted(SWEEP_KEYS))}")

    name = head.get("name", path.stem)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise SweepError(origin, "sweep.name", f"expected letters, digits, '-', '_' or '.', got {name!r}")
    design = head.get("design")
    if design not in DESIGNS:
        raise SweepError(origin, "sweep.design", f"{design!r} is not one of {', '.join(DESIGNS)}")
    scenario_rel = head.get("scenario")
    if not isinstance(scenario_rel, str):
        raise SweepError(origin, "sweep.scenario", "expected the scenario file's path (relative to the sweep file)")
    scenario_path = Path(scenario_rel)
    if not scenario_path.is_absolute():
        scenario_path = (path.parent / scenario_path).resolve()
    if not scenario_path.is_file():
        raise SweepError(origin, "sweep.scenario", f"no such scenario file {scenario_path}")
    variant = head.get("variant")
    if variant is not None and not isinstance(variant, str):
        raise SweepError(origin, "sweep.variant", f"expected a variant name, got {variant!r}")
    base = load_scenario(scenario_path, variant=variant)
    scenario_file = str(scenario_path)

    if not isinstance(fixed_raw, dict):
        raise SweepError(origin, "fixed", "expected a table of \"field.path\" = value")
    fixed = {k: _sourced(v) for k, v in fixed_raw.items()}
    base_raw = copy.deepcopy(base.raw)
    base_raw.pop("variants", None)
    for fpath, value in fixed.items():
        try:
            field_value(base_raw, fpath, scenario_file)
            apply_field(base_raw, fpath, value, scenario_file)
        except ScenarioError as exc:
            raise SweepError(origin, f"fixed: {fpath}", f"{exc.reason} of {scenario_file}") from None
    try:
        scenario = scenario_from_dict(base_raw, f"{scenario_file} with the [fixed] overrides of {origin}")
    except ScenarioError as exc:
        raise SweepError(origin, f"fixed: {exc.field_path}", exc.reason) from None

    vary = data.get("vary")
    if not isinstance(vary, list) or not vary:
        raise SweepError(origin, "vary", "no [[vary]] tables: a sweep varies at least one field")
    fields = tuple(_read_field(origin, i, e, design, base_raw, scenario_file, fixed) for i, e in enumerate(vary))
    seen = set()
    for f in fields:
        if f.path in seen:
            raise SweepError(origin, f.path, "is varied twice")
        seen.add(f.path)

    samples = _integer(origin, head, "samples", None, 1)
    if design == "grid":
        if samples is not None:
            raise SweepError(origin, "sweep.samples", "a grid's size comes from its fields' steps and values; drop samples")
    elif samples is None:
        raise SweepError(origin, "sweep.samples", f"design '{design}' needs samples = N")
    if design == "sobol" and samples & (samples - 1):
        raise SweepError(origin, "sweep.samples", f"Sobol (Saltelli) sampling needs a power of 2, got {samples}; "
                                                  "its balance is lost otherwise")
    if design == "morris" and samples < 2:
        raise SweepError(origin, "sweep.samples", "Morris needs at least 2 trajectories")
    if design in ("sobol", "morris") and len(fields) < 2:
        raise SweepError(origin, "vary", f"design '{design}' apportions an output among fields; vary at least two")
    levels = _integer(origin, head, "levels", 4, 2)
    if "levels" in head and design != "morris":
        raise SweepError(origin, "sweep.levels", "levels is for Morris designs")
    if design == "morris" and levels % 2:
        raise SweepError(origin, "sweep.levels", f"Morris levels must be even (got {levels}) for the trajectories to be balanced")
    second_order = head.get("second_order", False)
    if not isinstance(second_order, bool):
        raise SweepError(origin, "sweep.second_order", f"expected true or false, got {second_order!r}")
    if second_order and design != "sobol":
        raise SweepError(origin, "sweep.second_order", "second_order is for Sobol designs")
    replications = _integer(origin, head, "replications", 1, 1)
    scale = head.get("scale", 0.01)
    if not _is_number(scale) or not 0 < scale <= 1:
        raise SweepError(origin, "sweep.scale", f"expected a share of households in (0, 1], got {scale!r}")
    try:
        check_scale(scale, scenario.city.households, scenario.name, option="scale")
    except CommandError as exc:
        raise SweepError(origin, "sweep.scale", str(exc).removeprefix("scale: ")) from None
    seed = head.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2 ** 63:
        raise SweepError(origin, "sweep.seed", f"expected a whole number from 0 to 2**63 - 1, got {seed!r}")
    crn = head.get("common_random_numbers", False)
    if not isinstance(crn, bool):
        raise SweepError(origin, "sweep.common_random_numbers", f"expected true or false, got {crn!r}")
    outputs = _read_outputs(origin, head.get("outputs"), scenario)
    needed = _needs_breakdown(outputs, scenario)
    breakdown = head.get("tool_breakdown")
    if breakdown is None:
        breakdown = bool(needed)
    elif not isinstance(breakdown, bool):
        raise SweepError(origin, "sweep.tool_breakdown", f"expected true or false, got {breakdown!r}")
    elif not breakdown and needed:
        raise SweepError(origin, "sweep.tool_breakdown", f"output {needed[0]} needs each tool run alone; "
                                                         "drop tool_breakdown = false or that output")
    description = head.get("description", "")
    return SweepSpec(
        name=name, origin=origin, scenario_file=scenario_file, variant=variant, design=design, samples=samples,
        second_order=second_order, levels=levels, replications=replications, scale=float(scale), seed=seed,
        common_random_numbers=crn, outputs=outputs, tool_breakdown=breakdown,
        fixed=json.loads(json.dumps(fixed, default=_json_default)), fields=fields,
        base_raw=json.loads(json.dumps(base_raw, default=_json_default)), description=str(description),
    )
