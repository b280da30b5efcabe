"""Alert statistics, counted in Python over the range's rows so every backend agrees."""

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.storage.alerts import AlertFilter
from server.storage.models import Alert
from shared.schemas.alerts import TEST_EVENT_TYPE, AlertOutcome, AlertStatus
from shared.schemas.stats import Bucket, CameraStats, StatsPublic, StoreStats


@dataclass(frozen=True, slots=True)
class _Row:
    store_id: int
    camera_id: int
    started_at: datetime
    reviewed_at: datetime | None
    status: str
    outcome: str | None

    @property
    def reviewed(self) -> bool:
        return self.status == AlertStatus.reviewed.value

    @property
    def confirmed(self) -> bool:
        return self.reviewed and self.outcome == AlertOutcome.confirmed_theft.value


async def alert_stats(*, session: AsyncSession, where: AlertFilter, tz: ZoneInfo) -> StatsPublic:
    """Counts, shares and review times for alerts started in [since, until); test alerts
    are left out."""
    assert where.since is not None and where.until is not None
    query = select(
        Alert.store_id,
        Alert.camera_id,
        Alert.started_at,
        Alert.reviewed_at,
        Alert.status,
        Alert.outcome,
    ).where(*where.conditions(), Alert.event_type != TEST_EVENT_TYPE)
    rows = [_Row(*row) for row in (await session.execute(query)).all()]
    reviewed = [row for row in rows if row.reviewed]
    confirmed = sum(row.confirmed for row in reviewed)
    review_times = [
        (row.reviewed_at - row.started_at).total_seconds()
        for row in reviewed
        if row.reviewed_at is not None
    ]
    return StatsPublic(
        since=where.since,
        until=where.until,
        timezone=tz.key,
        alerts=len(rows),
        reviewed=len(reviewed),
        confirmed=confirmed,
        share_reviewed=len(reviewed) / len(rows) if rows else None,
        share_confirmed=confirmed / len(reviewed) if reviewed else None,
        median_time_to_review_s=statistics.median(review_times) if review_times else None,
        per_hour=_buckets(rows, where.since, where.until, tz, hours=True),
        per_day=_buckets(rows, where.since, where.until, tz, hours=False),
        per_camera=[
            CameraStats(camera_id=camera_id, store_id=store_id, **_counts(group))
            for (camera_id, store_id), group in _group(rows, camera=True).items()
        ],
        per_store=[
            StoreStats(store_id=store_id, **_counts(group))
            for (store_id, _), group in _group(rows, camera=False).items()
        ],
    )


def _truncate(moment: datetime, tz: ZoneInfo, *, hours: bool) -> datetime:
    local = moment.astimezone(tz)
    start = local.replace(minute=0, second=0, microsecond=0)
    return start if hours else start.replace(hour=0)


def _buckets(
    rows: list[_Row], since: datetime, until: datetime, tz: ZoneInfo, *, hours: bool
) -> list[Bucket]:
    """Every local hour (or local day) of the range, empty ones included, oldest first."""
    # keyed by the UTC instant: local times equal on the wall clock (the hour repeated when
    # daylight saving time ends) compare equal in Python despite their different offsets
    counts = Counter(_truncate(row.started_at, tz, hours=hours).astimezone(UTC) for row in rows)
    buckets: list[Bucket] = []
    cursor = _truncate(since, tz, hours=hours)
    while cursor < until:
        buckets.append(Bucket(start=cursor, count=counts.get(cursor.astimezone(UTC), 0)))
        if hours:  # step in absolute time: local wall-clock hours repeat or skip at DST
            cursor = (cursor.astimezone(UTC) + timedelta(hours=1)).astimezone(tz)
        else:
            cursor = datetime.combine(cursor.date() + timedelta(days=1), time(), tzinfo=tz)
    return buckets


def _group(rows: list[_Row], *, camera: bool) -> dict[tuple[int, int], list[_Row]]:
    groups: dict[tuple[int, int], list[_Row]] = {}
    for row in rows:
        key = (row.camera_id, row.store_id) if camera else (row.store_id, 0)
        groups.setdefault(key, []).append(row)
    return dict(sorted(groups.items()))


def _counts(rows: list[_Row]) -> dict[str, int]:
    return {
        "alerts": len(rows),
        "reviewed": sum(row.reviewed for row in rows),
        "confirmed": sum(row.confirmed for row in rows),
    }
