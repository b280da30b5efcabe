#!/usr/bin/env bash
# Build the app for phones or the web: stage infra/app (its pyproject.toml and main.py) with
# mobile/ and shared/ in build/app-src, then `flet build <target>` there.
#   infra/scripts/build_app.sh apk|aab|ipa|web     needs the Flutter SDK (flet build fetches it)
#   infra/scripts/build_app.sh --stage-only DIR    only stage, into DIR
set -euo pipefail
cd "$(dirname "$0")/../.."

stage() {
    local into
    into="$(realpath -m "$1")"
    rm -rf "$into"
    mkdir -p "$into/mobile" "$into/shared"
    cp infra/app/pyproject.toml infra/app/main.py "$into/"
    for package in mobile shared; do  # the sources and text catalogues (.po), no caches
        (cd "$package" && find . -path ./extensions -prune -o \( -name '*.py' -o -name '*.po' \) -exec cp --parents {} "$into/$package/" \;)
    done  # mobile/extensions: packages of their own, installed by the phone builds
    if [[ -d infra/app/firebase ]]; then  # the Firebase project's files (docs/push.md)
        cp -r infra/app/firebase "$into/"
    fi
}

if [[ "${1:-}" == "--stage-only" ]]; then
    stage "${2:?a directory to stage into}"
    exit 0
fi
target="${1:?apk, aab, ipa or web}"
stage build/app-src
cd build/app-src
exec ../../.venv/bin/flet build "$target" --yes "${@:2}"
