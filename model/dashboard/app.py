"""The dashboard page: choose a city scenario, move each tool's main fields, see what happens.

Started by ``python run.py dashboard`` (``solara run`` on this file). Every change
re-runs the scenario at a reduced scale in a background thread (``use_thread``),
so the page stays usable while a run is going; the numbers shown are those of
``state.run_for_page`` with the same settings. A value outside a control's
range, or a scenario that fails to load, is shown on the page instead of a
result.

Solara is the engine behind Mesa's SolaraViz. SolaraViz draws agents on a grid
or network from Mesa agent objects; this model's households are numpy columns
and the page shows aggregate results, so a plain Solara page fits better.
Messages are plain styled text: solara.Info and solara.Error fail with the
ipyvuetify that Solara 1.58 pulls in here (their Alert gets a boolean text).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import solara  # noqa: E402

from model.dashboard.state import DASHBOARD_SCALE, apply_controls, controls_for, list_scenarios, load_raw, run_for_page  # noqa: E402
from model.reporting.fonts import FontError, use_cjk_font  # noqa: E402

try:
    use_cjk_font()
except FontError:
    pass

SHOWN = [
    ("retail_sales_policy", "社零（有政策，亿元）"),
    ("retail_sales_baseline", "社零（无政策，亿元）"),
    ("retail_sales_uplift", "新增社零（亿元）"),
    ("government_outlay", "财政支出（亿元）"),
    ("net_leverage", "净拉动（新增社零÷支出）"),
    ("gross_leverage", "总拉动比 拉动比"),
    ("benefit_poorest_40pct", "最低40%家庭受益占比"),
    ("benefit_rural", "农村家庭受益占比"),
    ("target", "目标"),
]


def _default_file(files: list[str]) -> str:
    for f in files:
        if f.endswith("small_city.toml"):
            return f
    return files[0] if files else ""


@solara.component
def Page():
    files = list_scenarios()
    chosen, set_chosen = solara.use_state(_default_file(files))
    values, set_values = solara.use_state({})

    def load():
        try:
            raw = load_raw(chosen)
            return raw, controls_for(raw), None
        except Exception as exc:  # any problem with the file is shown, not raised
            return None, [], str(exc)

    raw, controls, load_error = solara.use_memo(load, [chosen])

    def choose(name):
        set_values({})
        set_chosen(name)

    key = (chosen, tuple(sorted(values.items())))

    def compute():
        if raw is None:
            return None
        return run_for_page(apply_controls(raw, values, origin=chosen))

    result = solara.use_thread(compute, dependencies=[key])

    solara.Title("促消费政策模拟 Consumption-policy simulator")
    with solara.Columns([1, 2]):
        with solara.Column():
            solara.Select("城市方案 Scenario", values=files, value=chosen, on_value=choose)
            if load_error:
                solara.Text(f"无法加载 Cannot load: {load_error}", style={"color": "#b00020"})
            for control in controls:
                current = values.get(control.path, control.value)

                def set_value(v, path=control.path):
                    set_values({**values, path: v})

                solara.InputFloat(f"{control.label} [{control.minimum:g}–{control.maximum:g}]", value=current,
                                  on_value=set_value)
            solara.Text(f"抽样比例 scale {DASHBOARD_SCALE}（重复模拟 1 次）")
        with solara.Column():
            if result.state in (solara.ResultState.RUNNING, solara.ResultState.STARTING, solara.ResultState.WAITING):
                solara.Text("计算中 running…", style={"color": "#1565c0"})
            if result.state == solara.ResultState.ERROR:
                solara.Text(f"输入有误 Problem: {result.error}", style={"color": "#b00020"})
            elif result.state == solara.ResultState.FINISHED and result.value is not None:
                shown, monthly = result.value
                for field, label in SHOWN:
                    solara.Text(f"{label} | {field} = {shown[field]}")
                fig, ax = plt.subplots(figsize=(7, 3.2))
                x = [p.to_timestamp() for p in monthly.index]
                ax.plot(x, monthly["retail_sales_baseline"], "--", color="black", label="无政策")
                ax.plot(x, monthly["retail_sales_policy"], label="有政策")
                ax.set_ylabel("社零（亿元）")
                ax.legend()
                fig.tight_layout()
                solara.FigureMatplotlib(fig, format="png")
                plt.close(fig)
