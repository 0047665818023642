"""Running a scenario: the policy run, its counterfactual, replications, and what is reported.

``run_scenario`` runs, for each replication, the scenario with all its tools
and the same scenario with none, on the same household population and the
same random streams, so their difference is the policy's effect. When the
scenario has several tools it also runs each tool alone against the same
counterfactual, which gives each tool's own uplift and, by difference, how
much the tools add when combined (``interaction``).

``RunResult`` holds the summary (``summary.json``), the tidy daily series
(Parquet) and the manifest, and writes them to a folder in one step: files go
to a temporary folder that is renamed into place only when everything is
written, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from model import __version__
from model.economy import CityEconomy, build_population
from model.households import N_QUINTILES
from model.rng import RandomStreams
from model.scenario import Scenario, Target
from model.sectors import CHANNELS, FLOW_SECTORS, NON_RETAIL, SECTOR_INDEX, SECTORS, SIZE_CLASSES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOODS_SECTORS = [SECTOR_INDEX[s] for s in SECTORS if s not in ("catering",)]
NON_DURABLE_FLOW = [SECTOR_INDEX[s] for s in ("daily_goods", "catering", "fuel", "night_market")]


@dataclass
class PairResult:
    """One replication: the policy run, the counterfactual and each tool alone."""

    policy: CityEconomy
    baseline: CityEconomy
    tool_alone: dict[str, CityEconomy]
    streams: RandomStreams
    seconds: float


def simulate_replication(scenario: Scenario, scale: float, streams: RandomStreams, *, tool_breakdown: bool = True,
                         progress: Callable[[int], None] | None = None) -> PairResult:
    """Run the policy, the no-policy counterfactual, and (with several tools) each tool alone."""
    started = time.perf_counter()
    population = build_population(scenario, scale, streams)
    baseline = CityEconomy(scenario, scale=scale, streams=streams, active_tools=set(), population=population).run(progress)
    policy = CityEconomy(scenario, scale=scale, streams=streams, population=population).run(progress)
    alone = {}
    if tool_breakdown and len(scenario.tools) > 1:
        for name in scenario.tools:
            alone[name] = CityEconomy(scenario, scale=scale, streams=streams, active_tools={name},
                                      population=population).run(progress)
    return PairResult(policy, baseline, alone, streams, time.perf_counter() - started)


def runs_per_replication(scenario: Scenario, tool_breakdown: bool) -> int:
    """How many model runs one replication takes."""
    return 2 + (len(scenario.tools) if tool_breakdown and len(scenario.tools) > 1 else 0)


# ------------------------------------------------------------------ figures of one replication


def _retail_in(model: CityEconomy, start: dt.date | None = None, end: dt.date | None = None) -> np.ndarray:
    """Daily 社零 (days,) between two dates (whole horizon by default)."""
    daily = model.books.retail.sum(axis=(1, 2, 3, 4))
    if start is None:
        return daily
    a = (start - model.scenario.start).days
    b = (end - model.scenario.start).days
    return daily[a: b + 1]


def _period_slice(model: CityEconomy, start: dt.date, end: dt.date) -> slice:
    return slice((start - model.scenario.start).days, (end - model.scenario.start).days + 1)


def evaluate_target(target: Target, model: CityEconomy) -> float | None:
    """The simulated value of a target's indicator in ``model`` (None when out of scope)."""
    if target.indicator == "out_of_scope":
        return None
    books = model.books
    sl = _period_slice(model, target.period_start, target.period_end)
    if target.indicator in ("retail_sales_growth", "retail_sales_level"):
        level = float(books.retail[sl].sum())
    elif target.indicator in ("online_retail_level", "online_retail_growth"):
        level = float(books.retail[sl][:, :, GOODS_SECTORS, CHANNELS.index("online")].sum())
    elif target.indicator == "tourism_revenue_level":
        level = float(books.retail[sl][:, model.visitor_cell].sum() + books.non_retail[sl].sum())
    else:  # per-capita consumption, urban or rural
        urban = target.indicator.endswith("_urban")
        hh = model.households
        mask = hh.urban == urban
        persons = float(hh.size[mask].sum()) * hh.weight
        days = sl.stop - sl.start
        index = model.income_index[sl].mean()
        # Normal consumption (all of it, not only 社零), plus how far these households' spending in the
        # non-durable flow sectors departed from normal (vouchers, windfalls, calendar, conditions).
        # Cars and appliances are left at their normal level: their sector mixes durable events with flows.
        normal = float(hh.consumption_month_yuan[mask].sum()) * hh.weight * 12.0 * days / 365.0 * index
        cells = np.unique(hh.cell[mask])
        retail = float(books.retail[sl][:, cells][:, :, NON_DURABLE_FLOW].sum())
        cols = [FLOW_SECTORS.index(SECTORS[i]) for i in NON_DURABLE_FLOW]
        expected = float(model.flow.base_yuan[cells][:, cols].sum()) * float(model.income_index[sl].sum()) * \
            float(model.seasonality[sl][:, NON_DURABLE_FLOW].mean())
        return (normal + retail - expected) / max(persons, 1.0)
    if target.indicator.endswith("_growth"):
        return level / target.base_value_yuan - 1.0
    return level


