"""`run.py evidence`: the model beside the published evidence on vouchers, transfers and car subsidies.

Runs the settings in ``calibration/evidence.toml`` and prints the model's
figure beside each published one (``calibration/evidence.py``). It changes no
parameter.
"""

from __future__ import annotations

import argparse

from model.commands import CommandError


def command_evidence(args: argparse.Namespace) -> int:
    from calibration.evidence import EvidenceError, main_with_args

    try:
        return main_with_args(args)
    except EvidenceError as exc:
        raise CommandError(str(exc)) from None


def register(sub) -> None:
    """Add the `evidence` command."""
    from calibration.evidence import add_arguments

    p = sub.add_parser("evidence", help="run the model in settings like published studies and print both figures")
    add_arguments(p)
    p.set_defaults(func=command_evidence)
