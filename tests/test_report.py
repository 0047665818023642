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
        assert d.label in text and d.scenario.title in text
    for field in ("tools.spring_vouchers.sectors", "tools.spring_vouchers.face_value_yuan",
                  "tools.spring_vouchers.threshold_yuan"):
        assert field in text
    assert "design option: a catering voucher, spend 100 get 30" in text
    assert "抽样比例 0.02" in text and "种子 0" in text and "重复 2 次" in text and "模型版本 0.1.0" in text
    for key in ("outlay_total", "extra_retail_sales", "cost_per_0.1pp", "paid_back_share", "budget_runs_out"):
        assert COLUMN_NOTES_ZH[key] in text
    # The table as printed: the mean outlay in 万元.
    assert f"{table.loc[1, 'outlay_total'] / 1e4:,.1f}" in text
    assert page.count("data:image/png;base64,") == 6
    assert "<link" not in page and "<script" not in page and "src='http" not in page and 'src="http' not in page


def test_report_lists_every_assumption_and_source_of_every_design(compared, written):
    designs, _, _ = compared
    text = _text((written / "report.html").read_text(encoding="utf-8"))
    for d in designs:
        for field, note in d.scenario.provenance.items():
            assert field in text and note in text, field
        for name, note in d.scenario.behaviour.sources.items():
            assert f"behaviour.{name} = " in text and note in text, name
    assumptions, sources = writer.assumptions_and_sources(designs)
    assert all(note.startswith(("assumption", "national default: assumption")) for _, _, note in assumptions)
    assert not any(note.startswith("assumption") for _, _, note in sources)
    # Shared entries are listed once; the variant's own changes are listed for it alone.
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


def test_pdf_has_table_charts_and_embeds_the_chinese_font(written):
    pdf = (written / "report.pdf").read_bytes()
    assert pdf[:4] == b"%PDF"
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 1 + 1 + 6 + 2  # table, notes, six charts, assumptions and sources
    assert b"WenQuanYi" in pdf  # the CJK font is embedded, so Chinese shows on any reader


def test_english_report(compared):
    designs, table, _ = compared
    charts = all_charts(designs, "en")
    try:
        page = writer.report_html(designs, table, charts, "en")
    finally:
        for fig in charts.values():
            plt.close(fig)
    text = _text(page)
    assert "comparison of consumption-policy designs" in text and "Where every number comes from" in text
    assert COLUMN_NOTES["paid_back_share"] in text and "Outlay, total (10,000 yuan)" in text
    assert page.count("data:image/png;base64,") == 6


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
    # A failure while writing leaves no folder, half-written or temporary.
    monkeypatch.setattr(writer, "report_pdf", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        writer.write_report(tmp_path / "fails", designs, table, {}, "zh")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "busy"]


def test_text_wrapping_counts_chinese_as_wide():
    lines = writer._wrap("社零" * 30 + " and some English words", 20)
    assert all(sum(2 if "\u4e00" <= c <= "\u9fff" else 1 for c in line) <= 20 for line in lines)
    assert "".join(lines).replace(" ", "") == ("社零" * 30 + "andsomeEnglishwords")
