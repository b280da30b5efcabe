"""Evidence retention: expire old files, and never let evidence fill the disk.

- An alert's files expire after `unreviewed_days` unless the review confirmed a theft, then
  after `confirmed_days`.
- Above the disk cap (or with less than `min_free_bytes` left on the disk), the oldest
  alerts' files go first; confirmed thefts' only when nothing else is left.
- Files no alert refers to (a crash between writing and recording) are removed; the files
  made from an alert's evidence (`derived.py`: thumbnail, sha256) go with the alert's.

The alert keeps its row and review; its evidence references are cleared, so the API
says the file was removed rather than failing to find it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from server.evidence.derived import derived_keys
from server.evidence.store import EvidenceStore, LocalEvidenceStore
from server.storage.models import Alert
from shared.schemas.alerts import AlertOutcome
from shared.schemas.settings import RetentionSettings

logger = logging.getLogger(__name__)

GB = 1024**3
ORPHAN_AGE_S = 600.0  # younger unreferenced files may be evidence being recorded right now


@dataclass(frozen=True, slots=True)
class Sweep:
    """What one pass removed."""

    expired_alerts: int
    capped_alerts: int
    orphans: int
    freed_bytes: int
    kept_bytes: int


def free_bytes(store: EvidenceStore) -> int | None:
    """Free space on the disk holding a local store (None for other stores)."""
    if isinstance(store, LocalEvidenceStore):
        store.root.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(store.root).free
    return None


async def sweep(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    store: EvidenceStore,
    retention: RetentionSettings,
    now: datetime,
    min_free_bytes: int = 0,
) -> Sweep:
    """One retention pass over every alert with evidence."""
    files = await asyncio.to_thread(store.files)  # the store may be across the network
    sizes = {f.key: f.size for f in files}
    settled = {f.key for f in files if now.timestamp() - f.modified > ORPHAN_AGE_S}
    async with sessionmaker() as session:
        rows = (
            await session.scalars(
                select(Alert)
                .where(
                    or_(
                        Alert.clip_ref.is_not(None),
                        Alert.snapshot_ref.is_not(None),
                        Alert.annotated_ref.is_not(None),
                    )
                )
                .order_by(Alert.started_at, Alert.id)
            )
        ).all()
        referenced = {ref for a in rows for ref in [*a.evidence_refs, *derived_keys(a)]}
        orphans = [key for key in settled if key not in referenced]
        freed = await asyncio.to_thread(_delete, store, orphans, sizes)

        def confirmed(alert: Alert) -> bool:
            return alert.outcome == AlertOutcome.confirmed_theft.value

        expired = [
            a
            for a in rows
            if now - a.started_at
            > timedelta(
                days=retention.confirmed_days if confirmed(a) else retention.unreviewed_days
            )
        ]
        gone = {a.id for a in expired}
        kept = [a for a in rows if a.id not in gone]
        used = sum(sizes.get(ref, 0) for a in kept for ref in a.evidence_refs)
        cap = int(retention.disk_cap_gb * GB)
        free = free_bytes(store)
        short = max(0, min_free_bytes - free) if free is not None else 0
        capped: list[Alert] = []
        for alert in sorted(kept, key=lambda a: (confirmed(a), a.started_at, a.id)):
            if used <= cap and short <= 0:
                break
            size = sum(sizes.get(ref, 0) for ref in alert.evidence_refs)
            capped.append(alert)
            used -= size
            short -= size
        doomed = [
            ref
            for alert in [*expired, *capped]
            # with the thumbnail and sha256s listed above (one made since: an orphan later)
            for ref in [*alert.evidence_refs, *(k for k in derived_keys(alert) if k in sizes)]
        ]
        freed += await asyncio.to_thread(_delete, store, doomed, sizes)
        for alert in [*expired, *capped]:
            alert.forget_evidence()
        try:
            await session.commit()
        except StaleDataError:  # reviewed meanwhile: the files are gone, the next pass tidies
            await session.rollback()
            logger.warning("retention: an alert changed meanwhile; its references wait a pass")
    result = Sweep(len(expired), len(capped), len(orphans), freed, max(used, 0))
    if expired or capped or orphans:
        logger.info(
            "retention: %d alerts expired, %d over the disk cap, %d orphan files; %.1f MB freed",
            result.expired_alerts,
            result.capped_alerts,
            result.orphans,
            freed / 1e6,
        )
    return result


def _delete(store: EvidenceStore, keys: list[str], sizes: dict[str, int]) -> int:
    """Delete `keys`; the bytes freed."""
    return sum(sizes.get(key, 0) for key in keys if store.delete(key))
