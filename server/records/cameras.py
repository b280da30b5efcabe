"""Camera records: what a camera's task is started with (`CameraSpec`), and the status
transitions its supervisor sees (`StatusChange`)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.schemas.cameras import CameraStatus, SourceKind


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """What a camera's task is started with; a change to any field restarts the task.

    `url` is the analysis stream (the sub-stream when set), `evidence_url` the main stream
    when it is a separate one (None: `url` serves both); both carry credentials: never log
    them.
    """

    camera_id: int
    store_id: int
    kind: SourceKind
    url: str
    evidence_url: str | None
    analysis_fps: float
    analysis_width: int


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A camera's status transition, as its supervisor saw it (stored and announced by
    `services/camera_status.py`)."""

    camera_id: int
    status: CameraStatus
    error: str | None
    at: float  # wall-clock Unix seconds
