"""A candidate model's shadow run: its would-be alerts, and what the report compares them with
(the time it scored each camera, the active model's real alerts)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.storage.models import Alert, Camera, ScoredSpan, ShadowAlert
from shared.schemas.alerts import TEST_EVENT_TYPE, AlertStatus


async def save_shadow_alert(
    *,
    session: AsyncSession,
    row_id: int | None,
    camera_id: int,
    model: str,
    zone: str,
    event_type: str,
    started_at: datetime,
    last_seen_at: datetime,
    peak_score: float,
    tracks: int,
) -> int:
    """Store a would-be alert, or update the row `row_id` (added anew if it is gone); its id."""
    row = await session.get(ShadowAlert, row_id) if row_id is not None else None
    if row is None:
        row = ShadowAlert(
            camera_id=camera_id,
            model=model,
            zone=zone,
            event_type=event_type,
            started_at=started_at,
        )
        session.add(row)
    row.last_seen_at, row.peak_score, row.tracks = last_seen_at, peak_score, tracks
    await session.flush()
    return row.id


async def existing_cameras(*, session: AsyncSession, camera_ids: set[int]) -> set[int]:
    """Which of `camera_ids` still exist."""
    return set(await session.scalars(select(Camera.id).where(Camera.id.in_(camera_ids))))


async def scored_spans(
    *, session: AsyncSession, model: str, camera_ids: Sequence[int] | None
) -> Sequence[Row[int, datetime, datetime]]:
    """(camera, started, ended) of the stretches `model` scored, of `camera_ids` unless None."""
    query = select(ScoredSpan.camera_id, ScoredSpan.started_at, ScoredSpan.ended_at).where(
        ScoredSpan.model == model
    )
    if camera_ids is not None:
        query = query.where(ScoredSpan.camera_id.in_(camera_ids))
    return (await session.execute(query.order_by(ScoredSpan.started_at))).all()


async def shadow_alerts(
    *, session: AsyncSession, model: str, camera_ids: Sequence[int]
) -> Sequence[Row[int, datetime, datetime]]:
    """(camera, started, last seen) of `model`'s would-be alerts on `camera_ids`."""
    rows = await session.execute(
        select(ShadowAlert.camera_id, ShadowAlert.started_at, ShadowAlert.last_seen_at).where(
            ShadowAlert.model == model, ShadowAlert.camera_id.in_(camera_ids)
        )
    )
    return rows.all()


async def live_alerts(
    *, session: AsyncSession, camera_ids: Sequence[int], since: datetime, until: datetime
) -> list[tuple[int, datetime, datetime, str | None]]:
    """(camera, started, last seen, review outcome) of the real alerts of `camera_ids` that
    started between `since` and `until` (test alerts left out; outcome None unless
    reviewed)."""
    rows = await session.execute(
        select(
            Alert.camera_id, Alert.started_at, Alert.last_seen_at, Alert.status, Alert.outcome
        ).where(
            Alert.camera_id.in_(camera_ids),
            Alert.started_at >= since,
            Alert.started_at <= until,
            Alert.event_type != TEST_EVENT_TYPE,
        )
    )
    return [
        (camera, started, last, outcome if status == AlertStatus.reviewed.value else None)
        for camera, started, last, status, outcome in rows.all()
    ]


async def prune_shadow_alerts(*, session: AsyncSession, before: datetime) -> int:
    """Delete would-be alerts last seen before `before`; how many went."""
    result = await session.execute(delete(ShadowAlert).where(ShadowAlert.last_seen_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
