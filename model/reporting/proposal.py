"""The report a finance bureau attaches to a budget proposal, in one language (Chinese or English).

``build_document`` writes the report as blocks (``model.reporting.document``):

1. Summary (first page): the recommended design and why, each target's verdict
   in words with its probability with and without the plan, what the money
   buys (public money per extra yuan of 社零), who gains, and the caveats.
2. The designs, in words, and what each variant changes.
3. The targets: required and simulated values, probabilities.
4. The comparison: one column per design (money in 万元, 社零 levels in 亿元),
   every interval labelled with its replications and what varies between them.
5. Who gains: by income quintile and decile, urban and rural: share of
   households, average gain per household (yuan), as a share of income,
   share better off, share of all gains.
6. Spending brought forward and paid back, budgets and when they ran out.
7. The charts, captioned.
8. Where the numbers come from. The Chinese report keeps to Chinese: the
   input sources and assumptions, written in English in the scenario files,
   are listed in ``sources.csv`` beside it; the English report lists them.
"""

from __future__ import annotations

from pathlib import Path

from model.reporting.compare import Design, budget_exhaustion, durables_brought_forward, paid_back_share, target_name
from model.reporting.document import Bullets, Document, Figure, Heading, PageBreak, Paragraph, Table
from model.reporting.numbers import (decimals_of, estimate, fmt_estimate, fmt_number, fmt_probability, fmt_share,
                                     significant)
from model.reporting.summary import (distribution, evaluable_targets, money, overall_better_off, recommend,
                                     target_verdicts, tool_title)
from model.outputs import describe_commit
from model.sectors import SECTOR_LABELS_ZH

#: Captions of the charts (zh, en), by chart name.
CHART_CAPTIONS = {
    "retail_over_time": ("月度社零：各方案与无政策、与目标", "Monthly retail sales: designs, no policy and the target"),
    "cumulative_uplift": ("累计新增社零", "Cumulative extra retail sales"),
    "budget_vs_uplift": ("财政支出与新增社零", "Public outlay and extra retail sales"),
    "benefit_distribution": ("受益分布：按收入五分位和城乡", "Who gains: by income quintile, urban and rural"),
    "uplift_by_sector": ("分行业新增社零", "Extra retail sales by sector"),
    "outlay_over_time": ("财政资金累计支出（按出资层级）", "Cumulative public outlay by funding level"),
}

FIELD_WORDS = {
    "budget_yuan": ("预算", "budget"), "threshold_yuan": ("使用门槛", "spending threshold"),
    "face_value_yuan": ("面值", "face value"), "sectors": ("适用行业", "sectors"),
    "participating_merchants": ("参与商户数", "participating merchants"),
}


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def interval_note(designs: list[Design], lang: str) -> str:
    """What every interval in the report covers."""
    s = designs[0].result.summary
    reps, scale, seed = s["replications"], s["scale"], s["seed"]
    covers = s.get("intervals_cover", "")
    ensemble = "behavioural uncertainty" in covers
    trend_drawn = "trend leaves open" in covers
    if lang == "zh":
        if reps == 1:
            return (f"每个方案只模拟了 1 次（抽样比例 {scale}，种子 {seed}），因此没有区间，数字只保留三位有效数字；"
                    "概率只能是 0 或 100%。")
        return (f"括号内为 90% 区间：每个方案模拟 {reps} 次的第 5 至第 95 百分位。各次模拟之间变化的有随机数"
                f"（抽到哪些家庭、领券与用券、购车购家电的时点、商户与经销商）"
                + ("、行为参数（第 r 次模拟使用估计出的第 r 组参数）" if ensemble else "（行为参数固定，区间不含参数不确定性）")
                + ("，以及社零趋势的不确定性（每次模拟抽取自己的趋势路径：基期水平误差与逐年预测误差，离基期越远区间越宽）"
                   if trend_drawn else "；情景未给出社零趋势的预测误差，区间不含趋势的不确定性")
                + f"。各方案使用同一组随机数（抽样比例 {scale}，种子 {seed}）。概率为达到目标的模拟次数占比，精度为 1/{reps}。")
    if reps == 1:
        return (f"Each design was simulated once (scale {scale}, seed {seed}): no interval, figures to three "
                "significant digits; a probability can only be 0 or 100%.")
    return (f"Brackets: 90% interval, the 5th to 95th percentile over {reps} simulations of each design. They cover "
            f"{s.get('intervals_cover', 'sampling noise')}. Every design uses the same random numbers (scale {scale}, "
            f"seed {seed}). A probability is the share of simulations meeting the target, to within 1/{reps}.")


