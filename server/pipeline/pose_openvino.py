"""③ pose on OpenVINO (CPU), the same YOLO model file and numpy pre/post-processing as
`OnnxPose`; an option for Intel boxes (`pipeline.pose_backend: openvino`, extra `openvino`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from server.errors import ModelError
from server.pipeline.pose import PREPARE_HINT, YoloPose, check_model_file


class OpenVinoPose(YoloPose):
    """YOLO pose compiled by OpenVINO for the CPU, in f32 (its bf16 default was slower here).

    Example:
        >>> pose = OpenVinoPose(Path("weights/yolo11n-pose.onnx"), threads=1)
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
        try:
            import openvino as ov
        except ImportError as exc:
            raise ModelError(
                "the openvino backend needs the `openvino` extra: pip install -e '.[openvino]'"
            ) from exc
        _no_telemetry()
        check_model_file(model_path)
        core = ov.Core()
        try:
            model = core.read_model(str(model_path))
            compiled = core.compile_model(
                model,
                "CPU",
                {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32"},
            )
        except RuntimeError as exc:
            reason = " ".join(str(exc).split())  # OpenVINO's messages span lines
            msg = f"pose model {model_path} is unreadable ({reason}): {PREPARE_HINT}"
            raise ModelError(msg) from exc
        in_shape = [d.get_length() if d.is_static else "?" for d in model.inputs[0].partial_shape]
        out_shapes = [
            [d.get_length() if d.is_static else "?" for d in output.partial_shape]
            for output in model.outputs
        ]
        uint8 = model.inputs[0].element_type == ov.Type.u8
        self._configure(
            model_path,
            in_shape,
            out_shapes,
            input_type="uint8" if uint8 else "float32",
            input_hw=input_hw,
            conf=conf,
            iou=iou,
            max_det=max_det,
        )
        self._request = compiled.create_infer_request()
        self._outputs = len(model.outputs)

    def _infer(self, tensor: npt.NDArray[np.generic]) -> list[npt.NDArray[np.float32]]:
        self._request.infer({0: tensor})
        return [
            np.asarray(self._request.get_output_tensor(i).data, np.float32).copy()
            for i in range(self._outputs)
        ]


def _no_telemetry() -> None:
    """OpenVINO reads its consent from ~/intel/openvino_telemetry: answer no, once."""
    consent = Path.home() / "intel" / "openvino_telemetry"
    if not consent.exists():
        try:
            consent.parent.mkdir(parents=True, exist_ok=True)
            consent.write_text("0", encoding="utf-8")
        except OSError:  # a read-only home: OpenVINO then sends nothing either
            pass
    os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")
