"""The five city scenarios: they load, every number is sourced, they run and balance, and they agree with their data.

Each scenario (scenarios/<city>.toml) encodes one seed plan. These tests check what a
wrong scenario would get wrong: a bare number, a target outside the horizon, a city
figure that no longer matches the row of calibration/data/city_statistics.csv it cites,
or an epidemic schedule that no longer follows from the national monthly statistics.
Runs use small scales (each tool also runs alone, as the run command does) and stay well under a minute.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from model.commands.run import load_with_warnings
from model.runner import run_scenario
from model.scenario import load_scenario, read_scenario_file, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
STATISTICS = ROOT / "calibration" / "data" / "city_statistics.csv"

#: city file -> (seed plan file, scale for a quick run). Tianjin has ~4.8 million households.
CITIES = {
    "lhasa": ("000_6d902cdc888d6631.txt", 0.01),
    "diqing": ("001_c005bbefdbaa2487.txt", 0.02),
    "tianjin": ("002_f12b47b876523609.txt", 0.002),
    "pingliang": ("003_22cfb6eea19a02d1.txt", 0.01),
    "guangyuan": ("004_c57924d87512a6c6.txt", 0.005),
}

#: "city_statistics.csv <city> <indicator> <year>" in a source names one row group of the data file.
CITED_ROW = re.compile(r"city_statistics\.csv (\w+) (\w+) (\d{4})")


@pytest.fixture(scope="module")
def statistics() -> pd.DataFrame:
    return pd.read_csv(STATISTICS)


@pytest.fixture(scope="module", params=sorted(CITIES))
def city(request):
    name = request.param
    return name, load_scenario(SCENARIOS / f"{name}.toml")


def test_every_city_has_a_scenario():
    present = {p.stem for p in SCENARIOS.glob("*.toml")}
    assert set(CITIES) <= present


#: The three labels a number may carry, as the loader records them in provenance.
LABEL_PREFIXES = ("derived:", "assumption:")


def unlabelled_numbers(scenario) -> list[str]:
    """Field paths of numbers with no source, derived method or assumption, or an empty one."""
    empty = []
    for path, text in scenario.provenance.items():
        for prefix in LABEL_PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix):]
        if not text.strip():
            empty.append(path)
    return list(scenario.unsourced) + empty


def test_every_number_is_sourced(city):
    """Every number in a city scenario says `source`, `derived` (with its method) or `assumption` (with its reason)."""
    name, scenario = city
    assert unlabelled_numbers(scenario) == [], f"{name}: numbers without source, derived or assumption"


#: Scenario files whose every number must be labelled: the city plans and the examples. Sweep files
#: (scenarios/sweeps/) hold run settings and the ranges a researcher explores, not figures about a city.
SCENARIO_FILES = sorted(SCENARIOS.glob("*.toml")) + sorted((SCENARIOS / "examples").glob("*.toml"))
#: Numbers that are not measured figures: a calendar year.
NOT_FIGURES = {"city.base_year"}
LABELS = ("source", "derived", "assumption")


def bare_numbers(node, path: str = "") -> list[str]:
    """Paths of numbers in a raw TOML table that are not wrapped as {value, source|derived|assumption}
    with a non-empty text, anywhere in the file (variants included)."""
    if isinstance(node, dict):
        if "value" in node and any(k in node for k in LABELS):
            ok = any(isinstance(node.get(k), str) and node[k].strip() for k in LABELS)
            return [] if ok else [path]
        return [p for k, v in node.items() for p in bare_numbers(v, f"{path}.{k}" if path else k)]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in bare_numbers(v, f"{path}[{i}]")]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return [] if path in NOT_FIGURES else [path]
    return []


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_every_number_in_a_scenario_file_says_source_derived_or_assumption(path):
    """Every number written in scenarios/ (plans, examples, their variants) carries its label and text."""
    import tomllib
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert bare_numbers(raw) == [], f"{path.name}: numbers without source, derived or assumption"


def test_bare_numbers_finds_an_unlabelled_variant_and_an_empty_label():
    raw = {"city": {"base_year": 2023, "households": {"value": 5, "assumption": " "}},
           "variants": {"v": {"tools.a.budget_yuan": 6}}, "tools": {"a": {"budget_yuan": {"value": 5, "source": "x"}}}}
    assert bare_numbers(raw) == ["city.households", "variants.v.tools.a.budget_yuan"]


def test_every_statistics_row_is_a_number_labelled_source_derived_or_assumption(statistics):
    """calibration/data/ holds one file of figures: each row is a finite number with its label (and, for derived
    and assumed rows, the method or reason; test_statistics_rows_carry_source_derived_or_assumption)."""
    import numpy as np
    data_files = sorted(p.name for p in STATISTICS.parent.iterdir() if p.suffix in (".csv", ".toml", ".json"))
    assert data_files == ["city_statistics.csv"], "a new data file needs its own label check"
    values = pd.to_numeric(statistics.value, errors="coerce")
    assert values.notna().all() and np.isfinite(values).all()
    assert statistics.label.isin(LABELS).all()


@pytest.mark.parametrize("label", ["source", "derived", "assumption"])
def test_each_label_is_accepted_and_recorded(label):
    raw = read_scenario_file(SCENARIOS / "pingliang.toml")
    raw["tools"]["e_vouchers"]["face_value_yuan"] = {"value": 25, label: "a reason"}
    scenario = scenario_from_dict(raw, "user.toml")
    recorded = scenario.provenance["tools.e_vouchers.face_value_yuan"]
    assert recorded == ("a reason" if label == "source" else f"{label}: a reason")
    assert unlabelled_numbers(scenario) == []


@pytest.mark.parametrize("entry", [{"value": 25}, {"value": 25, "derived": "  "}, {"value": 25, "assumption": ""}],
                         ids=["no label", "empty derived", "empty assumption"])
def test_a_number_without_source_derived_or_assumption_is_refused(entry):
    raw = read_scenario_file(SCENARIOS / "pingliang.toml")
    raw["tools"]["e_vouchers"]["face_value_yuan"] = entry
    scenario = scenario_from_dict(raw, "user.toml")
    assert unlabelled_numbers(scenario) == ["tools.e_vouchers.face_value_yuan"]


def test_a_date_can_carry_its_assumption():
    raw = read_scenario_file(SCENARIOS / "lhasa.toml")
    start = raw["tools"]["catering_vouchers"]["start_date"]
    assert isinstance(start, dict) and "assumption" in start, "the 餐饮券 start date is an assumption, not the plan's"
    scenario = scenario_from_dict(raw, "user.toml")
    assert scenario.tools["catering_vouchers"].start == dt.date(2023, 6, 1)
    assert scenario.provenance["tools.catering_vouchers.start_date"].startswith("assumption:")


@pytest.mark.parametrize("label, note, accepted", [
    ("source", "", True), ("derived", "2021 level / (1 + 2021 growth)", True), ("assumption", "no city figure", True),
    ("", "", False), ("estimate", "x", False), ("derived", "", False), ("assumption", " ", False)])
def test_statistics_reader_refuses_a_figure_without_label_or_method(tmp_path, label, note, accepted):
    from calibration.statistics import StatisticsError, read_statistics
    path = tmp_path / "stats.csv"
    path.write_text("city,indicator,year,period,value,unit,source,label,note\n"
                    f"town,retail_sales,2020,year,1e9,yuan,town bulletin 2020,{label},{note}\n", encoding="utf-8")
    if accepted:
        row = read_statistics(path)[0]
        assert (row.label, row.estimate) == (label, label != "source")
    else:
        with pytest.raises(StatisticsError, match="line 2.*(label|note)"):
            read_statistics(path)


def test_statistics_rows_carry_source_derived_or_assumption(statistics):
    assert set(statistics.label) <= {"source", "derived", "assumption"}
    unexplained = statistics[(statistics.label != "source") & statistics.note.fillna("").str.strip().eq("")]
    assert unexplained.empty, f"derived or assumed rows with no method or reason: {unexplained.index.tolist()}"
    assert statistics.source.fillna("").str.strip().ne("").all()


def test_tools_cite_their_plan(city):
    name, scenario = city
    seed_file = CITIES[name][0]
    raw_tools = scenario.raw.get("tools", {})
    assert raw_tools, f"{name}: no tools"
    for tool_name, table in raw_tools.items():
        assert str(table.get("source", "")).startswith(seed_file), f"{name}: tools.{tool_name} does not cite {seed_file}"


def test_targets_parse_and_lie_in_the_horizon(city):
    name, scenario = city
    assert scenario.targets, f"{name}: no targets"
    for target in scenario.targets.values():
        if target.indicator == "out_of_scope":
            assert target.out_of_scope_reason and target.description
            continue
        assert target.value is not None
        assert scenario.start <= target.period_start <= target.period_end <= scenario.end
        if target.indicator.endswith("_growth"):
            # Judged against the simulated prior period; a published base, where given, is reference only.
            assert target.prior_period is not None
            assert target.base_value_yuan is None or target.base_value_yuan > 0


def test_scenario_runs_and_balances(city):
    name, scenario = city
    # run_scenario raises AccountingError if money or sales do not add up.
    result = run_scenario(scenario, scale=CITIES[name][1], seed=1, tool_breakdown=True)
    summary = result.summary
    assert summary["retail_sales_baseline"] > 0
    budget = sum(t.budget_yuan for t in scenario.tools.values())
    assert 0 <= summary["government_outlay"] <= budget * (1 + 1e-9)
    for target_name, target in scenario.targets.items():
        row = summary["targets"][target_name]
        if target.indicator == "out_of_scope":
            assert row["met"] is None
        else:
            assert isinstance(row["met"], bool) and row["policy"] is not None


def test_cited_statistics_match_the_data_file(city, statistics):
    """A city figure that cites a row of city_statistics.csv has that row's value, and is not labelled
    `source` when every row it could rest on is derived or assumed."""
    name, scenario = city
    checked = 0
    for path, source in scenario.provenance.items():
        match = CITED_ROW.search(source)
        if not match:
            continue
        value = _scenario_number(scenario, path)
        if value is None:
            continue
        cited_city, indicator, year = match.group(1), match.group(2), int(match.group(3))
        rows = statistics[(statistics.city == cited_city) & (statistics.year == year)
                          & statistics.indicator.str.startswith(indicator)]
        assert len(rows), f"{name}: {path} cites {match.group(0)}, which is not in the data file"
        close = rows[(rows.value - value).abs() <= 0.005 * abs(value) + 1e-9]
        assert len(close), f"{name}: {path} = {value} but {match.group(0)} holds {sorted(rows.value)}"
        if close.label.ne("source").all():
            assert source.startswith(LABEL_PREFIXES), \
                f"{name}: {path} is labelled source but {match.group(0)} is {'/'.join(sorted(set(close.label)))}"
        checked += 1
    assert checked >= 5, f"{name}: only {checked} figures cite the data file"


def _scenario_number(scenario, path: str) -> float | None:
    """The number at a provenance path of the raw scenario (None for tables and lists)."""
    node = scenario.raw
    for part in path.split("."):
        if isinstance(node, dict) and "value" in node and part not in node:
            node = node["value"]
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, dict) and "value" in node:
        node = node["value"]
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None


# ---------------------------------------------------------------- epidemic schedules from the national series


def _growth(statistics: pd.DataFrame, indicator: str, year: int, period: str) -> float:
    rows = statistics[(statistics.city == "china") & (statistics.indicator == indicator)
                      & (statistics.year == year) & (statistics.period == period)]
    assert len(rows) == 1, (indicator, year, period)
    return float(rows.value.iloc[0])


def _month_periods(year: int):
    """(first day, last day, data period label) for Jan-Feb combined and each later month."""
    yield dt.date(year, 1, 1), dt.date(year, 2, calendar.monthrange(year, 2)[1]), "Jan-Feb"
    for m in range(3, 13):
        yield dt.date(year, m, 1), dt.date(year, m, calendar.monthrange(year, m)[1]), f"{year}-{m:02d}"


def _expected_2019_anchored(statistics, trend: float, years: list[int]) -> dict:
    """Multiplier = national level against the same month of 2019, over the trend; goods = 社零 less catering."""
    share = {2020: ("catering_share", 2019, "year"), 2021: ("catering_share", 2020, "year"),
             2022: ("catering_share", 2021, "year")}
    out = {}
    for m in range(11):
        goods_index = catering_index = 1.0
        for year in (2020, 2021, 2022):
            start, end, label = list(_month_periods(year))[m]
            g = _growth(statistics, "retail_sales_growth_monthly", year, label)
            gc = _growth(statistics, "catering_growth_monthly", year, label)
            s = _growth(statistics, *share[year])
            goods_index *= 1 + (g - s * gc) / (1 - s)
            catering_index *= 1 + gc
            if year in years:
                out[start] = (end, goods_index / (1 + trend) ** (year - 2019),
                              catering_index / (1 + trend) ** (year - 2019))
    return out


def _schedule(scenario, condition: str) -> dict:
    cond = next(c for c in scenario.conditions if c.name == condition)
    return {p.start: (p.end, p.multiplier) for p in cond.periods}


@pytest.mark.parametrize("name, trend, years, goods, catering", [
    ("pingliang", 0.063, [2020], "epidemic_2020_goods", "epidemic_2020_catering"),
    ("guangyuan", 0.063, [2020, 2021, 2022], "epidemic_goods", "epidemic_catering"),
    ("tianjin", 0.040, [2021, 2022], "epidemic_goods", "epidemic_catering"),
])
def test_epidemic_schedules_follow_the_national_series(statistics, name, trend, years, goods, catering):
    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    assert scenario.city.income_growth_per_year == pytest.approx(trend)
    expected = _expected_2019_anchored(statistics, trend, years)
    got_goods, got_catering = _schedule(scenario, goods), _schedule(scenario, catering)
    assert set(got_goods) == set(expected) == set(got_catering)
    for start, (end, g, c) in expected.items():
        assert got_goods[start][0] == end
        assert got_goods[start][1] == pytest.approx(g, abs=0.0015), f"{name} goods {start}"
        assert got_catering[start][1] == pytest.approx(c, abs=0.0015), f"{name} catering {start}"
    # Durable replacement follows goods spending.
    durables = next(c for c in scenario.conditions if c.applies_to == "durables")
    assert {p.start: p.multiplier for p in durables.periods} == {k: v[1] for k, v in got_goods.items()}


def test_diqing_2022_schedule_is_anchored_on_2023(statistics):
    """Diqing's horizon runs past the epidemic: 2022 demand is (1 + trend) / (1 + national 2023 growth)."""
    scenario = load_scenario(SCENARIOS / "diqing.toml")
    trend = scenario.city.income_growth_per_year
    goods, catering = _schedule(scenario, "epidemic_2022_goods"), _schedule(scenario, "epidemic_2022_catering")
    s = _growth(statistics, "catering_share", 2022, "Jan-Nov")
    april_g = _growth(statistics, "retail_sales_growth_monthly", 2023, "2023-04")
    april_c = _growth(statistics, "catering_growth_monthly", 2023, "2023-04")
    april = dt.date(2022, 4, 1)
    assert goods[april][1] == pytest.approx((1 + trend) / (1 + (april_g - s * april_c) / (1 - s)), abs=0.0015)
    assert catering[april][1] == pytest.approx((1 + trend) / (1 + april_c), abs=0.0015)
    # Nothing after 2022: 2023 is the normal year.
    assert max(end for end, _ in goods.values()) == dt.date(2022, 12, 31)


