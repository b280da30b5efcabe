"""A candidate model's would-be alerts: decided and deduplicated as live alerts are, counted,
never sent.

`ShadowAlerts.take` is the pipeline's shadow sink (on the event loop, quick): it hands the
candidate's verdicts to the candidate's own `CameraThresholds`, which stores its track peaks
and scored time under its identity (so its alert budget's threshold for each camera is
known, and known at once if it is promoted), and queues each scored frame in which somebody
reaches the candidate's threshold for that camera. One task decides (zones:
`decision.decide`), folds detections into episodes (`dedup.Dedup`, the dedup window in
force) and stores each episode as a `shadow_alerts` row every `FLUSH_EVERY_S`: no alert
row, no event, no push, no clip.

A camera is held to the threshold the alert recorder would use were the candidate active:
the camera's own, else its budget's from the candidate's peaks, else the global one, else
the candidate's own. Frames of a camera whose rules are not read yet are queued whole, as
the recorder does. What a database outage keeps from being written is written later; a
full queue drops frames and counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.alerting.decision import CONCEALMENT, decide
from server.alerting.dedup import Dedup, Episode, Opening
from server.alerting.recorder import (
    QUEUE_FRAMES,
    RULES_EVERY_S,
    RULES_NEW_CAMERA_S,
    CameraRules,
)
from server.alerting.thresholds import KEEP_DAYS, CameraThresholds
from server.alerting.zones import CameraZones
from server.config import Settings
from server.records.alerts import DedupKey
from server.records.analysis import FrameAnalysis
from server.records.people import Tracks, Verdicts
from server.storage import shadow as shadow_rows
from server.storage.models import Camera
from server.storage.settings import effective_settings
from shared.schemas.cameras import Zone

logger = logging.getLogger(__name__)

FLUSH_EVERY_S = 5.0  # would-be alerts are stored this often
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True, slots=True)
class ShadowFrame:
    camera_id: int
    frame_size: tuple[int, int]  # (width, height) of the analysed frame
    tracks: Tracks
    verdicts: Verdicts  # the candidate's


@dataclass(slots=True)
class ShadowStats:
    queued: int = 0  # scored frames with somebody over the threshold
    dropped: int = 0  # refused because the queue was full
    opened: int = 0  # would-be alerts
    written: int = 0  # rows stored or updated
    last_error: str | None = None


class ShadowAlerts:
    """One candidate model's would-be alerts on every camera of this process.

    Example:
        shadow = ShadowAlerts(settings=s, sessionmaker=sm, model=path, identity=sha)
        await shadow.start(); pipeline.shadow_sink = shadow.take; ...; await shadow.stop()
    """

    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        model: Path,
        identity: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`model`: the candidate's file; `identity`: its `model_identity`."""
        self.identity = identity
        self.thresholds = CameraThresholds(
            settings=settings, sessionmaker=sessionmaker, model=model, clock=clock
        )
        self.dedup = Dedup(settings.detection.dedup_window_s)
        self.stats = ShadowStats()
        self._settings = settings
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._queue: asyncio.Queue[ShadowFrame] = asyncio.Queue(QUEUE_FRAMES)
        self._rules: dict[int, CameraRules] = {}
        self._global_threshold: float | None = settings.detection.threshold
        self._rules_read = -float("inf")
        self._dirty: dict[tuple[DedupKey, float], Episode] = {}  # changed since stored
        self._task: asyncio.Task[None] | None = None

    # -- the sink side (event loop, quick) ----------------------------------------------

    def take(self, analysis: FrameAnalysis, /) -> None:
        """A frame as the candidate scored it: its peaks, and its frames that may alert."""
        self.thresholds.take(analysis)
        frame, tracks, verdicts = analysis.frame, analysis.tracks, analysis.verdicts
        if verdicts is None or len(verdicts) == 0:
            return
        rules = self._rules.get(frame.camera_id)
        if rules is not None and verdicts.top < self._threshold(rules, verdicts):
            return
        try:
            self._queue.put_nowait(
                ShadowFrame(frame.camera_id, (frame.width, frame.height), tracks, verdicts)
            )
            self.stats.queued += 1
        except asyncio.QueueFull:
            self.stats.dropped += 1

    def _threshold(self, rules: CameraRules, verdicts: Verdicts) -> float:
        """As the alert recorder: the camera's rule, else the global one, else the model's."""
        for threshold in (rules.threshold, self._global_threshold):
            if threshold is not None:
                return threshold
        return verdicts.threshold

    # -- the task --------------------------------------------------------------------------

    async def start(self) -> None:
        await self.thresholds.start()
        self._task = asyncio.create_task(self._run(), name=f"shadow-{self.identity[:12]}")

    async def stop(self) -> None:
        """Decide what is queued, store every would-be alert and the candidate's peaks."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while not self._queue.empty():
            left = self._queue.get_nowait()
            await self._quietly(partial(self._decide, left))
            self._queue.task_done()
        await self._quietly(self.flush)
        await self.thresholds.stop()

    async def drain(self) -> None:
        """Wait until every queued frame is decided (tests)."""
        await self._queue.join()

    async def flush(self) -> int:
        """Store the would-be alerts that opened or grew since the last flush; how many."""
        if not self._dirty:
            return 0
        pending = {  # what each episode is now: written as it is, forgotten if unchanged
            slot: (episode, episode.last_ts, episode.peak, len(episode.track_ids))
            for slot, episode in self._dirty.items()
        }
        row_ids: dict[tuple[DedupKey, float], int] = {}
        async with self._sessionmaker() as session:
            cameras = {key[0] for key, _ in pending}
            known = await shadow_rows.existing_cameras(session=session, camera_ids=cameras)
            for slot, (episode, last_ts, peak, tracks) in pending.items():
                key = slot[0]
                if key[0] not in known:  # the camera was deleted: its alerts go with it
                    continue
                row_ids[slot] = await shadow_rows.save_shadow_alert(
                    session=session,
                    row_id=episode.alert_id,
                    camera_id=key[0],
                    model=self.identity,
                    zone=key[1],
                    event_type=key[2],
                    started_at=_when(episode.started_ts),
                    last_seen_at=_when(last_ts),
                    peak_score=peak,
                    tracks=tracks,
                )
            await session.commit()
        for slot, (episode, last_ts, peak, tracks) in pending.items():
            episode.alert_id = row_ids.get(slot, episode.alert_id)
            if (episode.last_ts, episode.peak, len(episode.track_ids)) == (last_ts, peak, tracks):
                self._dirty.pop(slot, None)
        self.stats.written += len(row_ids)
        return len(row_ids)

    async def prune(self) -> int:
        """Delete would-be alerts older than the peaks are kept."""
        async with self._sessionmaker() as session:
            before = _when(self._clock()) - timedelta(days=KEEP_DAYS)
            removed = await shadow_rows.prune_shadow_alerts(session=session, before=before)
            await session.commit()
        return removed

    async def _run(self) -> None:
        flushed = pruned = time.monotonic()
        while True:
            scored: ShadowFrame | None = None
            with contextlib.suppress(TimeoutError):
                scored = await asyncio.wait_for(self._queue.get(), FLUSH_EVERY_S)
            if scored is not None:
                await self._quietly(partial(self._decide, scored))
                self._queue.task_done()
            now = time.monotonic()
            if now - flushed >= FLUSH_EVERY_S:
                await self._quietly(self.flush)
                flushed = now
            if now - pruned >= PRUNE_EVERY_S:
                await self._quietly(self.prune)
                pruned = now

    async def _decide(self, scored: ShadowFrame) -> None:
        await self._refresh_rules()
        if scored.camera_id not in self._rules:  # a camera added since: read again
            await self._refresh_rules(max_age_s=RULES_NEW_CAMERA_S)
        rules = self._rules.get(scored.camera_id)
        if rules is None:  # removed or disabled meanwhile
            return
        for found in decide(
            scored.camera_id,
            scored.tracks,
            scored.verdicts,
            rules.zones,
            self._threshold(rules, scored.verdicts),
            scored.frame_size,
            CONCEALMENT,
        ):
            if isinstance(self.dedup.offer(found), Opening):
                self.stats.opened += 1
            episode = self.dedup.episodes[found.key]
            self._dirty[(found.key, episode.started_ts)] = episode
        self.dedup.expire(self._clock())

    async def _refresh_rules(self, max_age_s: float = RULES_EVERY_S) -> None:
        if time.monotonic() - self._rules_read < max_age_s:
            return
        async with self._sessionmaker() as session:
            cameras = (await session.scalars(select(Camera).where(Camera.enabled))).all()
            runtime = await effective_settings(session=session, settings=self._settings)
        self._rules = {
            c.id: CameraRules(
                CameraZones.of([Zone.model_validate(z) for z in c.zones or []]),
                self.thresholds.choice(c, runtime.detection).rule,
            )
            for c in cameras
        }
        self._global_threshold = runtime.detection.threshold
        self.dedup.window_s = runtime.detection.dedup_window_s
        self._rules_read = time.monotonic()

    async def _quietly(self, step: Callable[[], Awaitable[object]]) -> None:
        try:
            await step()
        except Exception as exc:  # the database may be down: the next round tries again
            self.stats.last_error = str(exc).splitlines()[0][:300] if str(exc) else repr(exc)
            logger.warning("shadow model %s: %s", self.identity[:12], self.stats.last_error)


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
