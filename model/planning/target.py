"""The smallest budget for one tool that meets a plan's target with a given probability (``run.py target``).

A planner asks: how much must we put into this tool, everything else in the
plan as it is, for the target (社零 growth, a level) to be met with probability
at least P? The answer is a budget on a grid from 0 to a stated bound:

* every budget is run with the same replications (the same seeds ``seed``,
  replication 0..R-1), so the probability rises with the budget except where
  the budget changes who gets a voucher (common random numbers);
* the bound, budget 0 and a few evenly spaced budgets are run first, so the
  printed curve from budget to probability shows its shape; if the target is
  not met at the bound with probability P it is out of reach within the bound;
* otherwise bisection on the grid, between the smallest budget that met it
  and the largest run below that one, finds a budget that meets it while the
  budget one grid step lower does not, and no budget run below the answer
  meets it (even where sampling makes the curve not quite monotone).

Only the named tool's ``budget_yuan`` changes. Where the scenario fixes a
voucher's ``quantity`` or its ``releases`` (batches), they are scaled with
the budget (rounded down), so the design (face value, threshold, dates,
batches) stays as planned; without them the quantity is budget ÷ face value
as always.

Each run is the policy run only: whether a target is met depends on the
policy run, and the counterfactual is not needed for it.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from model.economy import CityEconomy
from model.rng import RandomStreams
from model.simulation import prior_period_run, replication_behaviour
from model.summary import evaluate_target, target_met
from model.scenario import Scenario, Target, get_field, scenario_from_dict, set_field, variant_overrides

DEFAULT_GRID_STEPS = 20
DEFAULT_CURVE_POINTS = 4
#: Default bound: this many times the plan's own budget for the tool.
DEFAULT_BOUND_MULTIPLE = 10.0


class TargetSearchError(ValueError):
    """A search that cannot be run as asked (unknown tool or target, impossible probability, no bound)."""


@dataclass(frozen=True)
class BudgetPoint:
    """The target's outcome at one budget, across replications.

    Attributes:
        step: grid index (budget = step x grid step).
        budget_yuan: the tool's budget.
        probability: share of replications meeting the target.
        met: replications meeting it.
        replications: replications run.
        indicator_mean, indicator_p05, indicator_p95: the target indicator across replications.
        outlay_mean_yuan: what the tool actually paid out, mean over replications.
        purpose: why it was run ('bound', 'bisection', 'curve').
    """

    step: int
    budget_yuan: float
    probability: float
    met: int
    replications: int
    indicator_mean: float
    indicator_p05: float
    indicator_p95: float
    outlay_mean_yuan: float
    purpose: str


@dataclass
class SearchResult:
    """What the search found.

    Attributes:
        scenario: the scenario's name.
        tool: the tool whose budget varied.
        target: the target.
        probability: the probability asked for.
        plan_budget_yuan: the tool's budget in the plan.
        max_budget_yuan: the bound searched up to.
        grid_step_yuan: resolution of the answer.
        status: 'found', 'met_without_tool' (budget 0 suffices) or 'out_of_reach'.
        budget_yuan: the smallest budget found (None when out of reach).
        points: every budget run, by budget.
        notes: warnings (a curve that is not monotone, a tool that cannot act in the target's period).
        replications, scale, seed: run settings.
    """

    scenario: str
    tool: str
    target: Target
    probability: float
    plan_budget_yuan: float
    max_budget_yuan: float
    grid_step_yuan: float
    status: str
    budget_yuan: float | None
    points: list[BudgetPoint]
    replications: int
    scale: float
    seed: int
    notes: list[str] = field(default_factory=list)

    def message(self) -> str:
        """One sentence a planner can quote."""
        bound = f"{self.max_budget_yuan / 1e4:,.0f} 万元"
        p = f"{self.probability:.0%}"
        if self.status == "out_of_reach":
            best = max(self.points, key=lambda pt: pt.budget_yuan)
            return (f"out of reach: even a budget of {bound} for {self.tool} meets target {self.target.name} in only "
                    f"{best.probability:.0%} of {self.replications} replications (asked: {p}); bound {bound}")
        if self.status == "met_without_tool":
            return (f"target {self.target.name} is met with probability ≥ {p} with no budget for {self.tool} "
                    f"(the rest of the plan suffices)")
        return (f"smallest budget for {self.tool} meeting target {self.target.name} with probability ≥ {p}: "
                f"{self.budget_yuan / 1e4:,.1f} 万元 (grid step {self.grid_step_yuan / 1e4:,.1f} 万元; "
                f"{self.replications} replications; plan budget {self.plan_budget_yuan / 1e4:,.1f} 万元)")


# ------------------------------------------------------------------ the scenario at another budget


def raw_with_variant(raw: dict[str, Any], variant: str | None, origin: str = "<dict>") -> dict[str, Any]:
    """A copy of a raw scenario with a named [variants.NAME] applied (as ``load_scenario`` does).

    Raises:
        TargetSearchError: no such variant.
    """
    out = copy.deepcopy(raw)
    if variant is None:
        return out
    variants = out.get("variants", {})
    if variant not in variants:
        raise TargetSearchError(f"{origin}: no variant {variant!r}; the file defines {', '.join(variants) or 'none'}")
    for field_path, value in variant_overrides(variants[variant]).items():
        set_field(out, field_path, value, origin=f"{origin} (variant {variant})")
    out["scenario"]["name"] = f"{out['scenario'].get('name', 'scenario')}/{variant}"
    return out


def raw_with_budget(raw: dict[str, Any], tool: str, budget_yuan: float, origin: str = "<dict>") -> dict[str, Any]:
    """A copy of a raw scenario with one tool's budget changed, fixed quantities and batches scaled with it.

    Raises:
        TargetSearchError: the scenario fixes a quantity or batches but its budget is zero (nothing to scale from).
    """
    out = copy.deepcopy(raw)
    plan_budget = float(get_field(raw, f"tools.{tool}.budget_yuan", origin))
    set_field(out, f"tools.{tool}.budget_yuan", float(budget_yuan), origin)
    table = out["tools"][tool]
    fixed = [k for k in ("quantity", "releases") if k in table]
    if not fixed:
        return out
    if plan_budget <= 0:
        raise TargetSearchError(f"{origin}: tools.{tool}: the plan's budget is 0, so its fixed {' and '.join(fixed)} "
                                "cannot be scaled with the budget; remove them or give a budget")
    factor = budget_yuan / plan_budget
    if "quantity" in table:
        quantity = get_field(out, f"tools.{tool}.quantity", origin)
        set_field(out, f"tools.{tool}.quantity", int(math.floor(float(quantity) * factor + 1e-9)), origin)
    if "releases" in table and isinstance(table["releases"], list):
        for batch in table["releases"]:
            if isinstance(batch, dict) and "quantity" in batch:
                q = batch["quantity"]
                value = q["value"] if isinstance(q, dict) and "value" in q else q
                scaled = int(math.floor(float(value) * factor + 1e-9))
                if isinstance(q, dict) and "value" in q:
                    batch["quantity"] = {**q, "value": scaled}
                else:
                    batch["quantity"] = scaled
    return out


# ------------------------------------------------------------------ one budget


def _replication_outcome(scenario: Scenario, target_name: str, tool: str, scale: float, seed: int, r: int,
                         priors: dict[int, CityEconomy | None]) -> tuple[float | None, bool, float]:
    """Replication ``r`` of the plan: (the target's value, whether it is met, the tool's outlay).

    The prior period's run is taken from ``priors`` (by replication) when there, and kept there when made.
    """
    target = scenario.targets[target_name]
    streams = RandomStreams.from_seed(seed, r)
    model = CityEconomy(scenario, scale=scale, streams=streams).run()
    if r not in priors:
        priors[r] = prior_period_run(scenario, scale, streams, trend=model.trend)
    value = evaluate_target(target, model, priors[r])
    return value, bool(target_met(target, value)), (model.funds[tool].paid_yuan if tool in model.funds else 0.0)


#: A worker process's prior-period runs of the search it last served: (search token, {replication: run}).
_WORKER_PRIORS: tuple[str | None, dict[int, CityEconomy | None]] = (None, {})


def _worker_outcome(token: str, scenario: Scenario, target_name: str, tool: str, scale: float, seed: int,
                    r: int) -> tuple[float | None, bool, float]:
    """``_replication_outcome`` in a worker process, keeping the prior-period runs of one search (``token``):
    a worker that has not run replication r's prior period yet runs it, the same run wherever it is made."""
    global _WORKER_PRIORS
    if _WORKER_PRIORS[0] != token:
        _WORKER_PRIORS = (token, {})
    return _replication_outcome(scenario, target_name, tool, scale, seed, r, _WORKER_PRIORS[1])


def evaluate_budget(raw: dict[str, Any], origin: str, tool: str, target_name: str, budget_yuan: float, *,
                    step: int, scale: float, seed: int, replications: int, purpose: str,
                    priors: dict[int, CityEconomy | None] | None = None, workers: int = 1,
                    token: str = "") -> BudgetPoint:
    """Run the plan with the tool at ``budget_yuan``, R replications with common seeds; the target's outcome.

    A growth target is judged against the simulated prior period of the same replication; where it lies
    before the horizon its no-policy run (``simulation.prior_period_run``) does not depend on the budget,
    so it is run once per replication and kept in ``priors`` (by replication) across budgets. With
    ``workers`` > 1 the replications run in the shared worker processes (``model/runner.py``), which keep
    the prior-period runs of the search ``token`` themselves.
    """
    scenario = scenario_from_dict(raw_with_budget(raw, tool, budget_yuan, origin), origin)
    # Replication r runs the behaviour run_scenario gives it (ensemble set r of the committed estimate), chosen
    # here in the parent, so the probability spans what the evidence leaves open, as the output says it does.
    scenarios = [replication_behaviour(scenario, r)[0] for r in range(replications)]
    priors = {} if priors is None else priors
    if workers > 1:
        from model.runner import ReplicationPool

        outcomes = ReplicationPool.shared(workers).map(
            _worker_outcome, [(token, scenarios[r], target_name, tool, scale, seed, r) for r in range(replications)])
    else:
        outcomes = [_replication_outcome(scenarios[r], target_name, tool, scale, seed, r, priors)
                    for r in range(replications)]
    values = [value for value, _, _ in outcomes]
    met = [m for _, m, _ in outcomes]
    outlays = [outlay for _, _, outlay in outcomes]
    arr = np.array(values, dtype=float)
    return BudgetPoint(step=step, budget_yuan=float(budget_yuan), probability=float(np.mean(met)), met=int(sum(met)),
                       replications=replications, indicator_mean=float(arr.mean()),
                       indicator_p05=float(np.percentile(arr, 5)), indicator_p95=float(np.percentile(arr, 95)),
                       outlay_mean_yuan=float(np.mean(outlays)), purpose=purpose)


# ------------------------------------------------------------------ the search


def choose_target(scenario: Scenario, name: str | None) -> Target:
    """The target to search for: the named one, or the only one the model can evaluate.

    Raises:
        TargetSearchError: unknown name, an out-of-scope target, or several targets and no name.
    """
    evaluable = [t for t in scenario.targets.values() if t.indicator != "out_of_scope"]
    if name is not None:
        if name not in scenario.targets:
            raise TargetSearchError(f"{scenario.origin}: no target {name!r}; the scenario's targets: "
                                    f"{', '.join(scenario.targets) or 'none'}")
        target = scenario.targets[name]
        if target.indicator == "out_of_scope":
            raise TargetSearchError(f"{scenario.origin}: target {name!r} is out of the model's scope "
                                    f"({target.out_of_scope_reason}); choose one of {', '.join(t.name for t in evaluable) or 'none'}")
        return target
    if not evaluable:
        raise TargetSearchError(f"{scenario.origin}: the scenario has no target the model can evaluate")
    if len(evaluable) > 1:
        raise TargetSearchError(f"{scenario.origin}: several targets; choose one with --target: "
                                f"{', '.join(t.name for t in evaluable)}")
    return evaluable[0]


def check_request(scenario: Scenario, tool: str, probability: float, max_budget: float | None) -> float:
    """Validate the request; return the bound to search up to.

    Raises:
        TargetSearchError: unknown tool, probability outside (0, 1], or no usable bound.
    """
    if tool not in scenario.tools:
        raise TargetSearchError(f"{scenario.origin}: no tool {tool!r}; the scenario's tools: "
                                f"{', '.join(scenario.tools) or 'none'}")
    if not (isinstance(probability, (int, float)) and 0 < probability <= 1):
        raise TargetSearchError(f"probability must be in (0, 1], got {probability!r}: a probability of 0 is met "
                                "by any budget and one above 1 by none")
    plan = scenario.tools[tool].budget_yuan
    if max_budget is None:
        if plan <= 0:
            raise TargetSearchError(f"{scenario.origin}: tools.{tool} has a zero budget in the plan; give --max-budget")
        return plan * DEFAULT_BOUND_MULTIPLE
    if not max_budget > 0:
        raise TargetSearchError(f"--max-budget must be positive, got {max_budget!r}")
    return float(max_budget)


def find_budget(raw: dict[str, Any], tool: str, *, origin: str = "<dict>", target: str | None = None,
                probability: float = 0.9, max_budget: float | None = None, grid_steps: int = DEFAULT_GRID_STEPS,
                replications: int = 20, scale: float = 0.05, seed: int = 0,
                curve_points: int = DEFAULT_CURVE_POINTS,
                progress: Callable[[BudgetPoint], None] | None = None, workers: int | None = None) -> SearchResult:
    """Find the smallest budget on a grid at which the target is met with probability at least ``probability``.

    Args:
        raw: the scenario as read (``read_scenario_file``).
        tool: the tool whose budget varies.
        origin: the scenario file, for messages.
        target: the target's name (needed when the scenario has several).
        probability: required probability of meeting the target, in (0, 1].
        max_budget: the bound (default ten times the plan's budget for the tool).
        grid_steps: the grid has this many steps from 0 to the bound.
        replications: replications per budget (common seeds).
        scale: share of households simulated.
        seed: root seed.
        curve_points: extra evenly spaced budgets run for the curve.
        progress: called with each budget's result as it is done.
        workers: processes each budget's replications run in (``runner.default_workers`` when None); the
            result is the same whatever their number.

    Raises:
        TargetSearchError, ScenarioError: the request or the scenario is wrong.
    """
    scenario = scenario_from_dict(raw, origin)
    bound = check_request(scenario, tool, probability, max_budget)
    chosen = choose_target(scenario, target)
    if grid_steps < 1:
        raise TargetSearchError(f"grid steps must be at least 1, got {grid_steps}")
    if replications < 1:
        raise TargetSearchError(f"replications must be at least 1, got {replications}")
    if curve_points < 0:
        raise TargetSearchError(f"curve points must be 0 or more, got {curve_points}")
    from model.runner import default_workers

    workers = min(workers or default_workers(replications), replications)
    if workers < 1:
        raise TargetSearchError(f"workers must be at least 1, got {workers}")
    token = uuid.uuid4().hex  # the worker processes' prior-period runs belong to this search
    step_yuan = bound / grid_steps
    priors: dict[int, CityEconomy | None] = {}
    notes = []
    t = scenario.tools[tool]
    if chosen.period_end is not None and (t.start > chosen.period_end or t.end < chosen.period_start):
        notes.append(f"tool {tool} acts {t.start} to {t.end}, outside the target's period "
                     f"{chosen.period_start} to {chosen.period_end}: its budget cannot move the target")
    points: dict[int, BudgetPoint] = {}
    need = probability - 1e-12

    def at(k: int, purpose: str) -> BudgetPoint:
        if k not in points:
            points[k] = evaluate_budget(raw, origin, tool, chosen.name, k * step_yuan, step=k, scale=scale, seed=seed,
                                        replications=replications, purpose=purpose, priors=priors,
                                        workers=workers, token=token)
            if progress is not None:
                progress(points[k])
        return points[k]

    result = SearchResult(scenario=scenario.name, tool=tool, target=chosen, probability=probability,
                          plan_budget_yuan=t.budget_yuan, max_budget_yuan=bound, grid_step_yuan=step_yuan,
                          status="out_of_reach", budget_yuan=None, points=[], replications=replications,
                          scale=scale, seed=seed, notes=notes)
    top = at(grid_steps, "bound")
    at(0, "bound")
    for i in range(1, curve_points + 1):
        at(round(i * grid_steps / (curve_points + 1)), "curve")
    if top.outlay_mean_yuan < 0.8 * bound:
        notes.append(f"at the bound {tool} paid out only {top.outlay_mean_yuan / 1e4:,.1f} of {bound / 1e4:,.1f} 万元: "
                     "with this design (claims, dates, eligibility, validity) more budget is not spent")
    if top.probability < need:
        result.points = sorted(points.values(), key=lambda p: p.step)
        return result
    # Bisection between the smallest budget that met the target and the largest run below it (which
    # failed): no budget run below the answer meets the target, even where the curve is not monotone.
    hi = min(k for k, p in points.items() if p.probability >= need)
    if hi > 0:
        lo = max(k for k in points if k < hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if at(mid, "bisection").probability >= need:
                hi = mid
            else:
                lo = mid
    above = [k for k, p in points.items() if k > hi and p.probability < need]
    if above:
        notes.append(f"the curve is not monotone: larger budgets ({', '.join(f'{k * step_yuan / 1e4:,.1f}' for k in sorted(above))} "
                     "万元) missed the probability the answer met; more replications would smooth it")
    result.status = "met_without_tool" if hi == 0 else "found"
    result.budget_yuan = hi * step_yuan
    result.points = sorted(points.values(), key=lambda p: p.step)
    return result


# ------------------------------------------------------------------ output


def curve_csv(result: SearchResult) -> str:
    """The curve from budget to probability as CSV text."""
    buffer = io.StringIO()
    columns = ["tool", "target", "budget_yuan", "probability", "met_replications", "replications",
               "indicator", "target_value", "indicator_mean", "indicator_p05", "indicator_p95",
               "outlay_mean_yuan", "purpose", "answer"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for p in result.points:
        writer.writerow({
            "tool": result.tool, "target": result.target.name, "budget_yuan": f"{p.budget_yuan:.2f}",
            "probability": f"{p.probability:.4f}", "met_replications": p.met, "replications": p.replications,
            "indicator": result.target.indicator, "target_value": result.target.value,
            "indicator_mean": f"{p.indicator_mean:.6g}", "indicator_p05": f"{p.indicator_p05:.6g}",
            "indicator_p95": f"{p.indicator_p95:.6g}", "outlay_mean_yuan": f"{p.outlay_mean_yuan:.2f}",
            "purpose": p.purpose,
            "answer": "yes" if result.budget_yuan is not None and abs(p.budget_yuan - result.budget_yuan) < 1e-6 else "",
        })
    return buffer.getvalue()


def format_curve(result: SearchResult) -> str:
    """The curve as a table for the terminal, with the answer marked."""
    ind = result.target.indicator
    growth = ind.endswith("_growth")

    def value(v: float) -> str:
        if growth:
            return f"{v * 100:+.2f}%"
        if ind.startswith("consumption_per_capita"):
            return f"{v:,.0f} 元"
        return f"{v / 1e8:,.3f} 亿元"

    target_text = value(result.target.value) if result.target.value is not None else "—"
    lines = [f"{result.scenario}: budget for {result.tool} vs target {result.target.name} ({ind} ≥ {target_text}), "
             f"{result.replications} replications each, scale {result.scale}, seed {result.seed}",
             f"  {'预算 budget (万元)':>18} {'达标概率 P(met)':>16} {'indicator mean (90%)':>34} {'实际支出 outlay (万元)':>20}"]
    for p in result.points:
        mark = "  <= answer" if result.budget_yuan is not None and abs(p.budget_yuan - result.budget_yuan) < 1e-6 else ""
        bar = "#" * int(round(p.probability * 20))
        lines.append(f"  {p.budget_yuan / 1e4:>18,.1f} {p.probability:>16.2f} "
                     f"{value(p.indicator_mean):>12} ({value(p.indicator_p05)} to {value(p.indicator_p95)})"
                     f" {p.outlay_mean_yuan / 1e4:>14,.1f}  {bar:<20}{mark}")
    lines.append("  " + result.message())
    for note in result.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)
