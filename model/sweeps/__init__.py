"""Sweeps: many runs of one scenario over a design of field values, with replications.

A sweep file (TOML, examples in ``scenarios/sweeps/``) names a scenario, the
fields to vary by their dotted path, a design, replications per point and the
outputs to keep::

    [sweep]
    name = "small-city-vouchers-sobol"        # results go to results/sweeps/<name>/
    scenario = "../examples/small_city.toml"  # relative to the sweep file
    variant = "..."                           # optional [variants.NAME] of the scenario
    design = "sobol"                          # grid | latin_hypercube | sobol | morris
    samples = 8        # sobol: base sample N (N*(k+2) points, a power of 2);
                       # morris: trajectories (N*(k+1) points); latin_hypercube: points
    second_order = false                      # sobol only: also the pairwise indices (N*(2k+2) points)
    levels = 4                                # morris only: grid levels of each field
    replications = 2                          # runs per design point, each with its own seed
    scale = 0.01                              # share of households simulated
    seed = 20230407                           # root of every run's SeedSequence
    common_random_numbers = false             # true: replication r of every point shares its seed
    outputs = ["retail_sales_uplift", "net_leverage", "tools.spring_vouchers.uplift"]  # paths into a run's summary
    tool_breakdown = true     # run each tool alone too; by default only when an output needs it (tools.X.uplift)

    [fixed]                                   # overrides applied to every run, by field path
    "scenario.end_date" = "2023-06-30"

    [[vary]]
    field = "tools.spring_vouchers.face_value_yuan"
    range = [10, 40]                          # or values = [10, 20, 30] (grid only)
    steps = 4                                 # grid only: points across a range, ends included
    integer = true                            # round to whole numbers (default: when the field is)
    assumption = "why this range"             # or source = "where it comes from"

Every run's seed is ``SeedSequence(seed, spawn_key=(run_id,))``, which is the
``run_id``-th child of ``SeedSequence(seed).spawn(n)``; its entropy and spawn
key are stored with its row, so ``python run.py sweep FILE --rerun RUN_ID``
re-runs one row exactly. Results stream into a Parquet dataset
(``runs/part-*.parquet``) as runs finish; rerunning the same command resumes.

Field paths are those of the scenario file (``tools.NAME.FIELD``,
``city.FIELD``, ``targets.NAME.FIELD``, entries of sourced tables such as
``city.visitors.spend_per_visit_yuan.catering``); ``behaviour.NAME`` and
``behaviour.NAME.KEY`` reach the behaviour parameters even when the scenario
has no ``[behaviour]`` table. Array entries (``city.districts``) cannot be varied.

Runs go to a local process pool (one process per core) or, with
``--scheduler ADDRESS``, to a Dask distributed cluster whose scheduler and
workers can import this project; either gives the same rows. Sensitivity
indices: ``python run.py sensitivity RESULTS_DIR`` (``model/sensitivity.py``).

Modules: ``spec`` (reading and checking a sweep file), ``design`` (the points),
``worker`` (one run), ``engines`` (this process, a local pool or Dask),
``store`` (the results folder), ``execute`` (the whole sweep, and re-running a row).
"""

from model.sweeps.design import Design, build_design
from model.sweeps.engines import EngineError, SchedulerUnreachable
from model.sweeps.execute import Rerun, SweepReport, default_folder, rerun, run_sweep
from model.sweeps.spec import DESIGNS, SweepError, SweepSpec, VariedField, load_sweep
from model.sweeps.store import ResultStore, read_design, read_meta, read_results
from model.sweeps.worker import RunContext, run_task

__all__ = [
    "DESIGNS", "Design", "EngineError", "ResultStore", "Rerun", "RunContext", "SchedulerUnreachable", "SweepError",
    "SweepReport", "SweepSpec", "VariedField", "build_design", "default_folder", "load_sweep", "read_design",
    "read_meta", "read_results", "rerun", "run_sweep", "run_task",
]
