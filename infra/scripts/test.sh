#!/usr/bin/env bash
# Set up, lint and run the whole test suite: every database test runs on SQLite and on
# PostgreSQL (127.0.0.1:5432, started here if it is installed but down); the pose model is
# exported into weights/ first (a few minutes the first time), and Debian's GStreamer RTSP
# server installed for the live-camera tests when running as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/setup.sh dev
infra/scripts/prepare_weights.sh  # the pose model for the pipeline tests (skipped when in place)
infra/scripts/install_test_tools.sh  # GStreamer's RTSP server for the live-camera tests (as root)
infra/scripts/prepare_demo.sh  # the whole pedestrian clip, for the footfall accuracy test
if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
infra/scripts/lint.sh
exec .venv/bin/pytest "$@"
