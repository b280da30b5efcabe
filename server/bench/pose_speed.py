"""Per-frame pose cost of each backend and model on real frames (one thread):

    .venv/bin/python -m server.bench.pose_speed

24 frames of `tests/data/vtest_people.mp4` (640x360), each estimated twice after a warm-up;
prints ms per frame from letterbox to NMS. Needs the weights the setup places and the
`openvino` extra.
"""

from __future__ import annotations

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


def per_frame_ms(estimator: PoseEstimator, images: Sequence[Image], batch: int = 1) -> float:
    for image in images[:2]:
        estimator.estimate(image)
    started, count = time.perf_counter(), 0
    for _ in range(2):
        for first in range(0, len(images), batch):
            chunk = images[first : first + batch]
            estimator.estimate_batch(chunk)
            count += len(chunk)
    return (time.perf_counter() - started) / count * 1000.0


def main() -> int:
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
    ]
    for name, estimator, batch in runs:
        sys.stdout.write(f"{name}: {per_frame_ms(estimator, images, batch):.1f} ms\n")
        sys.stdout.flush()
    started = time.perf_counter()
    for _ in range(50):
        letterbox(images[0], (384, 640))
    sys.stdout.write(f"letterbox alone: {(time.perf_counter() - started) / 50 * 1000:.2f} ms\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
