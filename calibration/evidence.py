"""The model beside the published evidence (``python run.py evidence`` or ``python -m calibration.evidence``).

One set of household behaviour parameters serves every city. They are
estimated jointly from the published figures in ``calibration/evidence.toml``
(``python run.py estimate``, ``calibration/estimate_behaviour.py``); the
committed estimate is what every run uses. This module runs the model in
settings like each published study (Hangzhou's and Shaoxing's threshold
coupons, Taiwan's universal vouchers, Seoul's restricted relief money, a cash
transfer, a car subsidy) and prints the model's figure and its 90% interval
beside the published one, with whether it lands where the study says and, when
it does not, the reason recorded for it (``why_missed``). Nothing here changes
a parameter: the comparison is reported as it comes out, misses included.

Each study is a scenario (dates and tools) in one national-average city, run
against its no-policy counterfactual with common random numbers. By default
each study runs at the estimation's scale for it, for 20 replications, and
replication r runs estimated parameter set r, so the 5-95% interval over
replications spans sampling noise and behavioural uncertainty. Every measure
is computed per replication; the measures are defined in ``MEASURES``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import csv
import datetime as dt
import io
import json
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from model.rng import RandomStreams
from model.simulation import PairResult, intervals_cover, simulate_replication
from model.scenario import Scenario, ScenarioError, scenario_from_dict
from model.sectors import SECTOR_INDEX, SECTORS

EVIDENCE_FILE = Path(__file__).resolve().parent / "evidence.toml"
#: Durable sectors; the rest of 社零 is non-durable (Parker et al. 2013 separate the two).
DURABLES = ("cars", "appliances")
NON_DURABLE_IDX = [SECTOR_INDEX[s] for s in SECTORS if s not in DURABLES]

#: What each measure is, in the model's terms.
MEASURES: dict[str, str] = {
    "extra_spending_per_yuan_redeemed": "extra 社零 (all sectors, policy minus no-policy) from the first release to the "
                                        "last voucher's expiry, per yuan the government paid on redeemed vouchers",
    "extra_out_of_pocket_per_yuan": "the same extra spending less the vouchers' value (what households paid "
                                    "themselves), per yuan paid",
    "platform_extra_spending_per_yuan_redeemed": "extra sales paid through the voucher platform (policy minus no-policy, "
                                                 "what a study of the platform's transactions sees: the extra 社零 "
                                                 "plus planned purchases moved onto the platform to use a voucher, "
                                                 "less extra spending paid through other channels), first release to "
                                                 "last expiry, per yuan paid on redeemed vouchers",
    "platform_extra_out_of_pocket_per_yuan": "the same extra platform sales less the vouchers' value, per yuan paid",
    "redemption_rate": "vouchers redeemed / vouchers issued",
    "post_programme_change_share": "extra 社零 in the post_days after the programme window, as a share of the extra "
                                   "社零 during it (negative: spending pulled forward from later)",
    "mpc_out_of_vouchers": "extra 社零 over the whole run per yuan of vouchers handed out",
    "share_spent_3_months_nondurables": "extra non-durable 社零 (all but cars and appliances) within window_days of "
                                        "the first hand-out, per yuan handed out",
    "share_spent_3_months_total": "extra 社零 in all sectors within window_days of the first hand-out, per yuan "
                                  "handed out",
    "car_extra_during_share": "extra cars sold during the programme / cars the no-policy run sold then",
    "car_reversal_share": "cars not bought in the post_days after the programme (no-policy minus policy), as a "
                          "share of the extra cars bought during it (1: fully reversed)",
}


class EvidenceError(ValueError):
    """An evidence file that cannot be used: names the file, the study and what is wrong."""


# ------------------------------------------------------------------ the file


def _plain(value: Any) -> Any:
    return value["value"] if isinstance(value, dict) and "value" in value else value


@dataclass(frozen=True)
class Published:
    """A published figure and the model measure it is compared with.

    Attributes:
        measure: a key of MEASURES.
        value: point estimate, or None.
        low, high: published range, or None.
        direction: 'negative' or 'positive' when only the sign is published.
        source: citation.
        why_missed: why the estimated model does not reach this figure, when it does not (shown beside it in the
            evidence table; written after examining the committed estimate, checked against its fit table).
    """

    measure: str
    value: float | None
    low: float | None
    high: float | None
    direction: str | None
    source: str
    why_missed: str | None = None

    def text(self) -> str:
        """The published figure as printed."""
        if self.low is not None and self.high is not None:
            return f"{self.low:g} to {self.high:g}"
        if self.value is not None:
            return f"{self.value:g}"
        return f"{self.direction} (sign only)"

    def verdict(self, model: float) -> str:
        """How the model's figure stands against the published one (no judgement of which is right)."""
        if model != model:
            return "model: not available"
        if self.low is not None and self.high is not None:
            if model < self.low:
                return "below the published range"
            if model > self.high:
                return "above the published range"
            return "within the published range"
        if self.value is not None:
            if self.value == 0:
                return f"model {model:+.2f} vs none published"
            return f"model is {model / self.value:.2f} x published"
        if self.direction == "negative":
            return "same sign" if model < 0 else "opposite sign (no dip)"
        if self.direction == "positive":
            return "same sign" if model > 0 else "opposite sign"
        return ""


