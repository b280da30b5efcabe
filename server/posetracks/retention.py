"""Pose retention: a camera's chunks go after `keep_hours` unless an unreviewed alert holds
them; labelled episodes expire like evidence (thefts after `confirmed_days`, false alarms
after `unreviewed_days`); episode files no row refers to are removed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.evidence.retention import ORPHAN_AGE_S
from server.posetracks.store import CHUNKS, EPISODES, ChunkKey, PoseStore
from server.storage import labelled_episodes
from shared.schemas.settings import RetentionSettings

logger = logging.getLogger(__name__)

Spans = Mapping[int, Sequence[tuple[float, float]]]  # camera id -> (start, end) Unix seconds


@dataclass(frozen=True, slots=True)
class Pruned:
    """What one pass removed, and what it kept because an alert waits for its review."""

    chunks: int = 0
    chunks_held: int = 0
    freed_bytes: int = 0
    episodes_expired: int = 0
    orphans: int = 0


def prune_chunks(store: PoseStore, *, before_s: float, held: Spans) -> Pruned:
    """Delete the chunks that end before `before_s` (Unix seconds) and overlap no held span
    of their camera (blocking: call it in a thread)."""
    removed = kept = freed = 0
    for found in store.files(f"{CHUNKS}/"):
        chunk = ChunkKey.parse(found.key)
        if chunk is None or chunk.last_ms >= before_s * 1000:
            continue
        if any(chunk.overlaps(start, end) for start, end in held.get(chunk.camera_id, ())):
            kept += 1
            continue
        if store.delete(found.key):
            removed += 1
            freed += found.size
    return Pruned(chunks=removed, chunks_held=kept, freed_bytes=freed)


async def sweep(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    store: PoseStore,
    retention: RetentionSettings,
    keep_hours: float,
    margin_s: float,
    now: datetime,
) -> Pruned:
    """One pass: old chunks, expired episodes, orphan episode files."""
    async with sessionmaker() as session:
        since = now - timedelta(days=retention.unreviewed_days)
        held = await labelled_episodes.held_spans(session=session, since=since, margin_s=margin_s)
    before_s = (now - timedelta(hours=keep_hours)).timestamp()
    chunks = await asyncio.to_thread(prune_chunks, store, before_s=before_s, held=held)
    async with sessionmaker() as session:
        expired = await labelled_episodes.expired_episodes(
            session=session, retention=retention, now=now
        )
        doomed = [e.data_ref for e in expired if e.data_ref]
        for episode in expired:
            await session.delete(episode)
        await session.commit()
        refs = await labelled_episodes.episode_refs(session=session)
    files = await asyncio.to_thread(store.files, f"{EPISODES}/")
    orphans = [
        f.key for f in files if f.key not in refs and now.timestamp() - f.modified > ORPHAN_AGE_S
    ]
    sizes = {f.key: f.size for f in files}
    freed = chunks.freed_bytes
    for key in [*doomed, *orphans]:
        if await asyncio.to_thread(store.delete, key):
            freed += sizes.get(key, 0)
    result = Pruned(chunks.chunks, chunks.chunks_held, freed, len(expired), len(orphans))
    if result.chunks or result.episodes_expired or result.orphans:
        logger.info(
            "pose retention: %d chunks pruned (%d held for reviews), %d episodes expired, "
            "%d orphan files; %.1f MB freed",
            result.chunks,
            result.chunks_held,
            result.episodes_expired,
            result.orphans,
            freed / 1e6,
        )
    return result
