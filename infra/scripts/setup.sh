#!/usr/bin/env bash
# Create .venv (Python 3.11) and install ShopGuard with the given extras (default: server).
set -euo pipefail
cd "$(dirname "$0")/../.."
extras="${1:-server}"
python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python="$candidate"; break
    fi
  done
fi
[ -n "$python" ] || { echo "ShopGuard needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -m pip install --quiet -e ".[${extras}]" 2>&1 | grep -v '^WARNING: Location' || true
case ",${extras}," in  # the app's push extension, a package of its own (docs/push.md)
  *,dev,*|*,mobile,*) .venv/bin/python -m pip install --quiet --no-deps -e mobile/extensions/flet_push 2>&1 | grep -v '^WARNING: Location' || true ;;
esac
.venv/bin/python -c 'import server, shared' || { echo "installation failed" >&2; exit 1; }
