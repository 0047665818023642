"""Writing a comparison: table files, charts, and a report for a budget proposal.

``write_comparison`` writes the comparison table (CSV and Markdown) and every
chart (PNG, SVG, PDF) into a folder; ``write_report`` adds a self-contained
HTML page (charts embedded) and a PDF with the table, the charts, the
assumptions and the source of every number. Both write into a temporary folder
and move it into place at the end, and refuse a folder that exists and is not
empty, so nothing already written is lost or half-overwritten.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import os
import shutil
import tempfile
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from model import __version__
from model.commands import CommandError
from model.reporting.compare import COLUMN_NOTES, Design, table_markdown

FORMATS = ("png", "svg", "pdf")


def prepare_folder(out: Path) -> Path:
    """Check the output folder can be written and make a temporary sibling; return the temporary folder.

    Raises:
        CommandError: the folder exists and is not empty, or its parent cannot be written.
    """
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CommandError(f"{out}: output folder exists and is not empty; choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as exc:
        raise CommandError(f"{out}: cannot write there ({exc.strerror or exc})") from None


def finish_folder(tmp: Path, out: Path) -> Path:
    """Move a completed temporary folder into place."""
    if out.exists():
        out.rmdir()
    os.replace(tmp, out)
    return out


def save_charts(charts: dict[str, plt.Figure], folder: Path, formats=FORMATS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in charts.items():
        for fmt in formats:
            path = folder / f"{name}.{fmt}"
            fig.savefig(path, dpi=150)
            written.append(path)
    return written


def write_comparison(out: Path, table: pd.DataFrame, charts: dict[str, plt.Figure]) -> Path:
    """comparison.csv, comparison.md and charts/ in ``out`` (atomic)."""
    tmp = prepare_folder(out)
    try:
        table.to_csv(tmp / "comparison.csv", index=False)
        (tmp / "comparison.md").write_text(table_markdown(table), encoding="utf-8")
        save_charts(charts, tmp / "charts")
        return finish_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def assumptions_and_sources(designs: list[Design]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(assumptions, sources): rows of (design, field, text) from every design's provenance and behaviour."""
    assumptions, sources = [], []
    seen = set()
    for d in designs:
        for field, text in sorted(d.scenario.provenance.items()):
            row = (d.label, field, text)
            (assumptions if text.startswith("assumption") else sources).append(row)
        for name, text in sorted(d.scenario.behaviour.sources.items()):
            key = ("behaviour", name, text)
            if key in seen:
                continue
            seen.add(key)
            (assumptions if text.startswith("assumption") else sources).append(("behaviour (all designs)", name, text))
    return assumptions, sources


def _png_data_uri(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def report_html(designs: list[Design], table: pd.DataFrame, charts: dict[str, plt.Figure], lang: str) -> str:
    """A self-contained HTML page: table, notes, charts (embedded), assumptions and sources."""
    zh = lang == "zh"
    city = designs[0].scenario.city.name
    title = f"{city} 促消费政策方案比较" if zh else f"{city}: comparison of consumption-policy designs"
    assumptions, sources = assumptions_and_sources(designs)
    reps = designs[0].result.summary["replications"]
    scale = designs[0].result.summary["scale"]
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #bbb;padding:3px 6px}"
        "th{background:#eee}img{max-width:100%}h2{border-bottom:1px solid #ccc}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{'生成日期' if zh else 'Generated'} {dt.date.today().isoformat()} · "
        f"{'模型版本' if zh else 'model version'} {__version__} · {'重复模拟' if zh else 'replications'} {reps} · "
        f"{'抽样比例' if zh else 'scale'} {scale}</p>",
        f"<h2>{'方案' if zh else 'Designs'}</h2><ul>",
    ]
    for d in designs:
        parts.append(f"<li><b>{html.escape(d.label)}</b>: {html.escape(d.scenario.title)} "
                     f"({html.escape(d.scenario.origin)})</li>")
    parts.append("</ul>")
    parts.append(f"<h2>{'比较表' if zh else 'Comparison'}</h2>")
    parts.append(table.to_html(index=False, float_format=lambda v: f"{v:,.4g}", na_rep=""))
    parts.append("<ul>" + "".join(f"<li><code>{html.escape(k)}</code>: {html.escape(v)}</li>"
                                  for k, v in COLUMN_NOTES.items()) + "</ul>")
    parts.append(f"<h2>{'图表' if zh else 'Charts'}</h2>")
    for name, fig in charts.items():
        parts.append(f"<figure><img alt='{html.escape(name)}' src='{_png_data_uri(fig)}'></figure>")
    parts.append(f"<h2>{'假设' if zh else 'Assumptions'}</h2><table><tr><th>design</th><th>field</th><th>assumption</th></tr>")
    parts.extend(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
                 for a, b, c in assumptions)
    parts.append(f"</table><h2>{'数据来源' if zh else 'Sources'}</h2><table><tr><th>design</th><th>field</th><th>source</th></tr>")
    parts.extend(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
                 for a, b, c in sources)
    parts.append("</table></body></html>")
    return "\n".join(parts)


