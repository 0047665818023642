"""Charts for a budget proposal, in Chinese (default) or English.

Each function draws one chart for the designs compared and returns the figure;
the data it plotted is kept on the figure as ``figure.chart_data``
({series name: (x values, y values)}, in the units on the axes) so tests can
check what a chart shows without reading pixels, and ``save_charts`` writes it
beside each image as ``<chart>.csv``. Every chart carries a footnote naming the
designs, the replications, scale and seed, and the model version. Bands and
error bars are the 5th to 95th percentile over replications.

1. ``retail_over_time``: monthly 社零 under each design against no policy (with
   bands), the difference from no policy in percent, and 社零 accumulated over
   the target period against the level the target needs;
2. ``cumulative_uplift_chart``: cumulative extra sales, with each programme's
   last day marked: a fall after it is spending pulled forward and paid back;
3. ``budget_vs_uplift``: outlay against extra sales, with lines of equal net leverage;
4. ``benefit_distribution``: shares of household benefit by income quintile and urban/rural;
5. ``uplift_by_sector``: extra sales by sector;
6. ``outlay_over_time``: cumulative outlay by funding level, one panel per design, against its budget.
"""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from model import __version__  # noqa: E402
from model.reporting.compare import (Design, cumulative_uplift, everyday_uplift, funding_levels,  # noqa: E402
                                     target_name)
from model.reporting.fonts import check_figure, use_fonts  # noqa: E402
from model.reporting.summary import target_title  # noqa: E402
from model.sectors import SECTOR_LABELS_ZH, SECTORS  # noqa: E402

RETAIL_TARGETS = ("retail_sales_level", "retail_sales_growth")

LABELS = {
    "zh": {
        "lang": "zh",
        "retail_title": "社会消费品零售总额：各方案与无政策、与目标", "retail_y": "月度社零（亿元）",
        "diff_y": "较无政策（%）", "cum_y": "目标期累计社零（亿元）",
        "no_policy": "无政策", "target": "目标", "target_level": "目标所需水平", "month": "月份",
        "cum_title": "累计新增社零（政策结束后回落的部分是提前消费的回补）", "cum_uplift_y": "累计新增社零（万元）", "cum_everyday": "实线：日常消费（阴影为90%区间）",
        "cum_all": "虚线：含汽车、家电（成块出现）", "equal_share": "户数占比",
        "date": "日期", "ends": "结束",
        "budget_title": "财政支出与新增社零", "budget_x": "财政支出（万元）", "budget_y": "新增社零（万元）",
        "leverage": "净拉动比 {k}",
        "benefit_title": "受益分布（居民获得的消费券面值、补贴与优惠）", "benefit_y": "占全部受益的比例",
        "by_quintile": "按收入五分位", "by_area": "按城乡", "urban": "城镇", "rural": "农村",
        "quintiles": ["最低20%", "20-40%", "40-60%", "60-80%", "最高20%"],
        "sector_title": "分行业新增社零", "sector_y": "新增社零（万元）",
        "outlay_title": "财政资金累计支出（按出资层级）", "outlay_y": "累计支出（万元）", "budget_line": "预算",
        "levels": {"central": "中央", "province": "省级", "city": "市级", "county": "县级"},
        "footnote": "方案：{designs}；每个方案重复模拟 {reps} 次（抽样比例 {scale}，种子 {seed}）；模型版本 {version}；"
                    "阴影和误差线（如有）为各次模拟的第5至95百分位；各次模拟之间只有随机数不同",
    },
    "en": {
        "lang": "en",
        "retail_title": "Retail sales of consumer goods: designs against no policy and the target",
        "retail_y": "monthly retail sales (100 million yuan)", "diff_y": "vs no policy (%)",
        "cum_y": "retail sales over target period (100 million yuan)",
        "no_policy": "no policy", "target": "target", "target_level": "level the target needs", "month": "month",
        "cum_title": "Cumulative extra retail sales (a fall after a programme is pulled-forward spending paid back)",
        "cum_uplift_y": "cumulative extra sales (10,000 yuan)",
        "cum_everyday": "solid: everyday spending (band: 90% interval)",
        "cum_all": "dashed: with cars and appliances (lumpy)", "equal_share": "share of households", "date": "date", "ends": "ends",
        "budget_title": "Budget spent and extra retail sales", "budget_x": "outlay (10,000 yuan)",
        "budget_y": "extra retail sales (10,000 yuan)", "leverage": "net leverage {k}",
        "benefit_title": "Who benefits (voucher value, subsidies and discounts received)", "benefit_y": "share of all benefit",
        "by_quintile": "by income quintile", "by_area": "urban and rural", "urban": "urban", "rural": "rural",
        "quintiles": ["poorest 20%", "20-40%", "40-60%", "60-80%", "richest 20%"],
        "sector_title": "Extra retail sales by sector", "sector_y": "extra sales (10,000 yuan)",
        "outlay_title": "Cumulative outlay by funding level", "outlay_y": "cumulative outlay (10,000 yuan)",
        "budget_line": "budget",
        "levels": {"central": "central", "province": "province", "city": "city", "county": "county"},
        "footnote": "designs: {designs}; {reps} replications per design (scale {scale}, seed {seed}); "
                    "model version {version}; bands and error bars (where drawn): 5th to 95th percentile over "
                    "replications, which differ only in their random numbers",
    },
}
SECTOR_LABELS_EN = {s: s.replace("_", " ") for s in SECTORS}
NO_POLICY_COLOUR = "#555555"
TARGET_COLOUR = "#d62728"
LEVEL_COLOURS = {"central": "#1f77b4", "province": "#2ca02c", "city": "#ff7f0e", "county": "#9467bd"}