@dataclass
class Study:
    """One published setting: its scenario, where to measure, and the published figures.

    Attributes:
        name: identifier (the table name).
        title: what it reproduces.
        citation: the study.
        raw: the scenario dict run (city, dates, tools).
        post_days: days after the programme window for the dip.
        window_days: days from the first hand-out for 'within three months'.
        published: figures to compare.
        also: further measures printed without a published figure.
    """

    name: str
    title: str
    citation: str
    raw: dict[str, Any]
    post_days: int
    window_days: int
    published: list[Published]
    also: list[str] = field(default_factory=list)


def read_evidence(path: Path = EVIDENCE_FILE) -> list[Study]:
    """Read the studies from the evidence file.

    Raises:
        EvidenceError: the file is missing, not TOML, or a study or published figure lacks what it needs.
    """
    origin = str(path)
    if not path.is_file():
        raise EvidenceError(f"{origin}: no such file")
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise EvidenceError(f"{origin}: not valid TOML: {exc}") from None
    city = data.get("city")
    studies = data.get("studies")
    if not isinstance(city, dict) or not isinstance(studies, dict) or not studies:
        raise EvidenceError(f"{origin}: needs a [city] table and [studies.NAME] tables")
    out = []
    for name, s in studies.items():
        where = f"{origin}: studies.{name}"
        for key in ("title", "citation", "start_date", "end_date", "tools", "published"):
            if key not in s:
                raise EvidenceError(f"{where}.{key}: missing")
        published = []
        for i, p in enumerate(s["published"]):
            pwhere = f"{where}.published[{i}]"
            if p.get("measure") not in MEASURES:
                raise EvidenceError(f"{pwhere}.measure: {p.get('measure')!r} is not one of {', '.join(MEASURES)}")
            if not str(p.get("source", "")).strip():
                raise EvidenceError(f"{pwhere}.source: missing; every published figure carries its citation")
            if p.get("value") is None and (p.get("low") is None or p.get("high") is None) and p.get("direction") is None:
                raise EvidenceError(f"{pwhere}: give value, low and high, or direction")
            why = p.get("why_missed")
            if why is not None and (not isinstance(why, str) or not why.strip()):
                raise EvidenceError(f"{pwhere}.why_missed: must be a sentence saying why the model misses the figure")
            published.append(Published(p["measure"], p.get("value"), p.get("low"), p.get("high"), p.get("direction"),
                                        str(p["source"]), why.strip() if why else None))
        also = [m for m in s.get("also", [])]
        for m in also:
            if m not in MEASURES:
                raise EvidenceError(f"{where}.also: {m!r} is not one of {', '.join(MEASURES)}")
        raw = {
            "scenario": {"name": f"evidence-{name}", "title": s["title"], "start_date": s["start_date"],
                         "end_date": s["end_date"]},
            "city": copy.deepcopy(city),
            "tools": copy.deepcopy(s["tools"]),
        }
        out.append(Study(name=name, title=s["title"], citation=s["citation"], raw=raw,
                         post_days=int(_plain(s.get("post_days", 120))), window_days=int(_plain(s.get("window_days", 91))),
                         published=published, also=also))
    return out


# ------------------------------------------------------------------ measures of one replication


