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
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import solara  # noqa: E402

from model.dashboard import state  # noqa: E402
from model.scenario import ScenarioError  # noqa: E402


def _start_workers() -> None:
    """Start the replication worker processes while the page loads, so the first update does not wait for them."""
    from model.runner import ReplicationPool, default_workers

    workers = default_workers(state.DEFAULT_REPLICATIONS)
    if workers > 1:
        try:
            ReplicationPool.shared(workers).warm()
        except Exception as exc:  # the first run starts them again, and reports what fails
            print(f"warning: replication workers did not start: {exc}", file=sys.stderr)


threading.Thread(target=_start_workers, name="start-replication-workers", daemon=True).start()

ERROR_STYLE = ("color:#b00020;background:#fdecea;border-left:4px solid #b00020;padding:6px 10px;"
               "margin:6px 0;white-space:pre-wrap")
STALE_NOTE = "以下为上一次设置的结果 Results below are for the previous settings"
CSS = """
.cps-fig-table { border-collapse: collapse; margin: 4px 0 12px 0; }
.cps-fig-table td, .cps-fig-table th { padding: 3px 10px; border-bottom: 1px solid #e0e0e0; text-align: left; }
.cps-fig-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.cps-stale { opacity: 0.55; }
.cps-int { color: #666; font-size: 0.85em; margin-left: 4px; }
.cps-parsed { color: #2e7d32; font-size: 0.85em; margin: 2px 0 8px 2px; }
.cps-minor td { color: #777; font-size: 0.9em; }
.cps-note { color: #555; font-size: 0.9em; margin: 2px 0 8px 0; }
/* Below about 900 px the design column stacks above the results, so nothing is squeezed or cut. */
@media (max-width: 900px) {
  .cps-layout { flex-wrap: wrap !important; }
  .cps-layout > div { flex: 1 1 100% !important; max-width: 100% !important; min-width: 0 !important; }
  .cps-fig-table { font-size: 0.9em; }
}
.cps-results { overflow-x: auto; max-width: 100%; }
.cps-met { color: #2e7d32; font-weight: 600; }
.cps-notmet { color: #b00020; font-weight: 600; }
"""


def _e(text) -> str:
    return html.escape(str(text))


def _num(fig: state.Figure) -> str:
    """A figure as an HTML span carrying its test id and exact value, then its 90% interval when it has one."""
    value = "" if fig.value is None else repr(float(fig.value))
    interval = fig.interval_text
    return (f'<span data-testid="fig-{_e(fig.key)}" data-value="{value}">{_e(fig.text)}</span>'
            f'{" " + _e(fig.unit) if fig.unit and fig.value is not None else ""}'
            + (f'<span class="cps-int" data-testid="int-{_e(fig.key)}">（90%: {_e(interval)}）</span>' if interval else ""))


def _met(flag, replications: int = 1) -> str:
    """Met or not (one replication), or in how many replications it is met."""
    if flag is None:
        return "—"
    if isinstance(flag, dict):
        p = flag.get("probability")
        if p is None:
            return "—"
        k = round(p * replications)
        css = "cps-met" if p >= 0.5 else "cps-notmet"
        return f'<span class="{css}">{k}/{replications} 次达成 met in {k} of {replications} ({p:.0%})</span>'
    return '<span class="cps-met">达成 met</span>' if flag else '<span class="cps-notmet">未达成 not met</span>'


