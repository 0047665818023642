"""Writing a comparison: table files, charts, the runs behind them, and a report for a budget proposal.

``write_comparison`` writes the comparison table (CSV in yuan, Markdown in 万元
with a note defining each column), every chart (PNG, SVG, PDF, and the plotted
data as CSV) and, when given the designs, each design's run (summary,
per-replication figures, daily series, manifest) under ``runs/<design>/``, so
every number can be traced to a file. ``write_report`` adds a self-contained
HTML page (inline CSS, charts embedded as PNG) and a PDF (drawn with
matplotlib, so Chinese renders with the same font as the charts) with the
table and its notes, the charts, each design and what its variant changes,
the assumptions, and the source of every number.

Both write into a temporary folder beside the target and move it into place at
the end, and refuse a folder that exists and is not empty or cannot be written,
so nothing already written is lost or half-overwritten.
"""

from __future__ import annotations

import base64
import html
import io
import os
import shutil
import tempfile
import unicodedata
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from model.commands import CommandError
from model.reporting.charts import chart_data_frame
from model.reporting.compare import (COST_STEP_PP, Design, budget_exhaustion, column_label, column_note, display_table,
                                     run_details, table_markdown)

FORMATS = ("png", "svg", "pdf")
PNG_DPI = 150

TEXT = {
    "zh": {"title": "{city} 促消费政策方案比较", "designs": "方案", "table": "比较表", "notes": "各列的定义",
           "budgets": "各工具预算与用完日期", "charts": "图表", "assumptions": "假设",
           "sources": "数据来源", "numbers": "每个数字的来源", "variant_changes": "变体改动",
           "all_designs": "所有方案", "behaviour": "行为参数（所有城市共用）", "unsourced": "未注明来源的数字",
           "file": "文件", "field": "字段", "text": "说明", "design": "方案", "value": "取值",
           "tool": "工具", "dates": "起止日期", "budget": "预算（万元）", "outlay": "支出（万元）", "ran_out": "用完日期（中位数）",
           "ran_out_in": "用完的模拟次数", "lasted": "未用完",
           "money_note": "金额单位：万元。",
           "numbers_intro": "比较表中的数字均由下列模拟结果计算；每个方案的逐次模拟结果在 runs/<方案>/replications.json，"
                            "每日序列在 runs/<方案>/*.parquet，运行设定（情景、种子、版本）在 runs/<方案>/manifest.json，"
                            "图表所画的数据在 charts/<图表>.csv。模型输入的每个数字的来源见“数据来源”和“假设”两节。",
           "column": "列", "from": "计算自（每次模拟的汇总）"},
    "en": {"title": "{city}: comparison of consumption-policy designs", "designs": "Designs", "table": "Comparison",
           "notes": "What each column means", "budgets": "Budgets and when they ran out", "charts": "Charts",
           "assumptions": "Assumptions", "sources": "Sources", "numbers": "Where every number comes from",
           "variant_changes": "changes", "all_designs": "all designs", "behaviour": "behaviour (every city)",
           "unsourced": "Numbers without a source", "file": "file", "field": "field", "text": "text",
           "design": "design", "value": "value", "tool": "tool", "dates": "dates", "budget": "budget (10,000 yuan)",
           "outlay": "outlay (10,000 yuan)", "ran_out": "ran out (median)", "ran_out_in": "replications ran out",
           "lasted": "lasted", "money_note": "Amounts in 万元 (10,000 yuan).",
           "numbers_intro": "Every figure in the table is computed from the runs below: each design's per-replication "
                            "figures are in runs/<design>/replications.json, its daily series in runs/<design>/*.parquet "
                            "and how it was run (scenario, seeds, versions) in runs/<design>/manifest.json; the data "
                            "each chart draws is in charts/<chart>.csv. The source of every input number is under "
                            "Sources and Assumptions.",
           "column": "column", "from": "computed from (per-replication summary)"},
}

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
    "cost_per_0.1pp": f"government_outlay, retail_sales_uplift, retail_sales_baseline (step {COST_STEP_PP} pp)",
    "benefit_poorest_40pct": "benefit_share.Q1 + benefit_share.Q2",
    "benefit_rural": "benefit_share.rural",
    "paid_back_share": "daily_retail.parquet (dimension total): retail_sales_uplift, cumulated",
    "budget_runs_out": "tools.<tool>.budget_exhausted_date",
    "design": "scenario file and variant",
}


# ------------------------------------------------------------------ folders