def _verdict_sentence(v, lang: str) -> str:
    req = fmt_number(v.required, max(1, significant(v.required or 0, 2)) if v.unit == "%" else
                     significant(v.required or 0, 4)) if v.required is not None else "—"
    w = fmt_estimate(v.with_plan, lang)
    w0 = fmt_estimate(v.without_plan, lang)
    p, p0 = fmt_probability(v.p_with, v.replications, lang), fmt_probability(v.p_without, v.replications, lang)
    unit = v.unit
    if lang == "zh":
        what = "增长" if v.indicator.endswith("_growth") else "达到"
        verdict = "很可能达成" if (v.p_with or 0) >= 0.9 else "可能达成" if (v.p_with or 0) >= 0.5 else \
            "不太可能达成" if (v.p_with or 0) > 0.1 else "基本无法达成"
        return (f"“{v.title}”（要求{what} {req}{unit}）：{verdict}。有此方案时模拟值 {w}{unit}，达成概率 {p}；"
                f"不实施政策时模拟值 {w0}{unit}，达成概率 {p0}；方案贡献 {fmt_estimate(v.contribution_pp, lang)} 个百分点。")
    verdict = "likely met" if (v.p_with or 0) >= 0.9 else "as likely as not" if (v.p_with or 0) >= 0.5 else \
        "unlikely" if (v.p_with or 0) > 0.1 else "not met"
    return (f"\u201c{v.title}\u201d (requires {req}{' ' if unit != '%' else ''}{unit}): {verdict}. With the plan "
            f"{w}{' ' if unit != '%' else ''}{unit}, met with probability {p}; without any policy {w0}"
            f"{' ' if unit != '%' else ''}{unit}, probability {p0}; the plan adds "
            f"{fmt_estimate(v.contribution_pp, lang)} percentage points.")


def _money_sentence(d: Design, lang: str) -> str:
    m = money(d)
    outlay, uplift = fmt_estimate(m["outlay"], lang), fmt_estimate(m["uplift"], lang)
    if m["cost_per_yuan"] is None:
        cost = _t(lang, f"每新增 1 元社零的财政成本无法确定：{m['not_positive']} 次模拟中新增社零不为正。",
                  f"The outlay per extra yuan cannot be given: extra retail sales were not positive in "
                  f"{m['not_positive']} simulation(s).")
    else:
        c = fmt_estimate(m["cost_per_yuan"], lang, decimals=max(decimals_of(m["cost_per_yuan"]), 2)
                         if m["cost_per_yuan"]["n"] == 1 else None)
        cost = _t(lang, f"每新增 1 元社零花费财政资金 {c} 元。", f"Each extra yuan of retail sales costs {c} yuan of public money.")
    return _t(lang, f"预算 {fmt_number(m['budget'], 0)} 万元，实际财政支出 {outlay} 万元，带来新增社零 {uplift} 万元。{cost}",
              f"Budget {fmt_number(m['budget'], 0)} (10,000 yuan); public outlay {outlay}; extra retail sales "
              f"{uplift} (10,000 yuan). {cost}")


def _who_sentence(d: Design, lang: str) -> str:
    dist = distribution(d)
    if dist.empty:
        return ""
    q = dist[dist["dimension"] == "income_quintile"].set_index("group")
    a = dist[dist["dimension"] == "urban_rural"].set_index("group")
    poor = float(q.loc[["Q1", "Q2"], "gain_share"].sum())
    poor_hh = float(q.loc[["Q1", "Q2"], "household_share"].sum())
    rural, rural_hh = float(a.loc["rural", "gain_share"]), float(a.loc["rural", "household_share"])
    better = overall_better_off(d)
    g1, g5 = q.loc["Q1", "gain_per_household_yuan"], q.loc["Q5", "gain_per_household_yuan"]
    if lang == "zh":
        return (f"收入最低的 40% 家庭（占家庭数 {fmt_share(poor_hh)}）得到全部好处的 {fmt_share(poor)}；农村家庭占家庭数 "
                f"{fmt_share(rural_hh)}，得到 {fmt_share(rural)}。平均每户得到：最低 20% 家庭 {fmt_number(g1, 0)} 元，"
                f"最高 20% 家庭 {fmt_number(g5, 0)} 元；共有 {fmt_share(better)} 的家庭直接领到消费券、补贴或优惠。")
    return (f"The poorest 40% of households ({fmt_share(poor_hh)} of households) receive {fmt_share(poor)} of all gains; "
            f"rural households ({fmt_share(rural_hh)} of households) receive {fmt_share(rural)}. Average gain per household: "
            f"{fmt_number(g1, 0)} yuan in the poorest 20%, {fmt_number(g5, 0)} yuan in the richest 20%; "
            f"{fmt_share(better)} of households receive a voucher, subsidy or discount of their own.")


