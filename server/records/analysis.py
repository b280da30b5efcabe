"""⑦ What a camera's chain publishes for every analysed frame: `FrameAnalysis`."""

from __future__ import annotations

from dataclasses import dataclass

from server.records.people import Tracks, Verdicts
from server.records.video import Frame


@dataclass(frozen=True, slots=True)
class ShadowVerdicts:
    """A candidate model's verdicts on the same frame: counted, never alerted on."""

    model: str  # the candidate's identity (its sha256)
    verdicts: Verdicts | None  # None: the candidate did not score this frame


@dataclass(frozen=True, slots=True)
class FrameAnalysis:
    """One analysed frame of one camera: its people, tracked, and the active model's
    verdicts on the frames it scored (every few frames; None on the others)."""

    frame: Frame
    tracks: Tracks
    verdicts: Verdicts | None
    shadow: ShadowVerdicts | None = None

    @property
    def camera_id(self) -> int:
        return self.frame.camera_id

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the analysed frame."""
        return (self.frame.width, self.frame.height)
