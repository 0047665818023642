"""The dashboard page: choose a city scenario, move each tool's main fields, see what happens.

Served by ``python run.py dashboard`` (``solara run model.dashboard.app``). Every
change re-runs the design at a reduced scale in a background thread
(``solara.use_thread``), so the page stays usable while a run is going and the
last result stays on screen, marked as out of date, until the new one arrives.
A value outside a control's range, a combination the scenario refuses, or a
scenario file that fails to load is shown on the page instead of a result; the
controls stay usable.

Why a plain Solara page and not Mesa's SolaraViz: SolaraViz steps one Mesa model
live and draws its agents (``agent_portrayal``) on a grid or network. Here a
design is judged by a pair of whole runs (policy and counterfactual on the same
random numbers), households are numpy columns rather than agent objects, and
what a planner needs is the pair's aggregate figures; so the page uses Solara,
the engine SolaraViz is built on, directly.

Numbers are written as HTML with ``data-testid="fig-KEY"`` (and the exact model
value in ``data-value``), so the end-to-end test reads exactly what is shown.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import solara  # noqa: E402

from model.dashboard import state  # noqa: E402
from model.scenario import ScenarioError  # noqa: E402

ERROR_STYLE = ("color:#b00020;background:#fdecea;border-left:4px solid #b00020;padding:6px 10px;"
               "margin:6px 0;white-space:pre-wrap")
STALE_NOTE = "以下为上一次设置的结果 Results below are for the previous settings"
CSS = """
.cps-fig-table { border-collapse: collapse; margin: 4px 0 12px 0; }
.cps-fig-table td, .cps-fig-table th { padding: 3px 10px; border-bottom: 1px solid #e0e0e0; text-align: left; }
.cps-fig-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.cps-stale { opacity: 0.55; }
.cps-met { color: #2e7d32; font-weight: 600; }
.cps-notmet { color: #b00020; font-weight: 600; }
"""


def _e(text) -> str:
    return html.escape(str(text))


def _num(fig: state.Figure) -> str:
    """A figure as an HTML span carrying its test id and exact value."""
    value = "" if fig.value is None else repr(float(fig.value))
    return (f'<span data-testid="fig-{_e(fig.key)}" data-value="{value}">{_e(fig.text)}</span>'
            f'{" " + _e(fig.unit) if fig.unit and fig.value is not None else ""}')


def _met(flag) -> str:
    if flag is None:
        return "—"
    return '<span class="cps-met">达成 met</span>' if flag else '<span class="cps-notmet">未达成 not met</span>'


def results_html(result: state.DashboardResult) -> str:
    """The figures of a run as HTML tables (headline, targets, who benefits, tools)."""
    s = result.summary
    parts = ['<h3>主要结果 Headline</h3><table class="cps-fig-table">']
    for fig in state.headline_figures(s):
        parts.append(f'<tr><td>{_e(fig.label)}</td><td class="num">{_num(fig)}</td></tr>')
    parts.append("</table>")

    targets = state.target_rows(s)
    if targets:
        parts.append('<h3>目标 Targets</h3><table class="cps-fig-table"><tr><th>目标 target</th><th>指标 indicator</th>'
                     '<th>目标值 target</th><th>有政策 with policy</th><th>无政策 without</th>'
                     '<th>有政策时 met with policy?</th><th>无政策时 met without?</th></tr>')
        for row in targets:
            label = _e(row.description or row.name)
            if row.target is None:
                parts.append(f'<tr><td>{label}</td><td>{_e(row.indicator)}</td>'
                             f'<td colspan="5">不在模型范围 not evaluated: {_e(row.note or "")}</td></tr>')
                continue
            parts.append(
                f'<tr><td>{label}</td><td>{_e(row.indicator)}</td><td class="num">{_num(row.target)}</td>'
                f'<td class="num">{_num(row.policy)}</td><td class="num">{_num(row.baseline)}</td>'
                f'<td data-testid="met-{_e(row.name)}">{_met(row.met)}</td>'
                f'<td>{_met(row.met_without_policy)}</td></tr>')
        parts.append("</table>")

    parts.append('<h3>谁受益 Who benefits</h3><table class="cps-fig-table"><tr><th>家庭 households</th>'
                 '<th>所获补贴占比 share of value received</th><th>新增消费占比 share of extra spending</th></tr>')
    for label, benefit, uplift in state.benefit_rows(s):
        parts.append(f'<tr><td>{_e(label)}</td><td class="num">{_num(benefit)}</td>'
                     f'<td class="num">{_num(uplift)}</td></tr>')
    parts.append("</table>")

    parts.append('<h3>各工具 Tools</h3><table class="cps-fig-table"><tr><th>工具 tool</th><th>类型 kind</th>'
                 '<th>支出 outlay</th><th>预算 budget</th><th>预算用完 budget ran out</th></tr>')
    for name, kind, outlay, budget, exhausted in state.tool_rows(s):
        parts.append(f'<tr><td>{_e(name)}</td><td>{_e(kind)}</td><td class="num">{_num(outlay)}</td>'
                     f'<td class="num">{_num(budget)}</td><td>{_e(exhausted)}</td></tr>')
    parts.append("</table>")
    return "".join(parts)


def Problem(testid: str, text: str):
    """A problem shown on the page (a plain styled block: it renders the same with every ipyvuetify)."""
    return solara.HTML(tag="div", unsafe_innerHTML=_e(text),
                       attributes={"data-testid": testid, "role": "alert", "style": ERROR_STYLE})


def Heading(text: str, level: int):
    """A heading (plain HTML: solara.Markdown would fetch a maths renderer this page does not need)."""
    return solara.HTML(tag=f"h{level}", unsafe_innerHTML=_e(text), attributes={"style": "margin:12px 0 4px 0"})


@solara.component
def ControlField(control: state.Control, value, problem: str | None, on_value):
    """One design field: a number box labelled with its range, and its problem if any."""
    with solara.Column(gap="0px", classes=[control.css_class]):
        solara.InputFloat(f"{control.label}  [{control.range_text}]", value=value, on_value=on_value,
                          optional=True, continuous_update=False)
        if problem:
            Problem("control-error", problem)


@solara.component
def Page():
    files = state.list_scenarios()
    path, set_path = solara.use_state(state.initial_scenario(files))
    variant, set_variant = solara.use_state(None)
    households, set_households = solara.use_state(state.DEFAULT_HOUSEHOLDS_SIMULATED)
    seed, set_seed = solara.use_state(state.DEFAULT_SEED)
    values, set_values = solara.use_state({})
    reloads, set_reloads = solara.use_state(0)
    last = solara.use_ref(None)

    loaded = solara.use_memo(lambda: state.load(path, variant), [path, variant, reloads])
    problems = state.control_problems(loaded.controls, values) if loaded.scenario else {}
    if seed is None or seed < 0:
        problems["seed"] = f"seed: {seed} — a seed is a whole number of 0 or more"
    entered = tuple(sorted(values.items()))

    def design():
        """The scenario to run and its settings, or why there is none."""
        if loaded.scenario is None or problems:
            return None, None, None
        overrides = state.overrides_from(loaded.controls, values)
        scale = state.scale_for(loaded.scenario.city.households, households)
        settings = state.Settings(path, variant, tuple(overrides.items()), scale, int(seed))
        try:
            return state.apply_overrides(loaded.scenario, overrides), settings, None
        except ScenarioError as exc:
            return None, None, str(exc)

    scenario, settings, design_error = solara.use_memo(design, [path, variant, reloads, entered, households, seed])
    wanted = settings.key() if settings else None

    def compute():
        if scenario is None:
            return None
        return state.run_cached(scenario, settings)

    # No intrusive cancel: it traces every line of the run in Python and slows it several times.
    result = solara.use_thread(compute, dependencies=[wanted, reloads], intrusive_cancel=False)
    if result.state == solara.ResultState.FINISHED and result.value is not None:
        last.current = result.value
    shown = last.current
    if shown is not None and (shown.settings.path, shown.settings.variant) != (path, variant):
        shown = None  # never show another scenario's numbers under this one's name
    running = settings is not None and result.state in (
        solara.ResultState.STARTING, solara.ResultState.WAITING, solara.ResultState.RUNNING)

    def choose_scenario(new_path):
        set_values({})
        set_variant(None)
        set_path(new_path)

    def choose_variant(name):
        set_values({})
        set_variant(None if name == "(无 none)" else name)

    solara.Title("促消费政策模拟 Consumption-policy dashboard")
    solara.Style(CSS)
    with solara.Columns([4, 7]):
        with solara.Column():
            Heading("方案设计 Design", 2)
            solara.Select("城市方案 Scenario file", values=files, value=path if path in files else None,
                          on_value=choose_scenario, classes=["scenario-select"])
            if loaded.error:
                Problem("load-error", f"无法加载方案 Cannot load this scenario:\n{loaded.error}")
            solara.Button("重新读取文件 Reload the file", on_click=lambda: set_reloads(reloads + 1), text=True)
            if loaded.variants:
                solara.Select("方案变体 Variant", values=["(无 none)", *loaded.variants],
                              value=variant or "(无 none)", on_value=choose_variant, classes=["variant-select"])
            tool = None
            for control in loaded.controls:
                if control.tool != tool:
                    tool = control.tool
                    kind = state.kind_label_zh(control.kind)
                    Heading(f"{tool} · {kind}", 4)

                def set_value(v, p=control.path):
                    set_values({**values, p: v})

                ControlField(control, values.get(control.path, control.value), problems.get(control.path),
                             set_value).key(f"{path}|{variant}|{control.path}")
            if values:
                solara.Button("恢复文件中的数值 Reset to the file's values", on_click=lambda: set_values({}),
                              text=True)
            Heading("模拟精度 Precision", 4)
            solara.Select("模拟家庭数 Households simulated", values=list(state.HOUSEHOLD_CHOICES), value=households,
                          on_value=set_households, classes=["households-select"])
            solara.InputInt("随机种子 Seed (0 or more)", value=seed, on_value=set_seed, optional=True)
            if "seed" in problems:
                Problem("control-error", problems["seed"])
        with solara.Column():
            Heading(loaded.scenario.title if loaded.scenario else path, 2)
            if problems:
                Problem("blocked", "修正标红的输入后再运行 Fix the fields marked in red to run:\n"
                        + "\n".join(problems.values()))
            if design_error:
                Problem("design-error", f"方案不成立 This design is refused:\n{design_error}")
            if result.state == solara.ResultState.ERROR and settings is not None:
                Problem("run-error", f"运行失败 The run failed: {result.error}")
            if running:
                solara.ProgressLinear(True)
                status, text = "running", f"计算中 running… (scale {settings.scale:g}, seed {settings.seed})"
            elif settings is None:
                status, text = "blocked", "未运行：请先修正上面的问题 not run: fix the problem above"
            elif result.state == solara.ResultState.FINISHED and shown is not None:
                status = "done"
                text = (f"完成 done in {shown.seconds:.1f} s · scale {shown.settings.scale:g} "
                        f"(≈{shown.households_simulated or 0:,} households simulated) · seed {shown.settings.seed} "
                        f"· 1 replication")
            else:
                status, text = "error" if result.state == solara.ResultState.ERROR else "waiting", ""
            solara.HTML(tag="div", unsafe_innerHTML=_e(text),
                        attributes={"data-testid": "run-status", "data-state": status, "data-settings": wanted or "",
                                    "style": "color:#555;margin:4px 0"})
            if shown is not None:
                stale = shown.settings.key() != wanted
                with solara.Column(classes=["cps-stale"] if stale else []):
                    if stale:
                        solara.HTML(tag="div", attributes={"style": "font-style:italic"}, unsafe_innerHTML=STALE_NOTE)
                    if shown.chart_png:
                        solara.Image(shown.chart_png)
                    solara.HTML(tag="div", unsafe_innerHTML=results_html(shown),
                                attributes={"data-testid": "results", "data-settings": shown.settings.key()})
