"""Whether a user's push preferences let an alert of a camera push to them now."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.storage.models import Camera, PushPreference, Store

logger = logging.getLogger(__name__)


def in_quiet_hours(start: str, end: str, clock: str) -> bool:
    """Whether `clock` lies in [start, end), all "HH:MM"; a start after the end wraps past
    midnight, so 22:00-07:00 holds 23:30 and 02:00 but not 07:00."""
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def wants_push(pref: PushPreference | None, camera: Camera, clock: str) -> bool:
    """`clock`: the time of day in the camera's store, "HH:MM"."""
    if pref is None:
        return True
    if not pref.enabled:
        return False
    if pref.store_ids is not None and camera.store_id not in pref.store_ids:
        return False
    if pref.camera_ids is not None and camera.id not in pref.camera_ids:
        return False
    if pref.quiet_start is not None and pref.quiet_end is not None:
        return not in_quiet_hours(pref.quiet_start, pref.quiet_end, clock)
    return True


async def store_clock(session: AsyncSession, *, store_id: int, now: datetime) -> str:
    """The time of day at `now` in the store's time zone, "HH:MM"."""
    name = await session.scalar(select(Store.timezone).where(Store.id == store_id))
    return now.astimezone(_zone(name or "UTC")).strftime("%H:%M")


def _zone(name: str) -> tzinfo:
    """The store's zone; UTC if this machine lacks it, rather than losing the alert."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown time zone %r; quiet hours use UTC", name)
        return UTC
