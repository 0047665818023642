"""The evidence check: the model's figures beside published ones, measured as defined."""

from __future__ import annotations

import csv
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import ROOT, build, run_py, small_city
from calibration.evidence import (EVIDENCE_FILE, MEASURES, EvidenceError, Study, measure_replication, read_evidence,
                                  voucher_window)
from model.scenario import scenario_from_dict
from model.sectors import SECTORS

DAYS = 90  # 2023-01-01 .. 2023-03-31


def fake_pair(uplift: dict[tuple[int, str], float], funds: dict, vouchers: dict, cars=None, platform=None):
    """A policy/no-policy pair whose books hold exactly the given extra sales (day, sector) -> yuan,
    and ``platform`` (policy, no-policy) daily sales through the voucher platform."""
    platform = platform or (np.zeros(DAYS), np.zeros(DAYS))

    def books(extra: bool, cars_sold):
        retail = np.zeros((DAYS, 1, len(SECTORS), 1, 1))
        if extra:
            for (day, sector), amount in uplift.items():
                retail[day, 0, SECTORS.index(sector), 0, 0] += amount
        return SimpleNamespace(retail=retail, vouchers=vouchers if extra else {}, cars_sold=cars_sold,
                               platform_sales=platform[0] if extra else platform[1])

    cars = cars or (np.zeros(DAYS), np.zeros(DAYS))
    policy = SimpleNamespace(books=books(True, cars[0]), funds=funds)
    baseline = SimpleNamespace(books=books(False, cars[1]), funds={})
    return SimpleNamespace(policy=policy, baseline=baseline)


def study(post_days=30, window_days=91) -> Study:
    return Study("t", "t", "t", {}, post_days=post_days, window_days=window_days, published=[])


def test_voucher_measures_follow_their_definitions():
    tool = {"kind": "voucher", "sectors": ["daily_goods"], "face_value_yuan": 10, "threshold_yuan": 30,
            "budget_yuan": 1000, "start_date": "2023-01-11", "end_date": "2023-01-20", "release_every_days": 7,
            "validity_days": 5}
    scenario = build(small_city(start="2023-01-01", end="2023-03-31", tools={"v": tool}))
    assert voucher_window(scenario) == (10, 23)  # first release to the last release's expiry
    issued = np.zeros(DAYS)
    issued[[10, 17]] = 5.0
    redeemed = np.zeros(DAYS)
    redeemed[12] = 5.0
    pair = fake_pair({(5, "daily_goods"): 7.0,     # before the programme: not 'during'
                      (12, "daily_goods"): 100.0,  # during
                      (23, "cars"): 50.0,          # during, a durable
                      (40, "catering"): -30.0,     # after: within post_days
                      (70, "catering"): -1000.0},  # after post_days, but within three months of the start
                     funds={"v": SimpleNamespace(paid_yuan=50.0)},
                     vouchers={"v": SimpleNamespace(issued=issued, redeemed=redeemed)},
                     platform=(np.r_[np.full(12, 5.0), 205.0, np.full(DAYS - 13, 5.0)], np.full(DAYS, 5.0)))
    m = measure_replication(study(post_days=30, window_days=91), scenario, pair)
    # The platform sees 200 more on day 12, inside the window [10, 23].
    assert m["platform_extra_spending_per_yuan_redeemed"] == pytest.approx(200 / 50)
    assert m["platform_extra_out_of_pocket_per_yuan"] == pytest.approx((200 - 50) / 50)
    assert m["extra_spending_per_yuan_redeemed"] == pytest.approx(150 / 50)
    assert m["extra_out_of_pocket_per_yuan"] == pytest.approx((150 - 50) / 50)
    assert m["redemption_rate"] == pytest.approx(0.5)
    assert m["post_programme_change_share"] == pytest.approx(-30 / 150)
    handed_out = 10 * 10.0  # ten vouchers of 10 yuan
    assert m["mpc_out_of_vouchers"] == pytest.approx((7 + 150 - 30 - 1000) / handed_out)
    assert m["share_spent_3_months_nondurables"] == pytest.approx((100 - 30 - 1000) / handed_out)
    assert m["share_spent_3_months_total"] == pytest.approx((100 + 50 - 30 - 1000) / handed_out)
    assert "car_reversal_share" not in m


def test_car_measures_follow_their_definitions():
    tool = {"kind": "car_subsidy", "subsidy_rate": 0.1, "budget_yuan": 1e8, "start_date": "2023-02-01",
            "end_date": "2023-02-10"}
    scenario = build(small_city(start="2023-01-01", end="2023-03-31", tools={"c": tool}))
    base = np.full(DAYS, 2.0)
    pol = base.copy()
    pol[31:41] += 1.0   # ten extra cars during the programme (days 31-40)
    pol[45:49] -= 1.0   # four fewer soon after
    pol[80] -= 5.0      # beyond post_days: not counted
    m = measure_replication(study(post_days=20), scenario, fake_pair({}, {}, {}, cars=(pol, base)))
    assert m["car_extra_during_share"] == pytest.approx(10 / 20)
    assert m["car_reversal_share"] == pytest.approx(4 / 10)


def test_evidence_file_cites_every_figure_and_sources_every_setting():
    studies = read_evidence()
    names = {s.name for s in studies}
    assert {"hangzhou_2020", "shaoxing_2020", "taiwan_2009", "cash_transfer", "car_subsidy"} <= names
    for s in studies:
        assert s.published, s.name
        for p in s.published:
            assert p.measure in MEASURES and len(p.source) > 20
        scenario = scenario_from_dict(s.raw, f"evidence {s.name}")
        assert scenario.unsourced == (), (s.name, scenario.unsourced)
    hangzhou = next(s for s in studies if s.name == "hangzhou_2020")
    tool = scenario_from_dict(hangzhou.raw, "x").tools["coupons"]
    assert (tool.face_value_yuan, tool.threshold_yuan, tool.validity_days) == (10, 40, 7)