def _why(best: Design, why: dict, designs: list[Design], target: str | None, lang: str) -> str:
    m = money(best)
    cost = fmt_estimate(m["cost_per_yuan"], lang, interval=False) if m["cost_per_yuan"] else "—"
    n = len(designs)
    if n == 1:
        return _t(lang, "只评估了这一个方案，与不实施政策相比。", "Only this design was assessed, against no policy.")
    parts = []
    if why["by"] == "target":
        tname = target_title_of(best, target, lang)
        p = fmt_share(why["probability"])
        if why["tied"]:
            parts.append(_t(lang, f"{n} 个方案中，它达成“{tname}”的概率（{p}）与 {len(why['tied'])} 个方案并列最高，"
                                  f"其中它每新增 1 元社零的财政成本最低（{cost} 元）。",
                             f"Of {n} designs, it shares the highest probability of meeting \u201c{tname}\u201d ({p}) with "
                             f"{len(why['tied'])} other(s), and among them costs least per extra yuan ({cost} yuan)."))
        else:
            parts.append(_t(lang, f"{n} 个方案中，它达成“{tname}”的概率最高（{p}）。",
                             f"Of {n} designs, it has the highest probability of meeting \u201c{tname}\u201d ({p})."))
    else:
        parts.append(_t(lang, f"{n} 个方案中，它每新增 1 元社零的财政成本最低（{cost} 元）。",
                         f"Of {n} designs, it costs least per extra yuan of retail sales ({cost} yuan)."))
    if why["overlap"]:
        names = "、".join(d.title(lang) for d in why["overlap"]) if lang == "zh" else \
            "; ".join(d.title(lang) for d in why["overlap"])
        parts.append(_t(lang, f"但它的新增社零与{names}的 90% 区间重叠，差别在模拟精度之内；定案前宜增加模拟次数。",
                         f"Its extra retail sales overlap the 90% interval of {names}: the difference is within the "
                         "simulation's precision; run more replications before deciding."))
    return "".join(parts) if lang == "zh" else " ".join(parts)


def target_title_of(d: Design, name: str | None, lang: str) -> str:
    from model.reporting.summary import target_title
    return target_title(d, name, lang) if name else ""


def _caveats(designs: list[Design], lang: str) -> list[str]:
    s = designs[0].result.summary
    scale = s["scale"]
    out_of_scope = [n for n, t in designs[0].scenario.targets.items() if t.indicator == "out_of_scope"]
    items = [interval_note(designs, lang)]
    items.append(_t(lang, f"模拟按 {fmt_share(scale, 1)} 的家庭抽样，每个模拟家庭代表约 {fmt_number(1 / scale, 0)} 户；"
                          "汽车、家电等大件消费因此成块出现，单次模拟的月度数字会有跳动，提前与回落比例只按日常消费计算。",
                    f"Households are simulated at a {fmt_share(scale, 1)} sample, each standing for about "
                    f"{fmt_number(1 / scale, 0)}; cars and appliances therefore come in lumps, monthly figures of one "
                    "simulation jump, and the paid-back share is computed on everyday spending only."))
    items.append(_t(lang, "净拉动比（新增社零 ÷ 财政支出）是政策的因果效应；总拉动比（用券交易总额 ÷ 财政支出）包含本来就会"
                          "发生的消费，不能当作效果。",
                    "Net leverage (extra retail sales ÷ outlay) is the policy's effect; gross leverage (all spending "
                    "in subsidised transactions ÷ outlay) includes spending that would have happened anyway."))
    items.append(_t(lang, "模拟期结束后的回落看不到；家庭得到的好处不计入为筹资而减少的其他支出。",
                    "Payback after the horizon is not seen; households' gains leave out how the programme is financed."))
    if out_of_scope:
        items.append(_t(lang, f"计划中另有 {len(out_of_scope)} 项目标超出模型范围（如基础设施、示范创建），未作评价。",
                        f"{len(out_of_scope)} other target(s) in the plan are outside the model's scope "
                        "(infrastructure, demonstration schemes) and are not evaluated."))
    return items


