"""Sensitivity analysis of sweep results: Sobol and Morris indices against functions whose indices are known.

The known-answer tests replace the model by a formula in the sweep's engine
(everything else, design, Parquet rows, averaging over replications, is the
real path), so a wrong design-to-row matching or averaging shows as wrong
indices. One test runs the real model on the example Morris sweep.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from test_sweep import QUARTER, sweep_file

import run as run_cli
from model import sensitivity
from model.sweeps import load_sweep, run_sweep
from model.sweeps.design import encode_value
from model.sweeps.engines import InProcess

SWEEPS = ROOT / "scenarios" / "sweeps"

THREE_FIELDS = """
[[vary]]
field = "behaviour.voucher_attention_per_day"
range = [0.1, 0.5]
assumption = "test"

[[vary]]
field = "behaviour.topup_value_share"
range = [0.2, 0.8]
assumption = "test"

[[vary]]
field = "behaviour.voucher_loss_aversion"
range = [1.0, 2.0]
assumption = "test"
"""
OUTPUTS = 'outputs = ["retail_sales_uplift", "net_leverage"]'


class FormulaEngine:
    """An engine whose 'runs' evaluate a formula of the fields scaled to [0, 1], yielded in shuffled order.

    Replication 0 adds a point's noise and replication 1 subtracts it, so only a correct average per point removes it.
    """

    workers = 1
    description = "a formula"

    def __init__(self, spec, formula, noise=5.0):
        self.bounds = {f.path: (f.low, f.high) for f in spec.fields}
        self.formula = formula
        self.noise = noise

    def map_unordered(self, context, tasks):
        tasks = list(tasks)
        random.Random(3).shuffle(tasks)
        for task in tasks:
            u = [(task["values"][p] - lo) / (hi - lo) for p, (lo, hi) in self.bounds.items()]
            # Noise as large as the signal, different at each point, cancelling only in the mean of the two replications.
            noise = self.noise * np.sin(12.9898 * task["point"] + 1.0)
            y = self.formula(*u) + (noise if task["replication"] == 0 else -noise)
            row = {"run_id": task["run_id"], "point": task["point"], "replication": task["replication"],
                   "status": "ok", "error": None, "seconds": 0.0, "seed_entropy": task["entropy"],
                   "seed_spawn_key": list(task["spawn_key"]),
                   "out.retail_sales_uplift": y, "out.net_leverage": float("nan") if u[0] < 0.05 else y}
            for p, v in task["values"].items():
                row[f"param.{p}"] = encode_value(context.kinds[p], v)
            yield row

    def close(self):
        pass


def test_sobol_indices_of_a_known_function(tmp_path):
    spec = load_sweep(sweep_file(tmp_path, f'design = "sobol"\nsamples = 128\nreplications = 2\n{OUTPUTS}', THREE_FIELDS))
    out = tmp_path / "results"
    run_sweep(spec, out, engine=FormulaEngine(spec, lambda a, b, c: 4 * a + 2 * b), batch_rows=500)
    result = sensitivity.analyse(out, num_resamples=200)
    table = result.table.set_index("field")
    # y = 4a + 2b with uniform a, b: variance shares 16/20 and 4/20; c does not enter.
    assert table.loc["behaviour.voucher_attention_per_day", "S1"] == pytest.approx(0.8, abs=0.08)
    assert table.loc["behaviour.topup_value_share", "S1"] == pytest.approx(0.2, abs=0.08)
    assert table.loc["behaviour.voucher_attention_per_day", "ST"] == pytest.approx(0.8, abs=0.08)
    assert table.loc["behaviour.voucher_loss_aversion", "ST"] == pytest.approx(0.0, abs=1e-9)
    assert (table["S1_conf"] >= 0).all() and table.loc["behaviour.topup_value_share", "S1_conf"] > 0
    assert result.runs_used == 128 * 5 * 2
    assert "net_leverage" in result.skipped and "no value" in result.skipped["net_leverage"]

    paths = sensitivity.write(result)
    assert {p.name for p in paths.values()} == {"sensitivity.csv", "sensitivity.json", "sensitivity.png"}
    assert all(p.parent == out for p in paths.values())
    saved = pd.read_csv(paths["csv"])
    assert list(saved.columns) == ["output", "field", "S1", "S1_conf", "ST", "ST_conf"] and len(saved) == 3
    body = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert body["method"] == "sobol" and body["averaged_over_replications"] is True
    assert body["outputs"]["retail_sales_uplift"]["fields"]["behaviour.topup_value_share"]["S1"] == pytest.approx(
        table.loc["behaviour.topup_value_share", "S1"])
    assert paths["png"].stat().st_size > 10_000
    text = sensitivity.format_result(result)
    assert text.index("voucher_attention_per_day") < text.index("voucher_loss_aversion")


def test_morris_measures_of_a_known_function(tmp_path):
    spec = load_sweep(sweep_file(tmp_path, f'design = "morris"\nsamples = 10\nreplications = 2\n{OUTPUTS}',
                                 THREE_FIELDS))
    out = tmp_path / "results"
    run_sweep(spec, out, engine=FormulaEngine(spec, lambda a, b, c: 4 * a + 10 * b * b))
    table = sensitivity.analyse(out, ["retail_sales_uplift"], num_resamples=100).table.set_index("field")
    # Effects are in output units per move across a field's whole range: a linear 4a moves y by 4.
    assert table.loc["behaviour.voucher_attention_per_day", "mu_star"] == pytest.approx(4.0, abs=1e-9)
    assert table.loc["behaviour.voucher_attention_per_day", "sigma"] == pytest.approx(0.0, abs=1e-9)
    assert table.loc["behaviour.topup_value_share", "mu_star"] > 4.0
    assert table.loc["behaviour.topup_value_share", "sigma"] > 0.5  # 10 b^2: the effect depends on where b is
    assert table.loc["behaviour.voucher_loss_aversion", "mu_star"] == pytest.approx(0.0, abs=1e-9)


def test_morris_on_the_model_with_common_random_numbers(tmp_path):
    fixed = dict(line.split(" = ", 1) for line in QUARTER.strip().splitlines()[1:])
    fixed = {k.strip('"'): v.strip('"') for k, v in fixed.items()}
    spec = load_sweep(SWEEPS / "small_city_morris.toml", {"samples": 2, "scale": 0.005, "fixed": fixed})
    assert spec.common_random_numbers and spec.tool_breakdown
    out = tmp_path / "results"
    report = run_sweep(spec, out, engine=InProcess())
    assert report.complete and report.failed == 0
    code = run_cli.main(["sensitivity", str(out), "--resamples", "100"])
    assert code == 0
    table = pd.read_csv(out / "sensitivity.csv")
    voucher = table[table["output"] == "tools.spring_vouchers.uplift"].set_index("field")
    # The vouchers run alone against the same draws: the car subsidy's size cannot move their uplift at all.
    assert voucher.loc["tools.car_subsidy.subsidy_per_car_yuan", "mu_star"] == 0.0
    assert voucher["mu_star"].max() > 0
    outlay = table[table["output"] == "government_outlay"].set_index("field")
    assert outlay.loc["tools.car_subsidy.subsidy_per_car_yuan", "mu_star"] > 0
    assert (out / "sensitivity.png").is_file()


def test_analysis_refuses_what_it_cannot_analyse(tmp_path, capsys):
    grid = load_sweep(SWEEPS / "small_city_grid.toml", {"scale": 0.005})
    out = tmp_path / "grid"
    run_sweep(grid, out, engine=InProcess(), max_runs=1)
    with pytest.raises(sensitivity.SensitivityError, match="need a sobol or morris design; this sweep is grid"):
        sensitivity.analyse(out)

    spec = load_sweep(sweep_file(tmp_path, f'design = "sobol"\nsamples = 4\n{OUTPUTS}', THREE_FIELDS))
    partial = tmp_path / "partial"
    run_sweep(spec, partial, engine=FormulaEngine(spec, lambda a, b, c: a), max_runs=7)
    with pytest.raises(sensitivity.SensitivityError, match="not finished: 7 of 20 runs"):
        sensitivity.analyse(partial)
    run_sweep(spec, partial, engine=FormulaEngine(spec, lambda a, b, c: a))
    assert len(sensitivity.analyse(partial, ["retail_sales_uplift"]).table) == 3
    with pytest.raises(sensitivity.SensitivityError, match="not an output of this sweep"):
        sensitivity.analyse(partial, ["government_outlay"])

    assert run_cli.main(["sensitivity", str(tmp_path)]) == 2
    assert "not a sweep results folder" in capsys.readouterr().err


def test_constant_output_is_skipped_not_divided_by_zero(tmp_path):
    spec = load_sweep(sweep_file(tmp_path, f'design = "sobol"\nsamples = 8\n{OUTPUTS}', THREE_FIELDS))
    out = tmp_path / "results"
    run_sweep(spec, out, engine=FormulaEngine(spec, lambda a, b, c: 1.0, noise=0.0))
    result = sensitivity.analyse(out, ["retail_sales_uplift"])
    assert result.table.empty and "same at every point" in result.skipped["retail_sales_uplift"]
    assert "retail_sales_uplift: not analysed" in sensitivity.format_result(result)


def test_sobol_second_order_indices_find_an_interaction(tmp_path):
    spec = load_sweep(sweep_file(tmp_path, f'design = "sobol"\nsamples = 64\nsecond_order = true\n{OUTPUTS}',
                                 THREE_FIELDS))
    out = tmp_path / "results"
    run_sweep(spec, out, engine=FormulaEngine(spec, lambda a, b, c: a + (a - 0.5) * (b - 0.5) * 8, noise=0.0))
    result = sensitivity.analyse(out, ["retail_sales_uplift"], num_resamples=100)
    pairs = result.second_order["retail_sales_uplift"]
    ab = pairs["behaviour.voucher_attention_per_day|behaviour.topup_value_share"]["S2"]
    ac = pairs["behaviour.voucher_attention_per_day|behaviour.voucher_loss_aversion"]["S2"]
    # Var(a) = 1/12, Var(8 (a - 1/2)(b - 1/2)) = 64/144: the interaction carries about 84% of the variance.
    # Saltelli's S2 estimator is rough at 64 base samples (deterministic here: the design and bootstrap are seeded).
    assert ab > 0.6 and abs(ac) < 0.25
    body = sensitivity.write(result)["json"].read_text(encoding="utf-8")
    assert "second_order" in json.loads(body)["outputs"]["retail_sales_uplift"]
