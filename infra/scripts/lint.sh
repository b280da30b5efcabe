#!/usr/bin/env bash
# ruff (lint and format) and mypy --strict, as CI runs them.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
