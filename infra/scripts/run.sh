#!/usr/bin/env bash
# Set up and run the server on the embedded defaults: SQLite and files under ./data,
# http://127.0.0.1:8000. The first start prints the admin's one-time password, and a server
# without cameras starts with the demo camera looping media/demo/vtest.mp4 (when it could be
# prepared; SHOPGUARD_DEMO_VIDEO= turns the demo off).
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/setup.sh server
infra/scripts/prepare_demo.sh
if [ -z "${SHOPGUARD_DEMO_VIDEO+set}" ] && [ -s media/demo/vtest.mp4 ]; then
  export SHOPGUARD_DEMO_VIDEO="$PWD/media/demo/vtest.mp4"
fi
exec .venv/bin/shopguard serve "$@"
