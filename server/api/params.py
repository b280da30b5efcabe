"""Query parameters shared by several routes."""

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import Query
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import InvalidRequest
from server.storage import stores

MAX_RANGE = timedelta(days=366)

TimeZoneQuery = Annotated[
    str | None,
    Query(max_length=64, description="IANA zone for hours and days; default: the store's."),
]


def checked_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The range [start, end), if it runs forwards and spans at most 366 days."""
    if start >= end:
        raise InvalidRequest("`since` must be before `until`")
    if end - start > MAX_RANGE:
        raise InvalidRequest("the range may span at most 366 days")
    return start, end


def as_utc(moment: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def time_zone(name: str) -> ZoneInfo:
    if name not in available_timezones():
        raise InvalidRequest(f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:
        raise InvalidRequest(f"unknown time zone {name!r}") from exc


async def store_time_zone(
    session: AsyncSession, scope: list[int] | None, store_id: int | None
) -> str:
    """The zone of `store_id`, or the one zone all visible stores share; else UTC."""
    visible = await stores.list_stores(session=session, store_ids=scope)
    if store_id is not None:  # like a filter: another store just finds nothing
        visible = [store for store in visible if store.id == store_id]
    zones = {store.timezone for store in visible}
    return zones.pop() if len(zones) == 1 else "UTC"
