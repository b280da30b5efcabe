"""③ pose through Ultralytics and PyTorch on the `.pt` weights: for boxes with a GPU
(`pipeline.pose_backend: ultralytics`, `pipeline.pose_device: cuda:0`). Needs torch and
ultralytics installed beside the server (the export venv has both); CPU boxes run the ONNX
model instead."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from server.errors import ModelError
from server.pipeline.pose import check_hw, check_model_file
from server.records.people import Poses


class UltralyticsPose:
    """YOLO pose by Ultralytics' own predictor; frames of a batch go in one call.

    Example:
        >>> pose = UltralyticsPose(Path("weights/yolo11n-pose.pt"), device="cuda:0")
    """

    sizes_fixed = False

    def __init__(
        self,
        model_path: Path,
        *,
        device: str = "cpu",
        input_hw: tuple[int, int] = (384, 640),
        conf: float = 0.25,
        iou: float = 0.7,
        max_det: int = 300,
    ) -> None:
        check_model_file(model_path)
        config = Path(sys.prefix) / "ultralytics-config"
        config.mkdir(exist_ok=True)
        os.environ.update(YOLO_OFFLINE="1", YOLO_AUTOINSTALL="false", YOLO_CONFIG_DIR=str(config))
        try:
            import ultralytics
        except ImportError as exc:
            raise ModelError(
                "the ultralytics backend needs torch and ultralytics installed"
            ) from exc
        ultralytics.settings.update({"sync": False})
        try:
            self._model = ultralytics.YOLO(str(model_path.resolve()), task="pose")
        except Exception as exc:  # torch's unpickling errors have no common base
            raise ModelError(f"pose model {model_path} is unreadable ({exc})") from exc
        self.input_hw = check_hw(input_hw)
        self.device, self.conf, self.iou, self.max_det = device, conf, iou, max_det

    def estimate(
        self, image: npt.NDArray[np.uint8], input_hw: tuple[int, int] | None = None
    ) -> Poses:
        return self.estimate_batch([image], input_hw)[0]

    def estimate_batch(
        self, images: Sequence[npt.NDArray[np.uint8]], input_hw: tuple[int, int] | None = None
    ) -> list[Poses]:
        size = list(check_hw(input_hw) if input_hw is not None else self.input_hw)
        found = self._model.predict(
            list(images),
            imgsz=size,
            conf=self.conf,
            iou=self.iou,
            max_det=self.max_det,
            device=self.device,
            verbose=False,
        )
        return [_poses(result) for result in found]


def _poses(result: Any) -> Poses:
    if len(result.boxes) == 0:
        return Poses.empty()
    return Poses(
        xyxy=result.boxes.xyxy.cpu().numpy().astype(np.float32),
        keypoints=result.keypoints.xy.cpu().numpy().astype(np.float32),
        keypoint_conf=result.keypoints.conf.cpu().numpy().astype(np.float32),
        score=result.boxes.conf.cpu().numpy().astype(np.float32),
    )
