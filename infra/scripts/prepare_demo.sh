#!/usr/bin/env bash
# Prepare the demo camera's clip once: OpenCV's vtest.avi (768x576, 10 fps, pedestrians seen
# from above; Apache-2.0/BSD-3) from Debian's opencv-doc package, re-encoded to H.264 into
# media/demo/vtest.mp4 (git-ignored). Never fails the caller: without apt it says so and the
# server starts without a demo camera. Needs .venv (infra/scripts/setup.sh server).
set -uo pipefail
cd "$(dirname "$0")/../.."
target="media/demo/vtest.mp4"
member="./usr/share/doc/opencv-doc/examples/data/vtest.avi"
[ -s "$target" ] && { echo "demo clip ready: $target"; exit 0; }

skip() { echo "demo clip not prepared: $*; the server starts without a demo camera" >&2; exit 0; }
command -v apt-get >/dev/null || skip "apt-get is not available (the clip comes from Debian's opencv-doc)"
command -v dpkg-deb >/dev/null || skip "dpkg-deb is not available"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetching Debian's opencv-doc (about 96 MB) for the demo clip vtest.avi ..."
if ! (cd "$work" && apt-get download opencv-doc >/dev/null 2>&1); then
  # a fresh image has no package lists yet
  apt-get update >/dev/null 2>&1 || skip "apt-get update failed (no root, or no network to the archive)"
  (cd "$work" && apt-get download opencv-doc >/dev/null 2>&1) || skip "apt-get download opencv-doc failed"
fi
deb="$(ls "$work"/opencv-doc_*.deb 2>/dev/null | head -n 1)"
[ -n "$deb" ] || skip "apt-get download gave no opencv-doc package"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" "$member" || skip "vtest.avi is not in $deb"
.venv/bin/python -m server.demo "$work/$member" "$target" || skip "transcoding vtest.avi failed"
