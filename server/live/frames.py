"""The latest analysed frame of each camera, with what to draw on it: a pipeline sink that
live viewers wait on.

Only the newest frame is kept: a viewer that is slower than the camera skips frames and
never drifts behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from server.annotate.draw import PeopleOverlay
from server.annotate.overlay_log import OverlayLog
from server.records.people import Tracks, Verdicts
from server.records.video import Frame


@dataclass(frozen=True, slots=True)
class LiveFrame:
    camera_id: int
    captured_at: float  # Unix seconds
    image: npt.NDArray[np.uint8]  # (H, W, 3) BGR, the analysis frame (shared, read-only)
    overlay: PeopleOverlay | None
    highlight: frozenset[int]  # track ids of the camera's open alerts
    taken_at: float = 0.0  # Unix seconds when the analysis handed it over


class LiveFrames:
    """Newest analysed frame per camera."""

    def __init__(
        self, overlays: OverlayLog, alerting: Callable[[int], frozenset[int]] | None = None
    ) -> None:
        """`overlays` must take each frame first (its latest entry is this frame's people);
        `alerting(camera_id)` gives the track ids of the camera's open alerts."""
        self._overlays = overlays
        self._alerting = alerting
        self._latest: dict[int, LiveFrame] = {}
        self._changed: dict[int, asyncio.Event] = {}

    def take(self, frame: Frame, tracks: Tracks, verdicts: Verdicts | None) -> None:
        """The sink: keep `frame` as the camera's newest and wake its viewers."""
        camera = frame.camera_id
        overlay = self._overlays.latest(camera)
        if overlay is not None and overlay.ts != frame.captured_at:
            overlay = None
        highlight = self._alerting(camera) if self._alerting is not None else frozenset()
        self._latest[camera] = LiveFrame(
            camera, frame.captured_at, frame.image, overlay, highlight, time.time()
        )
        changed = self._changed.pop(camera, None)
        if changed is not None:
            changed.set()

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
