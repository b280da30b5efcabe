"""⑦ → ⑧ → store: scored frames in, alerts out, in that order and without loss.

`AlertRecorder.take` gets every `FrameAnalysis` (on the event loop, quick): it queues each
freshly scored frame that anybody in it could alert on. One task then decides (zones,
thresholds: `decision.py`), folds detections into episodes (`dedup.py`) and writes the
alert, with its clip job and its pushes, before it is announced (`services.alerts`); then it
publishes an `AlertRaised` record (evidence and the live view take it from there). A
database that is down delays alerts, it does not drop them: the task retries the same write
with back-off.

Camera rules (zones, per-camera threshold) and the global detection settings are read from
the database every few seconds, so an admin's change applies without restarting cameras. A
camera's threshold is its own, else its alert budget's (`thresholds.py`), else the global
one, else the model's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from server.alerting.decision import CONCEALMENT, decide
from server.alerting.dedup import Dedup, Episode, Extension, Opening, severity
from server.alerting.thresholds import CameraThresholds
from server.alerting.zones import CameraZones
from server.config import Settings
from server.logs import ids
from server.notify.bus import EventBus
from server.notify.outbox import OPENED, RAISED, AlertPushes
from server.records.alerts import AlertRaised, AlertsDecided
from server.records.analysis import FrameAnalysis
from server.records.people import Tracks, Verdicts
from server.services.alerts import commit_and_announce, record_alert
from server.storage import alerts as alert_rows
from server.storage.models import Alert, Camera
from server.storage.settings import effective_settings
from shared.schemas.alerts import AlertStatus
from shared.schemas.cameras import Zone
from shared.schemas.events import AlertUpdated
from shared.schemas.settings import DetectionSettings

logger = logging.getLogger(__name__)

RULES_EVERY_S = 3.0  # how often camera rules and settings are re-read
RULES_NEW_CAMERA_S = 0.5  # ... at most, when a frame comes from a camera not known yet
QUEUE_FRAMES = 256  # scored frames waiting for the recorder at most (each holds its picture)
RETRY_BASE_S, RETRY_CAP_S = 0.5, 10.0
TAKE_UP_AFTER_S = 10.0  # a camera quiet this long may have run elsewhere meanwhile


@dataclass(frozen=True, slots=True)
class CameraRules:
    """What decides a camera's alerts."""

    zones: CameraZones
    threshold: float | None  # the camera's own or its budget's, None: the global one


@dataclass(frozen=True, slots=True)
class ScoredFrame:
    camera_id: int
    frame_size: tuple[int, int]
    tracks: Tracks
    verdicts: Verdicts
    image: npt.NDArray[np.uint8]  # the analysis frame (read-only, shared, not copied)
    captured_at: float


PublishAlert = Callable[[AlertRaised | AlertsDecided], None]  # quick: on the event loop


@dataclass(slots=True)
class RecorderStats:
    queued: int = 0
    dropped: int = 0  # scored frames refused because the queue was full
    opened: int = 0
    extended: int = 0
    retries: int = 0  # database writes retried
    last_error: str | None = None