def _day(scenario: Scenario, date: dt.date) -> int:
    return min(max((date - scenario.start).days, 0), scenario.days)


def voucher_window(scenario: Scenario) -> tuple[int, int]:
    """Day indices [first, last] from the first release to the last day a voucher could still be used."""
    tools = [t for t in scenario.tools.values() if t.household_vouchers]
    first = min(_day(scenario, t.start) for t in tools)
    last = max(_day(scenario, t.last_effect_date) for t in tools)
    return first, min(last, scenario.days - 1)


def measure_replication(study: Study, scenario: Scenario, pair: PairResult) -> dict[str, float]:
    """Every measure that applies to this study's tools, from one policy/no-policy pair."""
    pol, base = pair.policy, pair.baseline
    uplift_by_day_sector = pol.books.retail.sum(axis=(1, 3, 4)) - base.books.retail.sum(axis=(1, 3, 4))
    uplift = uplift_by_day_sector.sum(axis=1)
    out: dict[str, float] = {}
    nan = float("nan")
    vouchers = {n: t for n, t in scenario.tools.items() if t.household_vouchers}
    if vouchers:
        first, last = voucher_window(scenario)
        paid = sum(pol.funds[n].paid_yuan for n in vouchers)
        handed_out = sum(float(pol.books.vouchers[n].issued.sum()) * t.face_value_yuan
                         for n, t in vouchers.items() if n in pol.books.vouchers)
        issued = sum(float(pol.books.vouchers[n].issued.sum()) for n in vouchers if n in pol.books.vouchers)
        redeemed = sum(float(pol.books.vouchers[n].redeemed.sum()) for n in vouchers if n in pol.books.vouchers)
        during = float(uplift[first: last + 1].sum())
        after = float(uplift[last + 1: last + 1 + study.post_days].sum())
        window_end = first + study.window_days
        out["extra_spending_per_yuan_redeemed"] = during / paid if paid > 0 else nan
        out["extra_out_of_pocket_per_yuan"] = (during - paid) / paid if paid > 0 else nan
        platform = float(pol.books.platform_sales[first: last + 1].sum() - base.books.platform_sales[first: last + 1].sum())
        out["platform_extra_spending_per_yuan_redeemed"] = platform / paid if paid > 0 else nan
        out["platform_extra_out_of_pocket_per_yuan"] = (platform - paid) / paid if paid > 0 else nan
        out["redemption_rate"] = redeemed / issued if issued > 0 else nan
        out["post_programme_change_share"] = after / during if during != 0 and last + 1 < len(uplift) else nan
        out["mpc_out_of_vouchers"] = float(uplift.sum()) / handed_out if handed_out > 0 else nan
        out["share_spent_3_months_nondurables"] = (
            float(uplift_by_day_sector[first:window_end][:, NON_DURABLE_IDX].sum()) / handed_out if handed_out > 0 else nan)
        out["share_spent_3_months_total"] = float(uplift[first:window_end].sum()) / handed_out if handed_out > 0 else nan
    cars = [t for t in scenario.tools.values() if "cars" in t.subsidised_durables]
    if cars:
        a = min(_day(scenario, t.start) for t in cars)
        b = max(_day(scenario, t.end) for t in cars) + 1
        extra_cars = pol.books.cars_sold - base.books.cars_sold
        during = float(extra_cars[a:b].sum())
        after = float(extra_cars[b: b + study.post_days].sum())
        base_during = float(base.books.cars_sold[a:b].sum())
        out["car_extra_during_share"] = during / base_during if base_during > 0 else nan
        out["car_reversal_share"] = -after / during if during > 0 else nan
    return out


# ------------------------------------------------------------------ running the studies


@dataclass
class StudyResult:
    """A study's measures over replications.

    Attributes:
        study: the study.
        measures: measure -> one value per replication.
    """

    study: Study
    measures: dict[str, list[float]]

    def mean(self, measure: str) -> float:
        values = [v for v in self.measures.get(measure, []) if v == v]
        return float(np.mean(values)) if values else float("nan")

    def span(self, measure: str) -> tuple[float, float]:
        values = [v for v in self.measures.get(measure, []) if v == v]
        return (float(min(values)), float(max(values))) if values else (float("nan"), float("nan"))

    def interval(self, measure: str) -> tuple[float, float]:
        """5th to 95th percentile over replications (linear interpolation between them)."""
        values = [v for v in self.measures.get(measure, []) if v == v]
        if not values:
            return float("nan"), float("nan")
        lo, hi = np.percentile(values, [5, 95])
        return float(lo), float(hi)