def prepare_folder(out: Path) -> Path:
    """Check the output folder can be written and make a temporary sibling; return the temporary folder.

    Raises:
        CommandError: the folder exists and is not empty, or its parent cannot be written.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CommandError(f"{out}: output folder exists and is not empty; choose another --out (nothing was changed)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as exc:
        raise CommandError(f"{out}: cannot write there ({exc.strerror or exc}); choose another --out") from None


def finish_folder(tmp: Path, out: Path) -> Path:
    """Move a completed temporary folder into place."""
    if out.exists():
        out.rmdir()
    os.replace(tmp, out)
    return out


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
                 lang: str, formats=FORMATS) -> None:
    # utf-8-sig: Excel, where planners open CSV files, needs the BOM to read Chinese.
    table.to_csv(tmp / "comparison.csv", index=False, encoding="utf-8-sig")
    details = run_details(designs, lang) if designs else None
    (tmp / "comparison.md").write_text(table_markdown(table, lang, details), encoding="utf-8")
    if charts:
        save_charts(charts, tmp / "charts", formats)
    if designs:
        budget_table(designs).to_csv(tmp / "budgets.csv", index=False, encoding="utf-8-sig")
        (tmp / "runs").mkdir()
        for d in designs:
            d.result.write(tmp / "runs" / _folder_name(d.label))


def write_comparison(out: Path, table: pd.DataFrame, charts: dict[str, plt.Figure],
                     designs: list[Design] | None = None, lang: str = "en", formats=FORMATS) -> Path:
    """comparison.csv, comparison.md, charts/ and (given the designs) budgets.csv and runs/ in ``out`` (atomic)."""
    tmp = prepare_folder(Path(out))
    try:
        _write_files(tmp, table, charts, designs, lang, formats)
        return finish_folder(tmp, Path(out))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ------------------------------------------------------------------ contents


def budget_table(designs: list[Design]) -> pd.DataFrame:
    """One row per design and tool: budget, mean outlay, and when its pool ran out."""
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
    return pd.DataFrame(rows)


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
    changes = design.scenario.raw.get("variants", {}).get(design.variant, {})
    out = []
    for path, value in changes.items():
        if isinstance(value, dict) and "value" in value:
            note = value.get("source") or value.get("assumption") or ""
            out.append((path, f"{value['value']}" + (f" ({note})" if note else "")))
        else:
            out.append((path, str(value)))
    return out


def _png_data_uri(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _e(text) -> str:
    return html.escape(str(text))


def _html_rows(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _budget_rows(designs: list[Design], t: dict) -> list[list[str]]:
    rows = []
    for _, r in budget_table(designs).iterrows():
        ran_out = r["ran_out_median"] or t["lasted"]
        if r["ran_out_earliest"] and r["ran_out_earliest"] != r["ran_out_latest"]:
            ran_out += f" ({r['ran_out_earliest']}–{r['ran_out_latest']})"
        rows.append([r["design"], f"{r['tool']} ({r['kind']})", f"{r['start_date']} – {r['end_date']}",
                     f"{r['budget_yuan'] / 1e4:,.1f}", f"{r['outlay_yuan'] / 1e4:,.1f}", ran_out,
                     f"{r['replications_ran_out']}/{r['replications']}"])
    return rows


def _number_sources(keys: list[str]) -> list[list[str]]:
    rows = []
    for key in keys:
        source = COLUMN_SOURCES["outlay_*" if key.startswith("outlay_") and key != "outlay_total" else key]
        rows.append([key, source])
    return rows


def report_html(designs: list[Design], table: pd.DataFrame, charts: dict[str, plt.Figure], lang: str) -> str:
    """A self-contained HTML page: table and notes, charts (embedded), designs, assumptions and sources."""
    t = TEXT["zh" if lang == "zh" else "en"]
    city = designs[0].scenario.city.name
    title = t["title"].format(city=city)
    assumptions, sources = assumptions_and_sources(designs)
    keys, headers, rows = display_table(table, lang)
    parts = [
        f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>",
        f"<title>{_e(title)}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif;"
        "margin:2em auto;max-width:1200px;padding:0 1em;color:#222;line-height:1.5}"
        "table{border-collapse:collapse;font-size:12px;margin:0.5em 0 1em}td,th{border:1px solid #bbb;padding:3px 6px;"
        "vertical-align:top}th{background:#eef}tbody tr:nth-child(even){background:#fafafa}img{max-width:100%}"
        "h2{border-bottom:1px solid #ccc;margin-top:2em}figure{margin:1em 0}figcaption{font-size:12px;color:#555}"
        ".meta{color:#555;font-size:13px}code{font-size:12px}.wide{overflow-x:auto}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        "<ul class='meta'>" + "".join(f"<li>{_e(line)}</li>" for line in run_details(designs, lang)) + "</ul>",
        f"<h2>{_e(t['designs'])}</h2><ul>",
    ]
    for d in designs:
        item = f"<li><b>{_e(d.label)}</b>: {_e(d.scenario.title)} ({_e(t['file'])} {_e(d.file or d.scenario.origin)}"
        item += f", variant {_e(d.variant)})" if d.variant else ")"
        changes = variant_changes(d)
        if changes:
            item += "<ul>" + "".join(f"<li>{_e(t['variant_changes'])}: <code>{_e(p)}</code> = {_e(v)}</li>"
                                     for p, v in changes) + "</ul>"
        parts.append(item + "</li>")
    parts.append("</ul>")
    parts.append(f"<h2>{_e(t['table'])}</h2><p class='meta'>{_e(t['money_note'])}</p>")
    parts.append("<div class='wide'>" + _html_rows(headers, rows) + "</div>")
    parts.append(f"<h3>{_e(t['notes'])}</h3><ul>")
    parts += [f"<li><b>{_e(column_label(k, lang))}</b> (<code>{_e(k)}</code>): {_e(column_note(k, lang))}</li>"
              for k in keys]
    parts.append("</ul>")
    parts.append(f"<h3>{_e(t['budgets'])}</h3>")
    parts.append(_html_rows([t["design"], t["tool"], t["dates"], t["budget"], t["outlay"], t["ran_out"], t["ran_out_in"]],
                            _budget_rows(designs, t)))
    parts.append(f"<h2>{_e(t['charts'])}</h2>")
    for name, fig in charts.items():
        caption = fig._suptitle.get_text() if fig._suptitle else ""
        caption = caption or next((ax.get_title() for ax in fig.axes if ax.get_title()), name)
        parts.append(f"<figure><img alt='{_e(name)}' src='{_png_data_uri(fig)}'>"
                     f"<figcaption>{_e(caption)} (charts/{_e(name)}.png, .svg, .pdf; {_e(name)}.csv)</figcaption></figure>")
    parts.append(f"<h2>{_e(t['numbers'])}</h2><p>{_e(t['numbers_intro'])}</p>")
    parts.append(_html_rows([t["column"], t["from"]], _number_sources(keys)))
    parts.append("<ul class='meta'>" + "".join(
        f"<li>{_e(d.label)}: runs/{_e(_folder_name(d.label))}/</li>" for d in designs) + "</ul>")
    parts.append(f"<h2>{_e(t['assumptions'])}</h2>")
    parts.append(_html_rows([t["design"], t["field"], t["text"]], [list(r) for r in assumptions]))
    parts.append(f"<h2>{_e(t['sources'])}</h2>")
    parts.append(_html_rows([t["design"], t["field"], t["text"]], [list(r) for r in sources]))
    unsourced = [(d.label, f) for d in designs for f in d.scenario.unsourced]
    if unsourced:
        parts.append(f"<h2>{_e(t['unsourced'])}</h2>")
        parts.append(_html_rows([t["design"], t["field"]], [list(r) for r in unsourced]))
    parts.append("</body></html>")
    return "\n".join(parts)


# ------------------------------------------------------------------ PDF

A4_PORTRAIT = (8.27, 11.69)
A4_LANDSCAPE = (11.69, 8.27)


def _wrap(text: str, width: int) -> list[str]:
    """Wrap text to ``width`` columns, counting Chinese characters as two and breaking anywhere in them."""
    lines, line, used = [], "", 0
    for word in _tokens(text):
        w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in word)
        if used + w > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0
            word = word.lstrip()
            w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in word)
        line += word
        used += w
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _tokens(text: str) -> list[str]:
    """Words with their leading space, and each Chinese character on its own."""
    out, word = [], ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        elif ch == " ":
            if word:
                out.append(word)
            word = " "
        else:
            word += ch
    if word:
        out.append(word)
    return out


def _text_pages(pdf: PdfPages, heading: str, paragraphs: list[str], width: int = 112, per_page: int = 70) -> None:
    lines: list[str] = []
    for para in paragraphs:
        wrapped = _wrap(para, width)
        lines.extend([wrapped[0]] + ["    " + w for w in wrapped[1:]])
    for start in range(0, max(len(lines), 1), per_page):
        fig = plt.figure(figsize=A4_PORTRAIT)
        fig.text(0.06, 0.965, heading, fontsize=13, va="top")
        fig.text(0.06, 0.935, "\n".join(lines[start:start + per_page]), fontsize=7, va="top", linespacing=1.45)
        pdf.savefig(fig)
        plt.close(fig)


def _table_pages(pdf: PdfPages, title: str, headers: list[str], rows: list[list[str]], lead: list[str]) -> None:
    """The comparison transposed (a row per column, a column per design), four designs a page."""
    for start in range(0, len(rows), 4):
        chunk = rows[start:start + 4]
        cells = [[_wrap_cell(headers[i], 26)] + [_wrap_cell(r[i], 30) for r in chunk] for i in range(1, len(headers))]
        fig = plt.figure(figsize=A4_LANDSCAPE)
        fig.text(0.03, 0.96, title, fontsize=15, va="top")
        fig.text(0.03, 0.91, "\n".join(lead), fontsize=8, va="top", color="#444444")
        ax = fig.add_axes((0.03, 0.03, 0.94, 0.78))
        ax.axis("off")
        tab = ax.table(cellText=cells, colLabels=[headers[0]] + [r[0] for r in chunk], loc="upper left",
                       cellLoc="left", colLoc="left", colWidths=[0.28] + [0.72 / len(chunk)] * len(chunk))
        tab.auto_set_font_size(False)
        tab.set_fontsize(7.5)
        for (row, _), cell in tab.get_celld().items():
            text = cell.get_text().get_text()
            cell.set_height(0.045 * max(1, text.count("\n") + 1) * 0.8 + 0.012)
            if row == 0:
                cell.set_facecolor("#eef")
        pdf.savefig(fig)
        plt.close(fig)


def _wrap_cell(text: str, width: int) -> str:
    return "\n".join(_wrap(str(text), width))


def report_pdf(path: Path, designs: list[Design], table: pd.DataFrame, charts: dict[str, plt.Figure], lang: str) -> None:
    """A PDF: the table, its notes and the budgets; every chart; the designs, assumptions and sources."""
    t = TEXT["zh" if lang == "zh" else "en"]
    city = designs[0].scenario.city.name
    assumptions, sources = assumptions_and_sources(designs)
    keys, headers, rows = display_table(table, lang)
    with PdfPages(path) as pdf:
        info = pdf.infodict()
        info["Title"] = t["title"].format(city=city)
        lead = run_details(designs, lang) + [t["money_note"]]
        _table_pages(pdf, t["title"].format(city=city), headers, rows, lead)
        notes = [f"{column_label(k, lang)} ({k}): {column_note(k, lang)}" for k in keys]
        budget_lines = [" | ".join(r) for r in _budget_rows(designs, t)]
        design_lines = []
        for d in designs:
            design_lines.append(f"{d.label}: {d.scenario.title} ({t['file']} {d.file or d.scenario.origin})")
            design_lines += [f"  {t['variant_changes']}: {p} = {v}" for p, v in variant_changes(d)]
        _text_pages(pdf, t["notes"], notes + ["", t["budgets"]] + budget_lines + ["", t["designs"]] + design_lines)
        for fig in charts.values():
            pdf.savefig(fig)
        number_lines = [t["numbers_intro"], ""] + [f"{k}: {s}" for k, s in _number_sources(keys)]
        _text_pages(pdf, t["numbers"], number_lines)
        _text_pages(pdf, t["assumptions"], [f"[{a}] {b}: {c}" for a, b, c in assumptions])
        _text_pages(pdf, t["sources"], [f"[{a}] {b}: {c}" for a, b, c in sources])
        unsourced = [f"[{d.label}] {f}" for d in designs for f in d.scenario.unsourced]
        if unsourced:
            _text_pages(pdf, t["unsourced"], unsourced)


def write_report(out: Path, designs: list[Design], table: pd.DataFrame, charts: dict[str, plt.Figure],
                 lang: str) -> Path:
    """report.html, report.pdf, the table files, charts and runs in ``out`` (atomic)."""
    tmp = prepare_folder(Path(out))
    try:
        _write_files(tmp, table, charts, designs, lang)
        (tmp / "report.html").write_text(report_html(designs, table, charts, lang), encoding="utf-8")
        report_pdf(tmp / "report.pdf", designs, table, charts, lang)
        return finish_folder(tmp, Path(out))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
