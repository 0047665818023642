#!/usr/bin/env bash
# Set up a fresh machine: a CJK font so charts show Chinese labels, then this package
# (with the test tools when given --test). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
if ! python -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null; then
  echo "setup.sh: this simulator needs Python 3.11, 3.12 or 3.13; 'python' is $(python --version 2>&1 || echo missing)." >&2
  echo "  Make a virtual environment with a supported one, e.g. python3.12 -m venv .venv && . .venv/bin/activate" >&2
  exit 1
fi
if [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && ! (fc-list :lang=zh 2>/dev/null | grep -q .); then
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing a CJK font (fonts-wqy-microhei) for Chinese chart labels" >&2
    apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null
  else
    echo "warning: no CJK font found; install one (e.g. fonts-wqy-microhei) for Chinese chart labels" >&2
  fi
fi
if [ "${1:-}" = "--test" ]; then
  python -m pip install -q -e ".[test]"
  # The dashboard's end-to-end test drives Debian's chromium; in CI it must run, so install it there.
  if [ "${CI:-}" = "true" ]; then
    bash .ci/install-browser
  fi
else
  python -m pip install -q -e .
fi