def _scenario(study: Study, behaviour: dict[str, Any] | None, behaviour_choice: str) -> Scenario:
    raw = study.raw if not behaviour else {**study.raw, "behaviour": copy.deepcopy(behaviour)}
    scenario = scenario_from_dict(raw, f"{EVIDENCE_FILE.name} [studies.{study.name}]")
    # The estimation sets every estimated parameter itself; otherwise replications follow the chosen behaviour.
    return dataclasses.replace(scenario, behaviour_choice="documented" if behaviour else behaviour_choice)


def _replication(study: Study, scale: float, seed: int, r: int, behaviour: dict[str, Any] | None,
                 behaviour_choice: str) -> tuple[dict[str, float], float]:
    """One replication's measures and its seconds (module level, so a process pool can run it)."""
    scenario = _scenario(study, behaviour, behaviour_choice)
    # Each study and parameter set is run once per process: keeping its counterfactual would only fill the cache.
    pair = simulate_replication(scenario, scale, RandomStreams.from_seed(seed, r), tool_breakdown=False,
                                keep_counterfactual=False)
    return measure_replication(study, scenario, pair), pair.seconds


def run_study(study: Study, *, scale: float, seed: int, replications: int,
              progress: Callable[[str], None] | None = None, behaviour: dict[str, Any] | None = None,
              behaviour_choice: str = "ensemble") -> StudyResult:
    """Run one study's scenario against its counterfactual, ``replications`` times.

    ``behaviour`` overrides behaviour parameters as a scenario's [behaviour] table
    does (``{name: value}`` or ``{name: {key: value}}``); the estimation uses it.
    """
    _scenario(study, behaviour, behaviour_choice)  # a bad study fails before anything runs
    measures: dict[str, list[float]] = {}
    for r in range(replications):
        values, seconds = _replication(study, scale, seed, r, behaviour, behaviour_choice)
        for key, value in values.items():
            measures.setdefault(key, []).append(value)
        if progress is not None:
            progress(f"  {study.name}: replication {r + 1} of {replications} ({seconds:.1f} s)")
    return StudyResult(study, measures)


def study_scales(studies: list[Study], scale: float | None) -> dict[str, float]:
    """Each study's scale: ``scale`` for all, or (None) the estimation's own (estimation.toml [method])."""
    if scale is not None:
        return {s.name: scale for s in studies}
    from calibration.estimate_behaviour import CONFIG_FILE, read_config

    config = read_config(CONFIG_FILE)
    return {s.name: config.scale_by_study.get(s.name, config.scale) for s in studies}


def run_evidence(studies: list[Study], *, scale: float | None = 0.2, seed: int = 0, replications: int = 3,
                 progress: Callable[[str], None] | None = None, behaviour_choice: str = "ensemble",
                 workers: int = 1) -> list[StudyResult]:
    """Run every study; replication r runs with the behaviour ``behaviour_choice`` gives it.

    ``scale`` None runs each study at the estimation's scale for it. ``workers`` processes run replications in
    parallel; the results do not depend on it (each replication has its own seed and behaviour set).
    """
    scales = study_scales(studies, scale)
    for s in studies:
        _scenario(s, None, behaviour_choice)
    tasks = [(s, r) for s in studies for r in range(replications)]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(_replication, s, scales[s.name], seed, r, None, behaviour_choice) for s, r in tasks]
            done = []
            for (s, r), f in zip(tasks, futures):
                done.append(f.result())
                if progress is not None:
                    progress(f"  {s.name}: replication {r + 1} of {replications} ({done[-1][1]:.1f} s)")
    else:
        done = []
        for s, r in tasks:
            done.append(_replication(s, scales[s.name], seed, r, None, behaviour_choice))
            if progress is not None:
                progress(f"  {s.name}: replication {r + 1} of {replications} ({done[-1][1]:.1f} s)")
    results = {s.name: StudyResult(s, {}) for s in studies}
    for (s, _), (values, _) in zip(tasks, done):
        for key, value in values.items():
            results[s.name].measures.setdefault(key, []).append(value)
    return [results[s.name] for s in studies]