def results_html(result: state.DashboardResult, before: state.DashboardResult | None = None) -> str:
    """The figures of a run as HTML tables (change from the file's design, headline, targets, who benefits, tools)."""
    s = result.summary
    reps = result.settings.replications
    parts = []
    if reps > 1:
        parts.append(f'<p class="cps-note">括号内为 {reps} 次模拟的 90% 区间（各次只有随机数不同） · '
                     f'brackets: 90% interval over {reps} simulations that differ only in their random numbers</p>')
    if before is not None and before.settings.key() != result.settings.key():
        parts.append('<h3>改动的效果 Effect of your change (文件中的方案 → 现在 file\'s design → now)</h3>'
                     '<table class="cps-fig-table" data-testid="change">')
        for label, b, a in state.change_figures(before, result):
            parts.append(f'<tr><td>{_e(label)}</td><td class="num">{_num(b)}</td><td>→</td>'
                         f'<td class="num">{_num(a)}</td></tr>')
        marginal = state.marginal_leverage(before, result)
        parts.append(f'<tr><td>{_e(marginal.label)}</td><td colspan="3" class="num">{_num(marginal)}</td></tr></table>')
    parts.append('<h3>主要结果 Headline</h3><table class="cps-fig-table">')
    for fig in state.headline_figures(s):
        minor = ' class="cps-minor"' if fig.key == "gross_leverage" else ""
        parts.append(f'<tr{minor}><td>{_e(fig.label)}</td><td class="num">{_num(fig)}</td></tr>')
    parts.append("</table>")

    targets = state.target_rows(s)
    if targets:
        parts.append('<h3>目标 Targets</h3>')
        if all(row.target is None for row in targets):
            parts.append(f'<p class="cps-note" data-testid="no-target">本计划没有模型能够评价的目标（{len(targets)} 项均超出模型范围） · '
                         f'No target can be evaluated: all {len(targets)} are outside the model\'s scope</p>')
        parts.append('<table class="cps-fig-table"><tr><th>目标 target</th><th>指标 indicator</th>'
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
                f'<td data-testid="met-{_e(row.name)}">{_met(row.met, reps)}</td>'
                f'<td>{_met(row.met_without_policy, reps)}</td></tr>')
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


def _typed_text(value) -> str:
    """A control's value as the text box shows it: as typed, or the file's number with separators."""
    if isinstance(value, str):
        return value
    return f"{value:,.10g}"


@solara.component
def ControlField(control: state.Control, value, problem: str | None, on_value):
    """One design field: a text box that takes amounts as planners write them (200万, 1.5亿, 3,000,000),
    the value it will use, and its problem if any (the problem goes as soon as the text is fixed)."""
    with solara.Column(gap="0px", classes=[control.css_class]):
        solara.InputText(f"{control.label}  [{control.range_text}]", value=_typed_text(value), on_value=on_value,
                         continuous_update=False)
        if problem:
            Problem("control-error", problem)
        else:
            try:
                used = state.parse_amount(value)
            except state.AmountError:
                used = None
            if used is not None:
                solara.HTML(tag="div", unsafe_innerHTML=_e(f"使用 uses: {state.amount_text(used, control.unit)}"),
                            attributes={"data-testid": "parsed", "data-value": repr(float(used)),
                                        "class": "cps-parsed"})


