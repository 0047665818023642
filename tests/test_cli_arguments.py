"""Command-line arguments are checked before anything runs, in one format: option, reason, what is accepted."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import DESIGNS, EXAMPLE, ROOT

import run as run_cli
from model.commands import MIN_SAMPLED_HOUSEHOLDS, CommandError, check_scale


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, option, reason, accepted", [
    (["run", str(EXAMPLE), "--seed", "-1"], "--seed", "-1 is negative", "a whole number from 0 to"),
    (["run", str(EXAMPLE), "--seed", "2.5"], "--seed", "'2.5' is not a whole number", "a whole number from 0 to"),
    (["run", str(EXAMPLE), "--seed", str(2**64)], "--seed", "is too large", "a whole number from 0 to"),
    (["run", str(EXAMPLE), "--scale", "nan"], "--scale", "nan is not a finite number", "a number above 0 and at most 1"),
    (["run", str(EXAMPLE), "--scale", "0"], "--scale", "0 must be in (0, 1]", "a number above 0 and at most 1"),
    (["run", str(EXAMPLE), "--replications", "0"], "--replications", "0 must be at least 1", "a whole number of at least 1"),
    (["compare", str(DESIGNS), "--seed", "-3"], "--seed", "-3 is negative", "a whole number from 0 to"),
    (["target", str(EXAMPLE), "--tool", "x", "--max-budget", "inf"], "--max-budget", "inf is not a finite number",
     "an amount in yuan, a finite number above 0"),
    (["sweep", "x.toml", "--rerun", "-1"], "--rerun", "-1 is negative", "a whole number of at least 0"),
    (["sweep", "x.toml", "--connect-timeout", "-1"], "--connect-timeout", "-1 must be above 0", "seconds"),
])
def test_bad_arguments_name_the_option_the_reason_and_what_is_accepted(tmp_path, capsys, args, option, reason,
                                                                     accepted):
    # run.py's own main() in this process: the same parser and exit status as `python run.py` without a new
    # interpreter's imports for each case (the scale test below and tests/test_bad_input.py run the process).
    # An exception other than the refusal would fail this test with its traceback.
    with pytest.raises(SystemExit) as refused:
        run_cli.main([*args, "--out", str(tmp_path / "out")])
    assert refused.value.code == 2
    stderr = capsys.readouterr().err
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: run.py ") and f": {option}: " in last, last
    assert reason in last and f"; accepted: {accepted}" in last, last
    assert "Traceback" not in stderr and not (tmp_path / "out").exists()


def test_a_scale_sampling_too_few_households_is_refused_with_the_smallest_accepted(tmp_path):
    proc = cli("run", str(EXAMPLE), "--scale", "1e-9", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # The example city has 100,000 households: at least 300 sampled means a scale of at least 0.003.
    assert ("error: --scale: 1e-09 samples 0 of small-city's 100,000 households (none at all)" in proc.stderr
            and "accepted: a scale from 0.003 to 1 for this city" in proc.stderr), proc.stderr
    assert not (tmp_path / "out").exists()


def test_the_scale_floor_is_exact():
    check_scale(0.003, 100_000, "x")  # 300 households: accepted
    with pytest.raises(CommandError, match=r"0.00299 samples 299 of x's 100,000 households \(each standing for 334"):
        check_scale(0.00299, 100_000, "x")
    check_scale(1.0, 120, "tiny")  # a city smaller than the floor may run whole
    with pytest.raises(CommandError, match="from 1 to 1"):
        check_scale(0.5, 120, "tiny")
    assert MIN_SAMPLED_HOUSEHOLDS == 300


def test_a_sweep_scale_below_the_floor_names_the_sweep_file(tmp_path):
    from model.sweeps import SweepError, load_sweep

    path = tmp_path / "s.toml"
    path.write_text(f'[sweep]\nscenario = "{EXAMPLE.as_posix()}"\nscale = 0.001\ndesign = "grid"\n'
                    '[[vary]]\nfield = "tools.spring_vouchers.face_value_yuan"\nvalues = [10, 20]\n', encoding="utf-8")
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    assert str(err.value).startswith(f"{path}: sweep.scale: 0.001 samples 100 of small-city's 100,000 households")


def test_results_reader_keeps_one_row_per_run_preferring_the_successful_attempt(tmp_path):
    from model.sweeps import load_sweep, read_results, run_sweep
    from model.sweeps.engines import InProcess
    from model.sweeps.store import row_schema
    from test_sweep import small_grid

    spec = load_sweep(small_grid(tmp_path, replications=1))
    out = tmp_path / "r"
    run_sweep(spec, out, engine=InProcess())
    rows = read_results(out)
    schema = row_schema(spec)
    # An error attempt of run 1 written after its success, and a success of run 2 after an error attempt.
    late_error = rows[rows.run_id == 1].assign(status="error", error="ValueError: x")
    for col in [c for c in rows if c.startswith("out.")]:
        late_error[col] = None
    early_error = rows[rows.run_id == 2].assign(status="error", error="ValueError: y")
    pq.write_table(pa.Table.from_pandas(late_error, schema=schema, preserve_index=False), out / "runs" / "part-000090.parquet")
    pq.write_table(pa.Table.from_pandas(early_error, schema=schema, preserve_index=False), out / "runs" / "part-000000.parquet")
    assert len(pd.read_parquet(out / "runs")) == 6  # the raw dataset holds every attempt ...
    again = read_results(out)  # ... the reader one row per run, the successful one
    assert list(again.run_id) == [0, 1, 2, 3] and (again.status == "ok").all()
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), rows.drop(columns="seconds"))
    assert list(read_results(out, ["out.retail_sales_uplift"]).columns) == ["run_id", "out.retail_sales_uplift"]