def _text_pages(pdf: PdfPages, heading: str, rows: list[tuple[str, str, str]], per_page: int = 55) -> None:
    lines = []
    for a, b, c in rows:
        wrapped = textwrap.wrap(f"[{a}] {b}: {c}", 130) or [""]
        lines.extend([wrapped[0]] + ["    " + w for w in wrapped[1:]])
    for start in range(0, max(len(lines), 1), per_page):
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.05, 0.97, heading, fontsize=12, va="top")
        fig.text(0.05, 0.94, "\n".join(lines[start:start + per_page]), fontsize=6.5, va="top", family="sans-serif")
        pdf.savefig(fig)
        plt.close(fig)


def report_pdf(path: Path, designs: list[Design], table: pd.DataFrame, charts: dict[str, plt.Figure], lang: str) -> None:
    """A PDF: title and table, every chart, assumptions, sources."""
    zh = lang == "zh"
    assumptions, sources = assumptions_and_sources(designs)
    with PdfPages(path) as pdf:
        fig = plt.figure(figsize=(11.69, 8.27))
        city = designs[0].scenario.city.name
        fig.text(0.03, 0.95, f"{city} {'促消费政策方案比较' if zh else 'comparison of policy designs'}", fontsize=16)
        cols = [c for c in ("design", "outlay_total", "extra_retail_sales", "extra_retail_sales_p05",
                            "extra_retail_sales_p95", "net_leverage", "gross_leverage", "target_probability",
                            "cost_per_0.1pp", "benefit_poorest_40pct", "benefit_rural", "paid_back_share") if c in table]
        cells = [[(f"{v:,.3g}" if isinstance(v, float) else str(v)) for v in row] for row in table[cols].itertuples(index=False)]
        ax = fig.add_axes((0.03, 0.35, 0.94, 0.5))
        ax.axis("off")
        tab = ax.table(cellText=cells, colLabels=cols, loc="upper left")
        tab.auto_set_font_size(False)
        tab.set_fontsize(7)
        fig.text(0.03, 0.05, "\n".join(textwrap.wrap(" · ".join(f"{k}: {v}" for k, v in COLUMN_NOTES.items()), 200)),
                 fontsize=6, va="bottom")
        pdf.savefig(fig)
        plt.close(fig)
        for chart in charts.values():
            pdf.savefig(chart)
        _text_pages(pdf, "假设 Assumptions" if zh else "Assumptions", assumptions)
        _text_pages(pdf, "数据来源 Sources" if zh else "Sources", sources)


def write_report(out: Path, designs: list[Design], table: pd.DataFrame, charts: dict[str, plt.Figure],
                 lang: str) -> Path:
    """report.html, report.pdf, the table files and charts in ``out`` (atomic)."""
    tmp = prepare_folder(out)
    try:
        table.to_csv(tmp / "comparison.csv", index=False)
        (tmp / "comparison.md").write_text(table_markdown(table), encoding="utf-8")
        save_charts(charts, tmp / "charts")
        (tmp / "report.html").write_text(report_html(designs, table, charts, lang), encoding="utf-8")
        report_pdf(tmp / "report.pdf", designs, table, charts, lang)
        return finish_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