# ---------------------------------------------------------------- a user's bare number is reported


def test_bare_number_is_reported_as_unsourced():
    raw = read_scenario_file(SCENARIOS / "pingliang.toml")
    raw["tools"]["e_vouchers"]["face_value_yuan"] = 25
    scenario = scenario_from_dict(raw, "user.toml")
    assert scenario.unsourced == ("tools.e_vouchers.face_value_yuan",)


def test_run_command_warns_about_bare_numbers(tmp_path, capsys):
    text = (SCENARIOS / "lhasa.toml").read_text(encoding="utf-8")
    sourced = 'budget_yuan = { value = 3000000, assumption = "the plan names no sum: 3 million yuan for the summer catering rounds" }'
    assert sourced in text
    # The copy lives elsewhere, so its calibration file (a relative path) would not resolve.
    text = text.replace('calibration = "../calibration/fitted/lhasa.toml"\n', "")
    user = tmp_path / "user.toml"
    user.write_text(text.replace(sourced, "budget_yuan = 2500000"), encoding="utf-8")
    scenario = load_with_warnings(str(user))
    assert scenario.tools["catering_vouchers"].budget_yuan == 2500000
    err = capsys.readouterr().err
    assert "no source or assumption" in err and "tools.catering_vouchers.budget_yuan" in err
