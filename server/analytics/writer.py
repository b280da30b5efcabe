"""Stores the `CameraMinute` records: queued as they come (a full queue drops and counts),
written one by one with retries while the database is away, and pruned by age."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from server.config import AnalyticsConfig
from server.logs import ids
from server.records.analytics import CameraMinute
from server.storage import analytics
from server.storage.models import Camera

logger = logging.getLogger(__name__)

QUEUE_MINUTES = 2000  # minutes waiting to be written (16 cameras: two hours of outage)
RETRY_FOR_S = 120.0  # one minute's write is retried this long, then dropped and counted
PRUNE_EVERY_S = 3600.0


@dataclass(slots=True)
class WriterStats:
    written: int = 0
    dropped: int = 0  # the queue was full, or the database stayed away
    retries: int = 0


class AnalyticsWriter:
    """Example:
    writer = AnalyticsWriter(config, sessionmaker)
    records.subscribe(CameraMinute, writer.take); await writer.start()
    await writer.drain()  # every minute taken so far is stored
    """

    def __init__(
        self, config: AnalyticsConfig, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self.config = config
        self._sessionmaker = sessionmaker
        self._queue: asyncio.Queue[CameraMinute] = asyncio.Queue(QUEUE_MINUTES)
        self._tasks: list[asyncio.Task[None]] = []
        self.stats = WriterStats()

    def take(self, minute: CameraMinute, /) -> None:
        try:
            self._queue.put_nowait(minute)
        except asyncio.QueueFull:
            self.stats.dropped += 1

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._write_forever(), name="analytics-writer"),
            asyncio.create_task(self._prune_forever(), name="analytics-retention"),
        ]

    async def drain(self) -> None:
        """Wait until every minute taken so far is written (or dropped)."""
        await self._queue.join()

    async def stop(self) -> None:
        """Write what is queued (a few seconds at most), then stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), timeout=10.0)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def prune(self, now: datetime) -> int:
        async with self._sessionmaker() as session:
            removed = await analytics.prune(
                session=session,
                minutes_before=now - timedelta(days=self.config.keep_minutes_days),
                hours_before=now - timedelta(days=self.config.keep_days),
            )
            await session.commit()
        return removed

    async def _write_forever(self) -> None:
        while True:
            minute = await self._queue.get()
            try:
                await self._write(minute)
            except Exception:  # the database stayed away, or a bug: drop this minute only
                self.stats.dropped += 1
                logger.exception(
                    "camera %s: analytics of a minute not stored",
                    minute.camera_id,
                    extra=ids(camera=minute.camera_id),
                )
            finally:
                self._queue.task_done()

    async def _write(self, minute: CameraMinute) -> None:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((OSError, OperationalError, DBAPIError)),
            wait=wait_exponential(multiplier=0.5, max=10.0),
            stop=stop_after_delay(RETRY_FOR_S),
            reraise=True,
            before_sleep=lambda _: self._retried(),
        )
        async for attempt in retrying:
            with attempt:
                async with self._sessionmaker() as session:
                    camera = await session.get(Camera, minute.camera_id)
                    if camera is None:  # deleted meanwhile: its figures go with it
                        return
                    await analytics.save_minute(
                        session=session, store_id=camera.store_id, minute=minute
                    )
                    await session.commit()
        self.stats.written += 1

    def _retried(self) -> None:
        self.stats.retries += 1

    async def _prune_forever(self) -> None:
        while True:
            await asyncio.sleep(60.0)  # not at start: nothing is urgent then
            try:
                removed = await self.prune(datetime.now(UTC))
                if removed:
                    logger.info("pruned %d old analytics rows", removed)
            except Exception:  # the database may be away: the next pass tries again
                logger.exception("analytics retention pass failed")
            await asyncio.sleep(PRUNE_EVERY_S - 60.0)
