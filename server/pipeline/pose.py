"""③ pose: people and their 17 COCO keypoints in a frame, behind the `PoseEstimator` Protocol."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from server.errors import ModelError
from server.pipeline.pose_ops import (
    HEAD_CHANNELS,
    InputType,
    Letterbox,
    decode,
    head_candidates,
    letterbox,
    people,
)
from server.records.people import NUM_KEYPOINTS, Poses

logger = logging.getLogger(__name__)

PREPARE_HINT = "run ./infra/scripts/prepare_weights.sh"
STRIDE = 32  # YOLO input sides are multiples of its largest stride


class PoseEstimator(Protocol):
    """Finds people and their keypoints in BGR frames.

    `input_hw` is the model input (height, width) a caller asks for; an estimator whose model
    has a fixed input size uses that size instead (`sizes_fixed`).
    """

    input_hw: tuple[int, int]
    sizes_fixed: bool

    def estimate(
        self, image: npt.NDArray[np.uint8], input_hw: tuple[int, int] | None = None
    ) -> Poses:
        """Poses in `image`, (H, W, 3) uint8 BGR (as `Frame.image`)."""
        ...

    def estimate_batch(
        self, images: Sequence[npt.NDArray[np.uint8]], input_hw: tuple[int, int] | None = None
    ) -> list[Poses]:
        """Poses in each image, all fitted into the same model input size."""
        ...


class YoloPose:
    """A YOLO pose model run by some runtime: numpy letterbox in, numpy decode and NMS out.

    Subclasses open the model and implement `_infer`: a (B, 3, H, W) tensor in (float32 in
    0..1, or uint8 for models that scale it themselves: `input_type`), the model's outputs
    back, either Ultralytics' decoded (B, 5 + 3K, anchors) or the raw head's maps, one per
    stride (`raw_head`; see `pose_ops`). The model's input may be fixed (`sizes_fixed`) or
    take any size in strides; a dynamic batch dimension lets frames share a call.
    """

    input_hw: tuple[int, int]
    sizes_fixed: bool
    batches: bool
    raw_head: bool
    input_type: InputType

    def _configure(
        self,
        model_path: Path,
        in_shape: Sequence[object],
        out_shapes: Sequence[Sequence[object]],
        *,
        input_type: InputType,
        input_hw: tuple[int, int],
        conf: float,
        iou: float,
        max_det: int,
    ) -> None:
        decoded = len(out_shapes) == 1 and len(out_shapes[0]) == 3
        decoded = decoded and out_shapes[0][1] == 5 + 3 * NUM_KEYPOINTS
        raw = len(out_shapes) > 1 and all(
            len(shape) == 4 and shape[1] == HEAD_CHANNELS for shape in out_shapes
        )
        if len(in_shape) != 4 or not (decoded or raw):
            outputs = ", ".join(str(list(shape)) for shape in out_shapes)
            raise ModelError(
                f"pose model {model_path} is not a YOLO pose model "
                f"(input {list(in_shape)}, outputs {outputs}): {PREPARE_HINT}"
            )
        self.raw_head, self.input_type = raw, input_type
        height, width = in_shape[2], in_shape[3]
        self.sizes_fixed = isinstance(height, int) and isinstance(width, int)
        self.input_hw = (
            (int(str(height)), int(str(width))) if self.sizes_fixed else check_hw(input_hw)
        )
        self.batches = not isinstance(in_shape[0], int)  # a dynamic batch dimension
        self.conf, self.iou, self.max_det = conf, iou, max_det

    def _infer(self, tensor: npt.NDArray[np.generic]) -> list[npt.NDArray[np.float32]]:
        raise NotImplementedError

    def estimate(
        self, image: npt.NDArray[np.uint8], input_hw: tuple[int, int] | None = None
    ) -> Poses:
        """Poses in `image`, (H, W, 3) uint8 BGR; keypoints in its pixels."""
        return self.estimate_batch([image], input_hw)[0]

    def estimate_batch(
        self, images: Sequence[npt.NDArray[np.uint8]], input_hw: tuple[int, int] | None = None
    ) -> list[Poses]:
        """Poses in each image; one model call when the model takes batches."""
        hw = self.input_hw if self.sizes_fixed or input_hw is None else check_hw(input_hw)
        boxed = [letterbox(image, hw, self.input_type) for image in images]
        if self.batches and len(boxed) > 1:
            batch = self._infer(np.concatenate([tensor for tensor, _ in boxed]))
            outputs = [[output[i] for output in batch] for i in range(len(boxed))]
        else:
            outputs = [[output[0] for output in self._infer(tensor)] for tensor, _ in boxed]
        return [
            self._poses(output, hw, box, image)
            for output, (_, box), image in zip(outputs, boxed, images, strict=True)
        ]

    def _poses(
        self,
        outputs: list[npt.NDArray[np.float32]],
        input_hw: tuple[int, int],
        box: Letterbox,
        image: npt.NDArray[np.uint8],
    ) -> Poses:
        frame_hw = (image.shape[0], image.shape[1])
        if self.raw_head:
            found = head_candidates(outputs, input_hw, self.conf)
            xyxy, score, kpts = people(found, box, frame_hw, iou=self.iou, max_det=self.max_det)
        else:
            xyxy, score, kpts = decode(
                outputs[0][None], box, frame_hw, conf=self.conf, iou=self.iou, max_det=self.max_det
            )
        if score.size == 0:
            return Poses.empty()
        return Poses(
            xyxy=xyxy,
            keypoints=np.ascontiguousarray(kpts[..., :2]),
            keypoint_conf=np.ascontiguousarray(kpts[..., 2]),
            score=score,
        )


class OnnxPose(YoloPose):
    """YOLO pose on ONNX Runtime's CPU provider; no torch at run time (the default backend).

    Example:
        >>> pose = OnnxPose(Path("weights/yolo11n-pose.onnx"), threads=1)
        >>> poses = pose.estimate(frame.image)
    """

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int = 1,
        input_hw: tuple[int, int] = (384, 640),
        conf: float = 0.25,
        iou: float = 0.7,
        max_det: int = 300,
    ) -> None:
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort

        check_model_file(model_path)
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
        self._configure(
            model_path,
            inputs[0].shape,
            [output.shape for output in outputs],
            input_type="uint8" if inputs[0].type == "tensor(uint8)" else "float32",
            input_hw=input_hw,
            conf=conf,
            iou=iou,
            max_det=max_det,
        )
        self._session = session
        self._input_name = inputs[0].name

    def _infer(self, tensor: npt.NDArray[np.generic]) -> list[npt.NDArray[np.float32]]:
        found = self._session.run(None, {self._input_name: tensor})
        return [np.asarray(output, np.float32) for output in found]


def check_hw(input_hw: tuple[int, int]) -> tuple[int, int]:
    """`input_hw` when both sides are positive multiples of the model stride (32)."""
    height, width = input_hw
    if height <= 0 or width <= 0 or height % STRIDE or width % STRIDE:
        raise ValueError(f"input size must be positive multiples of {STRIDE}, got {input_hw}")
    return height, width


def input_hw_for(frame_wh: tuple[int, int], input_width: int) -> tuple[int, int]:
    """The model input (height, width) for frames of `frame_wh` at `input_width` pixels wide.

    The height keeps the frame's aspect, rounded up to the stride, so the letterbox pads least.

    Example:
        >>> input_hw_for((640, 360), 640)
        (384, 640)
    """
    width, height = frame_wh
    scaled = input_width * height / width
    return max(STRIDE, math.ceil(scaled / STRIDE - 1e-6) * STRIDE), input_width


def check_model_file(model_path: Path) -> None:
    """Raise `ModelError` when the model file is missing or disagrees with its `.sha256`."""
    from server.weights import is_recorded, sha_path

    if not model_path.is_file():
        raise ModelError(f"pose model {model_path} not found: {PREPARE_HINT}")
    if sha_path(model_path).is_file() and not is_recorded(model_path):
        raise ModelError(f"pose model {model_path} does not match its sha256: {PREPARE_HINT}")
