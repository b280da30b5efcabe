"""Which pose runtime the cameras use: `pipeline.pose_backend` picks one `PoseEstimator`."""

from __future__ import annotations

from server.config import PipelineConfig
from server.pipeline.pose import OnnxPose, PoseEstimator, input_hw_for
from server.weights import DEFAULT_WEIGHTS_DIR, INT8_NAME, PT_NAME


def make_pose_estimator(config: PipelineConfig) -> PoseEstimator:
    """A new estimator as configured (one per pose worker); raises `ModelError`."""
    input_hw = input_hw_for((16, 9), config.analysis_width)
    conf = config.pose_confidence
    if config.pose_backend == "ultralytics":
        from server.pipeline.pose_ultralytics import UltralyticsPose

        model = config.pose_model or DEFAULT_WEIGHTS_DIR / PT_NAME
        return UltralyticsPose(model, device=config.pose_device, input_hw=input_hw, conf=conf)
    model = config.pose_model or DEFAULT_WEIGHTS_DIR / INT8_NAME
    if config.pose_backend == "openvino":
        from server.pipeline.pose_openvino import OpenVinoPose

        return OpenVinoPose(model, threads=config.pose_threads, input_hw=input_hw, conf=conf)
    return OnnxPose(model, threads=config.pose_threads, input_hw=input_hw, conf=conf)