def comparison_rows(results: list[StudyResult]) -> list[dict[str, Any]]:
    """One row per published figure (and per extra measure): the model's figure and 90% interval beside the
    published one, whether it lands where the study says (``status``) and, when it does not, why (``reason``)."""
    from calibration.estimate_behaviour import CONFIG_FILE, figure_moment, judge, read_config

    config = read_config(CONFIG_FILE)
    rows = []
    for res in results:
        entries = [(p.measure, p) for p in res.study.published] + [(m, None) for m in res.study.also]
        for measure, pub in entries:
            lo, hi = res.span(measure)
            p05, p95 = res.interval(measure)
            model = res.mean(measure)
            if pub is None:
                status, comparison, reason = "model only", "", ""
            else:
                reached, comparison = judge(pub, figure_moment(res.study, pub, config), model)
                status = {True: "in range", False: "OUT OF RANGE", None: "not available"}[reached]
                if reached and pub.low is None and pub.value is not None:
                    status = "within 2 sd"  # of a published point, as [uncertainty] states its sd
                if pub.direction is not None and reached is not None:
                    status = "same sign" if reached else "OPPOSITE SIGN"
                reason = "" if reached else (pub.why_missed or "no reason recorded: examine it and record why_missed "
                                                                "in calibration/evidence.toml")
            rows.append({
                "study": res.study.name, "measure": measure, "model_mean": model, "model_p05": p05, "model_p95": p95,
                "model_min": lo, "model_max": hi, "replications": len(res.measures.get(measure, [])),
                "published": pub.text() if pub else "", "status": status, "comparison": comparison,
                "reason": reason, "source": pub.source if pub else "model only", "definition": MEASURES[measure],
            })
    return rows


#: Statuses of a published figure the model reaches.
REACHED = ("in range", "within 2 sd", "same sign")


def closing_note(rows: list[dict[str, Any]]) -> list[str]:
    """How many published figures the model reaches, and every one it misses with the reason."""
    judged = [r for r in rows if r["published"]]
    missed = [r for r in judged if r["status"] not in REACHED]
    lines = [f"{len(judged) - len(missed)} of {len(judged)} published figures reached (a range: the model's mean "
             f"inside it; a point: within 2 standard deviations as calibration/estimation.toml [uncertainty] states "
             f"them; a sign: the same sign)."]
    for r in missed:
        lines.append(f"{r['status']}: {r['study']} {r['measure']}: model {r['model_mean']:.3f} "
                     f"({r['model_p05']:.3f} to {r['model_p95']:.3f}), published {r['published']}. Why: {r['reason']}")
    return lines


def format_comparison(results: list[StudyResult], rows: list[dict[str, Any]], behaviour_note: str = "",
                      covers: str = "sampling noise only") -> str:
    """The comparison as text for the terminal."""
    lines = [f"The model beside the published evidence. Behaviour: {behaviour_note}. The model's interval is the "
             f"5-95% range over replications and covers {covers}."]
    for res in results:
        s = res.study
        lines.append("")
        lines.append(f"{s.title}")
        lines.append(f"  study: {s.citation}")
        lines.append(f"  {'measure':<41} {'model':>7} {'90% interval':>17}   {'published':<12} {'status':<14} comparison")
        for row in (r for r in rows if r["study"] == s.name):
            interval = f"{row['model_p05']:.2f} to {row['model_p95']:.2f}"
            lines.append(f"  {row['measure']:<41} {row['model_mean']:>7.3f} {interval:>17}   {row['published']:<12} "
                         f"{row['status']:<14} {row['comparison']}")
            if row["reason"]:
                lines.append(f"      why: {row['reason']}")
            if row["source"] != "model only":
                lines.append(f"      published: {row['source']}")
    lines.append("")
    lines += closing_note(rows)
    lines.append("")
    lines.append("Measures:")
    used = dict.fromkeys(r["measure"] for r in rows)
    for m in used:
        lines.append(f"  {m}: {MEASURES[m]}")
    return "\n".join(lines)


