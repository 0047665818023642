"""The comparison table: each column against its definition, payback and budget dates, tables, bad input."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, run_py
from model.commands import CommandError
from model.reporting.numbers import decimals_of, fmt_number
from model.reporting.compare import (COLUMN_NOTES, COLUMN_NOTES_ZH, Design, budget_exhaustion, budget_runs_out_text,
                                     check_targets, column_label, comparison_table, load_designs, paid_back_share,
                                     parse_designs, run_designs, table_markdown, text_table)
from model.outputs import RunResult
from model.scenario import load_scenario

DESIGNS = ROOT / "scenarios" / "examples" / "small_city_designs.toml"


def short_designs(tmp_path, *, target: bool = True, name: str = "designs.toml"):
    """The example designs on a January-July horizon (vouchers in April-May, then two months of payback)."""
    text = DESIGNS.read_text(encoding="utf-8")
    text = text.replace('end_date = "2023-12-31"', 'end_date = "2023-07-31"', 1)
    text = text.replace('period = "2023"', 'period = "2023-01-01..2023-07-31"')
    if not target:
        text = text[:text.index("[targets.")] + text[text.index("[variants."):]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    path = short_designs(tmp_path_factory.mktemp("designs"))
    loaded = load_designs([str(path), f"{path}#double_budget"])
    designs = run_designs(loaded, scale=0.02, seed=3, replications=2, target=None, need_target=True)
    return designs, comparison_table(designs, None, True)


def fake_result(scenario, uplift_by_rep: list[list[float]], reps: list[dict] | None = None) -> RunResult:
    """A RunResult holding only a whole-city daily uplift series per replication."""
    rows = []
    for r, path in enumerate(uplift_by_rep):
        for day, value in enumerate(path):
            rows.append({"date": pd.Timestamp("2023-01-01") + pd.Timedelta(days=day), "replication": r,
                         "dimension": "total", "category": "all", "retail_sales_baseline": 100.0,
                         "retail_sales_policy": 100.0 + value, "retail_sales_uplift": value})
    return RunResult(scenario, {"replications": len(uplift_by_rep)}, reps or [], {"daily_retail": pd.DataFrame(rows)}, {})


def test_each_column_follows_its_definition(compared):
    designs, table = compared
    for d, (_, row) in zip(designs, table.iterrows()):
        reps = d.result.replications
        outlay = np.mean([r["government_outlay"] for r in reps])
        uplift = np.mean([r["retail_sales_uplift"] for r in reps])
        baseline = np.mean([r["retail_sales_baseline"] for r in reps])
        assert row.budget_total == sum(t.budget_yuan for t in d.scenario.tools.values())
        assert row.outlay_total == pytest.approx(outlay)
        assert row.outlay_city == pytest.approx(np.mean([r["government_outlay_by_level"]["city"] for r in reps]))
        assert row.extra_growth_pp == pytest.approx(100 * uplift / baseline)
        if uplift > 0:
            assert row["cost_per_0.1pp"] == pytest.approx(outlay * baseline / (uplift * 1000))
        else:  # left blank when the extra sales are not positive (a few lumpy car purchases at this scale)
            assert row["cost_per_0.1pp"] is None or np.isnan(row["cost_per_0.1pp"])
        assert row.target == "retail_growth_2023"
        met = [r["targets"]["retail_growth_2023"]["met_without_policy"] for r in reps]
        assert row.target_probability_without_policy == pytest.approx(np.mean(met))
        q12 = [r["benefit_share"]["Q1"] + r["benefit_share"]["Q2"] for r in reps]
        assert row.benefit_poorest_40pct == pytest.approx(np.mean(q12))
        assert 0 < row.benefit_poorest_40pct < 1 and 0 < row.benefit_rural < 1
    # Twice the budget buys more extra non-durable sales on the same households and random numbers (cars and
    # appliances are a few lumpy purchases at scale 0.02: one car a row stands for is 7.5 million yuan, either sign).
    def non_durable(d):
        return np.mean([r["retail_sales_uplift"] - r["uplift_by_sector"]["cars"] - r["uplift_by_sector"]["appliances"]
                        for r in d.result.replications])
    assert non_durable(designs[1]) > non_durable(designs[0])
    assert table.loc[1, "budget_total"] == 2 * table.loc[0, "budget_total"]


def test_paid_back_share_uses_the_mean_cumulative_path():
    scenario = load_scenario(DESIGNS)
    # Replication 0 peaks at 20 and ends at 10 (half paid back); replication 1 peaks at 30 and ends at 0 (all).
    # The mean path (0, 5, 25, 10, 5) peaks at 25 and ends at 5: 0.8, not the mean of the two shares (0.75).
    result = fake_result(scenario, [[0, 10, 10, -5, -5], [0, 0, 30, -30, 0]])
    assert paid_back_share(result) == pytest.approx(0.8)
    assert paid_back_share(fake_result(scenario, [[0, 5, -10]])) == 1.0  # more than all of it: capped at 1
    assert paid_back_share(fake_result(scenario, [[0, -1, -2]])) is None  # never rose: nothing to pay back
    assert paid_back_share(fake_result(scenario, [[0, 3, 3]])) == 0.0


def test_budget_dates_are_median_and_range_over_replications():
    scenario = load_scenario(DESIGNS)
    tool = next(iter(scenario.tools))
    dates = ["2023-04-20", None, "2023-04-10", "2023-04-12"]
    reps = [{"tools": {tool: {"budget_exhausted_date": d, "outlay": 1.0}}} for d in dates]
    design = Design("x", scenario, fake_result(scenario, [[0.0]], reps))
    e = budget_exhaustion(design)[tool]
    assert (e["ran_out"], e["replications"]) == (3, 4)
    assert (e["earliest"], e["median"], e["latest"]) == ("2023-04-10", "2023-04-12", "2023-04-20")
    assert budget_runs_out_text(design) == f"{tool}: 2023-04-12 (2023-04-10–2023-04-20) (3/4)"
    lasted = Design("y", scenario, fake_result(scenario, [[0.0]], [{"tools": {tool: {"budget_exhausted_date": None}}}]))
    assert budget_runs_out_text(lasted) == ""


def test_a_budget_that_runs_out_is_dated(tmp_path):
    # The example city's car subsidy is paid first come, first served until its pool is empty: its 3,000,000 yuan
    # pays 2,400,000 over May-July at this scale and seed, so pools of half and a quarter of it run out.
    example = ROOT / "scenarios" / "examples" / "small_city.toml"
    paths = []
    for name, budget in (("half", 1500000), ("quarter", 750000)):
        path = tmp_path / f"{name}_car_pool.toml"
        path.write_text(example.read_text(encoding="utf-8").replace(
            'budget_yuan = { value = 3000000, assumption = "synthetic" }',
            f'budget_yuan = {{ value = {budget}, assumption = "synthetic" }}'), encoding="utf-8")
        paths.append(str(path))
    loaded = load_designs(paths)
    designs = run_designs(loaded, scale=0.02, seed=0, replications=1, target=None, need_target=False)
    table = comparison_table(designs, None, False)
    dates = []
    for d, text in zip(designs, table["budget_runs_out"]):
        date = d.result.replications[0]["tools"]["car_subsidy"]["budget_exhausted_date"]
        assert date is not None and dt.date(2023, 5, 1) <= dt.date.fromisoformat(date) <= dt.date(2023, 7, 31)
        assert f"car_subsidy: {date} (1/1)" in text
        dates.append(date)
    assert dates[1] < dates[0]  # half the pool runs out sooner
    assert "target_probability" not in table


def test_markdown_and_terminal_tables_define_every_column(compared):
    designs, table = compared
    for lang, notes in (("zh", COLUMN_NOTES_ZH), ("en", COLUMN_NOTES)):
        md = table_markdown(table, lang)
        for key in ("outlay_total", "extra_retail_sales", "cost_per_0.1pp", "paid_back_share", "budget_runs_out"):
            assert column_label(key, lang) in md and notes[key] in md and f"`{key}`" in md
        assert notes["outlay_*"] in md
        # Money in 万元: the mean outlay and the uplift interval as printed.
        row = table.iloc[0]
        assert f"{row.outlay_total / 1e4:,.1f}" in md
        # The interval, rounded to the decimal place of its half-width's first digit.
        e = {"mean": row.extra_retail_sales / 1e4, "low": row.extra_retail_sales_p05 / 1e4,
             "high": row.extra_retail_sales_p95 / 1e4, "n": 2}
        d = decimals_of(e)
        assert f"({fmt_number(e['low'], d)}–{fmt_number(e['high'], d)})" in md
        header = [line for line in md.splitlines() if line.startswith("| ")][0]
        assert header.count("|") == len([line for line in md.splitlines() if line.startswith("- **")]) + 1
    zh = text_table(table, "zh")
    assert all(d.label in zh.splitlines()[0] for d in designs)
    assert "财政支出合计（万元）" in zh and "提前消费期内回落比例" in zh
    # Columns line up in display width (a Chinese character takes two columns).
    first_cells = [re.search(r"\S\s{2,}(\S)", line) for line in zh.splitlines()[2:]]
    import unicodedata

    starts = {sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line[:m.start(1)])
              for line, m in zip(zh.splitlines()[2:], first_cells) if m}
    assert len(starts) == 1


def test_design_names_and_duplicates(tmp_path):
    assert parse_designs([str(DESIGNS)]) == [(str(DESIGNS), None), (str(DESIGNS), "no_threshold"),
                                             (str(DESIGNS), "double_budget"), (str(DESIGNS), "catering_only")]
    with pytest.raises(CommandError, match="named twice"):
        parse_designs([str(DESIGNS), f"{DESIGNS}#no_threshold", f"{DESIGNS}#no_threshold"])
    # One file without variants is that plan alone, against no policy.
    plain = str(ROOT / "scenarios" / "examples" / "small_city.toml")
    assert parse_designs([plain]) == [(plain, None)]
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for folder in (a, b):
        (folder / "plan.toml").write_text(DESIGNS.read_text(encoding="utf-8"), encoding="utf-8")
    labels = [label for label, _ in load_designs([str(a / "plan.toml"), str(b / "plan.toml")])]
    assert len(set(labels)) == 2


def test_targets_are_checked_before_anything_runs(tmp_path):
    path = short_designs(tmp_path)
    loaded = load_designs([str(path), f"{path}#no_threshold"])
    assert check_targets(loaded, None) == "retail_growth_2023"
    with pytest.raises(CommandError, match="has no target 'missing'.*--no-target"):
        check_targets(loaded, "missing")
    other = tmp_path / "other_target.toml"
    other.write_text(path.read_text(encoding="utf-8").replace("[targets.retail_growth_2023]", "[targets.growth_b]"),
                     encoding="utf-8")
    mixed = load_designs([str(path), str(other)])
    with pytest.raises(CommandError, match="targets differ.*--target"):
        check_targets(mixed, None)


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def test_cli_no_target_needs_the_option_and_bad_folders_lose_nothing(tmp_path, capsys):
    plain = short_designs(tmp_path, target=False, name="no_target.toml")
    code, _, stderr = run_py(capsys, "compare", plain, "--scale", "0.01", "--replications", "1", "--quiet", "--out",
                             tmp_path / "a")
    assert code == 2 and "no_target.toml" in stderr and "--no-target" in stderr
    assert not (tmp_path / "a").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "earlier.md").write_text("keep me", encoding="utf-8")
    code, _, stderr = run_py(capsys, "compare", plain, "--no-target", "--quiet", "--out", busy)
    assert code == 2 and "not empty" in stderr
    assert [p.name for p in busy.iterdir()] == ["earlier.md"] and (busy / "earlier.md").read_text() == "keep me"
    code, _, stderr = run_py(capsys, "compare", f"{plain}#nonexistent", f"{plain}#no_threshold", "--no-target",
                             "--quiet", "--out", tmp_path / "b")
    assert code == 2 and "variants.nonexistent" in stderr
    out = tmp_path / "ok"
    proc = _cli("compare", plain, "--no-target", "--scale", "0.01", "--replications", "1", "--quiet", "--lang", "en",
                "--formats", "png", "--out", out)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert "target_probability" not in table and list(table["design"])[:2] == ["no_target", "no_threshold"]
    assert sorted(p.suffix for p in (out / "charts").iterdir()) == [".csv"] * 6 + [".png"] * 6
    assert "Outlay, total (10,000 yuan)" in proc.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_paid_back_share_is_not_set_by_one_durable_spike():
    """One simulated car bought a month earlier (+300万, then -300万) leaves the figure where it was."""
    scenario = load_scenario(DESIGNS)
    everyday = [0, 10, 30, 30, 24, 24, 24]
    base = fake_result(scenario, [everyday])
    before = paid_back_share(base)
    # Cumulative path 0, 10, 40, 70, 94, 118, 142: still rising, nothing paid back.
    assert before == 0.0
    spiked = base.frames["daily_retail"].copy()
    spike = [0, 0, 3e6, 0, -3e6, 0, 0]
    total = spiked[spiked.dimension == "total"].index
    spiked.loc[total, "retail_sales_uplift"] += spike
    sectors = []
    for day, value in enumerate(spike):
        for sector in ("cars", "daily_goods"):
            sectors.append({"date": pd.Timestamp("2023-01-01") + pd.Timedelta(days=day), "replication": 0,
                            "dimension": "sector", "category": sector, "retail_sales_baseline": 0.0,
                            "retail_sales_policy": 0.0, "retail_sales_uplift": value if sector == "cars" else everyday[day]})
    with_spike = RunResult(scenario, {"replications": 1}, [], {"daily_retail": pd.concat(
        [spiked, pd.DataFrame(sectors)], ignore_index=True)}, {})
    assert paid_back_share(with_spike) == pytest.approx(before)
    # Without the sector breakdown the spike would have set it: the peak is the car, and it is all given back.
    naive = RunResult(scenario, {"replications": 1}, [], {"daily_retail": spiked}, {})
    assert paid_back_share(naive) > before + 0.5