# ------------------------------------------------------------------ sections


def _summary(doc: Document, designs: list[Design], target: str | None, lang: str) -> None:
    best, why = recommend(designs, target)
    doc.add(Heading(_t(lang, "摘要", "Summary")))
    label = _t(lang, "推荐方案", "Recommended design") if len(designs) > 1 else _t(lang, "评估方案", "Design assessed")
    doc.add(Paragraph(f"{label}{_t(lang, '：', ': ')}{best.title(lang)}", "key"))
    doc.add(Paragraph(_why(best, why, designs, target, lang)))
    verdicts = target_verdicts(best, lang)
    doc.add(Heading(_t(lang, "目标能否达成", "Will the targets be met?"), 2))
    if verdicts:
        doc.add(Bullets([_verdict_sentence(v, lang) for v in verdicts]))
    else:
        doc.add(Paragraph(_t(lang, "本计划没有模型能够评价的目标：它的目标都超出模型范围，因此不给出达成概率。",
                             "No target can be evaluated: every target in this plan is outside the model's scope, "
                             "so no probability of meeting one is given.")))
    doc.add(Heading(_t(lang, "钱花出去换来什么", "What the money buys"), 2))
    doc.add(Paragraph(_money_sentence(best, lang)))
    who = _who_sentence(best, lang)
    if who:
        doc.add(Heading(_t(lang, "谁受益", "Who gains"), 2), Paragraph(who))
    if len(designs) > 1:
        headers = [_t(lang, "方案", "Design"), _t(lang, "财政支出（万元）", "Outlay (10,000 yuan)"),
                   _t(lang, "新增社零（万元）", "Extra retail sales (10,000 yuan)"),
                   _t(lang, "每新增1元社零的财政成本（元）", "Outlay per extra yuan (yuan)")]
        if target:
            headers += [_t(lang, "达成概率", "P(target met)")]
        rows = []
        for d in designs:
            m = money(d)
            row = [d.title(lang), fmt_estimate(m["outlay"], lang), fmt_estimate(m["uplift"], lang),
                   fmt_estimate(m["cost_per_yuan"], lang) if m["cost_per_yuan"] else "—"]
            if target:
                v = next((v for v in target_verdicts(d, lang) if v.name == target), None)
                row.append(fmt_probability(v.p_with, v.replications, lang) if v else "—")
            rows.append(row)
        doc.add(Table(headers, rows, [False] + [True] * (len(headers) - 1),
                      _t(lang, "各方案一览", "The designs at a glance"), note=interval_note(designs, lang),
                      widths=[2.6] + [1.6] * (len(headers) - 1)))
    doc.add(Heading(_t(lang, "需要注意", "Caveats"), 2))
    doc.add(Bullets(_caveats(designs, lang), "small"))
    doc.add(PageBreak())


def _value_words(path: str, value, lang: str) -> str:
    field = path.rsplit(".", 1)[-1]
    v = value["value"] if isinstance(value, dict) and "value" in value else value
    word = FIELD_WORDS.get(field, (field, field))[0 if lang == "zh" else 1]
    if field == "budget_yuan":
        return f"{word} {fmt_number(float(v) / 1e4, 0)} {_t(lang, '万元', '(10,000 yuan)')}"
    if field.endswith("_yuan"):
        return f"{word} {fmt_number(float(v), 0)} {_t(lang, '元', 'yuan')}"
    if field == "sectors" and isinstance(v, list):
        names = [SECTOR_LABELS_ZH.get(x, x) if lang == "zh" else x.replace("_", " ") for x in v]
        return f"{word} {'、'.join(names) if lang == 'zh' else ', '.join(names)}"
    return f"{word} {v:,}" if isinstance(v, (int, float)) else f"{word} {v}"


