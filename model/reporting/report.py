"""Writing a comparison: table files, charts, the runs behind them, and a report for a budget proposal.

``write_comparison`` writes the comparison table (CSV in yuan, Markdown in 万元
with a note defining each column), every chart (PNG, SVG, PDF, and the plotted
data as CSV) and, when given the designs, each design's run (summary,
per-replication figures, daily series, manifest) under ``runs/<design>/``, so
every number can be traced to a file, and a README.md data dictionary.
``write_report`` adds the report (``model.reporting.proposal``) as a
self-contained HTML page and an A4 PDF typeset by Typst
(``model.reporting.document``), and sources.csv.

Both write into a temporary folder beside the target and move it into place at
the end, and refuse a folder that exists and is not empty or cannot be written,
so nothing already written is lost or half-overwritten. When the report itself
fails, the runs, table and charts already computed are still moved into place.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from model.commands import CommandError
from model.output_folder import OutputFolder, claim_output_folder
from model.reporting.charts import chart_data_frame
from model.reporting.compare import (COST_STEP_PP, Design, budget_exhaustion, run_details, table_markdown)
from model.data_dictionary import comparison_readme
from model.scenario import variant_overrides

FORMATS = ("png", "svg", "pdf")
PNG_DPI = 150

#: Which per-replication summary figures each column is computed from.
COLUMN_SOURCES = {
    "budget_total": "scenario: tools.*.budget_yuan",
    "outlay_*": "government_outlay_by_level.<level>",
    "outlay_total": "government_outlay",
    "merchant_cofunding": "merchant_cofunding",
    "extra_retail_sales": "retail_sales_uplift",
    "extra_growth_pp": "retail_sales_uplift, retail_sales_baseline",
    "net_leverage": "net_leverage",
    "gross_leverage": "gross_leverage",
    "target": "scenario: [targets]",
    "target_probability": "targets.<target>.met",
    "target_probability_without_policy": "targets.<target>.met_without_policy",
    "target_contribution_pp": "targets.<target>.contribution_pp",
    "cost_per_0.1pp": f"government_outlay, retail_sales_uplift, retail_sales_baseline (step {COST_STEP_PP} pp)",
    "benefit_poorest_40pct": "benefit_share.Q1 + benefit_share.Q2",
    "benefit_rural": "benefit_share.rural",
    "paid_back_share": "daily_retail.parquet: retail_sales_uplift_yuan of dimension total less sectors cars and "
                       "appliances, cumulated",
    "budget_runs_out": "tools.<tool>.budget_exhausted_date",
    "design": "scenario file and variant",
}


# ------------------------------------------------------------------ folders


# Working folders claimed by prepare_folder, until finish_folder or discard_folder.
_CLAIMED: dict[Path, OutputFolder] = {}


def prepare_folder(out: Path) -> Path:
    """Claim the output folder (checked and locked, ``model/output_folder.py``); return its working folder.

    Raises:
        OutputFolderError: the folder exists and is not empty, another run is writing it, or it cannot be written.
    """
    folder = claim_output_folder(out)
    _CLAIMED[folder.work] = folder
    return folder.work


def finish_folder(tmp: Path, out: Path) -> Path:
    """Move a completed working folder into place in one step (refused cleanly if ``out`` was filled meanwhile)."""
    return _CLAIMED.pop(tmp).commit()


def discard_folder(tmp: Path) -> None:
    """Remove a working folder after a failure."""
    folder = _CLAIMED.pop(tmp, None)
    if folder is not None:
        folder.release()


def save_charts(charts: dict[str, plt.Figure], folder: Path, formats=FORMATS) -> list[Path]:
    """Each chart in each format, and the data it draws as ``<name>.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in charts.items():
        for fmt in formats:
            path = folder / f"{name}.{fmt}"
            fig.savefig(path, dpi=PNG_DPI)
            written.append(path)
        if hasattr(fig, "chart_data"):
            chart_data_frame(fig).to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")
            written.append(folder / f"{name}.csv")
    return written


