"""Calibration: fitting a city's spending fields to its base-year statistics, and the statistics file's checks."""

from __future__ import annotations

import copy
import csv
import subprocess
import sys
import tomllib

import numpy as np
import pytest

from conftest import ROOT, run_py, small_city
from calibration.fit import (CalibrationError, FitTarget, TARGET_SPECS, base_year_raw, base_year_targets,
                             city_scenario_path, fit_city, fitted_toml, format_table, newton_step, simulate_statistics,
                             with_catering_share, write_result)
from calibration.statistics import StatisticsError, annual_figure, read_statistics
from model.scenario import load_scenario, scenario_from_dict

HEADER = "city,indicator,year,period,value,unit,source,estimate,note\n"


def synthetic_city(households: float = 20000) -> dict:
    """A whole-year synthetic city; its spending fields are left to the national defaults."""
    return small_city(households=households, start="2023-01-01", end="2023-12-31")


def with_fields(raw: dict, *, household: float, catering: float, car_price: float, urban: float, rural: float,
                non_household: float | None = None) -> dict:
    out = copy.deepcopy(raw)
    city = out["city"]
    city["household_retail_share"] = household
    city["sector_shares"] = with_catering_share(
        {"daily_goods": 0.66, "catering": 0.13, "appliances": 0.05, "fuel": 0.11, "night_market": 0.05}, catering)
    city["car_price_yuan"] = car_price
    city["consumption_income_ratio"] = {"urban": urban, "rural": rural}
    if non_household is not None:
        city["non_household_retail_share"] = non_household
    return out


def statistics_of(raw: dict, scale: float) -> dict[str, float]:
    """What a run with known fields produces: these serve as the 'published' statistics."""
    scenario = scenario_from_dict(base_year_raw(raw, 2023), "truth")
    return simulate_statistics(scenario, scale, seed=0, replication=0)


def targets_from(stats: dict[str, float]) -> list[FitTarget]:
    return [FitTarget(name, spec[0], stats[name], spec[1], spec[2], spec[3], "synthetic run with known fields", 2023)
            for name, spec in TARGET_SPECS.items()]


def write_statistics(path, city: str, stats: dict[str, float], year: int = 2023) -> None:
    units = {"retail_sales": "yuan", "catering_share": "fraction", "car_share": "fraction"}
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER)
        writer = csv.writer(handle, lineterminator="\n")
        for name in TARGET_SPECS:
            writer.writerow([city, name, year, "year", repr(stats[name]), units.get(name, "yuan_per_person_per_year"),
                             "synthetic run with known fields", "false", ""])


def test_fit_recovers_the_fields_a_synthetic_city_was_generated_with():
    truth = dict(household=0.45, catering=0.18, car_price=95000.0, urban=0.58, rural=0.74)
    stats = statistics_of(with_fields(synthetic_city(), **truth), scale=1.0)
    # Start from the national defaults (car price 150,000 yuan), well away from the truth.
    result = fit_city(synthetic_city(), targets_from(stats), city_key="synth", seed=0, scale=1.0, replications=1)
    f = result.fitted
    assert result.converged, result.rows()
    assert result.start.car_price_yuan == 150000.0
    assert f.household_retail_share == pytest.approx(truth["household"], abs=0.01)
    assert f.sector_shares["catering"] == pytest.approx(truth["catering"], abs=0.005)
    assert f.car_price_yuan == pytest.approx(truth["car_price"], rel=0.03)
    assert f.consumption_income_ratio["urban"] == pytest.approx(truth["urban"], abs=0.005)
    assert f.consumption_income_ratio["rural"] == pytest.approx(truth["rural"], abs=0.005)
    assert sum(f.sector_shares.values()) == pytest.approx(1.0, abs=1e-9)
    # The start was far off, so the fit did something; the table records both.
    rows = {r["target"]: r for r in result.rows()}
    assert abs(rows["retail_sales"]["start_simulated"] / stats["retail_sales"] - 1) > 0.05
    assert all(r["within_tolerance"] for r in rows.values())
    assert result.held == []


