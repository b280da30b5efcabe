"""Live counters of the video pipeline, per camera this server runs, and of its pose workers."""

from pydantic import BaseModel, Field

from shared.schemas.cameras import CameraStatus


class StageTimes(BaseModel):
    """Recent durations of one stage in milliseconds (None before the first)."""

    p50_ms: float | None
    p95_ms: float | None


class CameraPipelineStats(BaseModel):
    camera_id: int
    store_id: int
    status: CameraStatus | None = Field(description="Last state the supervisor reported.")
    fps: float = Field(description="Frames analysed (pose and tracks) per second, recently.")
    target_fps: float = Field(description="Frames per second this camera should analyse.")
    input_fps: float = Field(description="Analysis frames per second taken from the source.")
    frames_analysed: int = Field(description="Frames that went through pose and tracking.")
    frames_dropped: int = Field(
        description="Analysis frames dropped because a queue was full (source and pose queues)."
    )
    frames_failed: int = Field(description="Frames whose pose or tracking raised.")
    frames_decoded: int = Field(description="Frames decoded from the analysis stream.")
    frames_gated: int = Field(
        0,
        description="Analysis frames never analysed because the camera showed nobody and "
        "nothing moved (presence gate; those just before motion are analysed).",
    )
    wakeups: int = Field(
        0, description="Times the presence gate resumed analysis of a camera showing nobody."
    )
    packets: int = Field(description="Encoded packets read (both streams).")
    people: int = Field(description="People tracked in the last analysed frame.")
    live_tracks: int = Field(description="Tracks with a recent history.")
    top_score: float | None = Field(
        description="The most suspicious tracked person's behaviour score in the last analysed "
        "frame, 0..1 (None: no behaviour model, or nothing analysed yet)."
    )
    scoring: StageTimes = Field(description="Behaviour scoring time per frame (all its people).")
    pose: StageTimes = Field(description="Model time per frame.")
    pose_wait: StageTimes = Field(description="Time a frame waited for a pose worker.")
    tracking: StageTimes = Field(description="Tracking time per frame.")
    latency: StageTimes = Field(description="Frame captured → tracks ready.")
    analysis_width: int = Field(description="Pose model input width for this camera.")
    ring_seconds: float = Field(description="Seconds of encoded video held in the ring buffer.")
    ring_bytes: int = Field(description="Bytes of encoded video held in the ring buffer.")
    attempts: int = Field(description="Times the analysis source was opened.")
    errors: int = Field(description="Failures since start.")
    last_error: str | None = Field(description="The latest failure, credentials masked.")
    evidence_stream: bool = Field(description="Whether a separate main stream feeds the ring.")
    evidence_errors: int = Field(description="Failures of the main stream since start.")
    evidence_last_error: str | None = Field(description="Its latest failure, masked.")
    running_s: float = Field(description="Seconds since this camera's task started.")


class PoseWorkersStats(BaseModel):
    workers: int = Field(description="Inference threads shared by all cameras.")
    busy: int = Field(description="Workers running the model now.")
    queue_depth: int = Field(description="Frames waiting for a worker now.")
    queue_size: int = Field(description="Frames that may wait before the oldest is dropped.")
    max_batch: int = Field(description="Most frames per model call.")
    fps: float = Field(description="Frames through the model per second, recently.")
    frames: int = Field(description="Frames through the model since start.")
    dropped: int = Field(description="Frames dropped from the full queue.")
    batches: int = Field(description="Model calls since start.")
    utilisation: float = Field(description="Share of worker time spent in the model, 0 to 1.")
    inference: StageTimes
    wait: StageTimes


class PipelineStatsPublic(BaseModel):
    enabled: bool = Field(description="Whether this server runs cameras at all.")
    analysis_error: str | None = Field(
        description="Why cameras are not analysed (e.g. the pose model is missing); None: OK."
    )
    behaviour_error: str | None = Field(
        description="Why people are tracked but not scored (e.g. no behaviour model); None: OK."
    )
    pose_workers: PoseWorkersStats | None
    analytics: StageTimes | None = Field(
        default=None,
        description="The store analytics' time per analysed frame (footfall, zones, "
        "heatmap), over all cameras; null before the first frame.",
    )
    cameras: list[CameraPipelineStats]
    count: int
