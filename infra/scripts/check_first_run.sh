#!/usr/bin/env bash
# The README's first command, checked: starts ./infra/scripts/run.sh in the background on a
# fresh data directory, waits until the demo camera reports people tracked and scored
# (wait_for_detection.py), then stops the server; the server is stopped on every exit path.
# CI runs it first on its clean clone, so run.sh itself must set up .venv, the demo clip and the
# pose model (.venv-export and the export: several minutes on 2 cores). Needs port 8000 free.
# FIRST_RUN_TIMEOUT_S (default 1500) bounds the whole wait.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { echo "[first-run] $*" >&2; }
fail() { say "error: $*"; exit 1; }

timeout_s="${FIRST_RUN_TIMEOUT_S:-1500}"
port=8000
unset SHOPGUARD_SERVER__HOST SHOPGUARD_SERVER__PORT  # the README's defaults: 127.0.0.1:8000
if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  fail "port $port on 127.0.0.1 is taken (another ShopGuard server?): stop it, then run this again"
fi

work="$(mktemp -d)"
log="$work/run.log"
export SHOPGUARD_DATA_DIR="$work/data"  # a first start: the one-time password, the demo camera
server_pid=""

stop_server() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    say "stopping run.sh and the server"
    kill -TERM -- "-$server_pid" 2>/dev/null || true  # run.sh and whatever it started
    for _ in $(seq 1 30); do kill -0 "$server_pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$server_pid" 2>/dev/null; then
      say "error: the server did not stop within 30 s of SIGTERM: killed"
      kill -KILL -- "-$server_pid" 2>/dev/null || true
      status=1
    fi
    wait "$server_pid" 2>/dev/null || true  # uvicorn ends by re-raising SIGTERM: 143
    if grep -q "Application shutdown complete" "$log"; then
      say "the server stopped (application shutdown complete)"
    elif [ "$status" -eq 0 ]; then
      say "error: the server stopped without completing its shutdown"
      status=1
    fi
  fi
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    say "run.sh's output, last 40 lines (all of it, and the data directory, in $work):"
    tail -n 40 "$log" 2>/dev/null | sed 's/^/  | /' >&2 || true
  fi
  exit "$status"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting ./infra/scripts/run.sh (output in $log); the first time it sets up .venv, the demo"
say "clip and the pose model before the server starts: several minutes"
: >"$log"
started=$SECONDS
setsid infra/scripts/run.sh >"$log" 2>&1 &  # its own process group, so stopping reaches pip too
server_pid=$!

elapsed() { echo "$((SECONDS - started)) s"; }
last_report=$SECONDS
until grep -q "Uvicorn running on" "$log"; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    wait "$server_pid" || true
    server_pid=""
    if grep -q "address already in use" "$log"; then
      fail "port $port on 127.0.0.1 was taken while run.sh set up: stop the other server"
    fi
    fail "run.sh exited after $(elapsed) before the server started"
  fi
  [ "$((SECONDS - started))" -lt "$timeout_s" ] || fail "the server did not start within $timeout_s s"
  if [ "$((SECONDS - last_report))" -ge 30 ]; then
    line="$(grep -v '^ *$' "$log" | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-120 || true)"
    say "$(elapsed): setting up: ${line:-(no output yet: setup.sh installs .venv quietly)}"
    last_report=$SECONDS
  fi
  sleep 2
done
say "$(elapsed): the server runs at http://127.0.0.1:$port"

.venv/bin/python infra/scripts/wait_for_detection.py --url "http://127.0.0.1:$port" \
  --data-dir "$SHOPGUARD_DATA_DIR" --timeout-s "$((timeout_s - (SECONDS - started)))" \
  || fail "the demo camera did not show people tracked and scored (see above)"
say "$(elapsed): the first command detects: the demo camera tracks and scores people"