def test_level_beyond_households_is_fitted_through_institutional_purchases():
    truth = dict(household=0.6, catering=0.13, car_price=150000.0, urban=0.616, rural=0.8, non_household=0.35)
    stats = statistics_of(with_fields(synthetic_city(10000), **truth), scale=1.0)
    targets = [t for t in targets_from(stats) if t.name in ("retail_sales", "consumption_per_capita_urban",
                                                            "consumption_per_capita_rural")]
    # Start from a low institutional share, so households alone would have to carry the level.
    start = synthetic_city(10000)
    start["city"]["non_household_retail_share"] = 0.12
    result = fit_city(start, targets, city_key="synth", seed=0, scale=1.0, replications=1)
    assert [lv.name for lv in result.held] == ["household_retail_share"]
    assert result.fitted.household_retail_share == pytest.approx(0.6)
    assert result.fitted.non_household_retail_share == pytest.approx(0.35, abs=0.01)
    assert result.converged
    text = fitted_toml(result, __import__("datetime").date(2024, 1, 1), "synth-fit.csv")
    city = tomllib.loads(text)["city"]
    assert city["non_household_retail_share"]["value"] == result.fitted.non_household_retail_share
    assert "held at the top of its plausible range" in city["household_retail_share"]["source"]
    assert "car_price_yuan" not in city  # the car share was not a target: the price stays the scenario's


def test_car_share_beyond_any_plausible_car_price_is_reported_out_of_reach():
    truth = dict(household=0.5, catering=0.13, car_price=150000.0, urban=0.6, rural=0.78)
    stats = statistics_of(with_fields(synthetic_city(5000), **truth), scale=1.0)
    stats["car_share"] = 0.45  # would need cars far dearer than 300,000 yuan with the city's ownership
    targets = [t for t in targets_from(stats) if t.name in ("retail_sales", "car_share")]
    result = fit_city(synthetic_city(5000), targets, city_key="synth", seed=0, scale=1.0, replications=1)
    assert [lv.name for lv in result.dropped] == ["car_price_yuan"]
    assert not result.converged
    assert result.fitted.car_price_yuan == 150000.0  # back at the scenario's (national) price
    assert any("car_share is out of reach" in n and "60000 to 300000" in n for n in result.notes)
    rows = {r["target"]: r for r in result.rows()}
    assert not rows["car_share"]["within_tolerance"] and rows["retail_sales"]["within_tolerance"]
    assert rows["car_share"]["fitted_field"].startswith("car_price_yuan (out of reach within 60000 to 300000")
    assert rows["car_share"]["fitted_value"] == "150000"
    assert "out of reach; car_price_yuan kept as in the scenario" in format_table(result)
    city = tomllib.loads(fitted_toml(result, __import__("datetime").date(2024, 1, 1), "synth-fit.csv"))["city"]
    assert "car_price_yuan" not in city and "household_retail_share" in city


def test_calibrate_command_writes_a_fitted_file_the_scenario_loads(tmp_path):
    example = ROOT / "scenarios" / "examples" / "small_city.toml"
    raw_truth = tomllib.loads(example.read_text(encoding="utf-8"))
    truth = dict(household=0.5, catering=0.16, car_price=120000.0, urban=0.6, rural=0.78)
    stats = statistics_of(with_fields(raw_truth, **truth), scale=0.1)
    stats_file = tmp_path / "stats.csv"
    write_statistics(stats_file, "small", stats)
    # The example gives retail_sales_base_yuan, which the fit would use as the level; use the statistic instead.
    scenario_text = example.read_text(encoding="utf-8").replace(
        'retail_sales_base_yuan = { value = 3.2e9, assumption = "synthetic: about 11,000 yuan per resident" }\n', "")
    scenario_text = scenario_text.replace('end_date = "2023-12-31"\n',
                                          'end_date = "2023-12-31"\ncalibration = "fitted/small.toml"\n', 1)
    scenario_file = tmp_path / "small.toml"
    scenario_file.write_text(scenario_text, encoding="utf-8")
    out_dir = tmp_path / "fitted"
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "calibrate", "small", "--scenario", str(scenario_file),
                           "--statistics", str(stats_file), "--out-dir", str(out_dir), "--scale", "0.1",
                           "--replications", "1", "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "retail_sales" in done.stdout and "statistic" in done.stdout
    fitted = tomllib.loads((out_dir / "small.toml").read_text(encoding="utf-8"))["city"]
    for key in ("household_retail_share", "sector_shares", "car_price_yuan", "consumption_income_ratio"):
        assert "fitted by run.py calibrate" in fitted[key]["source"], key
    assert "car_owners_per_100_households" not in fitted  # ownership is a statistic: the fit leaves it alone
    with open(out_dir / "small-fit.csv", encoding="utf-8") as handle:
        rows = {r["target"]: r for r in csv.DictReader(handle)}
    assert set(rows) == set(TARGET_SPECS)
    assert all(r["source"] == "city_statistics.csv line %d: synthetic run with known fields" % (i + 2)
               for i, r in enumerate(rows.values()))
    # The scenario loads the fitted fields through its calibration line, and reproduces the statistics.
    scenario = load_scenario(scenario_file)
    assert scenario.city.household_retail_share == fitted["household_retail_share"]["value"]
    assert scenario.city.household_retail_share == pytest.approx(truth["household"], abs=0.02)
    assert scenario.behaviour.car_price_yuan == fitted["car_price_yuan"]["value"]
    assert scenario.behaviour.car_price_yuan == pytest.approx(truth["car_price"], rel=0.08)
    again = simulate_statistics(scenario, 0.1, seed=0, replication=0)
    assert again["retail_sales"] == pytest.approx(stats["retail_sales"], rel=0.01)
    assert again["catering_share"] == pytest.approx(stats["catering_share"], abs=0.01)
    assert again["car_share"] == pytest.approx(stats["car_share"], abs=0.01)


