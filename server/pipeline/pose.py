"""③ pose: people and their 17 COCO keypoints in a frame, behind the `PoseEstimator` Protocol."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from server.errors import ModelError
from server.pipeline.pose_ops import decode, letterbox
from server.pipeline.records import NUM_KEYPOINTS, Poses

logger = logging.getLogger(__name__)

PREPARE_HINT = "run ./infra/scripts/prepare_weights.sh"


class PoseEstimator(Protocol):
    """Finds people and their keypoints in one BGR frame."""

    def estimate(self, image: npt.NDArray[np.uint8]) -> Poses:
        """Poses in `image`, (H, W, 3) uint8 BGR (as `Frame.image`)."""
        ...


class OnnxPose:
    """YOLO pose on ONNX Runtime's CPU provider; no torch at run time.

    Example:
        >>> pose = OnnxPose(Path("weights/yolo11n-pose.onnx"), threads=1)
        >>> poses = pose.estimate(frame.image)
    """

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int = 1,
        conf: float = 0.25,
        iou: float = 0.7,
        max_det: int = 300,
    ) -> None:
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort

        if not model_path.is_file():
            raise ModelError(f"pose model {model_path} not found: {PREPARE_HINT}")
        _check_recorded_sha(model_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(
                str(model_path),
                sess_options=options,
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:  # onnxruntime's own exception types (InvalidProtobuf, Fail…)
            msg = f"pose model {model_path} is unreadable ({exc}): {PREPARE_HINT}"
            raise ModelError(msg) from exc
        inputs, outputs = session.get_inputs(), session.get_outputs()
        in_shape, out_shape = inputs[0].shape, outputs[0].shape
        if (
            len(in_shape) != 4
            or not all(isinstance(d, int) for d in in_shape[2:])
            or len(out_shape) != 3
            or out_shape[1] != 5 + 3 * NUM_KEYPOINTS
        ):
            raise ModelError(
                f"pose model {model_path} is not a static YOLO pose model "
                f"(input {in_shape}, output {out_shape}): {PREPARE_HINT}"
            )
        self._session = session
        self._input_name = inputs[0].name
        self.input_hw: tuple[int, int] = (int(in_shape[2]), int(in_shape[3]))
        self.conf, self.iou, self.max_det = conf, iou, max_det

    def estimate(self, image: npt.NDArray[np.uint8]) -> Poses:
        """Poses in `image`, (H, W, 3) uint8 BGR; keypoints in its pixels."""
        tensor, box = letterbox(image, self.input_hw)
        (output,) = self._session.run(None, {self._input_name: tensor})[:1]
        xyxy, score, kpts = decode(
            np.asarray(output, np.float32),
            box,
            (image.shape[0], image.shape[1]),
            conf=self.conf,
            iou=self.iou,
            max_det=self.max_det,
        )
        if score.size == 0:
            return Poses.empty()
        return Poses(
            xyxy=xyxy,
            keypoints=np.ascontiguousarray(kpts[..., :2]),
            keypoint_conf=np.ascontiguousarray(kpts[..., 2]),
            score=score,
        )


def _check_recorded_sha(model_path: Path) -> None:
    """Raise `ModelError` when a `.sha256` beside the model disagrees with its bytes."""
    from server.weights import is_recorded, sha_path

    if sha_path(model_path).is_file() and not is_recorded(model_path):
        raise ModelError(f"pose model {model_path} does not match its sha256: {PREPARE_HINT}")
