#!/usr/bin/env bash
# Set up and run the server on the embedded defaults: SQLite and files under ./data,
# http://127.0.0.1:8000. The first start prints the admin's one-time password.
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/setup.sh server
exec .venv/bin/shopguard serve "$@"
