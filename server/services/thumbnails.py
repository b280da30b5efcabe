"""Alert thumbnails for the feed: signed links a list row's <img> opens without sign-in, and
the picture, made from the snapshot once and then kept beside it in the evidence store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.annotate.pictures import PictureThreads
from server.errors import NotFound, Unavailable
from server.evidence.derived import THUMBNAIL, keep, read_whole, thumbnail_key
from server.evidence.store import EvidenceStore, EvidenceStoreError
from server.evidence.thumbnails import thumbnail_jpeg
from server.security.media_links import MediaLinks
from server.services.evidence import REMOVED
from server.storage.models import Alert
from shared.api_paths import API_V1
from shared.schemas.alerts import AlertPublic

logger = logging.getLogger(__name__)

LINK_STEP_S = 3600


def link_expiry(now: float) -> int:
    """When thumbnail links made at `now` expire: the end of the next clock hour (1 to 2 hours
    ahead). Links made within one hour are the same URL, so image caches keep the picture."""
    return (int(now) // LINK_STEP_S + 2) * LINK_STEP_S


def expiry_time(expires: int) -> datetime:
    return datetime.fromtimestamp(expires, UTC)


def thumbnail_path(links: MediaLinks, alert: Alert, expires: int) -> str | None:
    """The signed path of the alert's thumbnail; None while it has no snapshot."""
    if alert.snapshot_ref is None:
        return None
    signature = links.sign(alert.id, THUMBNAIL, expires)
    return f"{API_V1}/media/{alert.id}/{THUMBNAIL}?exp={expires}&sig={signature}"


def with_thumbnail(
    public: AlertPublic, alert: Alert, links: MediaLinks, expires: int
) -> AlertPublic:
    return public.model_copy(update={"thumbnail_url": thumbnail_path(links, alert, expires)})


async def visible_alerts(
    *, session: AsyncSession, alert_ids: Sequence[int], store_ids: list[int] | None
) -> list[Alert]:
    """The alerts of `alert_ids` that exist and the caller may see, in the order asked."""
    query = select(Alert).where(Alert.id.in_(set(alert_ids)))
    if store_ids is not None:
        query = query.where(Alert.store_id.in_(store_ids))
    found = {a.id: a for a in (await session.scalars(query)).all()}
    return [found[i] for i in dict.fromkeys(alert_ids) if i in found]


async def thumbnail(store: EvidenceStore, pictures: PictureThreads, alert: Alert) -> bytes:
    """The alert's thumbnail JPEG, made and kept on first use; `NotFound` without a snapshot,
    `Unavailable` while the store cannot be reached."""
    if alert.snapshot_ref is None:
        raise NotFound(f"alert {alert.id} has no snapshot yet")
    key = thumbnail_key(alert.snapshot_ref)
    try:
        made = await asyncio.to_thread(read_whole, store, key)
        if made is not None:
            return made
        snapshot = await asyncio.to_thread(read_whole, store, alert.snapshot_ref)
    except EvidenceStoreError as exc:
        raise Unavailable(f"the evidence store cannot be reached: {exc}") from exc
    if snapshot is None:
        raise NotFound(f"alert {alert.id}'s snapshot {REMOVED}")
    try:
        small = await pictures.run_or_refuse(thumbnail_jpeg, snapshot)
    except (OSError, ValueError) as exc:  # not a picture Pillow reads
        raise NotFound(f"alert {alert.id}'s snapshot cannot be read: {exc}") from exc
    try:
        await asyncio.to_thread(keep, store, key, small)
    except OSError as exc:  # a full disk or an unreachable store: serve it, make it again later
        logger.warning("alert %s: keeping its thumbnail failed: %s", alert.id, exc)
    return small
