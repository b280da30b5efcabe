"""Per-frame pose cost of each backend and model on real frames (one thread):

    .venv/bin/python -m server.bench.pose_speed [--model OTHER.onnx ...] [--rounds 5]

24 frames of `tests/data/vtest_people.mp4` (640x360). The estimators take turns, one pass
over the frames each per round, so a machine that speeds up or slows down meanwhile
affects them alike; prints each one's median ms per frame (letterbox to NMS) over the
rounds. `--model` adds ONNX models to compare on ONNX Runtime, e.g. an INT8 model made with
`infra/weights/quantize_pose.py --head decoded --input float32` (the earlier layout). Needs
the weights the setup places and the `openvino` extra.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from server.pipeline.pose import OnnxPose, PoseEstimator
from server.pipeline.pose_openvino import OpenVinoPose
from server.pipeline.pose_ops import letterbox
from server.weights import DEFAULT_WEIGHTS_DIR, INT8_NAME, ONNX_NAME

CLIP = Path(__file__).resolve().parents[2] / "tests" / "data" / "vtest_people.mp4"
Image = npt.NDArray[np.uint8]


def pass_ms(estimator: PoseEstimator, images: Sequence[Image], batch: int = 1) -> float:
    """Ms per frame for one pass over `images`, `batch` frames a call."""
    started = time.perf_counter()
    for first in range(0, len(images), batch):
        estimator.estimate_batch(images[first : first + batch])
    return (time.perf_counter() - started) / len(images) * 1000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, action="append", default=[], help="another model")
    parser.add_argument("--rounds", type=int, default=5, help="passes per estimator (5)")
    args = parser.parse_args(argv)
    with av.open(str(CLIP)) as container:
        images = [
            decoded.to_ndarray(format="bgr24").astype(np.uint8, copy=False)
            for index, decoded in enumerate(container.decode(video=0))
            if index % 6 == 0
        ]
    int8, float32 = DEFAULT_WEIGHTS_DIR / INT8_NAME, DEFAULT_WEIGHTS_DIR / ONNX_NAME
    runs: list[tuple[str, PoseEstimator, int]] = [
        ("ONNX Runtime, INT8 (default)", OnnxPose(int8), 1),
        ("ONNX Runtime, INT8, batches of 4", OnnxPose(int8), 4),
        ("OpenVINO, INT8", OpenVinoPose(int8), 1),
        ("OpenVINO, float32", OpenVinoPose(float32), 1),
        ("ONNX Runtime, float32", OnnxPose(float32), 1),
        *((f"ONNX Runtime, {path.name}", OnnxPose(path), 1) for path in args.model),
    ]
    times: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    for _name, estimator, batch in runs:  # warm-up
        pass_ms(estimator, images[:4], batch)
    for round_ in range(args.rounds):
        for name, estimator, batch in runs:
            times[name].append(pass_ms(estimator, images, batch))
        sys.stderr.write(f"round {round_ + 1}/{args.rounds}\n")
    for name, _, _ in runs:
        sys.stdout.write(f"{name}: {statistics.median(times[name]):.1f} ms\n")
    for dtype in ("float32", "uint8"):
        started = time.perf_counter()
        for _ in range(50):
            letterbox(images[0], (384, 640), dtype)
        per_call = (time.perf_counter() - started) / 50 * 1000
        sys.stdout.write(f"letterbox alone ({dtype}): {per_call:.2f} ms\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