class AlertRecorder:
    """Turns scored frames into stored, announced alerts."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        publish: PublishAlert | None = None,
        pushes: AlertPushes | None = None,
        thresholds: CameraThresholds | None = None,
    ) -> None:
        """`publish` takes an `AlertRaised` for every stored opening and extension, with
        the deciding frame's picture, and an `AlertsDecided` as each camera's frames are
        weighed; `thresholds` sets cameras' thresholds from their alert
        budgets (None: a camera's own threshold or the global one)."""
        self._settings = settings
        self._sessionmaker = sessionmaker
        self._bus = bus
        self._publish = publish
        self.pushes = pushes
        self._thresholds = thresholds
        self._queue: asyncio.Queue[ScoredFrame] = asyncio.Queue(QUEUE_FRAMES)
        self._rules: dict[int, CameraRules] = {}
        self._global_threshold: float | None = settings.detection.threshold
        self._rules_read = -float("inf")
        self.dedup = Dedup(settings.detection.dedup_window_s)
        self._frames_at: dict[int, float] = {}  # camera → when its last scored frame came
        self._queued: dict[int, int] = {}  # camera → its frames waiting in the queue
        self._seen_at: dict[int, float] = {}  # camera → its latest frame, while some wait
        self.stats = RecorderStats()
        self._task: asyncio.Task[None] | None = None

    # -- the sink side (event loop, must be quick) -------------------------------------

    def take(self, analysis: FrameAnalysis) -> None:
        """Queue a freshly scored frame when somebody in it reaches the camera's threshold
        (any frame of a camera whose rules are not read yet)."""
        frame, tracks, verdicts = analysis.frame, analysis.tracks, analysis.verdicts
        camera_id = frame.camera_id
        if verdicts is None or len(verdicts) == 0:
            self._weighed(camera_id, frame.captured_at)
            return
        rules = self._rules.get(camera_id)
        if rules is not None and verdicts.top < self._threshold(rules, verdicts):
            self._weighed(camera_id, frame.captured_at)
            return
        scored = ScoredFrame(
            camera_id, (frame.width, frame.height), tracks, verdicts, frame.image, frame.captured_at
        )
        try:
            self._queue.put_nowait(scored)
        except asyncio.QueueFull:
            self.stats.dropped += 1
            logger.warning(
                "camera %s: alert queue full, a scored frame dropped",
                camera_id,
                extra=ids(camera=camera_id),
            )
            self._weighed(camera_id, frame.captured_at)
            return
        self.stats.queued += 1
        self._queued[camera_id] = self._queued.get(camera_id, 0) + 1

    def _weighed(self, camera_id: int, captured_at: float) -> None:
        """A frame needs no recording: decided at once, unless earlier ones still wait."""
        if self._queued.get(camera_id):
            self._seen_at[camera_id] = captured_at
        elif self._publish is not None:
            self._publish(AlertsDecided(camera_id, captured_at))

    def _recorded(self, scored: ScoredFrame) -> None:
        """A queued frame is recorded: its camera is decided through it, or through the
        latest frame when no other waits."""
        camera_id, through = scored.camera_id, scored.captured_at
        left = self._queued[camera_id] = self._queued.get(camera_id, 1) - 1
        if left <= 0:
            del self._queued[camera_id]
            through = max(through, self._seen_at.pop(camera_id, through))
        if self._publish is not None:
            self._publish(AlertsDecided(camera_id, through))

    @property
    def queue_depth(self) -> int:
        """Scored frames waiting to be recorded."""
        return self._queue.qsize()

    def _threshold(self, rules: CameraRules, verdicts: Verdicts) -> float:
        """The camera's own threshold, else the global one, else the model's."""
        for threshold in (rules.threshold, self._global_threshold):
            if threshold is not None:
                return threshold
        return verdicts.threshold

    # -- the recording task -------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert-recorder")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def drain(self) -> None:
        """Wait until every queued frame is recorded (tests, shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            try:
                scored = await asyncio.wait_for(self._queue.get(), RULES_EVERY_S)
            except TimeoutError:  # quiet cameras: keep the rules fresh all the same
                await self._refresh_quietly()
                continue
            try:
                await self._with_retries(scored)
            except Exception:  # a bug, not the database: log it, keep recording the rest
                logger.exception(
                    "camera %s: recording an alert failed",
                    scored.camera_id,
                    extra=ids(camera=scored.camera_id),
                )
            finally:
                self._recorded(scored)
                self._queue.task_done()

    async def _with_retries(self, scored: ScoredFrame) -> None:
        """Record `scored`, retrying while the database is unreachable; the dedup state
        keeps what a failed write had folded in, so the retry writes it."""

        def note(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            self.stats.retries += 1
            self.stats.last_error = str(error).splitlines()[0][:300]
            logger.warning(
                "camera %s: alert write failed (%s); retrying in %.1fs",
                scored.camera_id,
                self.stats.last_error,
                state.next_action.sleep if state.next_action is not None else 0.0,
                extra=ids(camera=scored.camera_id),
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception_type((OperationalError, DBAPIError, OSError, StaleDataError)),
            wait=wait_exponential(multiplier=RETRY_BASE_S, max=RETRY_CAP_S),
            before_sleep=note,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._record(scored)

    async def _record(self, scored: ScoredFrame) -> None:
        await self._take_up(scored.camera_id)
        await self._refresh_rules()
        if scored.camera_id not in self._rules:  # a camera added since: read again
            await self._refresh_rules(max_age_s=RULES_NEW_CAMERA_S)
        rules = self._rules.get(scored.camera_id)
        if rules is None:  # removed or disabled meanwhile
            return
        threshold = self._threshold(rules, scored.verdicts)
        for found in decide(
            scored.camera_id,
            scored.tracks,
            scored.verdicts,
            rules.zones,
            threshold,
            scored.frame_size,
            CONCEALMENT,
        ):
            change = self.dedup.offer(found)
            try:
                if isinstance(change, Opening):
                    await self._open(change, scored.image)
                elif isinstance(change, Extension):
                    await self._extend(change, scored.image)
            except BaseException:  # not written: let the retry's offer report it again
                if isinstance(change, Opening):
                    self.dedup.forget(found.key)
                elif isinstance(change, Extension):
                    change.episode.reported_ts = -float("inf")
                raise
        self.dedup.expire(time.time())

    async def _open(self, change: Opening, image: npt.NDArray[np.uint8] | None) -> None:
        found = change.detection
        async with self._sessionmaker() as session:
            camera = await session.get(Camera, found.camera_id)
            if camera is None or not camera.enabled:
                self.dedup.forget(found.key)
                return
            pushes = self.pushes

            async def stored_with(session: AsyncSession, alert: Alert) -> None:
                """What is stored with the alert: its clip job and its pushes."""
                clips = (await effective_settings(session=session, settings=self._settings)).clips
                alert_rows.plan_clip(session, alert, found.ts, clips)
                if pushes is not None:
                    await pushes.add(session, alert, camera, OPENED)

            alert = await record_alert(
                session=session,
                bus=self._bus,
                camera=camera,
                zone=found.zone,
                event_type=found.event_type,
                score=found.score,
                started_at=_when(found.ts),
                track_ids=[found.track_id],
                before_commit=stored_with,
            )
        if self.pushes is not None:
            self.pushes.committed()
        change.episode.alert_id = alert.id
        self.stats.opened += 1
        logger.info(
            "camera %s: alert %s opened (%s, zone %r, score %.2f)",
            found.camera_id,
            alert.id,
            found.event_type,
            found.zone,
            found.score,
            extra=ids(camera=found.camera_id, alert=alert.id),
        )
        self._announce(alert, change, image)

    async def _extend(self, change: Extension, image: npt.NDArray[np.uint8] | None) -> None:
        episode = change.episode
        async with self._sessionmaker() as session:
            alert = await session.get(Alert, episode.alert_id) if episode.alert_id else None
            if alert is None or alert.status == AlertStatus.reviewed.value:
                # reviewed (or gone) meanwhile: what happens now is a new incident
                self.dedup.forget(episode.key)
                opening = self.dedup.offer(change.detection)
                assert isinstance(opening, Opening)
                await self._open(opening, image)
                return
            alert.last_seen_at = max(alert.last_seen_at, _when(episode.last_ts))
            alert.peak_score = max(alert.peak_score, episode.peak)
            alert.track_ids = sorted(set(alert.track_ids) | episode.track_ids)
            await session.flush()
            envelope = await self._bus.stage(
                session, AlertUpdated(alert=alert_rows.alert_public(alert)), store_id=alert.store_id
            )
            raised = change.severity_raised and self.pushes is not None
            if raised and self.pushes is not None:
                camera = await session.get(Camera, alert.camera_id)
                if camera is not None:
                    await self.pushes.add(session, alert, camera, RAISED)
            await commit_and_announce(session, self._bus, envelope)
        if raised and self.pushes is not None:
            self.pushes.committed()
        self.stats.extended += 1
        self._announce(alert, change, image)

    def _announce(
        self, alert: Alert, change: Opening | Extension, image: npt.NDArray[np.uint8] | None
    ) -> None:
        if self._publish is None:
            return
        episode = change.episode
        self._publish(
            AlertRaised(
                alert_id=alert.id,
                store_id=alert.store_id,
                opened=isinstance(change, Opening),
                detection=change.detection,
                track_ids=frozenset(episode.track_ids | {change.detection.track_id}),
                last_ts=episode.last_ts,
                open_until=episode.last_ts + self.dedup.window_s,
                image=image,
            )
        )

    async def _refresh_quietly(self) -> None:
        try:
            await self._refresh_rules()
        except Exception as exc:  # the database may be down: the next frame retries
            logger.warning("reading camera rules failed: %s", str(exc).splitlines()[0][:300])

    async def _refresh_rules(self, max_age_s: float = RULES_EVERY_S) -> None:
        if time.monotonic() - self._rules_read < max_age_s:
            return
        async with self._sessionmaker() as session:
            cameras = (await session.scalars(select(Camera).where(Camera.enabled))).all()
            runtime = await effective_settings(session=session, settings=self._settings)
        self._rules = {
            c.id: CameraRules(
                CameraZones.of([Zone.model_validate(z) for z in c.zones or []]),
                self._camera_threshold(c, runtime.detection),
            )
            for c in cameras
        }
        self._global_threshold = runtime.detection.threshold
        self.dedup.window_s = runtime.detection.dedup_window_s
        self._rules_read = time.monotonic()

    def _camera_threshold(self, camera: Camera, detection: DetectionSettings) -> float | None:
        """The camera's own threshold, else its alert budget's; None: the global one."""
        if self._thresholds is None:
            return camera.threshold
        return self._thresholds.choice(camera, detection).rule

    async def _take_up(self, camera_id: int) -> None:
        """A camera whose frames come after a pause (or for the first time: another worker
        ran it, or this one restarted) continues the alerts the database holds for it."""
        now = time.monotonic()
        last = self._frames_at.get(camera_id)
        self._frames_at[camera_id] = now
        if last is not None and now - last < TAKE_UP_AFTER_S:
            return
        for key in [k for k in self.dedup.episodes if k[0] == camera_id]:
            self.dedup.forget(key)
        await self._restore(camera_id)

    async def _restore(self, camera_id: int | None = None) -> None:
        """Reopen the episodes of alerts seen within the window (of one camera, or all)."""
        window = self.dedup.window_s
        since = datetime.now(UTC) - timedelta(seconds=window)
        query = select(Alert).where(
            Alert.last_seen_at >= since, Alert.status != AlertStatus.reviewed.value
        )
        if camera_id is not None:
            query = query.where(Alert.camera_id == camera_id)
        async with self._sessionmaker() as session:
            open_alerts = (await session.scalars(query)).all()
        for alert in open_alerts:
            key = (alert.camera_id, alert.zone, alert.event_type)
            known = self.dedup.episodes.get(key)
            if known is not None and known.last_ts >= alert.last_seen_at.timestamp():
                continue
            self.dedup.restore(
                Episode(
                    key=key,
                    started_ts=alert.started_at.timestamp(),
                    last_ts=alert.last_seen_at.timestamp(),
                    peak=alert.peak_score,
                    severity=severity(alert.peak_score, self._global_threshold or 0.5),
                    track_ids={int(t) for t in alert.track_ids},
                    alert_id=alert.id,
                    reported_ts=alert.last_seen_at.timestamp(),
                )
            )


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
