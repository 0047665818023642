"""The report: every design, variant change, assumption and source in it; numbers traceable; safe folders."""

from __future__ import annotations

import html
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from conftest import designs_until
from model.commands import CommandError
from model.reporting import report as writer
from model.reporting.charts import all_charts
from model.reporting.compare import COLUMN_NOTES, COLUMN_NOTES_ZH, comparison_table, load_designs, run_designs



@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    path = designs_until(tmp_path_factory.mktemp("report"), "2023-07-31")
    specs = [str(path), f"{path}#catering_only"]
    loaded = load_designs(specs)
    designs = run_designs(loaded, scale=0.02, seed=0, replications=2, target=None, need_target=True,
                          sources=[(str(path), None), (str(path), "catering_only")])
    table = comparison_table(designs, None, True)
    charts = all_charts(designs, "zh")
    yield designs, table, charts
    for fig in charts.values():
        plt.close(fig)


@pytest.fixture(scope="module")
def written(compared, tmp_path_factory):
    designs, table, charts = compared
    return writer.write_report(tmp_path_factory.mktemp("out") / "report", designs, table, charts, "zh")


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_report_names_every_design_its_changes_and_how_it_was_run(compared, written):
    designs, table, _ = compared
    page = (written / "report.html").read_text(encoding="utf-8")
    text = _text(page)
    for d in designs:
        assert d.title("zh") in text
    assert "推荐方案" in text and "达成概率" in text
    # The variant's change in words: the catering voucher, spend 100 get 30.
    assert "适用行业 餐饮" in text and "面值 30 元" in text and "使用门槛 100 元" in text
    assert "抽样比例 0.02" in text and "种子 0" in text and "模拟 2 次" in text and "模型版本 0.1.0" in text
    assert "第 5 至第 95 百分位" in text and ("行为参数固定" in text or "第 r 组参数" in text)
    assert page.count("data:image/png;base64,") == 6
    assert "<link" not in page and "<script" not in page and "src='http" not in page and 'src="http' not in page


def test_report_lists_every_assumption_and_source_of_every_design(compared, written):
    designs, _, _ = compared
    listed = pd.read_csv(written / "sources.csv")
    for d in designs:
        for field, note in d.scenario.provenance.items():
            assert ((listed["field"] == field) & (listed["text"] == note)).any(), field
    assumptions, sources = writer.assumptions_and_sources(designs)
    assert all(note.startswith(("assumption", "national default: assumption")) for _, _, note in assumptions)
    assert not any(note.startswith("assumption") for _, _, note in sources)
    assert ("all designs", "city.households", "assumption: synthetic: a small county town") in assumptions
    assert any(who == "catering_only" and field == "tools.spring_vouchers.face_value_yuan"
               for who, field, _ in assumptions)


def test_every_number_can_be_traced_to_the_saved_runs(compared, written):
    designs, table, charts = compared
    saved = pd.read_csv(written / "comparison.csv")
    for d, (_, row) in zip(designs, saved.iterrows()):
        reps = json.loads((written / "runs" / d.label / "replications.json").read_text(encoding="utf-8"))
        assert row.outlay_total == pytest.approx(np.mean([r["government_outlay"] for r in reps]))
        assert row.extra_retail_sales == pytest.approx(np.mean([r["retail_sales_uplift"] for r in reps]))
        manifest = json.loads((written / "runs" / d.label / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["seed"] == 0 and manifest["replications"] == 2
    for name, fig in charts.items():
        data = pd.read_csv(written / "charts" / f"{name}.csv")
        assert set(data["series"]) == set(fig.chart_data), name
        for fmt in ("png", "svg", "pdf"):
            assert (written / "charts" / f"{name}.{fmt}").stat().st_size > 1000
    budgets = pd.read_csv(written / "budgets.csv")
    assert list(budgets["design"]) == [d.label for d in designs] and set(budgets["tool"]) == {"spring_vouchers"}


def test_pdf_is_a4_with_numbered_pages_and_embeds_the_chinese_font(written):
    from pypdf import PdfReader

    reader = PdfReader(written / "report.pdf")
    assert len(reader.pages) >= 5
    for i, page in enumerate(reader.pages):
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx((595.28, 841.89), abs=0.5)
        assert f"{i + 1} / {len(reader.pages)}" in page.extract_text()
    assert b"WenQuanYi" in (written / "report.pdf").read_bytes()  # the CJK font is embedded
    text = " ".join(p.extract_text() for p in reader.pages)
    assert re.search(r"表\s*1", text) and re.search(r"图\s*1", text)  # numbered captions
    assert (written / "report.typ").exists()


def test_english_report(compared, tmp_path):
    designs, table, _ = compared
    charts = all_charts(designs, "en")
    try:
        out = writer.write_report(tmp_path / "en", designs, table, charts, "en", "retail_growth_2023")
    finally:
        for fig in charts.values():
            plt.close(fig)
    text = _text((out / "report.html").read_text(encoding="utf-8"))
    assert "consumption-policy designs assessed" in text and "Where the numbers come from" in text
    assert "Recommended design" in text and "Retail sales grow 8% in 2023" in text
    assert "Sources of the input numbers" in text


def test_folders_that_exist_or_cannot_be_written_lose_nothing(compared, tmp_path, monkeypatch):
    designs, table, charts = compared
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("earlier", encoding="utf-8")
    with pytest.raises(CommandError, match="not empty"):
        writer.write_report(busy, designs, table, charts, "zh")
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    blocker = tmp_path / "a_file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot write"):
        writer.write_report(blocker / "report", designs, table, charts, "zh")
    # A failure while typesetting keeps the computed runs, table and charts, and no half-written report.
    monkeypatch.setattr(writer, "report_files", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(writer.ReportError, match="disk full.*saved in"):
        writer.write_report(tmp_path / "fails", designs, table, {}, "zh")
    kept = tmp_path / "fails"
    assert (kept / "runs" / designs[0].label / "replications.json").exists() and (kept / "comparison.csv").exists()
    assert not (kept / "report.pdf").exists() and not (kept / "report.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
