"""Command line of the consumption-policy simulator.

    python run.py run SCENARIO [--scale F] [--seed N] [--replications R] [--out DIR]

``python run.py --help`` lists every command; each lives in ``model/commands/``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from model.accounting import AccountingError  # noqa: E402
from model.commands import CommandError, register_all  # noqa: E402
from model.scenario import ScenarioError  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py", description="Consumption-policy simulator for Chinese cities")
    sub = parser.add_subparsers(dest="command", required=True)
    register_all(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (CommandError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except AccountingError as exc:
        print(f"error: accounting check failed: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
