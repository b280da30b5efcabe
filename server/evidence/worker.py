"""Evidence for each new alert: the snapshot at once, the clip once its post-roll has passed.

Decoupled from the real-time path: it takes the recorder's `AlertRaised` records (quick, on
the event loop), and its own tasks copy the camera's packets out of its
ring buffer as they arrive (the pre-roll at once, before it ages out of the ring), and
write the MP4 in a thread. A clip job is a database row (queued → running → done or
failed) created before any of that, so a restart never forgets one: the packets of an
unfinished clip were only in memory, and at start-up such a job is marked failed, with the
reason, rather than left hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from server.annotate.draw import PeopleOverlay
from server.annotate.overlay_log import OverlayLog
from server.annotate.pictures import PictureThreads
from server.config import Settings
from server.evidence.annotated import write_annotated_mp4
from server.evidence.media import ClipError, snapshot_jpeg, write_mp4
from server.evidence.retention import Sweep, sweep
from server.evidence.store import EvidenceStore, EvidenceStoreError, evidence_key
from server.logs import ids
from server.notify.bus import EventBus
from server.pipeline.ring_buffer import PacketRing
from server.records.alerts import AlertRaised, AlertsDecided, Detection
from server.records.analysis import FrameAnalysis
from server.records.video import Packet, StreamInfo
from server.services.alerts import commit_and_announce
from server.storage import alerts as alert_rows
from server.storage.models import Alert, Camera, ClipJob
from server.storage.settings import effective_settings
from shared.schemas.alerts import ClipStatus
from shared.schemas.events import AlertUpdated

logger = logging.getLogger(__name__)

POLL_S = 0.25  # how often a capture copies new packets out of the ring
RETENTION_EVERY_S = 600.0  # retention passes, besides one after every clip
MIN_FREE_BYTES = 1024**3  # evidence never leaves the disk with less than this free
STALE_RETRIES = 5  # times an alert update is applied again after a concurrent one
STORE_RETRY_S, STORE_RETRY_BASE_S, STORE_RETRY_CAP_S = 120.0, 1.0, 15.0  # store unreachable
ENCODE_NICE = 10  # the evidence encoder's nice value (camera and pose threads: 0)
RESTARTED = "the server restarted before the clip was complete (its video was in memory only)"
STALE_JOB_S = 600.0  # a job whose clip ended this long ago is being recorded nowhere
GROWTH_WAIT_S = 10.0  # how long past its end a clip waits for its frames to be weighed


@dataclass(slots=True)
class Capture:
    """One clip being recorded: its window, and the packets copied so far."""

    alert_id: int
    camera_id: int
    start_ts: float
    end_ts: float  # moves later while the alert grows, up to `limit_ts`
    limit_ts: float
    post_roll_s: float
    label: str  # the camera's name, drawn on the annotated clip
    highlight: set[int]  # the alert's people
    packets: list[Packet] = field(default_factory=list)
    overlays: list[PeopleOverlay] = field(default_factory=list)
    stream: StreamInfo | None = None


class ClipWorker:
    """Makes snapshots and clips for new alerts."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        store: EvidenceStore,
        ring_of: Callable[[int], PacketRing | None],
        pictures: PictureThreads,
    ) -> None:
        """`ring_of(camera_id)` is the camera's ring buffer (None: not running here);
        snapshots are drawn on `pictures`."""
        self._settings = settings
        self._sessionmaker = sessionmaker
        self._bus = bus
        self.store = store
        self._ring_of = ring_of
        self._pictures = pictures
        self._captures: dict[int, Capture] = {}
        # alerts whose capture is being set up, with any growth that came meanwhile
        self._grown: dict[int, AlertRaised | None] = {}
        self._decided: dict[int, float] = {}  # camera → its frames weighed for alerts up to
        # what the annotated clips draw; kept as long as the rings keep video
        self._overlays = OverlayLog(settings.pipeline.ring_seconds + 2 * POLL_S)
        self._tasks: set[asyncio.Task[None]] = set()
        self.min_free_bytes = MIN_FREE_BYTES
        self._retention: asyncio.Task[None] | None = None
        self._unfinished: Literal["all", "stale", "none"] = "all"
        # re-encoding (the annotated clips) one at a time, below the cameras' priority
        self._encoder = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="evidence-encode", initializer=_lower_priority
        )
        # writing clips and storing files, which retries for minutes while a remote store
        # is away: here, not on asyncio's default executor, where requests' work waits
        self._files = ThreadPoolExecutor(max_workers=2, thread_name_prefix="evidence-files")

    async def start(self, unfinished: Literal["all", "stale", "none"] = "all") -> None:
        """Fail, with the reason, the jobs a previous run left unfinished; start retention.

        `unfinished`: "all" (one box: their video was in this process's memory), "stale"
        (one worker of several: those past any recording, now and at each retention pass),
        or "none" (an API instance records nothing)."""
        self._unfinished = unfinished
        if unfinished != "none":
            await self._fail_unfinished(stale_only=unfinished == "stale")
        self._retention = asyncio.create_task(self._retain_forever(), name="evidence-retention")

    async def retain(self) -> Sweep | None:
        """One retention pass with the current settings; None if it failed (logged)."""
        try:
            async with self._sessionmaker() as session:
                runtime = await effective_settings(session=session, settings=self._settings)
            return await sweep(
                sessionmaker=self._sessionmaker,
                store=self.store,
                retention=runtime.retention,
                now=datetime.now(UTC),
                min_free_bytes=self.min_free_bytes,
            )
        except Exception:  # a database or disk hiccup: the next pass tries again
            logger.exception("evidence retention pass failed")
            return None

    async def _retain_forever(self) -> None:
        while True:
            await self.retain()
            await asyncio.sleep(RETENTION_EVERY_S)
            if self._unfinished == "stale":  # a worker that died left its jobs behind
                try:
                    await self._fail_unfinished(stale_only=True)
                except Exception:  # the database may be away: the next pass tries again
                    logger.exception("failing stale clip jobs failed")

    async def _fail_unfinished(self, *, stale_only: bool) -> None:
        """Fail, with the reason, the jobs a previous run left unfinished (`stale_only`:
        those whose clip ended more than STALE_JOB_S ago)."""
        query = select(ClipJob).where(
            ClipJob.status.in_([ClipStatus.queued.value, ClipStatus.running.value])
        )
        if stale_only:
            query = query.where(
                ClipJob.clip_end < datetime.now(UTC) - timedelta(seconds=STALE_JOB_S)
            )
        async with self._sessionmaker() as session:
            jobs = (await session.scalars(query)).all()
            envelopes = []
            for job in jobs:
                job.status, job.error = ClipStatus.failed.value, RESTARTED
                alert = await session.get(Alert, job.alert_id)
                if alert is not None:
                    alert.clip_status = ClipStatus.failed.value
                    await session.flush()
                    envelopes.append(
                        await self._bus.stage(
                            session,
                            AlertUpdated(alert=alert_rows.alert_public(alert)),
                            store_id=alert.store_id,
                        )
                    )
            await commit_and_announce(session, self._bus, *envelopes)
        if jobs:
            logger.warning("%d unfinished clip jobs marked failed: %s", len(jobs), RESTARTED)

    async def stop(self) -> None:
        if self._retention is not None:
            self._retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._encoder.shutdown(wait=False, cancel_futures=True)
        self._files.shutdown(wait=False, cancel_futures=True)

    # -- from the recorder ----------------------------------------------------------------

    def take(self, analysis: FrameAnalysis) -> None:
        """Keep what the annotated clips draw, as long as the rings keep video."""
        self._overlays.take(analysis)

    def alert_raised(self, raised: AlertRaised) -> None:
        """A new alert gets a snapshot and a clip (its job was stored with it); a growing
        one a longer clip. Only the process that holds the camera's ring can cut it."""
        if self._ring_of(raised.camera_id) is None:
            return
        if not raised.opened:
            capture = self._captures.get(raised.alert_id)
            if capture is not None:
                _grow(capture, raised)
            elif raised.alert_id in self._grown:  # its capture is still being set up
                self._grown[raised.alert_id] = raised
            return
        self._grown[raised.alert_id] = None
        self._spawn(self._evidence(raised))

    def alerts_decided(self, decided: AlertsDecided) -> None:
        """How far each camera's frames have been weighed: no growth can come before it."""
        if decided.through_ts > self._decided.get(decided.camera_id, -float("inf")):
            self._decided[decided.camera_id] = decided.through_ts

    def _settled(self, capture: Capture) -> bool:
        """Past its end, a clip may close: at its limit, once every frame captured before its
        end has been weighed (any growth they bring has come), or when weighing lags too far."""
        now = time.time()
        if now < capture.end_ts:
            return False
        decided = self._decided.get(capture.camera_id, -float("inf"))
        return (
            capture.end_ts >= capture.limit_ts
            or decided >= capture.end_ts
            or now >= capture.end_ts + GROWTH_WAIT_S
        )

    def _spawn(self, work: object) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the worker's own tasks -----------------------------------------------------------

    async def _evidence(self, raised: AlertRaised) -> None:
        alert_id, store_id, image = raised.alert_id, raised.store_id, raised.image
        found = raised.detection
        try:
            async with self._sessionmaker() as session:
                job = (
                    await session.scalars(select(ClipJob).where(ClipJob.alert_id == alert_id))
                ).one_or_none()
                clips = (await effective_settings(session=session, settings=self._settings)).clips
                camera = await session.get(Camera, found.camera_id)
        except BaseException:
            self._grown.pop(alert_id, None)
            raise
        if job is None:  # planned by whoever stored the alert; none: no clip wanted
            self._grown.pop(alert_id, None)
            return
        capture = Capture(
            alert_id=alert_id,
            camera_id=found.camera_id,
            start_ts=job.clip_start.timestamp(),
            end_ts=job.clip_end.timestamp(),
            limit_ts=found.ts + clips.max_event_s + clips.post_roll_s,
            post_roll_s=clips.post_roll_s,
            label=camera.name if camera is not None else f"camera {found.camera_id}",
            highlight=set(raised.track_ids),
        )
        self._captures[alert_id] = capture
        if (grown := self._grown.pop(alert_id, None)) is not None:
            _grow(capture, grown)
        try:
            if image is not None:  # beside the recording: a slow store must not delay it
                self._spawn(self._snapshot(alert_id, store_id, image, found))
            await self._record(capture)
            await self._job(alert_id, ClipStatus.running, clip_end=capture.end_ts)
            key = evidence_key(store_id, found.camera_id, alert_id, "clip.mp4")
            with tempfile.TemporaryDirectory(prefix="shopguard-clip-") as folder:
                clip = Path(folder) / "clip.mp4"
                duration = await asyncio.get_running_loop().run_in_executor(
                    self._files, self._write_clip, capture, clip, key
                )
                await self._job(alert_id, ClipStatus.done, clip_ref=key)
                logger.info(
                    "camera %s: alert %s clip written (%.1f s)",
                    found.camera_id,
                    alert_id,
                    duration,
                    extra=ids(camera=found.camera_id, alert=alert_id),
                )
                annotated = evidence_key(store_id, found.camera_id, alert_id, "annotated.mp4")
                await self._annotate(capture, clip, annotated)
            await self.retain()  # the new clips may have crossed the disk cap
        except (ClipError, OSError) as exc:
            logger.error(
                "camera %s: alert %s clip failed: %s",
                found.camera_id,
                alert_id,
                exc,
                extra=ids(camera=found.camera_id, alert=alert_id),
            )
            await self._job(alert_id, ClipStatus.failed, error=str(exc))
        finally:
            self._captures.pop(alert_id, None)

    async def _snapshot(
        self, alert_id: int, store_id: int, image: npt.NDArray[np.uint8], found: Detection
    ) -> None:
        key = evidence_key(store_id, found.camera_id, alert_id, "snapshot.jpg")
        try:
            with tempfile.TemporaryDirectory(prefix="shopguard-snap-") as folder:
                path = Path(folder) / "snapshot.jpg"
                await self._pictures.run(
                    snapshot_jpeg,
                    image,
                    path,
                    xyxy=found.xyxy,
                    keypoints=found.keypoints,
                    keypoint_conf=found.keypoint_conf,
                )
                await asyncio.get_running_loop().run_in_executor(self._files, self._put, key, path)
        except OSError as exc:  # a full disk: the clip may still fit later
            logger.error(
                "camera %s: alert %s snapshot failed: %s",
                found.camera_id,
                alert_id,
                exc,
                extra=ids(camera=found.camera_id, alert=alert_id),
            )
            return
        await self._set_alert(alert_id, snapshot_ref=key)

    async def _record(self, capture: Capture) -> None:
        """Copy the camera's packets of the clip's window out of its ring as they come."""
        last = -float("inf")
        while True:
            ring = self._ring_of(capture.camera_id)
            if ring is None and capture.stream is None:
                raise ClipError("the camera is not running in this process: no video to cut")
            if ring is None:
                raise ClipError("the camera stopped before the clip was complete")
            if capture.stream is None:
                capture.stream = ring.stream
            elif ring.stream is not capture.stream:  # the stream restarted: cut here
                break
            fresh = ring.window(capture.start_ts, capture.end_ts)
            capture.packets += [p for p in fresh if p.captured_at > last]
            seen = capture.overlays[-1].ts if capture.overlays else -float("inf")
            drawn = self._overlays.window(capture.camera_id, capture.start_ts, capture.end_ts)
            capture.overlays += [o for o in drawn if o.ts > seen]
            if capture.packets:
                last = capture.packets[-1].captured_at
            if self._settled(capture):
                break
            await asyncio.sleep(POLL_S)
        if capture.stream is None:
            raise ClipError("the camera's stream is not known yet (no packets)")

    def _write_clip(self, capture: Capture, path: Path, key: str) -> float:
        assert capture.stream is not None
        duration = write_mp4(capture.packets, capture.stream, path)
        self._put(key, path)
        return duration

    async def _annotate(self, capture: Capture, clip: Path, key: str) -> None:
        """The annotated variant of the written `clip`: a failure is logged and leaves the
        alert its plain clip."""
        path = clip.with_name("annotated.mp4")
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._encoder, self._write_annotated, capture, clip, path, key
            )
        except (ClipError, OSError) as exc:
            logger.error(
                "camera %s: alert %s annotated clip failed: %s",
                capture.camera_id,
                capture.alert_id,
                exc,
                extra=ids(camera=capture.camera_id, alert=capture.alert_id),
            )
            return
        await self._set_alert(capture.alert_id, annotated_ref=key)

    def _write_annotated(self, capture: Capture, clip: Path, path: Path, key: str) -> None:
        write_annotated_mp4(
            clip,
            path,
            start_ts=capture.packets[0].captured_at,
            overlays=capture.overlays,
            highlight=capture.highlight,
            label=capture.label,
        )
        self._put(key, path)

    def _put(self, key: str, path: Path) -> None:
        """Store a finished file, retrying for a while when the store is unreachable (a
        remote store's network hiccup must not cost the evidence); in a worker thread."""
        delay, deadline = STORE_RETRY_BASE_S, time.monotonic() + STORE_RETRY_S
        while True:
            try:
                self.store.put(key, path)
                return
            except EvidenceStoreError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning("storing %s failed (%s); retrying in %.0f s", key, exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_CAP_S)

    async def _job(
        self,
        alert_id: int,
        status: ClipStatus,
        *,
        clip_end: float | None = None,
        clip_ref: str | None = None,
        error: str | None = None,
    ) -> None:
        async with self._sessionmaker() as session:
            job = (
                await session.scalars(select(ClipJob).where(ClipJob.alert_id == alert_id))
            ).one_or_none()
            if job is not None:
                job.status, job.error = status.value, error
                if clip_end is not None:
                    job.clip_end = _when(clip_end)
            await session.commit()
        await self._set_alert(alert_id, clip_status=status, clip_ref=clip_ref)

    async def _set_alert(
        self,
        alert_id: int,
        *,
        clip_status: ClipStatus | None = None,
        clip_ref: str | None = None,
        snapshot_ref: str | None = None,
        annotated_ref: str | None = None,
    ) -> None:
        """Record evidence on the alert, commit, and announce `alert.updated`. A review or
        the recorder may update the alert at the same moment: its version check then
        fails, and the change is applied again on the fresh row."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(StaleDataError),
            stop=stop_after_attempt(STALE_RETRIES),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                async with self._sessionmaker() as session:
                    alert = await session.get(Alert, alert_id)
                    if alert is None:  # deleted meanwhile
                        return
                    if clip_status is not None:
                        alert.clip_status = clip_status.value
                    if clip_ref is not None:
                        alert.clip_ref = clip_ref
                    if snapshot_ref is not None:
                        alert.snapshot_ref = snapshot_ref
                    if annotated_ref is not None:
                        alert.annotated_ref = annotated_ref
                    await session.flush()
                    envelope = await self._bus.stage(
                        session,
                        AlertUpdated(alert=alert_rows.alert_public(alert)),
                        store_id=alert.store_id,
                    )
                    await commit_and_announce(session, self._bus, envelope)


def _grow(capture: Capture, raised: AlertRaised) -> None:
    """The post-roll runs from the alert's latest detection (up to the clip's limit)."""
    wanted = raised.last_ts + capture.post_roll_s
    capture.end_ts = min(max(capture.end_ts, wanted), capture.limit_ts)
    capture.highlight |= raised.track_ids


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _lower_priority() -> None:
    """Run this thread (and the encoder threads it starts) at a lower CPU priority, so
    encoding evidence never takes CPU from the camera and pose threads."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not allowed
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ENCODE_NICE)