def _folder_name(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label)


def _write_files(tmp: Path, table: pd.DataFrame, charts: dict[str, plt.Figure], designs: list[Design] | None,
                 lang: str, formats=FORMATS, report: bool = False) -> None:
    # utf-8-sig: Excel, where planners open CSV files, needs the BOM to read Chinese.
    table.to_csv(tmp / "comparison.csv", index=False, encoding="utf-8-sig")
    details = run_details(designs, lang) if designs else None
    (tmp / "comparison.md").write_text(table_markdown(table, lang, details), encoding="utf-8")
    if charts:
        save_charts(charts, tmp / "charts", formats)
    if designs:
        budget_table(designs).to_csv(tmp / "budgets.csv", index=False, encoding="utf-8-sig")
        save_runs(tmp / "runs", designs)
    (tmp / "README.md").write_text(comparison_readme(designs or [], sorted(charts), report), encoding="utf-8")


def save_runs(folder: Path, designs: list[Design]) -> None:
    """Each design's run in ``folder/<design>/`` (summary, per-replication figures, daily series, manifest)."""
    folder.mkdir(parents=True, exist_ok=True)
    for d in designs:
        d.result.write(folder / _folder_name(d.label))


def keep_runs(out: Path, designs: list[Design]) -> Path:
    """Save the designs' runs in ``out/runs/`` when what was to be written from them failed (atomic)."""
    tmp = prepare_folder(Path(out))
    try:
        save_runs(tmp / "runs", designs)
        (tmp / "README.md").write_text(comparison_readme(designs, [], False), encoding="utf-8")
        return finish_folder(tmp, Path(out))
    except BaseException:
        discard_folder(tmp)
        raise


def write_comparison(out: Path, table: pd.DataFrame, charts: dict[str, plt.Figure],
                     designs: list[Design] | None = None, lang: str = "en", formats=FORMATS) -> Path:
    """comparison.csv, comparison.md, charts/ and (given the designs) budgets.csv and runs/ in ``out`` (atomic)."""
    tmp = prepare_folder(Path(out))
    try:
        _write_files(tmp, table, charts, designs, lang, formats)
        return finish_folder(tmp, Path(out))
    except BaseException:
        discard_folder(tmp)
        raise


# ------------------------------------------------------------------ contents


def budget_table(designs: list[Design]) -> pd.DataFrame:
    """One row per design and tool: budget, mean outlay, and when its pool ran out (dates blank when it lasted)."""
    return pd.DataFrame(_budget_records(designs))


def _budget_records(designs: list[Design]) -> list[dict]:
    rows = []
    for d in designs:
        reps = d.result.replications
        for tool, e in budget_exhaustion(d).items():
            t = d.scenario.tools[tool]
            rows.append({"design": d.label, "tool": tool, "kind": t.kind, "start_date": t.start.isoformat(),
                         "end_date": t.end.isoformat(), "budget_yuan": t.budget_yuan,
                         "outlay_yuan": sum(r["tools"][tool]["outlay"] for r in reps) / len(reps),
                         "replications_ran_out": e["ran_out"], "replications": e["replications"],
                         "ran_out_earliest": e["earliest"], "ran_out_median": e["median"],
                         "ran_out_latest": e["latest"]})
    return rows


