#!/usr/bin/env bash
# Install the Debian packages the live-camera and browser tests need: GStreamer's RTSP server
# with its Python bindings, run as a local "camera" by /usr/bin/python3
# (tests/pipeline/test_live_sources.py), and Chromium, driven by Playwright (tests/live/).
# Idempotent: does nothing when they are present. Without root or apt it says so and exits 0;
# those tests then skip (or fail, under SHOPGUARD_TEST_REQUIRE_RTSP=1).
#   python3-gi                   GObject bindings (import only under /usr/bin/python3, not .venv)
#   gir1.2-gst-rtsp-server-1.0   GstRtspServer (pulls libgstrtspserver and the Gst typelibs)
#   gstreamer1.0-plugins-base    appsrc, appsink, parsebin
#   gstreamer1.0-plugins-good    qtdemux, matroskademux, rtph264pay and the RTP/RTSP elements
#   gstreamer1.0-plugins-bad     h264parse
#   chromium                     a real browser for the live player page (Playwright's own
#                                browser download is not reachable here)
set -euo pipefail
packages=(
  python3-gi
  gir1.2-gst-rtsp-server-1.0
  gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad
  chromium
)

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "install_test_tools: not a Debian system (no dpkg/apt-get); install ${packages[*]} or" \
    "their equivalents. The live RTSP tests skip (SHOPGUARD_TEST_REQUIRE_RTSP=1 fails them)." >&2
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_test_tools: all present (${packages[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install_test_tools: not root; missing: ${missing[*]}." \
    "Run: sudo $0 (the live RTSP tests skip until then)." >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y --no-install-recommends "${missing[@]}"; }
echo "install_test_tools: installing ${missing[*]}"
if ! apt_install; then
  echo "install_test_tools: install failed; refreshing the package lists and retrying" >&2
  apt-get update
  apt_install
fi
