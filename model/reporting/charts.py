"""Charts for a budget proposal, in Chinese (default) or English.

Each function draws one chart for the designs compared and returns the figure;
the data it plotted is kept on the figure as ``figure.chart_data``
({series name: (x values, y values)}) so tests can check what a chart shows
without reading pixels. Every chart carries a footnote naming the designs, the
number of replications and the model version.

1. ``retail_over_time``: monthly 社零 under each design, with the 90% band over
   replications, against no policy and against the target;
2. ``cumulative_uplift_chart``: cumulative extra sales (shows payback after a programme);
3. ``budget_vs_uplift``: outlay against extra sales, with 90% intervals;
4. ``benefit_distribution``: household benefit by income quintile and urban/rural;
5. ``uplift_by_sector``: extra sales by sector;
6. ``outlay_over_time``: cumulative outlay by funding level.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from model import __version__  # noqa: E402
from model.reporting.compare import Design, cumulative_uplift, target_name  # noqa: E402
from model.reporting.fonts import use_cjk_font  # noqa: E402
from model.sectors import SECTOR_LABELS_ZH, SECTORS  # noqa: E402

LABELS = {
    "zh": {
        "retail_title": "社会消费品零售总额（月度）", "retail_y": "社零（亿元）", "no_policy": "无政策",
        "target": "目标", "band": "90%区间", "month": "月份",
        "cum_title": "累计新增社零", "cum_y": "累计新增社零（亿元）", "date": "日期",
        "budget_title": "财政支出与新增社零", "budget_x": "财政支出（万元）", "budget_y": "新增社零（亿元）",
        "benefit_title": "受益分布（居民获得的补贴与优惠）", "benefit_y": "占比", "urban": "城镇", "rural": "农村",
        "quintiles": ["最低20%", "20-40%", "40-60%", "60-80%", "最高20%"],
        "sector_title": "分行业新增社零", "sector_y": "新增社零（万元）",
        "outlay_title": "财政资金累计支出（按出资层级）", "outlay_y": "累计支出（万元）",
        "levels": {"central": "中央", "province": "省级", "city": "市级", "county": "县级"},
        "footnote": "方案：{designs}；重复模拟 {reps} 次；模型版本 {version}",
    },
    "en": {
        "retail_title": "Retail sales of consumer goods (monthly)", "retail_y": "Retail sales (100 million yuan)",
        "no_policy": "no policy", "target": "target", "band": "90% interval", "month": "month",
        "cum_title": "Cumulative extra retail sales", "cum_y": "cumulative extra sales (100 million yuan)", "date": "date",
        "budget_title": "Budget spent and extra retail sales", "budget_x": "outlay (10,000 yuan)",
        "budget_y": "extra retail sales (100 million yuan)",
        "benefit_title": "Who benefits (vouchers and subsidies received)", "benefit_y": "share", "urban": "urban",
        "rural": "rural", "quintiles": ["poorest 20%", "20-40%", "40-60%", "60-80%", "richest 20%"],
        "sector_title": "Extra retail sales by sector", "sector_y": "extra sales (10,000 yuan)",
        "outlay_title": "Cumulative outlay by funding level", "outlay_y": "cumulative outlay (10,000 yuan)",
        "levels": {"central": "central", "province": "province", "city": "city", "county": "county"},
        "footnote": "designs: {designs}; {reps} replications; model version {version}",
    },
}
SECTOR_LABELS_EN = {s: s.replace("_", " ") for s in SECTORS}


def _labels(lang: str) -> dict:
    if lang not in LABELS:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LABELS)}")
    if lang == "zh":
        use_cjk_font()
    else:
        use_cjk_font()  # scenario titles and design names may still be Chinese
    return LABELS[lang]


def _finish(fig, ax, designs: list[Design], lab: dict, data: dict) -> plt.Figure:
    reps = designs[0].result.summary["replications"]
    note = lab["footnote"].format(designs=", ".join(d.label for d in designs), reps=reps, version=__version__)
    fig.text(0.01, 0.01, note, fontsize=7, ha="left", va="bottom", color="#555555")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.chart_data = data
    return fig


def _monthly(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Monthly sums per replication of a daily 'total' column."""
    total = frame[frame["dimension"] == "total"]
    month = total["date"].dt.to_period("M")
    return total.assign(month=month).groupby(["replication", "month"])[column].sum().unstack(0)