def _designs(doc: Document, designs: list[Design], lang: str) -> None:
    doc.add(Heading(_t(lang, "方案", "The designs")))
    items = []
    for d in designs:
        line = d.title(lang)
        if d.variant:
            changes = variant_overrides_of(d)
            words = []
            for path, value in changes.items():
                parts = path.split(".")
                tool = tool_title(d, parts[1], lang) if parts[0] == "tools" and parts[1] in d.scenario.tools else ""
                words.append(f"{tool}{_t(lang, '：', ': ') if tool else ''}{_value_words(path, value, lang)}")
            line += _t(lang, "。与原方案相比改变：", ". Changes from the plan: ") + \
                ("；".join(words) if lang == "zh" else "; ".join(words))
        else:
            tools = [tool_title(d, n, lang) for n in d.scenario.tools]
            line += _t(lang, "。政策工具：", ". Tools: ") + ("、".join(tools) if lang == "zh" else ", ".join(tools))
        items.append(line + _t(lang, f"（文件 {Path(d.file or d.scenario.origin).name}）",
                               f" (file {Path(d.file or d.scenario.origin).name})"))
    doc.add(Bullets(items))


def variant_overrides_of(d: Design) -> dict:
    from model.scenario import variant_overrides
    return variant_overrides(d.scenario.raw.get("variants", {}).get(d.variant, {}))


def _targets(doc: Document, designs: list[Design], lang: str) -> None:
    doc.add(Heading(_t(lang, "目标", "Targets")))
    first = designs[0]
    names = evaluable_targets(first)
    if not names:
        doc.add(Paragraph(_t(lang, "没有目标可以评价：本计划的目标都超出模型范围。",
                             "No target can be evaluated: every target of this plan is outside the model's scope.")))
        return
    headers = [_t(lang, "目标", "Target"), _t(lang, "方案", "Design"), _t(lang, "要求", "Required"),
               _t(lang, "有政策", "With plan"), _t(lang, "无政策", "No policy"),
               _t(lang, "达成概率（有政策）", "P(met), plan"), _t(lang, "达成概率（无政策）", "P(met), no policy"),
               _t(lang, "方案贡献（百分点）", "Plan adds (pp)")]
    rows = []
    for d in designs:
        for v in target_verdicts(d, lang):
            req = fmt_number(v.required, max(1, significant(v.required or 0, 2)) if v.unit == "%" else
                             significant(v.required or 0, 4))
            u = v.unit if v.unit in ("%", "亿元", "元", "家") else f" {v.unit}"
            rows.append([v.title, d.title(lang), f"{req}{u}", f"{fmt_estimate(v.with_plan, lang)}{u}",
                         f"{fmt_estimate(v.without_plan, lang)}{u}",
                         fmt_probability(v.p_with, v.replications, lang),
                         fmt_probability(v.p_without, v.replications, lang),
                         fmt_estimate(v.contribution_pp, lang) if v.contribution_pp else "—"])
    doc.add(Table(headers, rows, [False, False, True, True, True, True, True, True],
                  _t(lang, "目标：要求值、模拟值与达成概率", "Targets: required, simulated, probability met"),
                  note=_t(lang, "增长率为较模拟的上年同期（同一次模拟）的百分比，水平值单位亿元，人均消费单位元，"
                                "比重（如24小时便利店占比）为百分比，单位数（如新增限额以上单位）单位家；"
                                "方案贡献：增长目标为有无政策增长率之差，比重目标为有无政策比重之差，"
                                "水平与单位数目标为有政策较无政策高出的百分比。",
                          "Growth in % on the simulated prior period of the same replication; levels in 100 million "
                          "yuan; consumption per person in yuan; shares (e.g. stores open 24 hours) in %; counts "
                          "(e.g. new above-quota units) in units; plan adds: policy minus no-policy growth for "
                          "growth targets, policy minus no-policy share for share targets, the policy value's "
                          "excess over the no-policy value, in %, for level and count targets. ")
                  + interval_note(designs, lang),
                  widths=[2.0, 1.6, 0.8, 1.4, 1.4, 0.9, 0.9, 1.2]))


