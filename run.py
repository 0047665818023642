"""Command line of the consumption-policy simulator.

    python run.py run SCENARIO [--scale F] [--seed N] [--replications R] [--out DIR]

``python run.py --help`` lists every command; each lives in ``model/commands/``.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from model.accounting import AccountingError  # noqa: E402
from model.commands import CommandError, register_all  # noqa: E402
from model.scenario import ScenarioError  # noqa: E402


class Parser(argparse.ArgumentParser):
    """argparse with errors in the project's one format: ``error: OPTION: reason; accepted: ...`` (exit 2)."""

    def error(self, message: str):
        message = re.sub(r"^argument ([^:]+): ", lambda m: f"{m.group(1).split('/')[0]}: ", message)
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {self.prog}: {message}\n")


def _stop(signum, frame):  # SIGTERM unwinds like Ctrl-C, so half-written output is removed on the way out
    raise KeyboardInterrupt(f"signal {signum}")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="run.py", description="Consumption-policy simulator for Chinese cities")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    register_all(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _stop)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("\nstopped: nothing half-written was left behind", file=sys.stderr)
        return 130
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