def retail_over_time(designs: list[Design], lang: str = "zh") -> plt.Figure:
    lab = _labels(lang)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    data = {}
    first = designs[0]
    base = _monthly(first.result.frames["daily_retail"], "retail_sales_baseline").mean(axis=1) / 1e8
    x = [p.to_timestamp() for p in base.index]
    ax.plot(x, base.values, color="black", linestyle="--", label=lab["no_policy"])
    data[lab["no_policy"]] = (x, base.values)
    for d in designs:
        monthly = _monthly(d.result.frames["daily_retail"], "retail_sales_policy") / 1e8
        mean = monthly.mean(axis=1)
        lo, hi = monthly.quantile(0.05, axis=1), monthly.quantile(0.95, axis=1)
        ax.plot(x, mean.values, label=d.label)
        ax.fill_between(x, lo.values, hi.values, alpha=0.2)
        data[d.label] = (x, mean.values)
    name = target_name(first.scenario, None)
    if name is not None:
        t = first.scenario.targets[name]
        if t.indicator in ("retail_sales_level", "retail_sales_growth"):
            level = t.value if t.indicator == "retail_sales_level" else t.base_value_yuan * (1 + t.value)
            days = (t.period_end - t.period_start).days + 1
            months = pd.period_range(t.period_start, t.period_end, freq="M")
            tx, ty = [], []
            for m in months:
                a = max(m.start_time.date(), t.period_start)
                b = min(m.end_time.date(), t.period_end)
                tx.append(m.to_timestamp())
                ty.append(level * ((b - a).days + 1) / days / 1e8)
            ax.step(tx, ty, where="post", color="red", linewidth=1, label=f"{lab['target']} ({name})")
            data[lab["target"]] = (tx, np.array(ty))
    ax.set_title(lab["retail_title"])
    ax.set_ylabel(lab["retail_y"])
    ax.set_xlabel(lab["month"])
    ax.legend(fontsize=8)
    return _finish(fig, ax, designs, lab, data)


def cumulative_uplift_chart(designs: list[Design], lang: str = "zh") -> plt.Figure:
    lab = _labels(lang)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    data = {}
    for d in designs:
        cum = cumulative_uplift(d.result).pivot(index="date", columns="replication", values="cumulative_uplift") / 1e8
        mean = cum.mean(axis=1)
        ax.plot(cum.index, mean.values, label=d.label)
        ax.fill_between(cum.index, cum.quantile(0.05, axis=1).values, cum.quantile(0.95, axis=1).values, alpha=0.2)
        data[d.label] = (list(cum.index), mean.values)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_title(lab["cum_title"])
    ax.set_ylabel(lab["cum_y"])
    ax.set_xlabel(lab["date"])
    ax.legend(fontsize=8)
    return _finish(fig, ax, designs, lab, data)


def budget_vs_uplift(designs: list[Design], lang: str = "zh") -> plt.Figure:
    lab = _labels(lang)
    fig, ax = plt.subplots(figsize=(7, 5))
    data = {}
    for d in designs:
        reps = d.result.replications
        outlay = np.mean([r["government_outlay"] for r in reps]) / 1e4
        uplift = np.array([r["retail_sales_uplift"] for r in reps]) / 1e8
        lo, hi = np.percentile(uplift, 5), np.percentile(uplift, 95)
        ax.errorbar([outlay], [uplift.mean()], yerr=[[uplift.mean() - lo], [hi - uplift.mean()]], fmt="o", capsize=4,
                    label=d.label)
        ax.annotate(d.label, (outlay, uplift.mean()), textcoords="offset points", xytext=(5, 5), fontsize=8)
        data[d.label] = (np.array([outlay]), np.array([uplift.mean()]))
    ax.set_title(lab["budget_title"])
    ax.set_xlabel(lab["budget_x"])
    ax.set_ylabel(lab["budget_y"])
    return _finish(fig, ax, designs, lab, data)


