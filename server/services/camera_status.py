"""Cameras' `StatusChange` records, stored and announced (`camera.status`) in the order
they happen. A change is taken at once (on the event loop) and written by one task; while
the database is away each camera's newest change waits and is retried (an older one that
never got written no longer matters)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from server.logs import ids
from server.notify.bus import EventBus
from server.records.cameras import StatusChange
from server.services.alerts import report_camera_status

logger = logging.getLogger(__name__)

RETRY_FOR_S = 60.0  # then the change is logged as lost; a newer one replaces it anyway


class CameraStatusRecorder:
    """Subscribes to `StatusChange`; `drain` waits for what was taken to be written."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus) -> None:
        self._sessionmaker, self._bus = sessionmaker, bus
        self._waiting: dict[int, StatusChange] = {}  # camera → newest change, in arrival order
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.lost = 0

    def take(self, change: StatusChange) -> None:
        self._waiting.pop(change.camera_id, None)  # newest last: keeps the arrival order
        self._waiting[change.camera_id] = change
        self._idle.clear()
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="camera-status")

    async def drain(self) -> None:
        await self._idle.wait()

    async def stop(self) -> None:
        """Write what is waiting (briefly), then stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), 10.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                camera_id = next(iter(self._waiting))
                change = self._waiting.pop(camera_id)
                try:
                    await self._write(change)
                    self.written += 1
                except Exception:  # a bug, or the database away for over a minute
                    self.lost += 1
                    logger.exception(
                        "camera %s: storing its status failed",
                        camera_id,
                        extra=ids(camera=camera_id),
                    )
            self._idle.set()

    async def _write(self, change: StatusChange) -> None:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((OSError, DBAPIError)),
            wait=wait_exponential(multiplier=0.5, max=5.0),
            stop=stop_after_delay(RETRY_FOR_S),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                newer = self._waiting.get(change.camera_id)
                if newer is not None:  # superseded while retrying: write the newer one
                    change = self._waiting.pop(change.camera_id)
                async with self._sessionmaker() as session:
                    await report_camera_status(
                        session=session,
                        bus=self._bus,
                        camera_id=change.camera_id,
                        status=change.status,
                        error=change.error,
                        now=datetime.fromtimestamp(change.at, UTC),
                    )
