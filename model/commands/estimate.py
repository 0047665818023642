"""`run.py estimate`: estimate the household behaviour parameters jointly from the published evidence.

Method and outputs: ``calibration/estimation.py`` (simulated method of moments
as a synthetic likelihood, Gaussian-process surrogate, emcee) and
``calibration/estimate_behaviour.py`` (the evidence studies as the simulator,
the files written). Settings: ``calibration/estimation.toml``.
"""

from __future__ import annotations

import argparse

from model.commands import CommandError, positive_int


def command_estimate(args: argparse.Namespace) -> int:
    from calibration.estimation import EstimationError
    from calibration.evidence import EvidenceError
    from calibration.estimate_behaviour import main_with_args

    try:
        return main_with_args(args)
    except (EstimationError, EvidenceError) as exc:
        raise CommandError(str(exc)) from None


def register(sub) -> None:
    """Add the `estimate` command."""
    from calibration.estimate_behaviour import CONFIG_FILE, DEFAULT_OUT
    from calibration.evidence import EVIDENCE_FILE

    p = sub.add_parser("estimate", help="estimate the behaviour parameters jointly from the published evidence "
                                        "(point estimate, ensemble, fit table into calibration/estimated/)")
    p.add_argument("--config", default=str(CONFIG_FILE), help="estimation settings (default calibration/estimation.toml)")
    p.add_argument("--evidence-file", default=str(EVIDENCE_FILE), help="studies (default calibration/evidence.toml)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default calibration/estimated)")
    p.add_argument("--replace", action="store_true", help="overwrite the output folder if it exists")
    p.add_argument("--verify-members", type=positive_int, default=None,
                   help="ensemble members simulated for the fit table (default [method] fit_table_members)")
    p.add_argument("--workers", type=positive_int, default=1,
                   help="processes running parameter sets in parallel (default 1; the result does not depend on it)")
    p.add_argument("--quick", action="store_true",
                   help="a small design and short chains: checks the pipeline end to end, not an estimate to use")
    p.add_argument("--check", action="store_true",
                   help="do not estimate: re-simulate the estimate in --out (its point and first ensemble sets) and "
                        "compare with its fit runs within estimation.toml [check] tolerances; exit 1 if it moved")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=command_estimate)
