"""⑤⑥ What the chain asks of the behaviour detector; the server picks the implementation
in one place (`server/runtime.py`: the behaviour models, `behaviour/live.py`). The pipeline
knows nothing else of it: any detector that scores tracked people fits here."""

from __future__ import annotations

from typing import Protocol

from server.pipeline.tracking import Tracker
from server.records.analysis import ShadowVerdicts
from server.records.people import Tracks, Verdicts


class CameraDetector(Protocol):
    """One camera's detector: scores its tracks every few frames (on the tracking thread)."""

    def due(self, ts: float) -> bool:
        """Whether the frame at `ts` is to be scored (and if so it takes its turn)."""

    def score(self, tracks: Tracks, tracker: Tracker, /) -> Verdicts: ...

    def shadow(self, ts: float) -> ShadowVerdicts | None:
        """A candidate's verdicts on the frame at `ts`, while one is tried (None: none)."""


class Detector(Protocol):
    """The detector every camera of this process uses."""

    @property
    def error(self) -> str | None:
        """Why cameras are tracked but not scored (None: they are scored)."""

    def load(self) -> None:
        """Load what it needs, once (blocking: called in a thread at start)."""

    def history_s(self) -> float:
        """Seconds of keypoints each track must keep for it."""

    def for_camera(self, tracker: Tracker) -> CameraDetector: ...
