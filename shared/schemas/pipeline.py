"""Live counters of the video pipeline, per camera this server runs."""

from pydantic import BaseModel, Field

from shared.schemas.cameras import CameraStatus


class CameraPipelineStats(BaseModel):
    camera_id: int
    store_id: int
    status: CameraStatus | None = Field(description="Last state the supervisor reported.")
    fps: float = Field(description="Analysis frames per second over the last few seconds.")
    frames_analysed: int = Field(description="Analysis frames the worker took since start.")
    frames_dropped: int = Field(description="Analysis frames dropped because a queue was full.")
    frames_decoded: int = Field(description="Frames decoded from the stream.")
    packets: int = Field(description="Encoded packets read from the stream.")
    ring_seconds: float = Field(description="Seconds of encoded video held in the ring buffer.")
    ring_bytes: int = Field(description="Bytes of encoded video held in the ring buffer.")
    attempts: int = Field(description="Times the source was opened.")
    errors: int = Field(description="Failures since start.")
    last_error: str | None = Field(description="The latest failure, credentials masked.")
    running_s: float = Field(description="Seconds since this camera's task started.")


class PipelineStatsPublic(BaseModel):
    enabled: bool = Field(description="Whether this server runs cameras at all.")
    cameras: list[CameraPipelineStats]
    count: int
