"""Each camera's threshold in force, from its alert budget: track peaks in, thresholds out.

`CameraThresholds` records track peaks (`take` is a pipeline sink, see `peaks.py`) and
stores them every `FLUSH_EVERY_S`; keeps every camera's recent history (its peaks under the
current model over `budget.WINDOW_DAYS`, the time it was scored, its reviews over
`budget.REVIEW_DAYS`), read again every `REFRESH_EVERY_S` and when settings change
(`settings_changed`); and answers from that cache which threshold holds for a
camera (`choice`, by `budget.choose`). The alert recorder reads it with the other camera
rules; the camera routes show it. Peaks and spans older than `KEEP_DAYS` are pruned hourly.

The model's identity (the sha256 of its file) is stored with every peak, so a new model
starts each camera's history afresh; its operating threshold gives the floor (`FLOOR_SHARE`
of it) and the fallback; its file's `info.alerts_per_camera_day`, when the evaluation
states one, the default budget (else `DEFAULT_BUDGET_PER_DAY`).

The loop is as plain as the event log's pruning loop (a library scheduler would add nothing
here): a round that fails (the database down) is logged and done again at the next; peaks
wait in memory meanwhile, at most `MAX_PENDING` (the oldest dropped and counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.alerting.budget import (
    REVIEW_DAYS,
    WINDOW_DAYS,
    AlertCurve,
    PeakHistory,
    Reviews,
    ThresholdChoice,
    alert_curve,
    choose,
)
from server.alerting.peaks import SPAN_GAP_S, FinishedTrack, PeakTracker, ScoringSpan
from server.behaviour.classifier import MODEL_NAME
from server.behaviour.models import model_identity
from server.config import Settings
from server.records.analysis import FrameAnalysis
from server.storage import peaks as peak_rows
from server.storage.models import Camera, TrackPeak
from server.storage.settings import effective_settings
from server.weights import DEFAULT_WEIGHTS_DIR
from shared.schemas.alerts import AlertOutcome
from shared.schemas.cameras import CameraThreshold
from shared.schemas.settings import DetectionSettings

logger = logging.getLogger(__name__)

FLUSH_EVERY_S = 30.0  # finished tracks are stored this often
REFRESH_EVERY_S = 300.0  # histories and thresholds are read again this often
PRUNE_EVERY_S = 3600.0
KEEP_DAYS = 14.0  # peaks and spans kept (twice the budget's window)
MAX_PENDING = 20_000  # finished tracks waiting for a database that is down
FLOOR_SHARE = 0.5  # a budget never sets a threshold below half the model's own
DEFAULT_BUDGET_PER_DAY = 3.0  # alerts per camera per day, while the model states none
BUDGET_INFO_KEY = "alerts_per_camera_day"  # where a model file's evaluation may state it
REAL = (AlertOutcome.confirmed_theft.value, AlertOutcome.deterred.value)


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What a budget needs from the behaviour model file."""

    identity: str  # `model_identity`: peaks of another model are not mixed in
    threshold: float  # its operating threshold
    budget_per_day: float  # its evaluated alerts per camera per day, else the default

    @property
    def floor(self) -> float:
        return FLOOR_SHARE * self.threshold

    @classmethod
    def read(cls, path: Path) -> ModelFacts | None:
        """The facts of the model file at `path`; None when there is none to read."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            threshold = float(document["policy"]["threshold"])
            info = document.get("info") or {}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("alert budgets are off: behaviour model %s unreadable (%s)", path, exc)
            return None
        stated = info.get(BUDGET_INFO_KEY) if isinstance(info, dict) else None
        budget = DEFAULT_BUDGET_PER_DAY
        if isinstance(stated, int | float) and math.isfinite(stated) and stated > 0:
            budget = float(stated)
        return cls(model_identity(path), min(1.0, max(0.0, threshold)), budget)


def model_path(settings: Settings) -> Path:
    """The behaviour model file the pipeline loads."""
    return settings.pipeline.behaviour_model or DEFAULT_WEIGHTS_DIR / MODEL_NAME


@dataclass(frozen=True, slots=True)
class CameraHistory:
    curve: AlertCurve
    reviews: Reviews


@dataclass(slots=True)
class ThresholdStats:
    written: int = 0  # finished tracks stored
    dropped: int = 0  # finished tracks dropped while the database was down
    refreshes: int = 0
    last_error: str | None = None


class CameraThresholds:
    """Track peaks to the database; each camera's threshold in force from its history."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        model: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`model`: the behaviour model file (default: the one the pipeline loads)."""
        self._settings = settings
        self._sessionmaker = sessionmaker
        self._model_path = model or model_path(settings)
        self._clock = clock
        self.peaks = PeakTracker()
        self.facts: ModelFacts | None = None
        self.stats = ThresholdStats()
        self._histories: dict[int, CameraHistory] = {}
        self._tracks: list[FinishedTrack] = []
        self._spans: list[ScoringSpan] = []
        self._task: asyncio.Task[None] | None = None

    # -- the sink side (event loop, quick) ----------------------------------------------

    def take(self, analysis: FrameAnalysis, /) -> None:
        """Each live track's peak score (nothing without a model)."""
        if self.facts is not None:
            self.peaks.take(analysis)

    # -- what holds for a camera ---------------------------------------------------------

    def choice(self, camera: Camera, detection: DetectionSettings) -> ThresholdChoice:
        """The threshold in force for `camera` under the settings `detection`: its own, else
        its budget's (its own budget, else the global one while `budget_thresholds` is on,
        else the model's figure), else the global threshold, else the model's."""
        facts = self.facts
        fallback = detection.threshold
        if fallback is None and facts is not None:
            fallback = facts.threshold
        budget: float | None = None
        if facts is not None:
            if camera.alert_budget_per_day is not None:
                budget = camera.alert_budget_per_day
            elif detection.budget_thresholds:
                budget = detection.alert_budget_per_day or facts.budget_per_day
        history = self._histories.get(camera.id)
        return choose(
            manual=camera.threshold,
            budget_per_day=budget,
            fallback=fallback,
            curve=history.curve if history is not None else None,
            reviews=history.reviews if history is not None else Reviews(),
        )

    def public(self, camera: Camera, detection: DetectionSettings) -> CameraThreshold:
        """`choice` as the API shows it (rounded)."""
        chosen = self.choice(camera, detection)
        return CameraThreshold(
            threshold_source=chosen.source,
            effective_threshold=_rounded(chosen.threshold, 4),
            expected_alerts_per_day=_rounded(chosen.expected_per_day, 2),
            aimed_alerts_per_day=_rounded(chosen.budget_per_day, 2),
            review_factor=round(chosen.review_factor, 3),
            scored_days=round(chosen.days_observed, 2),
        )

    # -- the task --------------------------------------------------------------------------

    async def start(self) -> None:
        self.facts = await asyncio.to_thread(ModelFacts.read, self._model_path)
        await self._quietly(self.refresh)
        self._task = asyncio.create_task(self._run(), name="alert-thresholds")

    async def stop(self) -> None:
        """Stop the loop and store every live track's peak (the cameras have stopped)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._quietly(lambda: self.flush(everything=True))

    async def use_model(self, path: Path) -> None:
        """Follow another behaviour model (promoted or restored): the live tracks' peaks so
        far are stored under the model that scored them, then the new model's facts and its
        histories (the peaks it left while it ran in shadow) are read."""
        await self._quietly(lambda: self.flush(everything=True))
        self._model_path = path
        self.facts = await asyncio.to_thread(ModelFacts.read, path)
        await self._quietly(self.refresh)

    async def settings_changed(self) -> None:
        """Read histories again now (a new dedup window changes the curves); a failure is
        logged and the periodic refresh tries again."""
        await self._quietly(self.refresh)

    async def flush(self, *, everything: bool = False) -> int:
        """Store the finished tracks (all tracks with `everything`) and the spans scored;
        how many tracks were stored (those of cameras deleted meanwhile go with them)."""
        batch = self.peaks.collect(self._clock(), everything=everything)
        self._tracks += batch.tracks
        latest: dict[tuple[int, float], ScoringSpan] = {}  # a span's newest snapshot is enough
        for span in self._spans + batch.spans:
            known_span = latest.setdefault((span.camera_id, span.started), span)
            known_span.ended = max(known_span.ended, span.ended)
        self._spans = list(latest.values())
        if len(self._tracks) > MAX_PENDING:
            dropped = len(self._tracks) - MAX_PENDING
            del self._tracks[:dropped]
            self.stats.dropped += dropped
        facts = self.facts
        if facts is None or not (self._tracks or self._spans):
            return 0
        tracks, spans = list(self._tracks), list(self._spans)
        async with self._sessionmaker() as session:
            known = set(
                await session.scalars(
                    select(Camera.id).where(
                        Camera.id.in_({t.camera_id for t in tracks} | {s.camera_id for s in spans})
                    )
                )
            )
            stored = [t for t in tracks if t.camera_id in known]
            await peak_rows.add_track_peaks(
                session=session,
                peaks=[
                    TrackPeak(
                        camera_id=t.camera_id,
                        model=facts.identity,
                        track_id=t.track_id,
                        first_seen=_when(t.first_seen),
                        last_seen=_when(t.last_seen),
                        peak=t.peak,
                    )
                    for t in stored
                ],
            )
            for span in spans:
                if span.camera_id in known:
                    await peak_rows.record_span(
                        session=session,
                        camera_id=span.camera_id,
                        model=facts.identity,
                        started_at=_when(span.started),
                        ended_at=_when(span.ended),
                        join_s=SPAN_GAP_S,
                    )
            await session.commit()
        del self._tracks[: len(tracks)]
        del self._spans[: len(spans)]
        self.stats.written += len(stored)
        return len(stored)

    async def refresh(self) -> None:
        """Read every camera's history and make its alert curve."""
        facts = self.facts
        if facts is None:
            return
        now = _when(self._clock())
        since = now - timedelta(days=WINDOW_DAYS)
        read: dict[int, tuple[PeakHistory, Reviews]] = {}
        async with self._sessionmaker() as session:
            window_s = (
                await effective_settings(session=session, settings=self._settings)
            ).detection.dedup_window_s
            for camera_id in await session.scalars(select(Camera.id)):
                rows = await peak_rows.peak_rows(
                    session=session, camera_id=camera_id, model=facts.identity, since=since
                )
                observed = await peak_rows.scored_seconds(
                    session=session,
                    camera_id=camera_id,
                    model=facts.identity,
                    since=since,
                    until=now,
                )
                outcomes = await peak_rows.review_counts(
                    session=session, camera_id=camera_id, since=now - timedelta(days=REVIEW_DAYS)
                )
                history = PeakHistory(
                    first_seen=np.asarray([r[0].timestamp() for r in rows], np.float64),
                    last_seen=np.asarray([r[1].timestamp() for r in rows], np.float64),
                    peak=np.asarray([r[2] for r in rows], np.float64),
                    observed_s=observed,
                )
                reviews = Reviews(
                    real=sum(outcomes.get(o, 0) for o in REAL),
                    false_alarms=outcomes.get(AlertOutcome.false_alarm.value, 0),
                )
                read[camera_id] = (history, reviews)

        def curves() -> dict[int, CameraHistory]:
            return {
                camera_id: CameraHistory(alert_curve(history, window_s, facts.floor), reviews)
                for camera_id, (history, reviews) in read.items()
            }

        self._histories = await asyncio.to_thread(curves)
        self.stats.refreshes += 1

    async def prune(self) -> int:
        """Delete peaks and spans older than `KEEP_DAYS`."""
        async with self._sessionmaker() as session:
            before = _when(self._clock()) - timedelta(days=KEEP_DAYS)
            removed = await peak_rows.prune_peaks(session=session, before=before)
            await session.commit()
        if removed:
            logger.info("pruned %d old track peaks and scored spans", removed)
        return removed

    async def _run(self) -> None:
        refreshed = pruned = time.monotonic()
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            now = time.monotonic()
            await self._quietly(self.flush)
            if now - refreshed >= REFRESH_EVERY_S:
                await self._quietly(self.refresh)
                refreshed = now
            if now - pruned >= PRUNE_EVERY_S:
                await self._quietly(self.prune)
                pruned = now

    async def _quietly(self, step: Callable[[], Awaitable[object]]) -> None:
        try:
            await step()
        except Exception as exc:  # the database may be down: the next round does it again
            self.stats.last_error = str(exc).splitlines()[0][:300] if str(exc) else repr(exc)
            logger.warning("alert thresholds: %s failed: %s", _name(step), self.stats.last_error)


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _name(step: Callable[[], Awaitable[object]]) -> str:
    return getattr(step, "__name__", "a step")