@solara.component
def Page():
    files = state.list_scenarios()
    labels = solara.use_memo(lambda: {state.scenario_label(f): f for f in files}, [tuple(files)])
    path, set_path = solara.use_state(state.initial_scenario(files))
    variant, set_variant = solara.use_state(None)
    households, set_households = solara.use_state(state.DEFAULT_HOUSEHOLDS_SIMULATED)
    replications, set_replications = solara.use_state(state.DEFAULT_REPLICATIONS)
    seed, set_seed = solara.use_state(state.DEFAULT_SEED)
    values, set_values = solara.use_state({})
    reloads, set_reloads = solara.use_state(0)
    last = solara.use_ref(None)
    last_file_design = solara.use_ref(None)

    loaded = solara.use_memo(lambda: state.load(path, variant), [path, variant, reloads])
    problems = state.control_problems(loaded.controls, values) if loaded.scenario else {}
    if seed is None or seed < 0:
        problems["seed"] = f"随机种子须为 0 或更大的整数 · seed: {seed} — a seed is a whole number of 0 or more"
    entered = tuple(sorted((k, str(v)) for k, v in values.items()))

    def design():
        """The scenario to run and its settings, or why there is none."""
        if loaded.scenario is None or problems:
            return None, None, None
        overrides = state.overrides_from(loaded.controls, values)
        scale = state.scale_for(loaded.scenario.city.households, households)
        settings = state.Settings(path, variant, tuple(overrides.items()), scale, int(seed), int(replications))
        try:
            return state.apply_overrides(loaded.scenario, overrides), settings, None
        except ScenarioError as exc:
            return None, None, str(exc)

    scenario, settings, design_error = solara.use_memo(
        design, [path, variant, reloads, entered, households, seed, replications])
    wanted = settings.key() if settings else None

    def compute():
        if scenario is None:
            return None
        after = state.run_cached(scenario, settings)
        # The file's own design on the same settings: the 'before' of the change (cached after the first run).
        before = after if not settings.overrides else state.run_cached(loaded.scenario, settings.file_design())
        return after, before

    # No intrusive cancel: it traces every line of the run in Python and slows it several times.
    result = solara.use_thread(compute, dependencies=[wanted, reloads], intrusive_cancel=False)
    if result.state == solara.ResultState.FINISHED and result.value is not None:
        last.current, last_file_design.current = result.value
    shown = last.current
    before = last_file_design.current
    if shown is not None and (shown.settings.path, shown.settings.variant) != (path, variant):
        shown = None  # never show another scenario's numbers under this one's name
    running = settings is not None and result.state in (
        solara.ResultState.STARTING, solara.ResultState.WAITING, solara.ResultState.RUNNING)

    def choose_scenario(label):
        set_values({})
        set_variant(None)
        set_path(labels.get(label, label))

    def choose_variant(name):
        set_values({})
        set_variant(None if name == "(无 none)" else name)

    current_label = next((k for k, v in labels.items() if v == path), None)
    solara.Title("促消费政策模拟 Consumption-policy dashboard")
    solara.Style(CSS)
    with solara.Columns([4, 7], classes=["cps-layout"]):
        with solara.Column():
            Heading("方案设计 Design", 2)
            solara.Select("城市方案 City plan", values=list(labels), value=current_label,
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
                    title = (loaded.scenario.raw.get("tools", {}).get(tool, {}).get("title") or tool) \
                        if loaded.scenario else tool
                    Heading(f"{title} · {kind}", 4)

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
            solara.Select("模拟次数 Simulations (for the 90% interval)", values=list(state.REPLICATION_CHOICES),
                          value=replications, on_value=set_replications, classes=["replications-select"])
            solara.InputInt("随机种子 Seed (0 or more)", value=seed, on_value=set_seed, optional=True)
            if "seed" in problems:
                Problem("control-error", problems["seed"])
        with solara.Column(classes=["cps-results"]):
            Heading(loaded.scenario.title if loaded.scenario else path, 2)
            if problems:
                Problem("blocked", "修正标红的输入后再运行 Fix the fields marked in red to run:\n"
                        + "\n".join(problems.values()))
            if design_error:
                Problem("design-error", f"方案不成立 This design is refused:\n{design_error}")
            if result.state == solara.ResultState.ERROR and settings is not None:
                Problem("run-error", f"运行失败 The run failed: {result.error}")
            stale = shown is not None and shown.settings.key() != wanted
            if running:
                solara.ProgressLinear(True)
                status = "running"
                text = (f"计算中 running… {settings.replications} 次模拟 simulations × 2 (有/无政策 with and without "
                        f"the policy) · scale {settings.scale:g} · seed {settings.seed}")
            elif settings is None:
                status, text = "blocked", "未运行：请先修正上面的问题 not run: fix the problem above"
            elif result.state == solara.ResultState.FINISHED and shown is not None and not stale:
                status = "done"
                text = (f"完成 done in {shown.seconds:.1f} s · scale {shown.settings.scale:g} "
                        f"(≈{shown.households_simulated or 0:,} households simulated) · seed {shown.settings.seed} "
                        f"· {shown.settings.replications} 次模拟 simulation(s)")
            else:
                status, text = "error" if result.state == solara.ResultState.ERROR else "waiting", ""
            solara.HTML(tag="div", unsafe_innerHTML=_e(text),
                        attributes={"data-testid": "run-status", "data-state": status, "data-settings": wanted or "",
                                    "style": "color:#555;margin:4px 0"})
            if shown is not None:
                with solara.Column(classes=["cps-stale"] if stale else []):
                    if stale:
                        solara.HTML(tag="div", attributes={"style": "font-style:italic", "data-testid": "stale"},
                                    unsafe_innerHTML=STALE_NOTE)
                    if shown.chart_png:
                        solara.Image(shown.chart_png, width="100%")
                    pair = before if before is not None and before.settings.key() == shown.settings.file_design().key() \
                        else None
                    solara.HTML(tag="div", unsafe_innerHTML=results_html(shown, pair),
                                attributes={"data-testid": "results", "data-settings": shown.settings.key()})
