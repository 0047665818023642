"""`run.py dashboard`: serve the interactive design page on this machine and print its address.

    python run.py dashboard [--scenario FILE] [--port 8765] [--host localhost] [--no-browser]

The page (``model/dashboard/app.py``) is served by ``solara run`` in a child
process; this command waits until it answers, prints the address, opens a
browser when the machine has a display (unless ``--no-browser``), and stops the
server on Ctrl-C or SIGTERM (and, on Linux, the server also ends if this process
is killed outright). Solara's usage telemetry is switched off: the page talks only
to this machine, and its start-up check for a newer version is off as well.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

from model.commands import PROJECT_ROOT, CommandError

APP_MODULE = "model.dashboard.app"
DEFAULT_PORT = 8765
#: Seconds to wait for the server to answer before giving up.
START_TIMEOUT_S = 90.0


def port_number(text: str) -> int:
    """argparse type: a TCP port, 0 meaning any free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535, got {text}")
    return value


def free_port(host: str) -> int:
    """A port the operating system says is free on ``host``."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _family(host: str) -> socket.AddressFamily:
    try:
        return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise CommandError(f"--host {host}: not an address of this machine") from None


def check_port_free(host: str, port: int) -> None:
    """Refuse a port another program is listening on, before starting anything."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise CommandError(f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); "
                               "choose another port, or --port 0 for any free one") from None


def server_command(host: str, port: int) -> list[str]:
    """The command that serves the page (production mode: no reloader, minified scripts)."""
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host, "--port", str(port),
            "--production", "--no-open", "--no-check-version", "--log-level", "warning"]


def server_environment(scenario: Path | None) -> dict[str, str]:
    """The server's environment: the project importable, telemetry off, the chosen scenario."""
    from model.dashboard.state import SELECTED_SCENARIO_ENV

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    if scenario is not None:
        env[SELECTED_SCENARIO_ENV] = _listed_path(scenario)
    return env


def _listed_path(scenario: Path) -> str:
    """The scenario as the page lists it: relative to the project when inside it."""
    resolved = scenario.resolve()
    try:
        return str(resolved.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(resolved)


def wait_until_serving(url: str, process: subprocess.Popen, timeout_s: float = START_TIMEOUT_S) -> None:
    """Wait until the page answers, or fail if the server exits or takes too long."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"the dashboard server stopped with exit status {process.returncode} "
                               "(its messages are above)")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise CommandError(f"the dashboard server did not answer at {url} within {timeout_s:.0f} s")


def has_display() -> bool:
    """Whether a browser window could be shown (a desktop session, or macOS/Windows)."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _assets_warning() -> str | None:
    """A warning when the page's scripts would have to come from the internet."""
    try:
        from solara.server import settings
    except ImportError:
        return None
    if not Path(settings.assets.proxy_cache_dir).is_dir():
        return ("warning: solara-assets is not installed, so the page's scripts are fetched from a CDN and the "
                "page stays blank without internet access (pip install 'solara[assets]')")
    return None


def _die_with_parent() -> None:
    """In the server process (Linux): be sent SIGTERM when this command's process ends, however it ends."""
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _interrupt_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


def stop(process: subprocess.Popen) -> None:
    """Stop the server we started, politely first."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def command_dashboard(args: argparse.Namespace) -> int:
    try:
        import solara  # noqa: F401
    except ImportError:
        raise CommandError("the dashboard needs Solara: pip install -e . (it is a dependency)") from None
    scenario = None
    if args.scenario:
        scenario = Path(args.scenario)
        if not scenario.is_file():
            raise CommandError(f"{args.scenario}: no such scenario file")
    port = args.port or free_port(args.host)
    check_port_free(args.host, port)
    warning = _assets_warning()
    if warning:
        print(warning, file=sys.stderr)

    host_in_url = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host_in_url}:{port}/"
    # A terminated command (SIGTERM, e.g. from a test or a service manager) stops its server as Ctrl-C does.
    previous = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    process = subprocess.Popen(server_command(args.host, port), cwd=PROJECT_ROOT, env=server_environment(scenario),
                               stdout=subprocess.DEVNULL if args.quiet_server else None,
                               preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    try:
        wait_until_serving(url, process)
        print(f"Dashboard running at {url}  (Ctrl-C stops it)", flush=True)
        if not args.no_browser and has_display():
            webbrowser.open(url)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(process)
        signal.signal(signal.SIGTERM, previous)


def register(sub) -> None:
    """Add the `dashboard` command."""
    p = sub.add_parser("dashboard", help="serve the interactive design page on this machine and print its address")
    p.add_argument("--scenario", help="scenario file selected when the page opens (default: the small example)")
    p.add_argument("--host", default="localhost",
                   help="address to listen on (default localhost: only this machine can open the page)")
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    p.add_argument("--quiet-server", action="store_true", help="hide the server's own start-up messages")
    p.set_defaults(func=command_dashboard)