def _comparison(doc: Document, designs: list[Design], target: str | None, lang: str) -> None:
    doc.add(Heading(_t(lang, "方案比较", "Comparison")))
    rows_spec = []

    def est(values, unit=1.0):
        return estimate(values, unit)
    for d in designs:
        reps = d.result.replications
        m = money(d)
        col = {
            "budget": fmt_number(m["budget"], 0),
            "outlay": fmt_estimate(m["outlay"], lang, stacked=True),
            "cofunding": fmt_estimate(est([r["merchant_cofunding"] for r in reps], 1e4), lang, stacked=True),
            "uplift": fmt_estimate(m["uplift"], lang, stacked=True),
            "growth": fmt_estimate(m["growth_pp"], lang, stacked=True),
            "net": fmt_estimate(est([r["net_leverage"] for r in reps]), lang, stacked=True),
            "gross": fmt_estimate(est([r["gross_leverage"] for r in reps]), lang, stacked=True),
            "cost": fmt_estimate(m["cost_per_yuan"], lang, stacked=True) if m["cost_per_yuan"] else "—",
            "retail": fmt_estimate(est([r["retail_sales_policy"] for r in reps], 1e8), lang, stacked=True),
            "paid_back": fmt_share(paid_back_share(d.result)),
        }
        rows_spec.append(col)
    lines = [("budget", _t(lang, "预算（万元）", "Budget (10,000 yuan)")),
             ("outlay", _t(lang, "财政支出（万元）", "Public outlay (10,000 yuan)")),
             ("cofunding", _t(lang, "商户让利（万元）", "Merchant co-funding (10,000 yuan)")),
             ("retail", _t(lang, "模拟期社零（亿元）", "Retail sales over the horizon (100 million yuan)")),
             ("uplift", _t(lang, "新增社零（万元）", "Extra retail sales (10,000 yuan)")),
             ("growth", _t(lang, "拉动社零增速（百分点）", "Extra growth (percentage points)")),
             ("net", _t(lang, "净拉动比", "Net leverage")),
             ("gross", _t(lang, "总拉动比（含本来会发生的消费）", "Gross leverage (includes spending that would happen anyway)")),
             ("cost", _t(lang, "每新增1元社零的财政成本（元）", "Outlay per extra yuan of retail sales (yuan)")),
             ("paid_back", _t(lang, "提前消费在期内回落的比例（日常消费）", "Share brought forward and paid back (everyday spending)"))]
    headers = [_t(lang, "指标", "Measure")] + [d.title(lang) for d in designs]
    rows = [[label] + [c[key] for c in rows_spec] for key, label in lines]
    n = len(designs)
    doc.add(Table(headers, rows, [False] + [True] * n, _t(lang, "方案比较（每列一个方案）", "Comparison (one column per design)"),
                  note=_t(lang, "金额单位万元，社零水平单位亿元。", "Money in 10,000 yuan (万元); retail sales levels in "
                          "100 million yuan (亿元). ") + interval_note(designs, lang),
                  widths=[2.0] + [max(1.2, 5.6 / n)] * n, fit_numbers=False))
    durable_rows = []
    for d in designs:
        b = durables_brought_forward(d)
        if b:
            durable_rows.append([d.title(lang), fmt_number(b["cars"]["during"], 0), fmt_number(b["cars"]["after"], 0),
                                 fmt_number(b["appliances"]["during"], 0), fmt_number(b["appliances"]["after"], 0)])
    if durable_rows:
        scale = designs[0].result.summary["scale"]
        doc.add(Table([_t(lang, "方案", "Design"), _t(lang, "汽车：政策期内多售（辆）", "Cars: extra during (units)"),
                       _t(lang, "汽车：之后（辆）", "Cars: after (units)"),
                       _t(lang, "家电：政策期内多售（件）", "Appliances: extra during"),
                       _t(lang, "家电：之后（件）", "Appliances: after")], durable_rows,
                      [False, True, True, True, True], _t(lang, "大件消费的提前与回落", "Durables brought forward and paid back"),
                      note=_t(lang, f"与无政策相比多售的数量，政策期内与最后一项政策结束之后，各次模拟平均；负数为提前购买后少买的部分。"
                                    f"每个模拟家庭代表约 {fmt_number(1 / scale, 0)} 户，数量以此为单位跳动。",
                              f"Units sold beyond no policy while the programmes ran and after the last one ended, mean "
                              f"over simulations; negative is purchases brought forward and missing later. Each "
                              f"simulated household stands for about {fmt_number(1 / scale, 0)}, so counts move in such steps."),
                      widths=[2.4, 1.2, 1.2, 1.2, 1.2]))