def rows_csv(rows: list[dict[str, Any]]) -> str:
    """The comparison rows as CSV text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


# ------------------------------------------------------------------ command line


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by `run.py evidence` and `python -m calibration.evidence`."""
    p.add_argument("--study", action="append", help="run only this study (repeatable); default all")
    from model.commands import positive_fraction, positive_int, seed_arg

    p.add_argument("--replications", type=positive_int, default=20,
                   help="replications per study (default 20); replication r runs ensemble set r, so the 5-95%% "
                        "interval over them spans sampling noise and behavioural uncertainty")
    p.add_argument("--scale", type=positive_fraction, default=None,
                   help="share of the city's households simulated, for every study (default: each study at the "
                        "estimation's scale for it, calibration/estimation.toml [method])")
    p.add_argument("--workers", type=positive_int, default=1,
                   help="processes running replications in parallel (default 1; the result does not depend on it)")
    p.add_argument("--seed", type=seed_arg, default=0, help="root seed, 0 to 2**63-1 (default 0)")
    p.add_argument("--out", help="also write the comparison as CSV to this file (must not exist)")
    p.add_argument("--json", help="also write the comparison and what its ranges cover as JSON to this file (must not exist)")
    p.add_argument("--behaviour", choices=("ensemble", "point", "documented"), default="ensemble",
                   help="ensemble (default): replication r runs estimated parameter set r; point: the point estimate; "
                        "documented: behaviour.toml values (all three are the documented values when no estimate "
                        "is committed)")
    p.add_argument("--evidence-file", default=str(EVIDENCE_FILE), help="studies file (default calibration/evidence.toml)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def main_with_args(args: argparse.Namespace) -> int:
    """Run the comparison; raise EvidenceError for a bad request."""
    from calibration.fit import atomic_write

    if args.replications < 1:
        raise EvidenceError(f"--replications must be at least 1, got {args.replications}")
    if args.scale is not None and not 0 < args.scale <= 1:
        raise EvidenceError(f"--scale must be in (0, 1], got {args.scale}")
    studies = read_evidence(Path(args.evidence_file))
    if args.study:
        known = {s.name for s in studies}
        unknown = [n for n in args.study if n not in known]
        if unknown:
            raise EvidenceError(f"unknown study {unknown[0]!r}; studies: {', '.join(s.name for s in studies)}")
        studies = [s for s in studies if s.name in args.study]
    out = Path(args.out) if args.out else None
    if out is not None:
        from model.output_folder import OutputFolderError, check_output_file

        try:
            check_output_file(out)
        except OutputFolderError as exc:
            raise EvidenceError(str(exc)) from None
    json_out = Path(args.json) if args.json else None
    if json_out is not None:
        from model.output_folder import OutputFolderError, check_output_file

        try:
            check_output_file(json_out, option="--json")
        except OutputFolderError as exc:
            raise EvidenceError(str(exc)) from None

    def progress(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    results = run_evidence(studies, scale=args.scale, seed=args.seed, replications=args.replications, progress=progress,
                           behaviour_choice=args.behaviour, workers=getattr(args, "workers", 1))
    rows = comparison_rows(results)
    labels = _replication_labels(args.behaviour, args.replications)
    covers = intervals_cover(labels)
    note = labels[0] if len(set(labels)) == 1 else f"estimated ensemble, {len(set(labels))} sets"
    print(format_comparison(results, rows, note, covers))
    if out is not None:
        atomic_write(out, rows_csv(rows))
        print(f"\nwritten to {out}")
    if json_out is not None:
        atomic_write(json_out, json.dumps({"behaviour": args.behaviour, "replication_behaviour": labels,
                                           "ranges_cover": covers, "interval": "5-95% over replications",
                                           "scale": study_scales(studies, args.scale), "seed": args.seed,
                                           "replications": args.replications, "rows": rows,
                                           "closing_note": closing_note(rows)},
                                          indent=2, ensure_ascii=False, default=_json_number) + "\n")
        print(f"\nwritten to {json_out}")
    return 0


def _json_number(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _replication_labels(choice: str, replications: int) -> list[str]:
    """Which behaviour each replication of a study runs with (the same for every study)."""
    from model.parameters import BehaviourParameters
    from model.parameters.ensemble import behaviour_for_replication

    return [behaviour_for_replication(BehaviourParameters.default(), r, choice)[1] for r in range(replications)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calibration.evidence", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return main_with_args(args)
    except (EvidenceError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