def target_met(target: Target, value: float | None) -> bool | None:
    """Whether a simulated value meets the target."""
    if value is None or target.value is None:
        return None
    return bool(value >= target.value)


def _budget_exhausted(model: CityEconomy, name: str) -> str | None:
    fund = model.funds.get(name)
    if fund is None or fund.exhausted_day is None:
        return None
    return model.date(fund.exhausted_day).isoformat()


def replication_summary(pair: PairResult) -> dict[str, Any]:
    """The headline figures of one replication (all money in yuan)."""
    pol, base = pair.policy, pair.baseline
    scenario = pol.scenario
    retail_policy = float(pol.books.retail.sum())
    retail_base = float(base.books.retail.sum())
    uplift = retail_policy - retail_base
    outlay = float(sum(f.paid_yuan for f in pol.funds.values()))
    supported = float(sum(a.sum() for a in pol.books.supported_sales.values()))
    cofunding = float(sum(a.sum() for a in pol.books.merchant_cofunding.values()))
    by_level: dict[str, float] = {}
    for fund in pol.funds.values():
        for level, paid in fund.paid_by_level.items():
            by_level[level] = by_level.get(level, 0.0) + paid

    tools = {}
    alone_total = 0.0
    for name, tool in scenario.tools.items():
        fund = pol.funds[name]
        entry: dict[str, Any] = {
            "kind": tool.kind,
            "budget": tool.budget_yuan,
            "outlay": fund.paid_yuan,
            "outlay_by_level": dict(fund.paid_by_level),
            "merchant_cofunding": float(pol.books.merchant_cofunding.get(name, np.zeros(1)).sum()),
            "budget_exhausted_date": _budget_exhausted(pol, name),
            "supported_sales": float(pol.books.supported_sales.get(name, np.zeros(1)).sum()),
        }
        entry["gross_leverage"] = entry["supported_sales"] / fund.paid_yuan if fund.paid_yuan > 0 else None
        alone = pair.tool_alone.get(name, pol if len(scenario.tools) == 1 else None)
        if alone is not None:
            tool_uplift = float(alone.books.retail.sum()) - retail_base
            alone_total += tool_uplift
            alone_outlay = alone.funds[name].paid_yuan
            entry["uplift"] = tool_uplift
            entry["net_leverage"] = tool_uplift / alone_outlay if alone_outlay > 0 else None
            entry["outlay_when_alone"] = alone_outlay
        if name in pol.books.vouchers:
            c = pol.books.vouchers[name]
            entry["vouchers"] = {
                "issued": float(c.issued.sum()), "redeemed": float(c.redeemed.sum()),
                "expired": float(c.expired.sum()), "outstanding": float(c.outstanding[-1]),
                "redemption_rate": float(c.redeemed.sum() / c.issued.sum()) if c.issued.sum() > 0 else None,
            }
        pol.tool_effects[name].summary(entry)
        tools[name] = entry

    hh = pol.households
    n_hh_cells = hh.n_cells
    _, urban_of_cell, quintile_of_cell = hh.cell_parts(hh.n_districts)
    cell_uplift = (pol.books.retail.sum(axis=(0, 2, 3, 4)) - base.books.retail.sum(axis=(0, 2, 3, 4)))[:n_hh_cells]
    benefit = pol.books.household_benefit[:n_hh_cells]
    total_benefit = float(benefit.sum())

    def shares(values: np.ndarray) -> dict[str, float | None]:
        total = float(values.sum())
        out = {f"Q{q + 1}": (float(values[quintile_of_cell == q].sum()) / total if total else None) for q in range(N_QUINTILES)}
        out["rural"] = float(values[urban_of_cell == 0].sum()) / total if total else None
        out["urban"] = float(values[urban_of_cell == 1].sum()) / total if total else None
        return out

    targets = {}
    for name, target in scenario.targets.items():
        value_p = evaluate_target(target, pol)
        value_b = evaluate_target(target, base)
        targets[name] = {
            "indicator": target.indicator, "target": target.value,
            "policy": value_p, "baseline": value_b,
            "met": target_met(target, value_p), "met_without_policy": target_met(target, value_b),
            "description": target.description, "out_of_scope_reason": target.out_of_scope_reason,
        }

    non_retail_uplift = {k: float(pol.books.non_retail[:, i].sum() - base.books.non_retail[:, i].sum())
                         for i, k in enumerate(NON_RETAIL)}
    return {
        "retail_sales_baseline": retail_base,
        "retail_sales_policy": retail_policy,
        "retail_sales_uplift": uplift,
        "retail_sales_uplift_share": uplift / retail_base if retail_base else None,
        "government_outlay": outlay,
        "government_outlay_by_level": by_level,
        "merchant_cofunding": cofunding,
        "gross_leverage": supported / outlay if outlay > 0 else None,
        "net_leverage": uplift / outlay if outlay > 0 else None,
        "uplift_by_sector": {s: float(pol.books.retail[:, :, i].sum() - base.books.retail[:, :, i].sum())
                             for i, s in enumerate(SECTORS)},
        "non_retail_uplift": non_retail_uplift,
        "tools": tools,
        "tool_interaction_uplift": (uplift - alone_total) if len(scenario.tools) > 1 and pair.tool_alone else None,
        "household_benefit": total_benefit,
        "benefit_share": shares(benefit),
        "uplift_share_by_household_group": shares(cell_uplift),
        "night_merchants_open_per_night": {"policy": float(pol.books.night_merchants_open.mean()),
                                           "baseline": float(base.books.night_merchants_open.mean())},
        "cars_sold": {"policy": float(pol.books.cars_sold.sum()), "baseline": float(base.books.cars_sold.sum())},
        "targets": targets,
        "seconds": pair.seconds,
    }


