"""The last seconds of each camera's analysis, as `PeopleOverlay`s, from its
`FrameAnalysis` records.

What the annotated clip draws (and, later, the live view): every analysed frame's tracks
with the latest scores of its people. Kept as long as the camera's ring buffer keeps
video, so a clip's pre-roll finds the analysis of its frames.
"""

from __future__ import annotations

import bisect
from collections import deque

from server.annotate.draw import PeopleOverlay
from server.records.analysis import FrameAnalysis


class OverlayLog:
    """Recent `PeopleOverlay`s per camera, oldest first."""

    def __init__(self, horizon_s: float) -> None:
        self.horizon_s = horizon_s
        self._log: dict[int, deque[PeopleOverlay]] = {}
        self._scores: dict[int, dict[int, float]] = {}
        self._threshold: dict[int, float] = {}

    def take(self, analysis: FrameAnalysis) -> None:
        """Record the frame's people (quick, on the event loop)."""
        frame, tracks, verdicts = analysis.frame, analysis.tracks, analysis.verdicts
        camera = frame.camera_id
        scores = self._scores.setdefault(camera, {})
        if verdicts is not None:
            scores.update(zip(verdicts.track_id.tolist(), verdicts.score.tolist(), strict=True))
            self._threshold[camera] = verdicts.threshold
        present = set(tracks.track_id.tolist())
        for gone in [t for t in scores if t not in present]:
            del scores[gone]
        log = self._log.setdefault(camera, deque())
        log.append(
            PeopleOverlay(
                ts=frame.captured_at,
                frame_size=(frame.width, frame.height),
                tracks=tracks,
                scores=dict(scores),
                threshold=self._threshold.get(camera),
            )
        )
        while log and log[0].ts < frame.captured_at - self.horizon_s:
            log.popleft()

    def latest(self, camera_id: int) -> PeopleOverlay | None:
        log = self._log.get(camera_id)
        return log[-1] if log else None

    def window(self, camera_id: int, start_ts: float, end_ts: float) -> list[PeopleOverlay]:
        """The camera's overlays with `start_ts <= ts <= end_ts`."""
        log = list(self._log.get(camera_id, ()))
        first = bisect.bisect_left(log, start_ts, key=lambda o: o.ts)
        last = bisect.bisect_right(log, end_ts, key=lambda o: o.ts)
        return log[first:last]

    def forget(self, camera_id: int) -> None:
        self._log.pop(camera_id, None)
        self._scores.pop(camera_id, None)
        self._threshold.pop(camera_id, None)