def test_fitting_runs_the_base_year_whatever_the_horizon():
    raw = small_city(start="2024-03-01", end="2025-06-30")
    raw["city"]["base_year"] = 2023
    raw["targets"] = {"t": {"indicator": "retail_sales_level", "period": "2024", "value": 1e9}}
    base = scenario_from_dict(base_year_raw(raw, 2023), "t")
    assert (base.start.isoformat(), base.end.isoformat()) == ("2023-01-01", "2023-12-31")
    assert base.tools == {} and base.targets == {}


def test_a_nearby_year_stands_in_for_a_missing_base_year_figure(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "town,consumption_per_capita_urban,2021,year,20000,yuan_per_person_per_year,bulletin,false,\n"
                    "town,catering_share,2024,year,0.12,fraction,bulletin,false,\n"
                    "town,car_share,2019,year,0.1,fraction,bulletin,false,\n", encoding="utf-8")
    raw = small_city(start="2022-01-01", end="2022-12-31")
    raw["city"]["base_year"] = 2022
    raw["city"]["income_growth_per_year"] = 0.05
    raw["city"]["retail_sales_base_yuan"] = 3e9
    targets, notes = base_year_targets("town", scenario_from_dict(raw, "t"), read_statistics(path))
    by = {t.name: t for t in targets}
    assert by["consumption_per_capita_urban"].value == pytest.approx(20000 * 1.05)
    assert "NEAREST YEAR 2021" in by["consumption_per_capita_urban"].source
    assert by["catering_share"].value == 0.12  # shares are not grown
    assert "car_share" not in by  # 2019 is three years from 2022: too far
    assert by["retail_sales"].value == 3e9
    assert any("car_share" in n and "not fitted" in n for n in notes)


def test_catering_share_rescales_the_other_sectors_in_proportion():
    shares = {"daily_goods": 0.66, "catering": 0.13, "appliances": 0.05, "fuel": 0.11, "night_market": 0.05}
    out = with_catering_share(shares, 0.2)
    assert out["catering"] == 0.2
    assert sum(out.values()) == pytest.approx(1.0, abs=1e-12)
    assert out["fuel"] / out["appliances"] == pytest.approx(0.11 / 0.05, rel=1e-4)


def test_newton_step_pins_one_lever_at_a_time():
    """A lever whose target is out of reach stops at its bound without dragging the others to theirs."""
    jac = np.array([[74.0, -0.4e-5, 1.5], [2.0, 2.1e-5, -1.0], [-10.0, -13.3e-5, 120.5]])  # catering, car price, level
    r = np.array([0.05, 3.94, -5.73])
    x = np.array([0.138, 60000.0, 0.12])
    new = newton_step(jac, r, x, lower=np.array([0.03, 60000.0, 0.1]), upper=np.array([0.35, 300000.0, 0.75]))
    assert new[1] == 60000.0  # car price: would need to fall far below its bound
    assert new[2] == pytest.approx(0.12 + 5.73 / 120.5, abs=0.005)  # the level's lever still moves up
    assert new[0] == pytest.approx(0.138 - 0.05 / 74.0, abs=0.002)  # catering barely moves: not dragged to a bound