# ------------------------------------------------------------------ across replications


def _collect(values: list[Any]) -> Any:
    """Combine one figure across replications: numbers → mean and 90% interval; dicts recursively."""
    first = values[0]
    if isinstance(first, dict):
        keys = list(first)
        return {k: _collect([v.get(k) for v in values]) for k in keys}
    if isinstance(first, bool) or first is None or isinstance(first, str):
        if all(isinstance(v, bool) for v in values):
            return {"probability": float(np.mean(values))}
        return first
    if isinstance(first, (int, float)):
        nums = np.array([np.nan if v is None else float(v) for v in values])
        return {"mean": float(np.nanmean(nums)), "p05": float(np.nanpercentile(nums, 5)),
                "p95": float(np.nanpercentile(nums, 95))}
    return first


def combine_replications(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One replication: its figures as they are; several: each figure as a mean and a 90% interval."""
    if len(summaries) == 1:
        return summaries[0]
    return _collect(summaries)


# ------------------------------------------------------------------ tidy daily series


def daily_frames(pair: PairResult, replication: int) -> dict[str, pd.DataFrame]:
    """Tidy daily series of one replication: retail by breakdown, outlay, vouchers, activity."""
    pol, base = pair.policy, pair.baseline
    hh = pol.households
    dates = pd.to_datetime(pd.Series(pol.dates))
    days = len(dates)
    district_of_cell, urban_of_cell, quintile_of_cell = hh.cell_parts(hh.n_districts)
    names = [d.name for d in pol.scenario.city.districts]
    extra = ["visitors", "institutions"]
    location = [f"{names[d]}/{'urban' if u else 'rural'}" for d, u in zip(district_of_cell, urban_of_cell)] + extra
    district = [names[d] for d in district_of_cell] + extra
    urban_rural = ["urban" if u else "rural" for u in urban_of_cell] + extra
    quintile = [f"Q{q + 1}" for q in quintile_of_cell] + extra

    def by_cells(arr: np.ndarray, labels: list[str]) -> tuple[list[str], np.ndarray]:
        cats = list(dict.fromkeys(labels))
        idx = np.array([cats.index(x) for x in labels])
        out = np.zeros((arr.shape[0], len(cats)))
        for j in range(len(cats)):
            out[:, j] = arr[:, idx == j].sum(axis=1)
        return cats, out

    pieces = []

    def add(dimension: str, cats: list[str], p: np.ndarray, b: np.ndarray) -> None:
        k = len(cats)
        pieces.append(pd.DataFrame({
            "date": np.repeat(dates.values, k), "replication": replication, "dimension": dimension,
            "category": np.tile(np.array(cats, dtype=object), days),
            "retail_sales_baseline": b.reshape(-1), "retail_sales_policy": p.reshape(-1),
        }))

    P, B = pol.books.retail, base.books.retail
    add("total", ["all"], P.sum(axis=(1, 2, 3, 4))[:, None], B.sum(axis=(1, 2, 3, 4))[:, None])
    add("sector", list(SECTORS), P.sum(axis=(1, 3, 4)), B.sum(axis=(1, 3, 4)))
    add("channel", list(CHANNELS), P.sum(axis=(1, 2, 4)), B.sum(axis=(1, 2, 4)))
    add("size_class", list(SIZE_CLASSES), P.sum(axis=(1, 2, 3)), B.sum(axis=(1, 2, 3)))
    pc, bc = P.sum(axis=(2, 3, 4)), B.sum(axis=(2, 3, 4))
    for dimension, labels in (("location", location), ("district", district), ("urban_rural", urban_rural),
                              ("income_quintile", quintile)):
        cats, pv = by_cells(pc, labels)
        _, bv = by_cells(bc, labels)
        add(dimension, cats, pv, bv)
    retail = pd.concat(pieces, ignore_index=True)
    retail["retail_sales_uplift"] = retail["retail_sales_policy"] - retail["retail_sales_baseline"]
    retail["dimension"] = retail["dimension"].astype("category")

    rows = []
    for name, fund in pol.funds.items():
        total = fund.paid_yuan
        for level, paid in fund.paid_by_level.items():
            share = paid / total if total > 0 else 0.0
            rows.append(pd.DataFrame({"date": dates.values, "replication": replication, "tool": name,
                                      "level": level, "outlay_yuan": fund.daily_outlay * share}))
    outlay = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["date", "replication", "tool", "level", "outlay_yuan"])

    vrows = []
    for name, c in pol.books.vouchers.items():
        vrows.append(pd.DataFrame({"date": dates.values, "replication": replication, "tool": name,
                                   "issued": c.issued, "redeemed": c.redeemed, "expired": c.expired,
                                   "outstanding": c.outstanding, "gross_spending_yuan": c.gross_spending_yuan,
                                   "induced_spending_yuan": c.induced_spending_yuan}))
    vouchers = pd.concat(vrows, ignore_index=True) if vrows else pd.DataFrame(
        columns=["date", "replication", "tool", "issued", "redeemed", "expired", "outstanding",
                 "gross_spending_yuan", "induced_spending_yuan"])

    activity = pd.DataFrame({
        "date": dates.values, "replication": replication,
        "night_merchants_open_policy": pol.books.night_merchants_open,
        "night_merchants_open_baseline": base.books.night_merchants_open,
        "cars_sold_policy": pol.books.cars_sold, "cars_sold_baseline": base.books.cars_sold,
        "appliances_sold_policy": pol.books.appliances_sold, "appliances_sold_baseline": base.books.appliances_sold,
        "lodging_policy": pol.books.non_retail[:, 0], "lodging_baseline": base.books.non_retail[:, 0],
        "tickets_policy": pol.books.non_retail[:, 1], "tickets_baseline": base.books.non_retail[:, 1],
        "merchant_cofunding_yuan": sum(pol.books.merchant_cofunding.values(), np.zeros(days)),
    })
    return {"daily_retail": retail, "daily_outlay": outlay, "daily_vouchers": vouchers, "daily_activity": activity}


# ------------------------------------------------------------------ the whole run


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

    def write(self, out_dir: str | Path) -> Path:
        """Write summary.json, the daily Parquet tables and manifest.json into ``out_dir``.

        The folder must not exist or be empty. Files are written to a temporary
        folder beside it and moved into place at the end, so a failure leaves nothing behind.

        Raises:
            FileExistsError: ``out_dir`` exists and is not empty.
        """
        out = Path(out_dir)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(f"{out}: output folder exists and is not empty; choose another --out")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
        try:
            for name, frame in self.frames.items():
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
            (tmp / "summary.json").write_text(json.dumps(self.summary, ensure_ascii=False, indent=2, default=_json_default),
                                              encoding="utf-8")
            (tmp / "replications.json").write_text(
                json.dumps(self.replications, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
            (tmp / "manifest.json").write_text(json.dumps(self.manifest, ensure_ascii=False, indent=2, default=_json_default),
                                               encoding="utf-8")
            if out.exists():
                out.rmdir()
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out


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
        "tool_breakdown": tool_breakdown,
        "versions": package_versions(),
        "git_commit": git_commit(),
    }


def run_scenario(scenario: Scenario, *, scale: float = 0.05, seed: int = 0, replications: int = 1,
                 tool_breakdown: bool = True, progress: bool = False, keep_models: bool = False) -> RunResult:
    """Run a scenario with its counterfactual, ``replications`` times.

    Args:
        scenario: a validated scenario.
        scale: share of households simulated (1 = all); outputs are weighted to city size.
        seed: root seed; replication r uses SeedSequence(seed, spawn_key=(r,)).
        replications: independent replications.
        tool_breakdown: also run each tool alone (when there are several) for per-tool uplift.
        progress: show a progress bar on standard error.
        keep_models: keep the model objects in ``RunResult.pairs`` (for tests and charts).
    """
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    streams = [RandomStreams.from_seed(seed, r) for r in range(replications)]
    total_days = scenario.days * runs_per_replication(scenario, tool_breakdown) * replications
    bar = None
    update = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total_days, unit="day", desc=f"{scenario.name} x{replications}", file=sys.stderr,
                   mininterval=0.5)
        update = bar.update
    summaries, frames, pairs = [], [], []
    households = None
    try:
        for r, st in enumerate(streams):
            pair = simulate_replication(scenario, scale, st, tool_breakdown=tool_breakdown, progress=update)
            households = pair.policy.households.n
            summaries.append(replication_summary(pair))
            frames.append(daily_frames(pair, r))
            if keep_models:
                pairs.append(pair)
    finally:
        if bar is not None:
            bar.close()
    combined = {name: pd.concat([f[name] for f in frames], ignore_index=True) for name in frames[0]}
    manifest = build_manifest(scenario, scale, seed, replications, streams, tool_breakdown)
    manifest["households_simulated"] = households
    summary = {"scenario": scenario.name, "title": scenario.title, "city": scenario.city.name,
               "start_date": scenario.start.isoformat(), "end_date": scenario.end.isoformat(),
               "scale": scale, "seed": seed, "replications": replications, "currency": "yuan",
               **combine_replications(summaries)}
    return RunResult(scenario, summary, summaries, combined, manifest, pairs)