def _labels(lang: str) -> dict:
    if lang not in LABELS:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LABELS)}")
    use_fonts(lang)
    return LABELS[lang]


def _name(d: Design, lab: dict) -> str:
    """A design's title for a legend, wrapped so a long one does not widen the legend over the plot."""
    return "\n".join(textwrap.wrap(d.title(lab["lang"]), 18 if lab["lang"] == "zh" else 36))


def _colour(i: int):
    return plt.get_cmap("tab10")(i % 10)


def footnote(designs: list[Design], lab: dict) -> str:
    """Designs, replications, scale, seed and model version (with the commit when known)."""
    summary = designs[0].result.summary
    manifest = designs[0].result.manifest
    version = manifest.get("model_version", __version__)
    commit = manifest.get("git_commit", "unknown")
    if commit and commit != "unknown":
        version += f" ({commit[:12]})"
    return lab["footnote"].format(designs=("、" if lab is LABELS["zh"] else "; ").join(d.title(lab["lang"]) for d in designs),
                                  reps=summary["replications"],
                                  scale=summary["scale"], seed=summary["seed"], version=version)


def _finish(fig, designs: list[Design], lab: dict, data: dict) -> plt.Figure:
    width = 110 if lab is LABELS["zh"] else 170
    note = "\n".join(textwrap.wrap(footnote(designs, lab), width))
    fig.text(0.01, 0.01, note, fontsize=7, ha="left", va="bottom", color="#555555")
    lines = note.count("\n") + 1
    fig.tight_layout(rect=(0, 0.015 + 0.022 * lines * 6 / fig.get_figheight(), 1, 1))
    fig.chart_data = data
    return fig


