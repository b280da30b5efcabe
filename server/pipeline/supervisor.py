"""① supervised: reopen a camera on failure, stall or end; pace retries; publish its status.

connecting → online on the first frame; a failure makes it degraded (retrying), and
`offline_after` failures in a row make it offline (still retrying, at the capped delay). An
online camera that sends nothing for `degraded_after_s` shows degraded at once, though it is
reconnected only after `stall_timeout_s` (a hung server keeps its connection open).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from server.errors import CameraUnavailable
from server.logs import ids
from server.pipeline.source import CameraSource
from server.records.cameras import StatusChange
from server.records.video import Frame
from shared.schemas.cameras import CameraStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SupervisorConfig:
    """Seconds throughout; `jitter` is the fraction of each delay that is randomised."""

    open_timeout_s: float = 10.0  # no first frame within this after opening → failure
    stall_timeout_s: float = 20.0  # no packet for this long while online → reconnect
    degraded_after_s: float = 5.0  # no frame for this long while online → shown degraded
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    jitter: float = 0.2
    offline_after: int = 3  # failures in a row before the camera counts as offline


@dataclass(slots=True)
class SupervisorStats:
    attempts: int = 0
    errors: int = 0
    failures_in_a_row: int = 0
    last_error: str | None = None
    history: list[CameraStatus] = field(default_factory=list)


def backoff_delay(failures: int, cfg: SupervisorConfig, rng: random.Random) -> float:
    """min(cap, base · 2^(failures-1)), its last `jitter` share drawn at random."""
    delay = min(cfg.backoff_cap_s, cfg.backoff_base_s * 2.0 ** max(failures - 1, 0))
    return delay * (1.0 - cfg.jitter * rng.random())


class Supervisor:
    """Keeps one camera's source running and yields its frames across reconnects.

    Example:
        sup = Supervisor("cam1", lambda: CameraSource("cam1", url, ring), publish)
        async for frame in sup.frames(stop): ...
    """

    def __init__(
        self,
        camera_id: int,
        open_source: Callable[[], CameraSource],
        on_status: Callable[[StatusChange], Awaitable[None]],
        cfg: SupervisorConfig | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.cfg = cfg or SupervisorConfig()
        self.stats = SupervisorStats()
        self.status: CameraStatus | None = None
        self._open_source = open_source
        self._on_status = on_status
        self._rng = rng or random.Random()

    async def frames(self, stop: asyncio.Event) -> AsyncGenerator[Frame]:
        """Frames of the camera until `stop` is set; never raises for a camera failure."""
        await self._publish(CameraStatus.connecting, None)
        while not stop.is_set():
            self.stats.attempts += 1
            source = self._open_source()
            source.start(asyncio.get_running_loop())
            try:
                async for frame in self._watch(source, stop):
                    yield frame
            except CameraUnavailable as exc:
                await self._failed(exc.message)
            finally:
                await source.close()
            if stop.is_set():
                break
            delay = backoff_delay(self.stats.failures_in_a_row, self.cfg, self._rng)
            logger.info(
                "camera %s: retrying in %.2fs",
                self.camera_id,
                delay,
                extra=ids(camera=self.camera_id),
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _watch(self, source: CameraSource, stop: asyncio.Event) -> AsyncIterator[Frame]:
        opened = time.monotonic()
        tick = min(0.25, self.cfg.stall_timeout_s / 4, self.cfg.open_timeout_s / 4)
        last_frame: float | None = None
        while not stop.is_set():
            frame = await source.get(tick)
            if frame is not None:
                last_frame = time.monotonic()
                if self.status is not CameraStatus.online:
                    self.stats.failures_in_a_row = 0
                    await self._publish(CameraStatus.online, None)
                yield frame
                continue
            last = source.stats.last_packet_at
            quiet_s = time.monotonic() - last_frame if last_frame is not None else 0.0
            if self.status is CameraStatus.online and quiet_s > self.cfg.degraded_after_s:
                quiet = (
                    f"camera {self.camera_id}: no picture for {self.cfg.degraded_after_s:g}s "
                    f"({source.url}); reconnecting after {self.cfg.stall_timeout_s:g}s"
                )
                logger.warning("%s", quiet, extra=ids(camera=self.camera_id))
                await self._publish(CameraStatus.degraded, quiet)
            if last_frame is None:
                if time.monotonic() - opened > self.cfg.open_timeout_s:
                    raise CameraUnavailable(
                        f"camera {self.camera_id}: no frame {self.cfg.open_timeout_s:g}s"
                        f" after opening ({source.url})"
                    )
            elif last is not None and time.time() - last > self.cfg.stall_timeout_s:
                raise CameraUnavailable(
                    f"camera {self.camera_id}: stalled, no packet for "
                    f"{self.cfg.stall_timeout_s:g}s ({source.url})"
                )

    async def keep_reading(
        self, open_source: Callable[[], CameraSource], stop: asyncio.Event
    ) -> None:
        """Keep a packets-only source (the camera's main stream, for evidence) reading.

        Reopens it on failure, end or stall with the same back-off; its failures are counted
        in `stats` but do not change the camera's status, which follows the analysis stream.
        """
        while not stop.is_set():
            self.stats.attempts += 1
            source = open_source()
            source.start(asyncio.get_running_loop())
            try:
                await self._watch_packets(source, stop)
            except CameraUnavailable as exc:
                self.stats.errors += 1
                self.stats.failures_in_a_row += 1
                self.stats.last_error = exc.message
                logger.warning("%s", exc.message, extra=ids(camera=self.camera_id))
            finally:
                await source.close()
            if stop.is_set():
                break
            delay = backoff_delay(self.stats.failures_in_a_row, self.cfg, self._rng)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _watch_packets(self, source: CameraSource, stop: asyncio.Event) -> None:
        opened = time.monotonic()
        tick = min(0.25, self.cfg.stall_timeout_s / 4, self.cfg.open_timeout_s / 4)
        while not stop.is_set():
            await source.get(tick)  # no frames come; raises when the stream ends or fails
            last = source.stats.last_packet_at
            if last is None:
                if time.monotonic() - opened > self.cfg.open_timeout_s:
                    raise CameraUnavailable(
                        f"camera {self.camera_id}: no packet {self.cfg.open_timeout_s:g}s"
                        f" after opening ({source.url})"
                    )
            elif time.time() - last > self.cfg.stall_timeout_s:
                raise CameraUnavailable(
                    f"camera {self.camera_id}: stalled, no packet for "
                    f"{self.cfg.stall_timeout_s:g}s ({source.url})"
                )
            else:
                self.stats.failures_in_a_row = 0

    async def _failed(self, error: str) -> None:
        self.stats.errors += 1
        self.stats.failures_in_a_row += 1
        self.stats.last_error = error
        logger.warning("%s", error, extra=ids(camera=self.camera_id))
        offline = self.stats.failures_in_a_row >= self.cfg.offline_after
        await self._publish(CameraStatus.offline if offline else CameraStatus.degraded, error)

    async def _publish(self, status: CameraStatus, error: str | None) -> None:
        if status is self.status:
            return
        self.status = status
        self.stats.history.append(status)
        try:
            await self._on_status(StatusChange(self.camera_id, status, error, time.time()))
        except Exception:  # a broken listener must not stop the camera
            logger.exception(
                "camera %s: status listener failed",
                self.camera_id,
                extra=ids(camera=self.camera_id),
            )
