"""Comparison table, charts and report: the series charts carry, glyphs, contents, and bad input."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from conftest import DESIGNS, ROOT, run_py
from model.commands import CommandError
from model.reporting.charts import all_charts, figure_text
from model.reporting.compare import comparison_table, load_designs, run_designs
from model.reporting.fonts import missing_glyphs
from model.reporting.report import assumptions_and_sources, write_comparison, write_report

OTHER_CITY = ROOT / "scenarios" / "pingliang.toml"


@pytest.fixture(scope="module")
def compared():
    loaded = load_designs([f"{DESIGNS}", f"{DESIGNS}#no_threshold"])
    designs = run_designs(loaded, scale=0.02, seed=1, replications=2, target=None, need_target=True)
    table = comparison_table(designs, None, True)
    yield designs, table
    plt.close("all")


def test_table_columns_and_values(compared):
    designs, table = compared
    assert list(table["design"]) == ["small_city_designs", "no_threshold"]
    for col in ("outlay_city", "outlay_county", "merchant_cofunding", "extra_retail_sales", "extra_retail_sales_p05",
                "extra_retail_sales_p95", "net_leverage", "gross_leverage", "target_probability", "cost_per_0.1pp",
                "benefit_poorest_40pct", "benefit_rural", "paid_back_share", "budget_runs_out"):
        assert col in table, col
    for d, (_, row) in zip(designs, table.iterrows()):
        uplift = [r["retail_sales_uplift"] for r in d.result.replications]
        assert row.extra_retail_sales == pytest.approx(np.mean(uplift))
        assert row.extra_retail_sales_p05 <= row.extra_retail_sales <= row.extra_retail_sales_p95
        outlay = np.mean([r["government_outlay"] for r in d.result.replications])
        assert row.outlay_city + row.outlay_county == pytest.approx(outlay)
        growth_pp = 100 * np.mean(uplift) / np.mean([r["retail_sales_baseline"] for r in d.result.replications])
        assert row["cost_per_0.1pp"] == pytest.approx(outlay / (growth_pp / 0.1))
        assert 0 <= row.paid_back_share <= 1


def test_charts_carry_the_expected_series(compared):
    designs, _ = compared
    charts = all_charts(designs, "zh")
    assert set(charts) == {"retail_over_time", "cumulative_uplift", "budget_vs_uplift", "benefit_distribution",
                           "uplift_by_sector", "outlay_over_time"}
    retail = charts["retail_over_time"].chart_data
    assert {"无政策", "small_city_designs", "no_threshold", "目标"} <= set(retail)
    for d in designs:
        frame = d.result.frames["daily_retail"]
        total = frame[frame.dimension == "total"]
        yearly = total.groupby("replication")["retail_sales_policy"].sum().mean() / 1e8
        assert retail[d.label][1].sum() == pytest.approx(yearly)
        cumulative = charts["cumulative_uplift"].chart_data[d.label][1]
        assert cumulative[-1] == pytest.approx(np.mean([r["retail_sales_uplift"] for r in d.result.replications]) / 1e4)
        outlay, uplift = charts["budget_vs_uplift"].chart_data[d.label]
        assert outlay[0] == pytest.approx(np.mean([r["government_outlay"] for r in d.result.replications]) / 1e4)
        sectors = charts["uplift_by_sector"].chart_data[d.label][1]
        assert sectors.sum() * 1e4 == pytest.approx(np.mean([r["retail_sales_uplift"] for r in d.result.replications]))
        shares = charts["benefit_distribution"].chart_data[d.label][1]
        assert shares[:5].sum() == pytest.approx(1.0) and shares[5:].sum() == pytest.approx(1.0)
    levels = charts["outlay_over_time"].chart_data
    assert any("市级" in k for k in levels) and any("县级" in k for k in levels)
    for fig in charts.values():
        assert "模型版本" in figure_text(fig)
    plt.close("all")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_glyph_is_missing(compared, lang, tmp_path):
    designs, _ = compared
    with warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" when it cannot draw a character.
        warnings.filterwarnings("error", message=".*[Gg]lyph.*")
        charts = all_charts(designs, lang)
        for name, fig in charts.items():
            fig.savefig(tmp_path / f"{name}.png")
            assert missing_glyphs(figure_text(fig)) == set(), name
    plt.close("all")


def test_missing_glyph_check_can_fail():
    assert missing_glyphs("社零\U0001F9E7") == {"\U0001F9E7"}


def test_report_contains_every_design_and_assumption(compared, tmp_path):
    designs, table = compared
    out = write_report(tmp_path / "rep", designs, table, all_charts(designs, "zh"), "zh")
    page = (out / "report.html").read_text(encoding="utf-8")
    import html as html_module
    text = html_module.unescape(re.sub(r"<[^>]+>", " ", page))
    for d in designs:
        assert d.title("zh") in text
    assumptions, sources = assumptions_and_sources(designs)
    assert assumptions and sources
    # The Chinese report keeps to Chinese: the scenario's (English) source notes are listed in sources.csv.
    listed = pd.read_csv(out / "sources.csv")
    for _, field, note in assumptions + sources:
        assert ((listed["field"] == field) & (listed["text"] == note)).any(), field
    assert "data:image/png;base64," in page
    # Self-contained: no stylesheet, script or image is fetched from elsewhere.
    assert "<link" not in page and "<script" not in page and "src='http" not in page and 'src="http' not in page
    assert (out / "report.pdf").read_bytes()[:4] == b"%PDF"
    for fmt in ("png", "svg", "pdf"):
        assert (out / "charts" / f"retail_over_time.{fmt}").exists()


def test_designs_for_different_cities_are_refused():
    with pytest.raises(CommandError, match="different cities"):
        load_designs([str(DESIGNS), str(OTHER_CITY)])


def test_a_design_without_a_target_is_refused_when_the_column_is_asked_for(tmp_path):
    text = DESIGNS.read_text(encoding="utf-8")
    no_target = tmp_path / "no_target.toml"
    no_target.write_text(text[:text.index("[targets.")] + text[text.index("[variants."):], encoding="utf-8")
    loaded = load_designs([str(no_target), f"{no_target}#no_threshold"])
    with pytest.raises(CommandError, match="no a target|has no"):
        run_designs(loaded, scale=0.01, seed=0, replications=1, target=None, need_target=True)


def test_output_folder_problems_lose_nothing(compared, tmp_path):
    designs, table = compared
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("earlier", encoding="utf-8")
    with pytest.raises(CommandError, match="not empty"):
        write_comparison(busy, table, {})
    assert (busy / "keep.txt").read_text(encoding="utf-8") == "earlier"
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot write"):
        write_comparison(blocker / "sub", table, {})
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_compare_command(tmp_path, capsys):
    out = tmp_path / "cmp"
    proc = subprocess.run([sys.executable, str(ROOT / "run.py"), "compare", str(DESIGNS), "--replications", "2",
                           "--scale", "0.01", "--quiet", "--lang", "en", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (out / "comparison.csv").exists() and (out / "comparison.md").exists()
    assert "catering_only" in (out / "comparison.md").read_text(encoding="utf-8")
    code, _, stderr = run_py(capsys, "compare", DESIGNS, OTHER_CITY, "--out", tmp_path / "x")
    assert code == 2 and "different cities" in stderr


def test_the_commit_a_report_prints_is_in_its_language_inside_git_or_out():
    """Outside a git checkout `git_commit()` is 'unknown', in a changed tree it ends '+dirty': the Chinese
    report must not print either English word (the report test looks for English sentences)."""
    from model.outputs import describe_commit

    assert describe_commit("unknown", "zh") == "未记录（不在 git 仓库中运行）"
    assert describe_commit("", "zh") == describe_commit("unknown", "zh")
    assert describe_commit("0123456789abcdef0123+dirty", "zh", 12) == "0123456789ab（含未提交的改动）"
    assert describe_commit("0123456789abcdef0123", "zh", 12) == "0123456789ab"
    assert describe_commit("0123456789abcdef+dirty", "en") == "0123456789abcdef (with uncommitted changes)"
    assert describe_commit("unknown", "en") == "not recorded (run outside a git checkout)"
