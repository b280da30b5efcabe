"""The analytics stage of a worker: every analysed frame of every camera it runs goes to
that camera's `CameraAnalytics`; each finished minute is published as a `CameraMinute`
record. The cameras' zones and lines are read from the database every few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.analytics.camera import CameraAnalytics, CameraLayout
from server.config import AnalyticsConfig
from server.logs import ids
from server.metrics.timings import Durations
from server.records.analysis import FrameAnalysis
from server.records.analytics import CameraMinute
from server.records.cameras import StatusChange
from server.storage.models import Camera
from shared.schemas.cameras import CameraStatus

logger = logging.getLogger(__name__)

STOPPED = {CameraStatus.offline, CameraStatus.disabled}
LAYOUT_EVERY_S = 5.0  # how often zones and lines are read again
NEW_CAMERA_READ_S = 1.0  # at most this often for a camera not known yet
IDLE_AFTER_S = 75.0  # a camera with no frame this long has stopped: its minute goes out


class AnalyticsStage:
    """Example:
    stage = AnalyticsStage(config, sessionmaker, records.publish, lambda: manager.runners)
    records.subscribe(FrameAnalysis, stage.take); await stage.start()
    records.subscribe(StatusChange, stage.status_changed)  # a stopped camera's minute out
    """

    def __init__(
        self,
        config: AnalyticsConfig,
        sessionmaker: async_sessionmaker[AsyncSession],
        publish: Callable[[CameraMinute], None],
        running: Callable[[], Collection[int]] = frozenset,
    ) -> None:
        self.config = config
        self._running = running  # the cameras this process runs now
        self._sessionmaker = sessionmaker
        self._publish = publish
        self._layouts: dict[int, CameraLayout] = {}
        self._cameras: dict[int, CameraAnalytics] = {}
        self._last_frame: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._reading: asyncio.Task[None] | None = None  # for a camera new to it
        self._read_at = -math.inf
        self.cost = Durations()  # seconds spent per analysed frame
        self.frames = 0

    def take(self, analysis: FrameAnalysis, /) -> None:
        if not self.config.enabled:
            return
        started = time.perf_counter()
        camera_id = analysis.camera_id
        analytics = self._cameras.get(camera_id)
        if analytics is None:
            layout = self._layouts.get(camera_id)
            if layout is None:  # a camera new to this process: its lines first
                self._read_layouts_soon()
                return
            analytics = self._cameras[camera_id] = CameraAnalytics(camera_id, layout, self.config)
        width, height = analysis.frame_size
        done = analytics.take(analysis.tracks, width, height)
        self._last_frame[camera_id] = time.monotonic()
        self.frames += 1
        self.cost.add(time.perf_counter() - started)
        if done is not None:
            self._publish(done)

    def measuring(self, camera_id: int) -> bool:
        """Whether the camera's frames are being counted (its layout is known)."""
        return camera_id in self._cameras

    def status_changed(self, change: StatusChange, /) -> None:
        """A camera that stopped (disabled, or its source lost) ends its visits and its
        minute at once."""
        if change.status in STOPPED and change.camera_id in self._cameras:
            self._finish(change.camera_id)

    async def start(self) -> None:
        if self.config.enabled:
            self._task = asyncio.create_task(self._watch_forever(), name="analytics-layouts")

    async def stop(self) -> None:
        """Every camera's last minute goes out (after the cameras stopped)."""
        for task in (self._task, self._reading):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for camera_id in list(self._cameras):
            self._finish(camera_id)

    def _read_layouts_soon(self) -> None:
        now = time.monotonic()
        if self._reading is None and now - self._read_at >= NEW_CAMERA_READ_S:
            self._read_at = now
            self._reading = asyncio.create_task(self._read_new_layouts())

    async def _read_new_layouts(self) -> None:
        try:
            await self.refresh_layouts()
        except Exception as exc:  # the database may be away: the next frame asks again
            logger.warning("reading the cameras' zones failed: %s", str(exc)[:300])
        finally:
            self._reading = None

    async def refresh_layouts(self) -> None:
        """Read the cameras' zones and lines; a camera whose layout changed starts afresh
        (its minute so far goes out first)."""
        async with self._sessionmaker() as session:
            rows = (await session.execute(select(Camera.id, Camera.zones, Camera.lines))).all()
        layouts = {}
        for camera_id, zones, lines in rows:
            try:
                layouts[camera_id] = CameraLayout.of(zones or [], lines or [])
            except ValueError:  # written by a newer version, say: measure the whole view
                logger.warning("camera %s: its zones or lines cannot be read", camera_id)
                layouts[camera_id] = CameraLayout()
        self._layouts = layouts
        for camera_id, analytics in list(self._cameras.items()):
            if layouts.get(camera_id, CameraLayout()) != analytics.layout:
                self._finish(camera_id)

    def _finish(self, camera_id: int) -> None:
        analytics = self._cameras.pop(camera_id)
        self._last_frame.pop(camera_id, None)
        done = analytics.finish()
        if done is not None:
            self._publish(done)

    async def _watch_forever(self) -> None:
        while True:
            try:
                await self.refresh_layouts()
            except Exception as exc:  # the database may be away: the last layouts stay
                logger.warning("reading the cameras' zones failed: %s", str(exc)[:300])
            self.finish_stopped()
            await asyncio.sleep(LAYOUT_EVERY_S)

    def finish_stopped(self) -> None:
        """Cameras stopped here (disabled, removed, moved to another worker) or without
        frames for a while end their visits; their minute goes out."""
        now, running = time.monotonic(), self._running()
        for camera_id, last in list(self._last_frame.items()):
            if camera_id not in running or now - last > IDLE_AFTER_S:
                logger.info(
                    "camera %s: stopped; its analytics minute closed",
                    camera_id,
                    extra=ids(camera=camera_id),
                )
                self._finish(camera_id)
