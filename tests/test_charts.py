"""Charts: the data each draws (checked against the runs, not pixels), footnotes, and glyphs in both languages."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from matplotlib.container import BarContainer

from conftest import designs_until
from model.reporting import fonts
from model.reporting.charts import CHARTS, LABELS, all_charts, chart_data_frame, figure_text
from model.reporting.compare import load_designs, run_designs



@pytest.fixture(scope="module")
def designs(tmp_path_factory):
    path = designs_until(tmp_path_factory.mktemp("charts"), "2023-08-31")
    loaded = load_designs([str(path), f"{path}#no_threshold"])
    yield run_designs(loaded, scale=0.02, seed=2, replications=3, target=None, need_target=True)
    plt.close("all")


@pytest.fixture(scope="module")
def charts(designs):
    made = all_charts(designs, "zh")
    yield made
    for fig in made.values():
        plt.close(fig)


def _total(d, column):
    frame = d.result.frames["daily_retail"]
    return frame[frame.dimension == "total"].pivot_table(index="date", columns="replication", values=column)


def _bars(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def _line(fig, label, axis=0):
    # Legends name designs by their titles, wrapped over lines.
    lines = [ln for ln in fig.axes[axis].get_lines() if ln.get_label().replace("\n", "") == label]
    assert len(lines) == 1, label
    return lines[0]


def test_retail_over_time_draws_each_design_no_policy_and_the_target(designs, charts):
    fig = charts["retail_over_time"]
    data = fig.chart_data
    base = _total(designs[0], "retail_sales_baseline")
    monthly_base = base.groupby(base.index.to_period("M")).sum().mean(axis=1).to_numpy() / 1e8
    np.testing.assert_allclose(_line(fig, "无政策").get_ydata(), monthly_base)
    target = designs[0].scenario.targets["retail_growth_2023"]
    # A growth target needs the simulated no-policy prior period (mean over replications) times 1 + growth.
    prior = np.mean([r["targets"]["retail_growth_2023"]["prior_baseline"] for r in designs[0].result.replications])
    level = prior * (1 + target.value) / 1e8
    np.testing.assert_allclose(data["目标"][1], [level, level])
    for d in designs:
        policy = _total(d, "retail_sales_policy")
        baseline = _total(d, "retail_sales_baseline")
        monthly = policy.groupby(policy.index.to_period("M")).sum()
        monthly_b = baseline.groupby(baseline.index.to_period("M")).sum()
        np.testing.assert_allclose(_line(fig, d.title("zh")).get_ydata(), monthly.mean(axis=1).to_numpy() / 1e8)
        pct = ((monthly / monthly_b - 1) * 100).mean(axis=1).to_numpy()
        np.testing.assert_allclose(_line(fig, d.title("zh"), axis=1).get_ydata(), pct)
        # The cumulative panel ends at the period's 社零, which is what the target is judged on.
        cum = _line(fig, d.title("zh"), axis=2).get_ydata()
        reached = np.mean([r["targets"]["retail_growth_2023"]["prior_policy"] * (1 + r["targets"]["retail_growth_2023"]["policy"])
                           for r in d.result.replications])
        assert cum[-1] == pytest.approx(reached / 1e8)
        # The voucher months lie above no policy.
        assert pct[3] > 0
    assert fig.axes[2].collections, "the cumulative panel has 90% bands"


def test_cumulative_uplift_and_budget_vs_uplift(designs, charts):
    for d in designs:
        uplift = [r["retail_sales_uplift"] for r in d.result.replications]
        # Solid: everyday spending (total less cars and appliances); its end is the total less their extra sales.
        line = _line(charts["cumulative_uplift"], d.title("zh"))
        durables = np.mean([r["uplift_by_sector"]["cars"] + r["uplift_by_sector"]["appliances"]
                            for r in d.result.replications])
        assert line.get_ydata()[-1] == pytest.approx((np.mean(uplift) - durables) / 1e4)  # 万元
        assert np.max(line.get_ydata()) >= line.get_ydata()[-1]
        total = charts["cumulative_uplift"].chart_data[d.label][1]
        assert total[-1] == pytest.approx(np.mean(uplift) / 1e4)
        x, y = charts["budget_vs_uplift"].chart_data[d.label]
        assert x[0] == pytest.approx(np.mean([r["government_outlay"] for r in d.result.replications]) / 1e4)
        assert y[0] == pytest.approx(np.mean(uplift) / 1e4)
    ends = [ln for ln in charts["cumulative_uplift"].axes[0].get_lines() if ln.get_label().endswith("结束")]
    assert len(ends) == len(designs)
    # One legend entry per design, plus one for each line style: no design listed twice.
    legend = [t.get_text() for t in charts["cumulative_uplift"].axes[0].get_legend().get_texts()]
    assert len(legend) == len(set(legend)) == len(designs) + 2
    # The benefit chart draws the equal-share reference: 20% of households per quintile.
    refs = [ln for ln in charts["benefit_distribution"].axes[0].get_lines() if "户数占比" in ln.get_label()]
    assert refs and refs[0].get_ydata()[0] == pytest.approx(0.2)


def test_bars_carry_benefit_shares_and_sector_uplift(designs, charts):
    benefit = charts["benefit_distribution"]
    sector = charts["uplift_by_sector"]
    for i, d in enumerate(designs):
        reps = d.result.replications
        quintile_bars = _bars(benefit.axes[0])[i]
        expected = [np.mean([r["benefit_share"][q] for r in reps]) for q in ("Q1", "Q2", "Q3", "Q4", "Q5")]
        np.testing.assert_allclose([b.get_height() for b in quintile_bars.patches], expected)
        area_bars = _bars(benefit.axes[1])[i]
        assert sum(b.get_height() for b in area_bars.patches) == pytest.approx(1.0)
        heights = [b.get_height() for b in _bars(sector.axes[0])[i].patches]
        expected = [np.mean([r["uplift_by_sector"][s] for r in reps]) / 1e4
                    for s in ("daily_goods", "catering", "appliances", "cars", "fuel", "night_market")]
        np.testing.assert_allclose(heights, expected)
    # The voucher is for catering and daily goods: that is where its extra sales are.
    heights = sector.chart_data[designs[0].label][1]
    assert heights[0] + heights[1] > abs(heights[2:]).sum()


def test_outlay_over_time_stacks_funding_levels_up_to_the_outlay(designs, charts):
    fig = charts["outlay_over_time"]
    for ax, d in zip(fig.axes, designs):
        reps = d.result.replications
        for level, name in (("city", "市级"), ("county", "县级")):
            series = fig.chart_data[f"{d.label} · {name}"][1]
            assert series[-1] == pytest.approx(np.mean([r["government_outlay_by_level"][level] for r in reps]) / 1e4)
            assert np.all(np.diff(series) >= -1e-9)
        budget = fig.chart_data[f"{d.label} · 预算"][1]
        assert budget[0] == pytest.approx(sum(t.budget_yuan for t in d.scenario.tools.values()) / 1e4)
        # The top of the stack is total outlay.
        stacked = ax.collections[-1].get_paths()[0].vertices[:, 1].max()
        assert stacked == pytest.approx(np.mean([r["government_outlay"] for r in reps]) / 1e4, rel=1e-6)


def test_every_chart_has_the_footnote(designs, charts):
    for name, fig in charts.items():
        text = figure_text(fig)
        assert "模型版本 0.1.0" in text and "重复模拟 3 次" in text and "种子 2" in text, name
        assert all(d.title("zh") in text for d in designs), name
    data = chart_data_frame(charts["cumulative_uplift"])
    series = {d.label for d in designs} | {f"everyday:{d.label}" for d in designs}
    assert set(data["series"]) == series and len(data) == 2 * len(designs) * len(_total(designs[0], "retail_sales_policy"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_glyph_is_missing_in_any_format(designs, lang, tmp_path):
    made = all_charts(designs, lang)  # checks every text against the fonts' character maps
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*[Gg]lyph.*missing")
            for name, fig in made.items():
                for fmt in ("png", "svg", "pdf"):
                    fig.savefig(tmp_path / f"{name}.{fmt}")
                assert fonts.missing_glyphs(figure_text(fig)) == set()
        words = LABELS[lang]
        assert words["no_policy"] in figure_text(made["retail_over_time"])
        if lang == "en":
            assert not any("\u4e00" <= ch <= "\u9fff" for ch in figure_text(made["benefit_distribution"]))
    finally:
        for fig in made.values():
            plt.close(fig)


def test_a_character_no_font_has_is_an_error():
    fonts.use_fonts("zh")
    fig, ax = plt.subplots()
    ax.set_title("社零 \U0001F9E7")
    try:
        with pytest.raises(fonts.FontError, match="U\\+1F9E7.*fonts-wqy-microhei"):
            fonts.check_figure(fig, "test chart")
    finally:
        plt.close(fig)


def test_chinese_needs_a_cjk_font_and_english_does_not(designs, monkeypatch):
    monkeypatch.setattr(fonts, "cjk_font_file", lambda: None)
    fonts.use_cjk_font.cache_clear()
    try:
        with pytest.raises(fonts.FontError, match="apt-get install -y fonts-wqy-microhei"):
            all_charts(designs, "zh")
        made = all_charts(designs, "en")  # English labels and ASCII design names need no CJK font
        assert set(made) == set(CHARTS)
        for fig in made.values():
            plt.close(fig)
    finally:
        monkeypatch.undo()
        fonts.use_cjk_font.cache_clear()
        fonts.use_fonts("zh")
