"""`run.py dashboard`: start the interactive page on localhost and print its address."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from model.commands import PROJECT_ROOT, CommandError

APP = PROJECT_ROOT / "model" / "dashboard" / "app.py"


def solara_command(host: str, port: int) -> list[str]:
    """The command that serves the page."""
    solara = shutil.which("solara")
    base = [solara] if solara else [sys.executable, "-m", "solara"]
    return base + ["run", str(APP), "--host", host, "--port", str(port), "--production", "--no-open"]


def command_dashboard(args: argparse.Namespace) -> int:
    try:
        import solara  # noqa: F401
    except ImportError:
        raise CommandError("the dashboard needs Solara: pip install -e . (it is a dependency)") from None
    url = f"http://{args.host}:{args.port}"
    print(f"dashboard at {url}  (Ctrl-C stops it)", flush=True)
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        return subprocess.call(solara_command(args.host, args.port), cwd=PROJECT_ROOT, env=env)
    except KeyboardInterrupt:
        return 0


def register(sub) -> None:
    """Add the `dashboard` command."""
    p = sub.add_parser("dashboard", help="start the interactive page on localhost")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.set_defaults(func=command_dashboard)