def _distribution(doc: Document, designs: list[Design], target: str | None, lang: str) -> None:
    doc.add(Heading(_t(lang, "谁受益", "Who gains")))
    doc.add(Paragraph(_t(lang, "好处指家庭直接得到的消费券面值（含商户配套部分）、购车和家电补贴及随之而来的商户优惠，以及夜间消费优惠"
                               "（按各区域家庭的日常消费分摊）。“受益家庭占比”只计直接领到券、补贴或优惠的家庭。收入按人均可支配收入分组。",
                         "A household's gain is the face value of vouchers it redeemed (with the merchant's part), purchase "
                         "subsidies and the merchant discounts that came with them, and night-market discounts (spread "
                         "over each area's households by their everyday spending). 'Better off' counts households that "
                         "received a voucher, subsidy or discount of their own. Groups are by income per person."),
                      "small"))
    group_words = {"rural": _t(lang, "农村", "rural"), "urban": _t(lang, "城镇", "urban")}
    for i in range(1, 6):
        group_words[f"Q{i}"] = _t(lang, ["最低20%", "20–40%", "40–60%", "60–80%", "最高20%"][i - 1],
                                  ["poorest 20%", "20–40%", "40–60%", "60–80%", "richest 20%"][i - 1])
    for i in range(1, 11):
        group_words[f"D{i}"] = _t(lang, f"第{i}组（十等分）", f"decile {i}")
    headers = [_t(lang, "家庭组", "Group"), _t(lang, "占家庭数", "Share of households"),
               _t(lang, "平均每户得到（元）", "Gain per household (yuan)"),
               _t(lang, "占收入比例（‰）", "Share of income (‰)"), _t(lang, "受益家庭占比", "Households better off"),
               _t(lang, "占全部好处", "Share of all gains")]
    reps = designs[0].result.summary["replications"]
    best, _ = recommend(designs, target)
    for d in designs:
        dist = distribution(d)
        if dist.empty:
            continue
        views = [(("income_quintile", "urban_rural"), _t(lang, "按收入五分位与城乡", "by income quintile, urban and rural"))]
        if d is best:
            views.append((("income_decile",), _t(lang, "按收入十等分", "by income decile")))
        for dims, what in views:
            rows = []
            for _, g in dist[dist["dimension"].isin(dims)].iterrows():
                e = {"mean": g["gain_per_household_yuan"], "low": g["gain_per_household_low"],
                     "high": g["gain_per_household_high"], "n": reps}
                rows.append([group_words.get(g["group"], g["group"]), fmt_share(g["household_share"]),
                             fmt_estimate(e, lang), fmt_number(1000 * g["gain_share_of_income"], 2),
                             fmt_share(g["share_better_off"]), fmt_share(g["gain_share"])])
            doc.add(Table(headers, rows, [False] + [True] * 5, f"{d.title(lang)}{_t(lang, '：', ': ')}{what}",
                          note=_t(lang, "收入为模拟期内的家庭可支配收入；各列为各次模拟的平均值，平均每户得到一列括号内为 90% 区间。",
                                  "Income is household disposable income over the horizon; each column is the mean "
                                  "over simulations, with the 90% interval of the gain per household in brackets."),
                          widths=[1.6, 1.1, 1.9, 1.2, 1.2, 1.1]))


def _budgets(doc: Document, designs: list[Design], lang: str) -> None:
    doc.add(Heading(_t(lang, "预算执行", "Budgets")))
    rows = []
    for d in designs:
        reps = d.result.replications
        for tool, e in budget_exhaustion(d).items():
            t = d.scenario.tools[tool]
            outlay = estimate([r["tools"][tool]["outlay"] for r in reps], 1e4)
            if e["median"]:
                when = e["median"] + (f"（{e['earliest']}–{e['latest']}）" if lang == "zh" else
                                      f" ({e['earliest']} to {e['latest']})") * (e["earliest"] != e["latest"])
            else:
                when = _t(lang, "未用完", "lasted")
            rows.append([d.title(lang), tool_title(d, tool, lang), f"{t.start.isoformat()} – {t.end.isoformat()}",
                         fmt_number(t.budget_yuan / 1e4, 1), fmt_estimate(outlay, lang), when,
                         f"{e['ran_out']}/{e['replications']}"])
    doc.add(Table([_t(lang, "方案", "Design"), _t(lang, "政策工具", "Tool"), _t(lang, "起止日期", "Dates"),
                   _t(lang, "预算（万元）", "Budget (10,000 yuan)"), _t(lang, "支出（万元）", "Outlay (10,000 yuan)"),
                   _t(lang, "用完日期（中位数）", "Ran out (median)"), _t(lang, "用完的模拟次数", "Simulations run out")],
                  rows, [False, False, False, True, True, False, True],
                  _t(lang, "各政策工具的预算与用完日期", "Each tool's budget and when it ran out"),
                  note=interval_note(designs, lang), widths=[1.8, 1.8, 1.9, 1.0, 1.4, 1.6, 0.9]))