def benefit_distribution(designs: list[Design], lang: str = "zh") -> plt.Figure:
    lab = _labels(lang)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    groups = lab["quintiles"] + [lab["urban"], lab["rural"]]
    keys = ["Q1", "Q2", "Q3", "Q4", "Q5", "urban", "rural"]
    width = 0.8 / len(designs)
    data = {}
    for i, d in enumerate(designs):
        shares = np.array([np.mean([r["benefit_share"][k] or 0.0 for r in d.result.replications]) for k in keys])
        ax.bar(np.arange(len(keys)) + i * width, shares, width, label=d.label)
        data[d.label] = (groups, shares)
    ax.set_xticks(np.arange(len(keys)) + width * (len(designs) - 1) / 2, groups, fontsize=8)
    ax.set_title(lab["benefit_title"])
    ax.set_ylabel(lab["benefit_y"])
    ax.legend(fontsize=8)
    return _finish(fig, ax, designs, lab, data)


def uplift_by_sector(designs: list[Design], lang: str = "zh") -> plt.Figure:
    lab = _labels(lang)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    names = [SECTOR_LABELS_ZH[s] if lang == "zh" else SECTOR_LABELS_EN[s] for s in SECTORS]
    width = 0.8 / len(designs)
    data = {}
    for i, d in enumerate(designs):
        values = np.array([np.mean([r["uplift_by_sector"][s] for r in d.result.replications]) for s in SECTORS]) / 1e4
        ax.bar(np.arange(len(SECTORS)) + i * width, values, width, label=d.label)
        data[d.label] = (names, values)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xticks(np.arange(len(SECTORS)) + width * (len(designs) - 1) / 2, names, fontsize=8)
    ax.set_title(lab["sector_title"])
    ax.set_ylabel(lab["sector_y"])
    ax.legend(fontsize=8)
    return _finish(fig, ax, designs, lab, data)


def outlay_over_time(designs: list[Design], lang: str = "zh") -> plt.Figure:
    lab = _labels(lang)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    data = {}
    for d in designs:
        outlay = d.result.frames["daily_outlay"]
        if outlay.empty:
            continue
        by_level = outlay.groupby(["level", "date"])["outlay_yuan"].sum() / d.result.summary["replications"]
        for level, series in by_level.groupby(level=0):
            series = series.droplevel(0).sort_index().cumsum() / 1e4
            name = f"{d.label} · {lab['levels'].get(level, level)}"
            ax.plot(series.index, series.values, label=name)
            data[name] = (list(series.index), series.values)
    ax.set_title(lab["outlay_title"])
    ax.set_ylabel(lab["outlay_y"])
    ax.set_xlabel(lab["date"])
    ax.legend(fontsize=7)
    return _finish(fig, ax, designs, lab, data)


CHARTS = {
    "retail_over_time": retail_over_time,
    "cumulative_uplift": cumulative_uplift_chart,
    "budget_vs_uplift": budget_vs_uplift,
    "benefit_distribution": benefit_distribution,
    "uplift_by_sector": uplift_by_sector,
    "outlay_over_time": outlay_over_time,
}


def all_charts(designs: list[Design], lang: str = "zh") -> dict[str, plt.Figure]:
    """Every chart, by name."""
    return {name: draw(designs, lang) for name, draw in CHARTS.items()}


def figure_text(fig: plt.Figure) -> str:
    """All text a figure shows (titles, labels, ticks, legends, footnote), for glyph checks."""
    parts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return "".join(parts)