def _monthly(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Monthly sums per replication of a daily 'total' column (rows months, columns replications)."""
    total = frame[frame["dimension"] == "total"]
    month = total["date"].dt.to_period("M")
    return total.assign(month=month).groupby(["replication", "month"])[column].sum().unstack(0)


def _daily_total(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Daily whole-city series per replication (rows dates, columns replications)."""
    total = frame[frame["dimension"] == "total"]
    return total.pivot_table(index="date", columns="replication", values=column, aggfunc="sum").sort_index()


def _band(values: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, 5th and 95th percentile across the replication columns."""
    arr = values.to_numpy(dtype=float)
    return arr.mean(axis=1), np.percentile(arr, 5, axis=1), np.percentile(arr, 95, axis=1)


def _same_baseline(designs: list[Design]) -> bool:
    """Whether every design has the same no-policy run (true unless a variant changes more than its tools)."""
    first = _daily_total(designs[0].result.frames["daily_retail"], "retail_sales_baseline")
    for d in designs[1:]:
        other = _daily_total(d.result.frames["daily_retail"], "retail_sales_baseline")
        if other.shape != first.shape or not np.allclose(other.to_numpy(), first.to_numpy()):
            return False
    return True


def retail_target(designs: list[Design], target: str | None):
    """The 社零 target drawn on the chart (name, Target), or None."""
    name = target_name(designs[0].scenario, target)
    if name is None:
        return None
    t = designs[0].scenario.targets[name]
    return (name, t) if t.indicator in RETAIL_TARGETS else None


def target_level_yuan(t, design: Design) -> float:
    """社零 over the target period that meets the target (yuan): a growth target's is the simulated no-policy
    prior period times one plus the growth, averaged over the design's replications."""
    if t.indicator == "retail_sales_level":
        return float(t.value)
    prior = [r["targets"][t.name]["prior_baseline"] for r in design.result.replications]
    return float(np.mean(prior)) * (1 + t.value)


def retail_over_time(designs: list[Design], lang: str = "zh", target: str | None = None,
                     show_target: bool = True) -> plt.Figure:
    """Monthly 社零 by design against no policy, the difference in percent, and the cumulative path to the target."""
    lab = _labels(lang)
    chosen = retail_target(designs, target) if show_target else None
    panels = 3 if chosen else 2
    fig, axes = plt.subplots(panels, 1, figsize=(9, 3.2 * panels + 0.8), sharex=False)
    data: dict = {}
    first = designs[0]
    same = _same_baseline(designs)
    baselines = [first] if same else designs
    ax = axes[0]
    for d in baselines:
        base = _monthly(d.result.frames["daily_retail"], "retail_sales_baseline") / 1e8
        x = [p.to_timestamp() for p in base.index]
        mean, lo, hi = _band(base)
        name = lab["no_policy"] if same else f"{lab['no_policy']} ({_name(d, lab)})"
        ax.plot(x, mean, color=NO_POLICY_COLOUR, linestyle="--", label=name)
        ax.fill_between(x, lo, hi, color=NO_POLICY_COLOUR, alpha=0.12)
        data[name] = (x, mean)
    for i, d in enumerate(designs):
        frame = d.result.frames["daily_retail"]
        monthly = _monthly(frame, "retail_sales_policy") / 1e8
        x = [p.to_timestamp() for p in monthly.index]
        mean, lo, hi = _band(monthly)
        ax.plot(x, mean, color=_colour(i), label=_name(d, lab))
        ax.fill_between(x, lo, hi, color=_colour(i), alpha=0.12)
        data[d.label] = (x, mean)
        # Difference from the design's own no-policy run, replication by replication.
        base = _monthly(frame, "retail_sales_baseline") / 1e8
        diff = (monthly / base - 1.0) * 100.0
        dmean, dlo, dhi = _band(diff)
        axes[1].plot(x, dmean, color=_colour(i), label=_name(d, lab))
        axes[1].fill_between(x, dlo, dhi, color=_colour(i), alpha=0.15)
        data[f"vs_no_policy_pct:{d.label}"] = (x, dmean)
    ax.set_ylabel(lab["retail_y"])
    ax.legend(fontsize=7, loc="best")
    ax.set_title(lab["retail_title"], fontsize=11)
    axes[1].axhline(0, color=NO_POLICY_COLOUR, linestyle="--", linewidth=0.8)
    axes[1].set_ylabel(lab["diff_y"])
    axes[1].set_xlabel(lab["month"])
    if chosen:
        name, t = chosen
        ax = axes[2]
        start, end = pd.Timestamp(t.period_start), pd.Timestamp(t.period_end)
        series = [(lab["no_policy"], "cumulative:no_policy", first, "retail_sales_baseline", NO_POLICY_COLOUR, "--")]
        series += [(_name(d, lab), f"cumulative:{d.label}", d, "retail_sales_policy", _colour(i), "-")
                   for i, d in enumerate(designs)]
        for label, key, d, column, colour, style in series:
            daily = _daily_total(d.result.frames["daily_retail"], column).loc[start:end].cumsum() / 1e8
            mean, lo, hi = _band(daily)
            ax.plot(daily.index, mean, color=colour, linestyle=style, label=label)
            ax.fill_between(daily.index, lo, hi, color=colour, alpha=0.12)
            data[key] = (list(daily.index), mean)
        level = target_level_yuan(t, first) / 1e8
        ax.hlines(level, start, end, color=TARGET_COLOUR, linestyle=":", linewidth=1.5,
                  label=f"{lab['target_level']}: {target_title(first, name, lang)}")
        data[lab["target"]] = ([start, end], np.array([level, level]))
        ax.set_ylabel(lab["cum_y"])
        ax.set_xlabel(lab["date"])
        ax.legend(fontsize=7, loc="upper left")
    for a in axes:
        a.grid(alpha=0.3)
    return _finish(fig, designs, lab, data)


def cumulative_uplift_chart(designs: list[Design], lang: str = "zh") -> plt.Figure:
    """Cumulative extra 社零 by design: everyday spending (solid, 90% band) and with cars and appliances (dashed).

    Cars and appliances come in lumps at small scales (one simulated car stands for 1/scale cars), so
    the everyday line carries the band and the paid-back reading; a dotted line marks the last programme day.
    """
    lab = _labels(lang)
    fig, ax = plt.subplots(figsize=(9, 5))
    data = {}
    for i, d in enumerate(designs):
        cum = cumulative_uplift(d.result).pivot(index="date", columns="replication", values="cumulative_uplift") / 1e4
        daily = everyday_uplift(d.result)
        everyday = (daily.assign(c=daily.groupby("replication")["uplift"].cumsum())
                    .pivot(index="date", columns="replication", values="c") / 1e4)
        mean, lo, hi = _band(everyday)
        ax.plot(everyday.index, mean, color=_colour(i), label=_name(d, lab))
        ax.fill_between(everyday.index, lo, hi, color=_colour(i), alpha=0.2)
        ax.plot(cum.index, cum.to_numpy().mean(axis=1), color=_colour(i), linestyle="--", linewidth=0.9)
        data[d.label] = (list(cum.index), cum.to_numpy().mean(axis=1))
        data[f"everyday:{d.label}"] = (list(everyday.index), mean)
        if d.scenario.tools:
            end = pd.Timestamp(max(t.end for t in d.scenario.tools.values()))
            ax.axvline(end, color=_colour(i), linestyle=":", linewidth=1, label=f"_{d.label} {lab['ends']}")
    # One legend entry says what the line styles mean, not one per design.
    ax.plot([], [], color="#555555", linestyle="-", label=lab["cum_everyday"])
    ax.plot([], [], color="#555555", linestyle="--", label=lab["cum_all"])
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_title(lab["cum_title"], fontsize=11)
    ax.set_ylabel(lab["cum_uplift_y"])
    ax.set_xlabel(lab["date"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _finish(fig, designs, lab, data)


def budget_vs_uplift(designs: list[Design], lang: str = "zh") -> plt.Figure:
    """Outlay against extra 社零 (both 万元), 90% intervals, and dashed lines of net leverage 1, 2 and 4."""
    lab = _labels(lang)
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    data = {}
    xmax = ymax = ymin = 0.0
    for i, d in enumerate(designs):
        reps = d.result.replications
        outlays = np.array([r["government_outlay"] for r in reps]) / 1e4
        uplift = np.array([r["retail_sales_uplift"] for r in reps]) / 1e4
        x, y = outlays.mean(), uplift.mean()
        ax.errorbar([x], [y], xerr=[[x - np.percentile(outlays, 5)], [np.percentile(outlays, 95) - x]],
                    yerr=[[y - np.percentile(uplift, 5)], [np.percentile(uplift, 95) - y]], fmt="o", capsize=4,
                    color=_colour(i), label=_name(d, lab))
        data[d.label] = (np.array([x]), np.array([y]))
        xmax, ymax, ymin = max(xmax, outlays.max()), max(ymax, uplift.max()), min(ymin, uplift.min())
    xmax = xmax * 1.15 or 1.0
    ytop = max(ymax * 1.15, 1e-9)
    for k in (1, 2, 4):
        ax.plot([0, xmax], [0, k * xmax], color="#bbbbbb", linestyle="--", linewidth=0.8)
        xk = min(xmax * 0.98, ytop * 0.95 / k)
        ax.text(xk, k * xk, lab["leverage"].format(k=k), fontsize=7, color="#888888", ha="right", va="top")
    ax.set_xlim(0, xmax)
    ax.set_ylim(min(0.0, ymin * 1.15), ytop)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_title(lab["budget_title"], fontsize=11)
    ax.set_xlabel(lab["budget_x"])
    ax.set_ylabel(lab["budget_y"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return _finish(fig, designs, lab, data)


def _grouped_bars(ax, designs: list[Design], keys: list[str], names: list[str], values_of, lab: dict) -> dict:
    """Bars per group and design with 90% error bars; values_of(design, key) gives per-replication values."""
    width = 0.8 / len(designs)
    data = {}
    for i, d in enumerate(designs):
        per = np.array([values_of(d, k) for k in keys], dtype=float)  # (groups, replications)
        mean = per.mean(axis=1)
        err = [mean - np.percentile(per, 5, axis=1), np.percentile(per, 95, axis=1) - mean]
        ax.bar(np.arange(len(keys)) + i * width, mean, width, yerr=err, capsize=2, color=_colour(i), label=_name(d, lab))
        data[d.label] = (names, mean)
    ax.set_xticks(np.arange(len(keys)) + width * (len(designs) - 1) / 2, names, fontsize=8)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.grid(alpha=0.3, axis="y")
    return data


def benefit_distribution(designs: list[Design], lang: str = "zh") -> plt.Figure:
    """Shares of household benefit by income quintile (left) and urban and rural (right)."""
    lab = _labels(lang)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.8), gridspec_kw={"width_ratios": [5, 2.4]})

    def share(d: Design, key: str) -> list[float]:
        return [r["benefit_share"][key] or 0.0 for r in d.result.replications]

    quintiles = _grouped_bars(left, designs, ["Q1", "Q2", "Q3", "Q4", "Q5"], lab["quintiles"], share, lab)
    areas = _grouped_bars(right, designs, ["urban", "rural"], [lab["urban"], lab["rural"]], share, lab)
    data = {d.label: (list(quintiles[d.label][0]) + list(areas[d.label][0]),
                      np.concatenate([quintiles[d.label][1], areas[d.label][1]])) for d in designs}
    # Equal-share reference: a group that gets as much as its share of households lies on the line.
    left.axhline(0.2, color="#333333", linestyle="--", linewidth=1, label=f"{lab['equal_share']} 20%")
    households = _household_shares(designs[0])
    if households:
        for j, key in enumerate(["urban", "rural"]):
            right.hlines(households[key], j - 0.1, j + 0.1 + 0.8 * (len(designs) - 1) / len(designs),
                         color="#333333", linestyle="--", linewidth=1,
                         label=lab["equal_share"] if j == 0 else "_nolegend_")
        right.legend(fontsize=7, loc="upper right")
    for ax, title in ((left, lab["by_quintile"]), (right, lab["by_area"])):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_title(title, fontsize=9)
    left.set_ylabel(lab["benefit_y"])
    left.legend(fontsize=7)
    fig.suptitle(lab["benefit_title"], fontsize=11)
    return _finish(fig, designs, lab, data)


def _household_shares(design: Design) -> dict[str, float]:
    """Share of households that are urban and rural (from the run's household_distribution table)."""
    frame = design.result.frames.get("household_distribution")
    if frame is None or frame.empty:
        return {}
    area = frame[frame["dimension"] == "urban_rural"].groupby("group")["household_share"].mean()
    return {k: float(v) for k, v in area.items()}


def uplift_by_sector(designs: list[Design], lang: str = "zh") -> plt.Figure:
    """Extra 社零 by sector and design (万元), with 90% error bars."""
    lab = _labels(lang)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    names = [SECTOR_LABELS_ZH[s] if lang == "zh" else SECTOR_LABELS_EN[s] for s in SECTORS]
    data = _grouped_bars(ax, designs, list(SECTORS), names,
                         lambda d, s: [r["uplift_by_sector"][s] / 1e4 for r in d.result.replications], lab)
    ax.set_title(lab["sector_title"], fontsize=11)
    ax.set_ylabel(lab["sector_y"])
    ax.legend(fontsize=7)
    return _finish(fig, designs, lab, data)


def outlay_over_time(designs: list[Design], lang: str = "zh") -> plt.Figure:
    """Cumulative outlay stacked by funding level (万元, mean over replications), one panel per design."""
    lab = _labels(lang)
    levels = funding_levels(designs)
    ncols = min(len(designs), 2)
    nrows = int(np.ceil(len(designs) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.3 * nrows + 0.9), squeeze=False)
    flat = [a for row in axes for a in row]
    data = {}
    for ax, d in zip(flat, designs):
        outlay = d.result.frames["daily_outlay"]
        dates = _daily_total(d.result.frames["daily_retail"], "retail_sales_policy").index
        reps = d.result.summary["replications"]
        if outlay.empty:
            by_level = pd.DataFrame(0.0, index=dates, columns=levels)
        else:
            by_level = (outlay.groupby(["date", "level"])["outlay_yuan"].sum().unstack("level")
                        .reindex(index=dates, columns=levels).fillna(0.0) / reps)
        cumulative = by_level.cumsum() / 1e4
        names = [lab["levels"].get(lvl, lvl) for lvl in levels]
        ax.stackplot(cumulative.index, *[cumulative[lvl].to_numpy() for lvl in levels], labels=names,
                     colors=[LEVEL_COLOURS.get(lvl, "#999999") for lvl in levels], alpha=0.85)
        budget = sum(t.budget_yuan for t in d.scenario.tools.values()) / 1e4
        ax.axhline(budget, color=TARGET_COLOUR, linestyle=":", linewidth=1.2, label=lab["budget_line"])
        for lvl, name in zip(levels, names):
            data[f"{d.label} · {name}"] = (list(cumulative.index), cumulative[lvl].to_numpy())
        data[f"{d.label} · {lab['budget_line']}"] = ([dates[0], dates[-1]], np.array([budget, budget]))
        ax.set_title(_name(d, lab), fontsize=9)
        ax.set_ylabel(lab["outlay_y"], fontsize=8)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    for ax in flat[len(designs):]:
        ax.set_visible(False)
    fig.suptitle(lab["outlay_title"], fontsize=11)
    return _finish(fig, designs, lab, data)


CHARTS = {
    "retail_over_time": retail_over_time,
    "cumulative_uplift": cumulative_uplift_chart,
    "budget_vs_uplift": budget_vs_uplift,
    "benefit_distribution": benefit_distribution,
    "uplift_by_sector": uplift_by_sector,
    "outlay_over_time": outlay_over_time,
}


def all_charts(designs: list[Design], lang: str = "zh", target: str | None = None,
               show_target: bool = True) -> dict[str, plt.Figure]:
    """Every chart, by name, each checked for characters no installed font can draw.

    Raises:
        FontError: Chinese labels without a CJK font, or a character no font has.
    """
    charts = {}
    try:
        for name, draw in CHARTS.items():
            fig = (draw(designs, lang, target, show_target) if name == "retail_over_time" else draw(designs, lang))
            charts[name] = fig
            check_figure(fig, name)
    except BaseException:
        for fig in charts.values():
            plt.close(fig)
        raise
    return charts


def chart_data_frame(fig: plt.Figure) -> pd.DataFrame:
    """A chart's plotted data as a long table: series, x, y (units as on the chart's axes)."""
    rows = []
    for series, (xs, ys) in fig.chart_data.items():
        for x, y in zip(xs, ys):
            rows.append({"series": series, "x": x.date().isoformat() if isinstance(x, pd.Timestamp) else x,
                         "y": float(y)})
    return pd.DataFrame(rows, columns=["series", "x", "y"])


def figure_text(fig: plt.Figure) -> str:
    """All text a figure shows (titles, labels, ticks, legends, footnote), for glyph checks."""
    fig.canvas.draw()
    parts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return "".join(parts)
