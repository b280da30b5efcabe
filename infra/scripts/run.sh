#!/usr/bin/env bash
# Set up and run the server on the embedded defaults: SQLite and files under ./data,
# http://127.0.0.1:8000. Places the pose model first (prepare_weights.sh: a few minutes the
# first time, skipped while its sha256 matches); when that fails the server still starts and
# reports why cameras are not analysed. The first start prints the admin's one-time password,
# and a server without cameras starts with the demo camera looping media/demo/vtest.mp4 (when
# it could be prepared; SHOPGUARD_DEMO_VIDEO= turns the demo off).
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/setup.sh server
infra/scripts/prepare_demo.sh
if ! infra/scripts/prepare_weights.sh; then
  cat >&2 <<'MSG'
[run] The pose model could not be placed (the [weights] lines above say which step failed).
[run] The server starts anyway, but its cameras are not analysed: GET /api/v1/pipeline/stats
[run] shows analysis_error. Fix the cause (PyPI unreachable? a proxy? Python 3.11 for
[run] .venv-export?), then run ./infra/scripts/prepare_weights.sh and restart the server.
MSG
fi
if [ -z "${SHOPGUARD_DEMO_VIDEO+set}" ] && [ -s media/demo/vtest.mp4 ]; then
  export SHOPGUARD_DEMO_VIDEO="$PWD/media/demo/vtest.mp4"
fi
# glibc's malloc arenas, as in the image: the server's memory stays flat (docs/benchmarks.md)
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec .venv/bin/shopguard serve "$@"
