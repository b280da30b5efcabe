#!/usr/bin/env bash
# Fuzz the API against its own OpenAPI schema (schemathesis, as an admin and as a viewer):
# 0 server errors, 0 schema violations. check_api_schema.py starts and stops the server; this
# runs it in a network namespace of its own with only loopback up, so no request the fuzzer
# makes up (a camera or DVR address, a Web Push endpoint) can leave 127.0.0.1. Needs root or
# unprivileged user namespaces (unshare) and iproute2. Arguments go to the driver
# (--max-examples, --seed, --workers, --reports DIR); a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${SHOPGUARD_SCHEMA_NETNS:-}" != "1" ]; then
  for flags in -n -rn; do  # root: a network namespace; otherwise: with a user namespace
    if unshare "$flags" true 2>/dev/null; then
      SHOPGUARD_SCHEMA_NETNS=1 exec unshare "$flags" "$0" "$@"
    fi
  done
  echo "[api-schema] error: cannot make a network namespace (unshare -n or -rn)" >&2
  exit 1
fi
ip link set lo up
exec .venv/bin/python infra/scripts/check_api_schema.py "$@"
