"""Subcommands of run.py, one module each.

Every module in this package that defines ``register(subparsers)`` adds its
command; ``run.py`` finds them by itself, so a new command is a new file here.
A command raises ``CommandError`` for a problem the user can fix: run.py prints
it and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


class CommandError(RuntimeError):
    """A problem with what the user asked for, reported without a traceback."""


def positive_fraction(text: str) -> float:
    """argparse type: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def positive_number(what: str):
    """argparse type factory: a number above 0, described as ``what`` in errors (e.g. "seconds", "an amount in yuan")."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value
    parse.__name__ = f"positive {what}"
    return parse


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def register_all(subparsers) -> None:
    """Register every command module of this package, in name order."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(subparsers)
