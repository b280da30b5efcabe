"""Track peaks and scored spans: what an alert budget derives a camera's threshold from.

Rows are kept `retention` days (`prune_peaks`) and belong to one model (its identity), so
a new model starts its cameras' history afresh.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Row, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.storage.models import Alert, ScoredSpan, TrackPeak
from shared.schemas.alerts import TEST_EVENT_TYPE, AlertStatus


async def add_track_peaks(*, session: AsyncSession, peaks: Sequence[TrackPeak]) -> None:
    session.add_all(peaks)
    await session.flush()


async def record_span(
    *,
    session: AsyncSession,
    camera_id: int,
    model: str,
    started_at: datetime,
    ended_at: datetime,
    join_s: float,
) -> None:
    """Store that the camera was scored from `started_at` to `ended_at`: the span it
    continues (within `join_s`) grows, else a new one is added. Writing the same growing
    span again and again keeps one row."""
    joined = await session.scalar(
        select(ScoredSpan)
        .where(
            ScoredSpan.camera_id == camera_id,
            ScoredSpan.model == model,
            ScoredSpan.ended_at >= started_at - timedelta(seconds=join_s),
            ScoredSpan.started_at <= ended_at + timedelta(seconds=join_s),
        )
        .order_by(ScoredSpan.ended_at.desc())
        .limit(1)
    )
    if joined is None:
        session.add(
            ScoredSpan(camera_id=camera_id, model=model, started_at=started_at, ended_at=ended_at)
        )
    else:
        joined.started_at = min(joined.started_at, started_at)
        joined.ended_at = max(joined.ended_at, ended_at)
    await session.flush()


async def peak_rows(
    *, session: AsyncSession, camera_id: int, model: str, since: datetime
) -> Sequence[Row[datetime, datetime, float]]:
    """(first seen, last seen, peak) of the camera's tracks under `model` that ended since."""
    rows = await session.execute(
        select(TrackPeak.first_seen, TrackPeak.last_seen, TrackPeak.peak).where(
            TrackPeak.camera_id == camera_id,
            TrackPeak.model == model,
            TrackPeak.last_seen >= since,
        )
    )
    return rows.all()


async def scored_seconds(
    *, session: AsyncSession, camera_id: int, model: str, since: datetime, until: datetime
) -> float:
    """Seconds between `since` and `until` that the camera was scored by `model`."""
    spans = await session.execute(
        select(ScoredSpan.started_at, ScoredSpan.ended_at).where(
            ScoredSpan.camera_id == camera_id,
            ScoredSpan.model == model,
            ScoredSpan.ended_at > since,
            ScoredSpan.started_at < until,
        )
    )
    return sum(
        max(0.0, (min(ended, until) - max(started, since)).total_seconds())
        for started, ended in spans.all()
    )


async def review_counts(
    *, session: AsyncSession, camera_id: int, since: datetime
) -> dict[str, int]:
    """How many of the camera's alerts started since were reviewed, by outcome (test alerts
    left out)."""
    rows = await session.execute(
        select(Alert.outcome, func.count())
        .where(
            Alert.camera_id == camera_id,
            Alert.started_at >= since,
            Alert.status == AlertStatus.reviewed.value,
            Alert.event_type != TEST_EVENT_TYPE,
            Alert.outcome.is_not(None),
        )
        .group_by(Alert.outcome)
    )
    return {str(outcome): int(count) for outcome, count in rows.all()}


async def prune_peaks(*, session: AsyncSession, before: datetime) -> int:
    """Delete peaks and spans that ended before `before`; how many rows went."""
    peaks = await session.execute(delete(TrackPeak).where(TrackPeak.last_seen < before))
    spans = await session.execute(delete(ScoredSpan).where(ScoredSpan.ended_at < before))
    return int(peaks.rowcount or 0) + int(spans.rowcount or 0)  # type: ignore[attr-defined]