def assumptions_and_sources(designs: list[Design]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(assumptions, sources): rows of (designs, field, text) from every design's provenance and the behaviour
    parameters; a row shared by every design is listed once, for 'all designs'."""
    labels = [d.label for d in designs]
    by_entry: dict[tuple[str, str], list[str]] = {}
    for d in designs:
        for field, text in sorted(d.scenario.provenance.items()):
            by_entry.setdefault((field, text), []).append(d.label)
    behaviour: dict[tuple[str, str], list[str]] = {}
    for d in designs:
        values = d.scenario.behaviour.as_dict()
        for name, text in sorted(d.scenario.behaviour.sources.items()):
            behaviour.setdefault((f"behaviour.{name} = {values.get(name)}", text), []).append(d.label)
    assumptions, sources = [], []
    for entries, every in ((by_entry, "all designs"), (behaviour, "behaviour, all designs")):
        for (field, text), who in entries.items():
            who_text = every if who == labels else ", ".join(who)
            is_assumption = text.startswith(("assumption", "national default: assumption"))
            (assumptions if is_assumption else sources).append((who_text, field, text))
    return assumptions, sources


def variant_changes(design: Design) -> list[tuple[str, str]]:
    """What a variant changes: (field path, value and its source or assumption)."""
    if not design.variant:
        return []
    changes = variant_overrides(design.scenario.raw.get("variants", {}).get(design.variant, {}))
    out = []
    for path, value in changes.items():
        if isinstance(value, dict) and "value" in value:
            note = value.get("source") or value.get("assumption") or ""
            out.append((path, f"{value['value']}" + (f" ({note})" if note else "")))
        else:
            out.append((path, str(value)))
    return out




def sources_table(designs: list[Design]) -> pd.DataFrame:
    """Every input number's source or assumption (design, field, kind, text), as sources.csv holds them."""
    assumptions, sources = assumptions_and_sources(designs)
    rows = [{"designs": a, "field": b, "kind": "assumption", "text": c} for a, b, c in assumptions]
    rows += [{"designs": a, "field": b, "kind": "source", "text": c} for a, b, c in sources]
    return pd.DataFrame(rows, columns=["designs", "field", "kind", "text"])


class ReportError(CommandError):
    """The report could not be written; the runs, table and charts were kept."""


def write_report(out: Path, designs: list[Design], table: pd.DataFrame, charts: dict[str, plt.Figure],
                 lang: str, target: str | None = None) -> Path:
    """report.html, report.pdf (with its Typst source report.typ), sources.csv, the table files, charts and runs
    in ``out``.

    The runs, table and charts are written first; if the report then fails, they are moved into place
    without it and ``ReportError`` says so, so computed runs are never lost.
    """
    out = Path(out)
    tmp = prepare_folder(out)
    try:
        _write_files(tmp, table, charts, designs, lang, FORMATS, report=True)
        sources_table(designs).to_csv(tmp / "sources.csv", index=False, encoding="utf-8-sig")
    except BaseException:
        discard_folder(tmp)
        raise
    try:
        report_files(tmp, designs, charts, lang, target)
    except Exception as exc:
        for name in ("report.html", "report.pdf", "report.typ"):
            (tmp / name).unlink(missing_ok=True)
        finish_folder(tmp, out)
        raise ReportError(f"the report could not be written ({type(exc).__name__}: {exc}); the runs, table and "
                          f"charts are saved in {out}") from exc
    return finish_folder(tmp, out)


def report_files(folder: Path, designs: list[Design], charts: dict[str, plt.Figure], lang: str,
                 target: str | None) -> None:
    """Write report.html and report.pdf into a folder that already holds charts/<name>.svg."""
    from model.reporting.document import to_html, typeset_pdf
    from model.reporting.fonts import cjk_font_file
    from model.reporting.proposal import build_document

    assumptions, sources = assumptions_and_sources(designs)
    pngs = {name: _png_bytes(fig) for name, fig in charts.items()}
    doc = build_document(designs, charts, pngs, target, lang, assumptions, sources)
    (folder / "report.html").write_text(to_html(doc), encoding="utf-8")
    font = cjk_font_file()
    font_dirs = [str(font.parent)] if font else []
    typeset_pdf(doc, folder, "report", "WenQuanYi Micro Hei" if font and "wqy" in font.name else
                "Noto Sans CJK SC", font_dirs)


def _png_bytes(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()
