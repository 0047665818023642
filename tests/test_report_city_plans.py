"""`report` on every shipped city plan: it runs, the PDF is A4 throughout, and its summary page names the
recommended design and each target's probability with and without the plan."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from pypdf import PdfReader

from conftest import ROOT
from model.scenario import display_title, read_scenario_file

A4_POINTS = (595.28, 841.89)
PLANS = ["lhasa", "diqing", "tianjin", "pingliang", "guangyuan"]


# 0.0025: the smallest plan (Diqing, 123,210 households) still samples the 300 households run.py requires.
def _report(out, *specs, scale="0.0025", replications="1"):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "report", *map(str, specs), "--scale", scale,
                           "--replications", replications, "--quiet", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("plan", PLANS)
def test_report_on_each_city_plan(plan, tmp_path):
    path = ROOT / "scenarios" / f"{plan}.toml"
    out = tmp_path / "report"
    proc = _report(out, path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    reader = PdfReader(out / "report.pdf")
    assert len(reader.pages) >= 4
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4_POINTS, abs=0.5)
    first = re.sub(r"\s+", "", reader.pages[0].extract_text())
    raw = read_scenario_file(path)
    designs = [display_title(raw["scenario"], "zh", plan)] + [display_title(v, "zh", n)
                                                              for n, v in raw.get("variants", {}).items()]
    named = [t for t in designs if re.sub(r"\s+", "", t) in first]
    assert named, f"no design named on the summary page of {plan}"
    assert "推荐方案" in first if len(designs) > 1 else "评估方案" in first
    evaluable = {n: t for n, t in raw.get("targets", {}).items() if t["indicator"] != "out_of_scope"}
    if not evaluable:
        assert "没有模型能够评价的目标" in first
    for name, t in evaluable.items():
        title = re.sub(r"\s+", "", t["title"])
        assert title in first, f"{plan}: target {name} not on the summary page"
        # Each verdict gives the probability with and without the plan, as k/R.
        verdict = first[first.index(title):]
        assert re.search(r"达成概率\d+%（\d/1）.*?不实施政策.*?达成概率\d+%（\d/1）", verdict), verdict[:300]
    # Every output folder documents itself; each run's data dictionary names the columns it writes.
    assert "report.pdf" in (out / "README.md").read_text(encoding="utf-8")
    run = next((out / "runs").iterdir())
    readme = (run / "README.md").read_text(encoding="utf-8")
    assert "retail_sales_uplift_yuan" in readme and "sum to the row of dimension `total`" in readme
    # No English sentences in the Chinese report (file names and numbers aside).
    text = " ".join(p.extract_text() for p in reader.pages)
    words = re.findall(r"\b[A-Za-z]{4,}\b", re.sub(r"\S+\.(csv|json|parquet|md|toml|png|svg|pdf)\b|runs/\S+|charts/\S+", "", text))
    assert not words, words[:20]


def test_report_on_a_plan_with_one_variant_and_a_failure_keeps_the_runs(tmp_path, monkeypatch):
    path = ROOT / "scenarios" / "pingliang.toml"
    out = tmp_path / "pair"
    proc = _report(out, path, f"{path}#rewards_on_top", replications="2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "runs" / "rewards_on_top" / "summary.json").read_text(encoding="utf-8"))
    assert summary["replications"] == 2
    first = PdfReader(out / "report.pdf").pages[0].extract_text()
    assert "2 次的第 5 至第 95 百分位" in re.sub(r"\n", "", first) or "第5至第95百分位" in re.sub(r"\s+", "", first)
