"""Labelled episodes (reviewed alerts' and marked missed thefts' poses) and the alert spans
that hold a camera's pose chunks until their review."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound
from server.storage.models import Alert, LabelledEpisode
from shared.schemas.alerts import TEST_EVENT_TYPE
from shared.schemas.episodes import EpisodeLabel, EpisodeSource, LabelledEpisodePublic
from shared.schemas.settings import RetentionSettings


def episode_public(episode: LabelledEpisode) -> LabelledEpisodePublic:
    return LabelledEpisodePublic(
        id=episode.id,
        store_id=episode.store_id,
        camera_id=episode.camera_id,
        source=EpisodeSource(episode.source),
        label=EpisodeLabel(episode.label),
        alert_id=episode.alert_id,
        start=episode.start_at,
        end=episode.end_at,
        kept_from=episode.kept_from,
        kept_to=episode.kept_to,
        track_ids=[int(t) for t in episode.track_ids],
        poses=episode.poses,
        frames=episode.frames,
        size_bytes=episode.size_bytes,
        created_at=episode.created_at,
        created_by=episode.created_by.username if episode.created_by else None,
        notes=episode.notes,
    )


async def get_episode(
    *, session: AsyncSession, episode_id: int, store_ids: list[int] | None
) -> LabelledEpisode:
    episode = await session.get(LabelledEpisode, episode_id)
    if episode is None or (store_ids is not None and episode.store_id not in store_ids):
        raise NotFound(f"labelled episode {episode_id} not found")
    return episode


async def episode_of_alert(*, session: AsyncSession, alert_id: int) -> LabelledEpisode | None:
    episode: LabelledEpisode | None = await session.scalar(
        select(LabelledEpisode).where(LabelledEpisode.alert_id == alert_id)
    )
    return episode


async def list_episodes(
    *,
    session: AsyncSession,
    store_ids: list[int] | None,
    camera_id: int | None = None,
    label: EpisodeLabel | None = None,
    limit: int = 50,
) -> tuple[Sequence[LabelledEpisode], int]:
    """Newest first (by the labelled span's start), and how many match in all."""
    where: list[ColumnElement[bool]] = []
    if store_ids is not None:
        where.append(LabelledEpisode.store_id.in_(store_ids))
    if camera_id is not None:
        where.append(LabelledEpisode.camera_id == camera_id)
    if label is not None:
        where.append(LabelledEpisode.label == label.value)
    total = await session.scalar(select(func.count(LabelledEpisode.id)).where(*where))
    rows = (
        await session.scalars(
            select(LabelledEpisode)
            .where(*where)
            .order_by(LabelledEpisode.start_at.desc(), LabelledEpisode.id.desc())
            .limit(limit)
        )
    ).all()
    return rows, int(total or 0)


async def episode_refs(*, session: AsyncSession) -> set[str]:
    """The keys of every episode's file."""
    refs = await session.scalars(
        select(LabelledEpisode.data_ref).where(LabelledEpisode.data_ref.is_not(None))
    )
    return {ref for ref in refs if ref}


async def expired_episodes(
    *, session: AsyncSession, retention: RetentionSettings, now: datetime
) -> Sequence[LabelledEpisode]:
    """Episodes past their retention, as evidence: thefts after `confirmed_days`, the rest
    (false alarms) after `unreviewed_days`, counted from the labelled span's start."""
    theft = LabelledEpisode.label == EpisodeLabel.theft.value
    old_theft = theft & (LabelledEpisode.start_at < now - timedelta(days=retention.confirmed_days))
    old_other = ~theft & (
        LabelledEpisode.start_at < now - timedelta(days=retention.unreviewed_days)
    )
    return (await session.scalars(select(LabelledEpisode).where(old_theft | old_other))).all()


async def held_spans(
    *, session: AsyncSession, since: datetime, margin_s: float
) -> dict[int, list[tuple[float, float]]]:
    """Per camera, the spans (Unix seconds, margins included) of alerts started after
    `since` and not reviewed yet: their poses wait for the review."""
    rows = await session.execute(
        select(Alert.camera_id, Alert.started_at, Alert.last_seen_at).where(
            Alert.outcome.is_(None),
            Alert.started_at >= since,
            Alert.event_type != TEST_EVENT_TYPE,
        )
    )
    spans: dict[int, list[tuple[float, float]]] = {}
    for camera_id, started, last_seen in rows:
        spans.setdefault(camera_id, []).append(
            (started.timestamp() - margin_s, last_seen.timestamp() + margin_s)
        )
    return spans