def _charts(doc: Document, designs: list[Design], charts: dict, pngs: dict[str, bytes], lang: str) -> None:
    doc.add(PageBreak(), Heading(_t(lang, "图表", "Charts")))
    for name in charts:
        caption = CHART_CAPTIONS.get(name, (name, name))[0 if lang == "zh" else 1]
        doc.add(Figure(f"charts/{name}.svg", pngs.get(name, b""), caption,
                       note=_t(lang, f"数据见 charts/{name}.csv。", f"Data in charts/{name}.csv.")))


def _numbers(doc: Document, designs: list[Design], assumptions, sources, lang: str) -> None:
    doc.add(PageBreak(), Heading(_t(lang, "数字从哪里来", "Where the numbers come from")))
    doc.add(Paragraph(_t(lang, "报告中的每个数字都由本文件夹中保存的模拟结果计算：各方案的逐次模拟汇总在 runs/<方案>/replications.json，"
                               "每日序列在 runs/<方案>/*.parquet，家庭受益分组在 runs/<方案>/household_distribution.parquet，"
                               "运行设定（情景、种子、版本）在 runs/<方案>/manifest.json；各文件各列的含义见 README.md。",
                         "Every figure is computed from the runs saved in this folder: each design's per-simulation "
                         "summaries in runs/<design>/replications.json, daily series in runs/<design>/*.parquet, gains by "
                         "household group in runs/<design>/household_distribution.parquet, how it was run (scenario, seeds, "
                         "versions) in runs/<design>/manifest.json; README.md describes every file and column.")))
    if lang == "zh":
        doc.add(Paragraph(f"模型输入的每个数字都注明了来源或假设：共 {len(sources)} 项有来源、{len(assumptions)} 项为假设，"
                          "逐项列在 sources.csv（情景文件中的原文）。"))
        return
    doc.add(Table(["design", "field", "source"], [list(r) for r in sources], [False, False, False],
                  "Sources of the input numbers", widths=[1.2, 2.2, 4.5]))
    doc.add(Table(["design", "field", "assumption"], [list(r) for r in assumptions], [False, False, False],
                  "Assumptions", widths=[1.2, 2.2, 4.5]))


def build_document(designs: list[Design], charts: dict, pngs: dict[str, bytes], target: str | None, lang: str,
                   assumptions, sources) -> Document:
    """The whole report for ``designs`` judged by ``target`` (None: no target can be evaluated or none chosen)."""
    city = designs[0].scenario.city.name
    s = designs[0].result.summary
    manifest = designs[0].result.manifest
    title = _t(lang, f"{city}促消费政策方案评估", f"{city}: consumption-policy designs assessed")
    sub = _t(lang, f"模拟期 {s['start_date']} 至 {s['end_date']}；每个方案模拟 {s['replications']} 次（抽样比例 {s['scale']}，"
                   f"种子 {s['seed']}）；模型版本 {manifest.get('model_version', '')}，代码 {describe_commit(manifest.get('git_commit', ''), 'zh', 12)}，"
                   f"生成于 {manifest.get('created', '')}",
             f"Horizon {s['start_date']} to {s['end_date']}; {s['replications']} simulation(s) per design (scale "
             f"{s['scale']}, seed {s['seed']}); model version {manifest.get('model_version', '')}, code "
             f"{describe_commit(manifest.get('git_commit', ''), 'en', 12)}, made {manifest.get('created', '')}")
    doc = Document(title, lang, subtitle=[sub])
    _summary(doc, designs, target, lang)
    _designs(doc, designs, lang)
    _targets(doc, designs, lang)
    _comparison(doc, designs, target, lang)
    _distribution(doc, designs, target, lang)
    _budgets(doc, designs, lang)
    _charts(doc, designs, charts, pngs, lang)
    _numbers(doc, designs, assumptions, sources, lang)
    return doc


def judged_target(designs: list[Design], wanted: str | None) -> str | None:
    """The target the designs are judged by: the one asked for, else the last evaluable one all designs share."""
    names = {target_name(d.scenario, wanted) for d in designs}
    return names.pop() if len(names) == 1 else None

