"""Subcommands of run.py, one module each.

Every module in this package that defines ``register(subparsers)`` adds its
command; ``run.py`` finds them by itself, so a new command is a new file here.
A command raises ``CommandError`` for a problem the user can fix: run.py prints
it and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import math
import pkgutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


class CommandError(RuntimeError):
    """A problem with what the user asked for, reported without a traceback."""


# Argument types. Each refuses with the same shape as a scenario error: the value, the reason, and what is
# accepted; run.py prefixes the option (``error: --seed: -1 is negative; accepted: ...``).

MAX_SEED = 2**63 - 1  # sweep rows store seeds as 64-bit integers; numpy's SeedSequence takes any non-negative one
# Fewer sampled households than this and a run's quintiles, districts and car purchases rest on a handful of rows,
# each standing for hundreds of real households: the figures would be noise presented as results.
MIN_SAMPLED_HOUSEHOLDS = 300


def _number(text: str, accepted: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; accepted: {accepted}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number; accepted: {accepted}")
    return value


def _whole(text: str, accepted: str) -> int:
    try:
        return int(text.strip().replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; accepted: {accepted}") from None


def positive_fraction(text: str) -> float:
    """argparse type: a number in (0, 1]."""
    accepted = "a number above 0 and at most 1"
    value = _number(text, accepted)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} must be in (0, 1]; accepted: {accepted}")
    return value


def positive_number(what: str):
    """argparse type factory: a finite number above 0, described as ``what`` in errors (e.g. "seconds")."""
    accepted = f"{what}, a finite number above 0"

    def parse(text: str) -> float:
        value = _number(text, accepted)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be above 0; accepted: {accepted}")
        return value
    parse.__name__ = f"positive {what}"
    return parse


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    accepted = "a whole number of at least 1"
    value = _whole(text, accepted)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1; accepted: {accepted}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: a whole number of at least 0 (run ids)."""
    accepted = "a whole number of at least 0"
    value = _whole(text, accepted)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; accepted: {accepted}")
    return value


def seed_arg(text: str) -> int:
    """argparse type: a random seed, a whole number from 0 to 2**63 - 1 (numpy's SeedSequence takes no negatives)."""
    accepted = f"a whole number from 0 to {MAX_SEED}"
    value = _whole(text, accepted)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{text} is {'negative' if value < 0 else 'too large'}; accepted: {accepted}")
    return value


def check_scale(scale: float, households: float, name: str, option: str = "--scale") -> None:
    """Refuse a scale that samples fewer than ``MIN_SAMPLED_HOUSEHOLDS`` of a city's ``households``.

    Raises:
        CommandError: naming the option, the city, how many rows it would sample and the smallest scale accepted.
    """
    sampled = int(round(households * scale))
    if sampled < min(MIN_SAMPLED_HOUSEHOLDS, int(round(households))):  # a city smaller than the floor runs whole
        exact = MIN_SAMPLED_HOUSEHOLDS / households
        step = 10.0 ** (math.floor(math.log10(exact)) - 1) if exact > 0 else 1.0
        smallest = min(1.0, math.ceil(exact / step) * step)  # rounded up to two digits, so it is itself accepted
        per_row = f"each standing for {households / max(sampled, 1):,.0f} households" if sampled else "none at all"
        raise CommandError(f"{option}: {scale:g} samples {sampled:,} of {name}'s {households:,.0f} households "
                           f"({per_row}), too few for quintiles, districts and car purchases to mean anything; "
                           f"accepted: a scale from {smallest:.2g} to 1 for this city (at least "
                           f"{MIN_SAMPLED_HOUSEHOLDS} sampled households)")


def add_behaviour_argument(p: argparse.ArgumentParser) -> None:
    """--behaviour: which behaviour parameters replications run with (model/parameters/ensemble.py)."""
    p.add_argument("--behaviour", choices=("ensemble", "point", "documented"), default="ensemble",
                   help="ensemble (default): replication r runs estimated parameter set r, so intervals include "
                        "behavioural uncertainty; point: the point estimate; documented: behaviour.toml values. "
                        "Without a committed estimate all three run the documented values")


def add_workers_argument(p: argparse.ArgumentParser) -> None:
    """--workers: processes the replications run in (model/runner.py); results do not depend on it."""
    p.add_argument("--workers", type=positive_int, default=None,
                   help="processes the replications run in, each replication whole in one (default: one per core, "
                        "at most 2, when there are several replications); the results are the same whatever the number")


def register_all(subparsers) -> None:
    """Register every command module of this package, in name order."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(subparsers)
