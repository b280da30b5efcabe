"""Query parameters shared by several routes."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from server.errors import InvalidRequest


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
