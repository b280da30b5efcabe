"""The latest frame of each camera, with what to draw on it, from its `FrameAnalysis`
records; its open alerts' people (from `AlertRaised` records) are highlighted. Live viewers
wait on it.

A camera whose presence gate keeps frames from pose (nobody in view) publishes them as
plain `Frame` records: they are shown too, with no one drawn, so its picture stays live.

Only the newest frame is kept: a viewer that is slower than the camera skips frames and
never drifts behind. A frame older than the newest is not shown (the gate's lead-up frames
are analysed after later frames were shown): the picture never steps back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from server.annotate.draw import PeopleOverlay
from server.annotate.overlay_log import OverlayLog
from server.records.alerts import AlertRaised
from server.records.analysis import FrameAnalysis
from server.records.video import Frame

OVERLAY_HORIZON_S = 2.0  # the people drawn are this frame's; a little history suffices


@dataclass(frozen=True, slots=True)
class LiveFrame:
    camera_id: int
    captured_at: float  # Unix seconds
    image: npt.NDArray[np.uint8]  # (H, W, 3) BGR, the analysis frame (shared, read-only)
    overlay: PeopleOverlay | None
    highlight: frozenset[int]  # track ids of the camera's open alerts
    taken_at: float = 0.0  # Unix seconds when the analysis handed it over


class LiveFrames:
    """Newest frame per camera."""

    def __init__(self) -> None:
        self._overlays = OverlayLog(OVERLAY_HORIZON_S)
        self._alerting: dict[int, dict[int, float]] = {}  # camera → track id → open until
        self._latest: dict[int, LiveFrame] = {}
        self._changed: dict[int, asyncio.Event] = {}

    def take(self, analysis: FrameAnalysis) -> None:
        """Keep the analysed frame as the camera's newest, its people drawn, unless a later
        frame is shown already (the same frame, shown plain before, gets its people)."""
        frame = analysis.frame
        camera = frame.camera_id
        self._overlays.take(analysis)
        newest = self._latest.get(camera)
        if newest is not None and frame.captured_at < newest.captured_at:
            return
        overlay = self._overlays.latest(camera)
        self._show(LiveFrame(camera, frame.captured_at, frame.image, overlay, frozenset()))

    def take_gated(self, frame: Frame) -> None:
        """Keep a frame the presence gate kept from pose (nobody in view: no one drawn) as
        the camera's newest, unless it is not newer than the one shown."""
        newest = self._latest.get(frame.camera_id)
        if newest is not None and frame.captured_at <= newest.captured_at:
            return
        self._show(LiveFrame(frame.camera_id, frame.captured_at, frame.image, None, frozenset()))

    def _show(self, frame: LiveFrame) -> None:
        """Make `frame` its camera's newest (highlighting its alerting people) and wake the
        camera's viewers."""
        camera = frame.camera_id
        highlight = self._highlight(camera, frame.captured_at)
        self._latest[camera] = replace(frame, highlight=highlight, taken_at=time.time())
        changed = self._changed.pop(camera, None)
        if changed is not None:
            changed.set()

    def alert_raised(self, raised: AlertRaised) -> None:
        """Highlight the alert's people while it stays open."""
        tracks = self._alerting.setdefault(raised.camera_id, {})
        for track_id in raised.track_ids:
            tracks[track_id] = max(tracks.get(track_id, 0.0), raised.open_until)

    def _highlight(self, camera_id: int, now: float) -> frozenset[int]:
        tracks = self._alerting.get(camera_id)
        if not tracks:
            return frozenset()
        for closed in [t for t, until in tracks.items() if until < now]:
            del tracks[closed]
        return frozenset(tracks)

    def latest(self, camera_id: int) -> LiveFrame | None:
        return self._latest.get(camera_id)

    async def next_after(self, camera_id: int, after: float, timeout_s: float) -> LiveFrame | None:
        """The camera's newest frame captured after `after`, waiting up to `timeout_s`."""
        newest = self._latest.get(camera_id)
        if newest is not None and newest.captured_at > after:
            return newest
        changed = self._changed.setdefault(camera_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout_s)
        newest = self._latest.get(camera_id)
        return newest if newest is not None and newest.captured_at > after else None