def test_statistic_without_year_or_source_is_an_error_naming_the_row(tmp_path, capsys):
    no_year = tmp_path / "no_year.csv"
    no_year.write_text(HEADER + "town,retail_sales,2023,year,3e9,yuan,bulletin,false,\n"
                       "town,catering_share,,year,0.1,fraction,bulletin,false,\n", encoding="utf-8")
    with pytest.raises(StatisticsError) as info:
        read_statistics(no_year)
    assert info.value.line == 3 and info.value.field == "year"
    assert "no_year.csv: line 3 (town, catering_share" in str(info.value)

    no_source = tmp_path / "no_source.csv"
    no_source.write_text(HEADER + "town,retail_sales,2023,year,3e9,yuan,,false,\n", encoding="utf-8")
    with pytest.raises(StatisticsError, match=r"line 2 .*source: missing"):
        read_statistics(no_source)

    code, _, stderr = run_py(capsys, "calibrate", "town", "--scenario",
                             ROOT / "scenarios" / "examples" / "small_city.toml", "--statistics", no_source)
    assert code == 2
    assert "no_source.csv: line 2" in stderr and "source" in stderr


def test_project_statistics_file_passes_the_checks():
    stats = read_statistics()
    assert stats and all(s.source and s.year for s in stats)
    assert annual_figure(stats, "china", "retail_sales", 2023) is not None


def test_unknown_city_is_an_error_listing_the_known_ones(capsys):
    with pytest.raises(CalibrationError, match="unknown city 'atlantis'.*lhasa.*guangyuan"):
        city_scenario_path("atlantis")
    code, _, stderr = run_py(capsys, "calibrate", "atlantis")
    assert code == 2
    assert "unknown city 'atlantis'" in stderr and "tianjin" in stderr
    code, _, stderr = run_py(capsys, "calibrate", "atlantis", "--scenario",
                             ROOT / "scenarios" / "examples" / "small_city.toml")
    assert code == 2
    assert "no statistics for city 'atlantis'" in stderr and "pingliang" in stderr


def test_written_files_replace_old_ones_whole(tmp_path):
    truth = dict(household=0.45, catering=0.15, car_price=150000.0, urban=0.6, rural=0.78)
    stats = statistics_of(with_fields(synthetic_city(5000), **truth), scale=1.0)
    targets = [t for t in targets_from(stats) if t.name == "retail_sales"]
    result = fit_city(synthetic_city(5000), targets, city_key="synth", seed=0, scale=1.0, replications=1)
    (tmp_path / "synth.toml").write_text("old", encoding="utf-8")
    toml_path, csv_path = write_result(result, tmp_path)
    assert tomllib.loads(toml_path.read_text(encoding="utf-8"))["city"]["household_retail_share"]["value"] == \
        result.fitted.household_retail_share
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary files left
    assert csv_path.read_text(encoding="utf-8").startswith("target,label,year,statistic,simulated,error")


@pytest.mark.parametrize("city", ["lhasa", "diqing", "tianjin", "pingliang", "guangyuan"])
def test_the_base_year_run_of_every_city_plan_loads_with_its_conditions_cut_to_that_year(city):
    """The strict reader refuses condition dates outside the horizon; the base-year run keeps only its year."""
    from model.scenario import read_scenario_file
    path = city_scenario_path(city)
    raw = read_scenario_file(path)
    year = int(raw["city"]["base_year"])
    scenario = scenario_from_dict(base_year_raw(raw, year), str(path))
    assert scenario.start.year == scenario.end.year == year
    periods = [p for c in scenario.conditions for p in c.periods]
    assert all(p.start.year == year and p.end.year == year for p in periods)
    # What the scenario's own conditions say about that year is kept, day for day.
    full = scenario_from_dict(raw, str(path))
    def days_in_year(conditions):
        return sum((min(p.end, scenario.end) - max(p.start, scenario.start)).days + 1
                   for c in conditions for p in c.periods if p.end >= scenario.start and p.start <= scenario.end)
    assert days_in_year(scenario.conditions) == days_in_year(full.conditions)
    # Lhasa's base year, 2021, is a normal year on its trend; the other plans' base years have conditions.
    assert days_in_year(full.conditions) > 0 or city == "lhasa"