def test_published_figure_without_a_source_is_an_error(tmp_path):
    text = EVIDENCE_FILE.read_text(encoding="utf-8")
    broken = text.replace('source = "Kan, Peng & Wang (2017): marginal propensity to consume out of the vouchers about 0.25"',
                          'source = ""')
    assert broken != text
    path = tmp_path / "evidence.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(EvidenceError, match=r"studies\.taiwan_2009\.published\[0\]\.source: missing"):
        read_evidence(path)


def test_command_prints_the_model_beside_the_published_figures(tmp_path):
    out = tmp_path / "evidence.csv"
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "evidence", "--study", "car_subsidy", "--study",
                           "cash_transfer", "--scale", "0.03", "--replications", "1", "--quiet", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "Parker" in done.stdout and "Mian & Sufi" in done.stdout
    with open(out, encoding="utf-8") as handle:
        rows = {(r["study"], r["measure"]): r for r in csv.DictReader(handle)}
    cash = rows[("cash_transfer", "share_spent_3_months_nondurables")]
    assert cash["published"] == "0.12 to 0.3"
    assert 0 < float(cash["model_mean"]) < 1
    total = rows[("cash_transfer", "share_spent_3_months_total")]
    assert float(total["model_mean"]) >= float(cash["model_mean"]) - 0.05
    # A time-limited car subsidy is partly paid back by fewer purchases afterwards.
    assert 0 < float(rows[("car_subsidy", "car_reversal_share")]["model_mean"]) <= 1.2


def test_unknown_study_is_an_error_naming_it(capsys):
    code, _, stderr = run_py(capsys, "evidence", "--study", "atlantis")
    assert code == 2
    assert "unknown study 'atlantis'" in stderr and "hangzhou_2020" in stderr
    module = subprocess.run([sys.executable, "-m", "calibration.evidence", "--study", "atlantis"],
                            capture_output=True, text=True, cwd=ROOT)
    assert module.returncode == 2 and "unknown study 'atlantis'" in module.stderr


def test_each_figure_is_judged_and_a_miss_shows_its_reason_in_the_table_and_the_closing_note():
    from calibration.evidence import Published, StudyResult, closing_note, comparison_rows, format_comparison

    s = Study("s", "a study", "somebody (2020)", {}, post_days=30, window_days=91, published=[
        Published("extra_spending_per_yuan_redeemed", None, 3.4, 5.8, None, "paper A"),
        Published("redemption_rate", 0.7, None, None, None, "paper B", why_missed="trips are too cheap here"),
        Published("mpc_out_of_vouchers", 0.25, None, None, None, "paper C"),
        Published("post_programme_change_share", None, None, None, "negative", "paper D"),
        Published("car_reversal_share", 1.0, None, None, None, "paper E")],
        also=["share_spent_3_months_total"])
    values = np.linspace(0.0, 1.0, 20)
    res = StudyResult(s, {"extra_spending_per_yuan_redeemed": list(4.0 + values),   # mean 4.5: in the range
                          "redemption_rate": list(0.1 + 0.0 * values),              # 0.1 vs 0.7 +- 2 x 0.14: out
                          "mpc_out_of_vouchers": list(0.9 + 0.0 * values),          # out, and no reason recorded
                          "post_programme_change_share": list(-0.1 - 0.0 * values),
                          "share_spent_3_months_total": list(values),
                          "car_reversal_share": list(0.65 + 0.0 * values)})           # 1 - 1.75 x 0.2: within 2 sd
    rows = {r["measure"]: r for r in comparison_rows([res])}
    spend = rows["extra_spending_per_yuan_redeemed"]
    assert spend["status"] == "in range" and spend["reason"] == "" and spend["model_mean"] == pytest.approx(4.5)
    assert spend["model_p05"] == pytest.approx(4.0 + np.percentile(values, 5))
    assert spend["model_p95"] == pytest.approx(4.0 + np.percentile(values, 95))
    assert rows["redemption_rate"]["status"] == "OUT OF RANGE"
    assert rows["redemption_rate"]["reason"] == "trips are too cheap here"
    assert rows["redemption_rate"]["comparison"].endswith(f"z = {(0.1 - 0.7) / (0.2 * 0.7):+.1f}")
    assert rows["mpc_out_of_vouchers"]["reason"].startswith("no reason recorded")
    assert rows["post_programme_change_share"]["status"] == "same sign"
    assert rows["share_spent_3_months_total"]["status"] == "model only"
    assert rows["car_reversal_share"]["status"] == "within 2 sd" and rows["car_reversal_share"]["reason"] == ""
    note = closing_note(list(rows.values()))
    assert note[0].startswith("3 of 5 published figures reached")
    assert len(note) == 3 and "trips are too cheap here" in note[1] and "redemption_rate" in note[1]
    text = format_comparison([res], list(rows.values()), "test", "sampling noise only")
    assert "why: trips are too cheap here" in text and "3 of 5 published figures reached" in text
    assert "4.05 to 4.95" in text  # the 90% interval beside the mean


def test_a_blank_reason_for_a_miss_is_an_error(tmp_path):
    text = EVIDENCE_FILE.read_text(encoding="utf-8")
    marker = 'source = "Kan, Peng & Wang (2017): marginal propensity to consume out of the vouchers about 0.25"'
    assert marker in text
    path = tmp_path / "evidence.toml"
    path.write_text(text.replace(marker, marker + '\nwhy_missed = " "'), encoding="utf-8")
    with pytest.raises(EvidenceError, match=r"studies\.taiwan_2009\.published\[0\]\.why_missed: must be a sentence"):
        read_evidence(path)
