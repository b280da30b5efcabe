"""Query parameters shared by several routes."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import InvalidRequest
from server.storage import stores


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
