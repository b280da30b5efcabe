"""Alert statistics, counted in Python over the range's rows so every backend agrees."""

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.storage.alerts import AlertFilter
from server.storage.models import Alert, Camera
from shared.schemas.alerts import TEST_EVENT_TYPE, AlertOutcome, AlertStatus
from shared.schemas.stats import (
    NOISY_FALSE_ALARM_SHARE,
    NOISY_MIN_REVIEWED,
    Bucket,
    CameraHint,
    CameraStats,
    DayBucket,
    HourOfDay,
    OutcomeCounts,
    StatsPublic,
    StoreStats,
)

NOT_REVIEWED = "not_reviewed"


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

    @property
    def false_alarm(self) -> bool:
        return self.reviewed and self.outcome == AlertOutcome.false_alarm.value

    @property
    def verdict(self) -> str:
        """The review's outcome, or `not_reviewed` (new and acknowledged alerts)."""
        return self.outcome if self.reviewed and self.outcome else NOT_REVIEWED


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
    names = await _camera_names(session, {row.camera_id for row in rows})
    reviewed = [row for row in rows if row.reviewed]
    confirmed = sum(row.confirmed for row in reviewed)
    false_alarms = sum(row.false_alarm for row in reviewed)
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
        false_alarms=false_alarms,
        share_reviewed=len(reviewed) / len(rows) if rows else None,
        share_confirmed=_share(confirmed, len(reviewed)),
        share_false_alarm=_share(false_alarms, len(reviewed)),
        median_time_to_review_s=statistics.median(review_times) if review_times else None,
        outcomes=_outcomes(rows),
        per_hour=_buckets(rows, where.since, where.until, tz, hours=True),
        per_day=_days(rows, where.since, where.until, tz),
        per_hour_of_day=_hours_of_day(rows, tz),
        per_camera=[
            _camera(camera_id, store_id, names.get(camera_id, ""), group)
            for (camera_id, store_id), group in _group(rows, camera=True).items()
        ],
        per_store=[
            StoreStats(store_id=store_id, **_counts(group))
            for (store_id, _), group in _group(rows, camera=False).items()
        ],
    )


async def _camera_names(session: AsyncSession, camera_ids: set[int]) -> dict[int, str]:
    if not camera_ids:
        return {}
    query = select(Camera.id, Camera.name).where(Camera.id.in_(camera_ids))
    return {row.id: row.name for row in (await session.execute(query)).all()}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _outcomes(rows: list[_Row]) -> OutcomeCounts:
    return OutcomeCounts(**Counter(row.verdict for row in rows))


def _camera(camera_id: int, store_id: int, name: str, rows: list[_Row]) -> CameraStats:
    counts = _counts(rows)
    false_alarms = sum(row.false_alarm for row in rows)
    share_false_alarm = _share(false_alarms, counts["reviewed"])
    noisy = (
        counts["reviewed"] >= NOISY_MIN_REVIEWED
        and share_false_alarm is not None
        and share_false_alarm >= NOISY_FALSE_ALARM_SHARE
    )
    return CameraStats(
        camera_id=camera_id,
        store_id=store_id,
        name=name,
        **counts,
        false_alarms=false_alarms,
        share_confirmed=_share(counts["confirmed"], counts["reviewed"]),
        share_false_alarm=share_false_alarm,
        hint=CameraHint.raise_threshold if noisy else None,
    )


def _days(rows: list[_Row], since: datetime, until: datetime, tz: ZoneInfo) -> list[DayBucket]:
    """Every local day of the range with its alerts split by outcome."""
    by_day: dict[datetime, list[_Row]] = {}
    for row in rows:
        day = _truncate(row.started_at, tz, hours=False).astimezone(UTC)
        by_day.setdefault(day, []).append(row)
    return [
        DayBucket(
            start=bucket.start,
            count=bucket.count,
            outcomes=_outcomes(by_day.get(bucket.start.astimezone(UTC), [])),
        )
        for bucket in _buckets(rows, since, until, tz, hours=False)
    ]


def _hours_of_day(rows: list[_Row], tz: ZoneInfo) -> list[HourOfDay]:
    """Alerts by the local hour of the day they started in, hours 0 to 23."""
    counts = Counter(row.started_at.astimezone(tz).hour for row in rows)
    return [HourOfDay(hour=hour, count=counts.get(hour, 0)) for hour in range(24)]


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
