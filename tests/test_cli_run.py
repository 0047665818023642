"""`python run.py run`: the files it writes and what they hold."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import EXAMPLE, ROOT, run_py

REQUIRED = ("retail_sales_baseline", "retail_sales_policy", "retail_sales_uplift", "government_outlay",
            "gross_leverage", "net_leverage", "tools")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "run", *args], capture_output=True, text=True,
                          timeout=300)


def test_run_writes_summary_series_and_manifest(tmp_path):
    out = tmp_path / "res"
    proc = run_cli(str(EXAMPLE), "--scale", "0.02", "--seed", "4", "--out", str(out), "--replications", "1",
                   "--tool-breakdown")
    assert proc.returncode == 0, proc.stderr
    assert "extra 社零" in proc.stdout and "net leverage" in proc.stdout
    assert "one replication: single draws with no interval" in proc.stdout
    # The header's count of simulated days is the progress bar's total (runs go on past the horizon for paybacks).
    import re
    announced = re.search(r"the progress bar counts simulated days \(([\d,]+)\)", proc.stderr)
    bar_totals = set(re.findall(r"\d+/(\d+) \[", proc.stderr))
    assert announced and bar_totals == {announced.group(1).replace(",", "")}, proc.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in REQUIRED:
        assert key in summary
    assert summary["retail_sales_uplift"] == summary["retail_sales_policy"] - summary["retail_sales_baseline"]
    assert summary["net_leverage"] == summary["retail_sales_uplift"] / summary["government_outlay"]
    for name, tool in summary["tools"].items():
        assert {"outlay", "uplift"} <= set(tool), name
    retail = pd.read_parquet(out / "daily_retail.parquet")
    assert set(retail["dimension"].unique()) >= {"total", "sector", "channel", "size_class", "location",
                                                  "income_quintile"}
    assert len(retail[retail.dimension == "total"]) == 365
    # Column names carry units, and the folder's README says each breakdown sums to the total.
    assert {"retail_sales_baseline_yuan", "retail_sales_policy_yuan", "retail_sales_uplift_yuan"} <= set(retail)
    for dimension, rows in retail.groupby("dimension", observed=True):
        by_day = rows.groupby("date")["retail_sales_policy_yuan"].sum().to_numpy()
        total = retail[retail.dimension == "total"].groupby("date")["retail_sales_policy_yuan"].sum().to_numpy()
        assert by_day == pytest.approx(total), dimension
    readme = (out / "README.md").read_text(encoding="utf-8")
    for name in ("daily_retail.parquet", "household_distribution.parquet", "retail_sales_uplift_yuan", "visitors"):
        assert name in readme
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 4 and manifest["scale"] == 0.02
    assert manifest["replication_seeds"][0]["entropy"] == 4
    assert manifest["scenario"]["scenario"]["name"] == "small-city"
    assert "numpy" in manifest["versions"] and "mesa" in manifest["versions"]
    assert manifest["git_commit"]
    for f in ("daily_outlay.parquet", "daily_vouchers.parquet", "daily_activity.parquet"):
        assert (out / f).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".res-")]


def test_replications_report_means_and_intervals(tmp_path):
    out = tmp_path / "res"
    proc = run_cli(str(EXAMPLE), "--scale", "0.01", "--replications", "3", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in ("retail_sales_uplift", "government_outlay", "net_leverage", "gross_leverage"):
        assert set(summary[key]) == {"mean", "p05", "p95"}, key
    assert "90%" in proc.stdout and "single draws" not in proc.stdout
    # Without --tool-breakdown no tool runs alone, and the output says how to get each tool's own effect.
    assert all("uplift" not in tool for tool in summary["tools"].values())
    assert "each tool's own extra 社零: not computed (add --tool-breakdown: 3 more simulations" in proc.stdout


def test_a_run_without_options_has_ten_replications_and_no_tool_runs():
    """The README's first command must give every figure an interval: ten replications unless told, like compare;
    the per-tool runs (one more simulation per tool and replication) only when asked."""
    import run

    args = run.build_parser().parse_args(["run", str(EXAMPLE)])
    assert args.replications == 10 and args.tool_breakdown is False
    assert run.build_parser().parse_args(["run", str(EXAMPLE), "--tool-breakdown"]).tool_breakdown is True
    assert run.build_parser().parse_args(["run", str(EXAMPLE), "--no-tool-breakdown"]).tool_breakdown is False


def test_bad_arguments_are_refused(tmp_path, capsys):
    code, _, stderr = run_py(capsys, "run", EXAMPLE, "--scale", "2", "--out", tmp_path / "x")
    assert code == 2 and "must be in (0, 1]" in stderr
    code, _, stderr = run_py(capsys, "run", tmp_path / "missing.toml", "--out", tmp_path / "y")
    assert code == 2 and "missing.toml" in stderr and "no such file" in stderr


def test_printed_money_keeps_its_unit_when_the_interval_rounds_to_the_mean():
    """Pingliang's appliance pool, paid in full in every replication, differs between replications only in float
    noise: it printed as 'outlay 399' with no unit. Sizes by hand: 3,989,973.70 yuan is 399 万元."""
    from model.commands.run import _wan, _yi

    paid = {"mean": 3989973.6959208897, "p05": 3989973.6959208883, "p95": 3989973.6959208907}
    assert _wan(paid) == "399 万元"
    assert _wan({"mean": 3.0e7, "p05": 2.0e7, "p95": 5.0e7}) == "3,000 万元 (90%: 2,000 to 5,000)"
    assert _wan(4.0e6) == "400 万元"
    assert _yi({"mean": 1.64e10, "p05": 1.56e10, "p95": 1.70e10}) == "164 亿元 (90%: 156 to 170)"
