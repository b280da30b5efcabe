"""`PoseTracks`: what the server does with kept poses. It owns the recorder (the pipeline
sink), turns reviews into labelled episodes (a confirmed theft or a false alarm keeps its
people's poses; a marked missed theft keeps everyone's in the marked span) and runs
retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.config import Settings
from server.errors import Conflict, InvalidRequest
from server.logs import ids
from server.posetracks.episodes import EpisodeMeta, episode_bytes, read_episode
from server.posetracks.recorder import PoseTrackRecorder
from server.posetracks.retention import Pruned, sweep
from server.posetracks.rows import PoseDataError, PoseRows
from server.posetracks.store import PoseStore, episode_key
from server.storage import labelled_episodes
from server.storage.models import Alert, Camera, LabelledEpisode
from server.storage.settings import effective_settings
from shared.schemas.alerts import TEST_EVENT_TYPE, AlertOutcome
from shared.schemas.episodes import EpisodeLabel, EpisodeSource

logger = logging.getLogger(__name__)

FLUSH_EVERY_S = 1.0  # how often quiet cameras' finished chunks are written
PRUNE_EVERY_S = 60.0
CLOCK_SLACK_S = 5.0  # a mark may end this far past the server's clock
LABELS = {
    AlertOutcome.confirmed_theft.value: EpisodeLabel.theft,
    AlertOutcome.false_alarm.value: EpisodeLabel.normal,
}


class PosesGone(Conflict):
    """The poses asked for are no longer (or were never) kept: → 409 `poses_gone`."""

    code = "poses_gone"


class PoseTracks:
    """Kept poses and the labelled episodes made of them.

    Example:
        tracks = PoseTracks(settings=settings, sessionmaker=sm, store=LocalPoseStore(root))
        pipeline.sink = fan_out(..., tracks.recorder.take); await tracks.start()
    """

    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        store: PoseStore,
    ) -> None:
        self.config = settings.pose_tracks
        self._settings = settings
        self._sessionmaker = sessionmaker
        self.store = store
        self.recorder = PoseTrackRecorder(
            store, chunk_s=self.config.chunk_s, enabled=self.config.enabled
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._flush_forever(), name="pose-tracks-flush"),
            asyncio.create_task(self._prune_forever(), name="pose-tracks-retention"),
        ]

    async def stop(self) -> None:
        """Stop the loops; write what is buffered (after the cameras stopped)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.recorder.close()

    async def alert_reviewed(
        self, *, session: AsyncSession, alert: Alert, now: datetime
    ) -> LabelledEpisode | None:
        """Make the alert's episode follow its review: a confirmed theft or a false alarm
        keeps (or relabels) its people's poses over its span and the margins; another
        outcome, or none, drops the episode. None when no episode is kept. Pose files that
        cannot be read or written are logged, never fail the review."""
        if alert.event_type == TEST_EVENT_TYPE:
            return None
        label = LABELS.get(alert.outcome or "")
        episode = await labelled_episodes.episode_of_alert(session=session, alert_id=alert.id)
        if label is None:
            if episode is not None:  # its file goes with the next retention pass
                await session.delete(episode)
                await session.flush()
            return None
        try:
            if episode is not None:
                return await self._relabel(session, episode, label, now)
            start, end = alert.started_at.timestamp(), alert.last_seen_at.timestamp()
            kept_from, kept_to = self._margins(start, end, now)
            found = await self.recorder.read(alert.camera_id, kept_from, kept_to)
            rows = found.of_tracks(int(t) for t in alert.track_ids)
            if not len(rows):
                logger.info(
                    "alert %s reviewed: no poses of its people are kept",
                    alert.id,
                    extra=ids(camera=alert.camera_id, alert=alert.id),
                )
                return None
            return await self._keep(
                session,
                LabelledEpisode(
                    store_id=alert.store_id,
                    camera_id=alert.camera_id,
                    alert_id=alert.id,
                    source=EpisodeSource.alert_review.value,
                    label=label.value,
                    created_by_id=alert.reviewed_by_id,
                    notes="",
                ),
                (start, end, kept_from, kept_to),
                rows,
                now,
            )
        except (OSError, PoseDataError):
            logger.exception(
                "alert %s reviewed: keeping its poses failed",
                alert.id,
                extra=ids(camera=alert.camera_id, alert=alert.id),
            )
            return None

    async def mark_missed_theft(
        self,
        *,
        session: AsyncSession,
        camera: Camera,
        start: datetime,
        end: datetime,
        user_id: int,
        notes: str,
        now: datetime,
    ) -> LabelledEpisode:
        """Keep everyone's poses on `camera` from `start` to `end` (and the margins) as a
        theft; `PosesGone` when none are kept for that span any more."""
        if end.timestamp() > now.timestamp() + CLOCK_SLACK_S:
            raise InvalidRequest(f"the mark ends in the future ({end.isoformat()})")
        if not self.config.enabled:
            raise PosesGone("this server keeps no poses (pose_tracks.enabled is off)")
        s, e = start.timestamp(), end.timestamp()
        kept_from, kept_to = self._margins(s, e, now)
        found = await self.recorder.read(camera.id, kept_from, kept_to)
        inside = found.between(s, e)
        if not inside.frames:
            raise PosesGone(
                f"no poses of camera {camera.id} are kept from {_clock(start)} to "
                f"{_clock(end)}: poses are kept for {self.config.keep_hours:g} h "
                "(pose_tracks.keep_hours), and only while the camera is analysed"
            )
        if not len(inside):
            raise Conflict(
                f"nobody was tracked on camera {camera.id} from {_clock(start)} to "
                f"{_clock(end)}: there are no poses to keep"
            )
        episode = LabelledEpisode(
            store_id=camera.store_id,
            camera_id=camera.id,
            alert_id=None,
            source=EpisodeSource.missed_theft.value,
            label=EpisodeLabel.theft.value,
            created_by_id=user_id,
            notes=notes,
        )
        rows = found.of_tracks(inside.track_ids)
        return await self._keep(session, episode, (s, e, kept_from, kept_to), rows, now)

    async def prune(self, now: datetime) -> Pruned:
        """One retention pass with the current settings."""
        async with self._sessionmaker() as session:
            runtime = await effective_settings(session=session, settings=self._settings)
        return await sweep(
            sessionmaker=self._sessionmaker,
            store=self.store,
            retention=runtime.retention,
            keep_hours=self.config.keep_hours,
            margin_s=self.config.margin_s,
            now=now,
        )

    def _margins(self, start: float, end: float, now: datetime) -> tuple[float, float]:
        """The span kept: `margin_s` on each side, but not past now."""
        return start - self.config.margin_s, max(
            end, min(end + self.config.margin_s, now.timestamp())
        )

    async def _keep(
        self,
        session: AsyncSession,
        episode: LabelledEpisode,
        times: tuple[float, float, float, float],
        rows: PoseRows,
        now: datetime,
    ) -> LabelledEpisode:
        """Store the new episode's row and file."""
        start, end, kept_from, kept_to = (datetime.fromtimestamp(t, UTC) for t in times)
        episode.start_at, episode.end_at = start, end
        episode.kept_from, episode.kept_to = kept_from, kept_to
        episode.track_ids, episode.poses, episode.frames = rows.track_ids, len(rows), rows.frames
        session.add(episode)
        await session.flush()  # its id names its file
        try:
            await self._write(session, episode, EpisodeLabel(episode.label), rows, now)
        except Exception:  # no row without its file
            await session.delete(episode)
            await session.flush()
            raise
        return episode

    async def _relabel(
        self, session: AsyncSession, episode: LabelledEpisode, label: EpisodeLabel, now: datetime
    ) -> LabelledEpisode | None:
        """A changed review: the same poses under the new label (a new file)."""
        if episode.label == label.value:
            return episode
        ref = episode.data_ref
        data = await asyncio.to_thread(self.store.get, ref) if ref else None
        if data is None:  # the file is gone: nothing to learn from
            await session.delete(episode)
            await session.flush()
            return None
        _, rows = read_episode(data)
        await self._write(session, episode, label, rows, now)
        return episode

    async def _write(
        self,
        session: AsyncSession,
        episode: LabelledEpisode,
        label: EpisodeLabel,
        rows: PoseRows,
        now: datetime,
    ) -> None:
        """Write the episode's file with `label` under a new key, then point its row at it
        (a replaced file is left to retention: the row may yet roll back)."""
        meta = EpisodeMeta(
            episode_id=episode.id,
            store_id=episode.store_id,
            camera_id=episode.camera_id,
            source=EpisodeSource(episode.source),
            label=label,
            alert_id=episode.alert_id,
            start=episode.start_at.timestamp(),
            end=episode.end_at.timestamp(),
            kept_from=episode.kept_from.timestamp(),
            kept_to=episode.kept_to.timestamp(),
            track_ids=tuple(int(t) for t in episode.track_ids),
            labelled_at=now.timestamp(),
        )
        key = episode_key(
            episode.store_id, episode.camera_id, episode.id, round(now.timestamp() * 1000)
        )
        data = await asyncio.to_thread(episode_bytes, meta, rows)
        stored = await asyncio.to_thread(self.store.put, key, data)
        episode.label, episode.labelled_at = label.value, now
        episode.data_ref, episode.size_bytes = key, stored.size
        await session.flush()

    async def _flush_forever(self) -> None:
        while True:
            self.recorder.flush_due(time.time())
            await asyncio.sleep(FLUSH_EVERY_S)

    async def _prune_forever(self) -> None:
        while True:  # the first pass a while after start: nothing is urgent then
            await asyncio.sleep(PRUNE_EVERY_S)
            try:
                await self.prune(datetime.now(UTC))
            except Exception:  # a database or disk hiccup: the next pass tries again
                logger.exception("pose retention pass failed")


def _clock(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
