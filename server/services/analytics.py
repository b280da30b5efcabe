"""Store analytics read back: the stored hourly aggregates summed into hours, days, zones and
lines in the caller's time zone (in Python, so every database agrees); "now" and a queue's
wait from the latest minutes. A range is widened to the whole hours it touches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound
from server.records.analytics import WHOLE_VIEW
from server.storage import analytics
from server.storage.analytics import Place, Zones, hour_of
from server.storage.models import Camera, LineHour, ZoneHour, ZoneMinute
from shared.schemas.analytics import (
    DWELL_EDGES_S,
    HEATMAP_COLS,
    HEATMAP_ROWS,
    DwellPublic,
    FootfallBucket,
    FootfallPublic,
    HeatmapPublic,
    LineFootfall,
    OccupancyBucket,
    OccupancyNow,
    OccupancyPublic,
    QueueBucket,
    QueuePublic,
    QueuesPublic,
    ZoneDwell,
    ZoneOccupancy,
)
from shared.schemas.cameras import Zone, ZoneKind

RECENT = timedelta(minutes=3)  # "now": the latest complete minute, if this recent
WAIT_WINDOW = timedelta(minutes=15)  # a queue's wait now: those who left it lately


@dataclass(frozen=True, slots=True)
class Range:
    since: datetime
    until: datetime
    tz: ZoneInfo

    @property
    def first_hour(self) -> datetime:
        """The start of the hour `since` falls in: ranges count whole hours."""
        return hour_of(self.since)


@dataclass(frozen=True, slots=True)
class _Camera:
    id: int
    name: str
    store_id: int
    zones: tuple[Zone, ...]  # the measured ones (not `ignore`)


async def footfall(*, session: AsyncSession, place: Place, span: Range) -> FootfallPublic:
    cams = await _cameras(session, place)
    rows = [
        r
        for r in await analytics.line_rows(
            session=session, table=LineHour, place=place, since=span.first_hour, until=span.until
        )
        if r.camera_id in cams
    ]
    hours: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    days: dict[datetime, list[int]] = {day: [0, 0] for day in _days(span)}
    lines: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        local = row.start.astimezone(span.tz)
        for bucket in (
            hours[local],
            days.setdefault(_day(local), [0, 0]),
            lines[(row.camera_id, row.line)],
        ):
            bucket[0] += row.entered
            bucket[1] += row.left
    return FootfallPublic(
        since=span.since,
        until=span.until,
        tz=span.tz.key,
        entered=sum(r.entered for r in rows),
        left=sum(r.left for r in rows),
        by_hour=[FootfallBucket(start=h, entered=e, left=o) for h, (e, o) in sorted(hours.items())],
        by_day=[FootfallBucket(start=d, entered=e, left=o) for d, (e, o) in sorted(days.items())],
        by_line=[
            LineFootfall(
                camera_id=camera_id,
                camera_name=cams[camera_id].name,
                store_id=cams[camera_id].store_id,
                line=line,
                entered=e,
                left=o,
            )
            for (camera_id, line), (e, o) in sorted(lines.items())
        ],
    )


async def occupancy(
    *, session: AsyncSession, place: Place, span: Range, now: datetime
) -> OccupancyPublic:
    cams = await _cameras(session, place)
    rows = await _zone_rows(session, ZoneHour, place, span.first_hour, span.until, cams)
    seconds = _view_seconds(rows)
    series: dict[tuple[int, str], dict[datetime, list[float]]] = defaultdict(dict)
    kinds: dict[tuple[int, str], str | None] = {}
    for row in rows:
        hour = row.start
        bucket = series[(row.camera_id, row.zone)].setdefault(hour, [0.0, 0.0])
        bucket[0] += row.occupancy_sum
        bucket[1] = max(bucket[1], row.occupancy_max)
        kinds[(row.camera_id, row.zone)] = row.kind
    latest = await _latest(session, place, now, cams)
    return OccupancyPublic(
        since=span.since,
        until=span.until,
        tz=span.tz.key,
        now=[
            OccupancyNow(
                **_ref(cams[camera_id], zone, kind),
                people=people,
                at=at,
            )
            for camera_id, zone, kind, people, at in _now(cams, latest)
        ],
        zones=[
            ZoneOccupancy(
                **_ref(cams[camera_id], zone, kinds[(camera_id, zone)]),
                by_hour=[
                    OccupancyBucket(
                        start=hour.astimezone(span.tz),
                        mean=_mean(total, seconds.get((camera_id, hour), 0.0)),
                        max=int(peak),
                    )
                    for hour, (total, peak) in sorted(hours.items())
                ],
            )
            for (camera_id, zone), hours in sorted(series.items())
        ],
    )


async def dwell(*, session: AsyncSession, place: Place, span: Range) -> DwellPublic:
    cams = await _cameras(session, place)
    rows = await _zone_rows(session, ZoneHour, place, span.first_hour, span.until, cams)
    sums: dict[tuple[int, str], tuple[int, float, list[int], str | None]] = {}
    for row in rows:
        visits, total, hist, _ = sums.get(
            (row.camera_id, row.zone), (0, 0.0, [0] * len(DWELL_EDGES_S), None)
        )
        merged = [a + int(b) for a, b in zip(hist, row.dwell_hist, strict=False)]
        sums[(row.camera_id, row.zone)] = (
            visits + row.exits,
            total + row.dwell_sum_s,
            merged,
            row.kind,
        )
    return DwellPublic(
        since=span.since,
        until=span.until,
        edges_s=list(DWELL_EDGES_S),
        zones=[
            ZoneDwell(
                **_ref(cams[camera_id], zone, kind),
                visits=visits,
                mean_s=round(total / visits, 1) if visits else None,
                median_s=histogram_quantile(hist, 0.5),
                p90_s=histogram_quantile(hist, 0.9),
                histogram=hist,
            )
            for (camera_id, zone), (visits, total, hist, kind) in sorted(sums.items())
        ],
    )


async def queues(
    *, session: AsyncSession, place: Place, span: Range, now: datetime
) -> QueuesPublic:
    cams = await _cameras(session, place)
    rows = await _zone_rows(session, ZoneHour, place, span.first_hour, span.until, cams)
    recent = await _zone_rows(session, ZoneMinute, place, now - WAIT_WINDOW, now, cams)
    seconds = _view_seconds(rows)
    latest = await _latest(session, place, now, cams)
    found = {(c, z): (people, at) for c, z, _, people, at in _now(cams, latest)}
    out = []
    for camera in cams.values():
        for zone in camera.zones:
            if zone.kind is not ZoneKind.queue:
                continue
            mine = [r for r in rows if (r.camera_id, r.zone) == (camera.id, zone.name)]
            lately = [r for r in recent if (r.camera_id, r.zone) == (camera.id, zone.name)]
            people, at = found.get((camera.id, zone.name), (None, None))
            out.append(
                QueuePublic(
                    **_ref(camera, zone.name, zone.kind.value),
                    length_now=people,
                    wait_now_s=_mean_wait(lately),
                    at=at,
                    by_hour=_queue_hours(camera.id, mine, seconds, span.tz),
                )
            )
    return QueuesPublic(since=span.since, until=span.until, tz=span.tz.key, queues=out)


async def heatmap(
    *, session: AsyncSession, place: Place, since: datetime, until: datetime
) -> HeatmapPublic:
    assert place.camera_id is not None
    cams = await _cameras(session, place)
    if place.camera_id not in cams:
        raise NotFound(f"camera {place.camera_id} not found")
    cells = np.zeros((HEATMAP_ROWS, HEATMAP_COLS), np.float64)
    for row in await analytics.heat_rows(
        session=session, place=place, since=hour_of(since), until=until
    ):
        if (row.rows, row.cols) == cells.shape:
            cells += np.asarray(row.cells, np.float64).reshape(cells.shape)
    return HeatmapPublic(
        camera_id=place.camera_id,
        since=since,
        until=until,
        cols=HEATMAP_COLS,
        rows=HEATMAP_ROWS,
        cells=[[round(float(v), 1) for v in row] for row in cells],
        person_seconds=round(float(cells.sum()), 1),
        peak=round(float(cells.max()), 1),
    )


def histogram_quantile(hist: list[int], q: float) -> float | None:
    """The `q` quantile of visits binned by DWELL_EDGES_S, linear within a bin (the open
    last bin gives its lower edge); None without visits."""
    total = sum(hist)
    if not total:
        return None
    wanted = q * total
    seen = 0
    for i, count in enumerate(hist):
        if count and seen + count >= wanted:
            low = DWELL_EDGES_S[i]
            if i + 1 == len(DWELL_EDGES_S):
                return float(low)
            share = (wanted - seen) / count
            return round(low + share * (DWELL_EDGES_S[i + 1] - low), 1)
        seen += count
    return float(DWELL_EDGES_S[-1])


async def _cameras(session: AsyncSession, place: Place) -> dict[int, _Camera]:
    """The cameras in scope, with their measured zones."""
    query = select(Camera.id, Camera.name, Camera.store_id, Camera.zones)
    if place.store_ids is not None:
        query = query.where(Camera.store_id.in_(place.store_ids))
    if place.store_id is not None:
        query = query.where(Camera.store_id == place.store_id)
    if place.camera_id is not None:
        query = query.where(Camera.id == place.camera_id)
    out = {}
    for camera_id, name, store_id, zones in (
        await session.execute(query.order_by(Camera.id))
    ).all():
        measured = []
        for raw in zones or []:
            try:
                zone = Zone.model_validate(raw)
            except ValueError:
                continue
            if zone.kind is not ZoneKind.ignore:
                measured.append(zone)
        out[camera_id] = _Camera(camera_id, name, store_id, tuple(measured))
    return out


async def _zone_rows(
    session: AsyncSession,
    table: type[Zones],
    place: Place,
    since: datetime,
    until: datetime,
    cams: dict[int, _Camera],
) -> list[Zones]:
    rows = await analytics.zone_rows(
        session=session, table=table, place=place, since=since, until=until
    )
    return [r for r in rows if r.camera_id in cams]


async def _latest(
    session: AsyncSession, place: Place, now: datetime, cams: dict[int, _Camera]
) -> dict[int, list[ZoneMinute]]:
    """Each camera's rows of its latest stored minute, if that is recent."""
    rows = await _zone_rows(
        session, ZoneMinute, place, now - RECENT, now + timedelta(minutes=1), cams
    )
    newest: dict[int, datetime] = {}
    for row in rows:
        if row.zone == WHOLE_VIEW:
            newest[row.camera_id] = max(newest.get(row.camera_id, row.start), row.start)
    out: dict[int, list[ZoneMinute]] = defaultdict(list)
    for row in rows:
        if newest.get(row.camera_id) == row.start:
            out[row.camera_id].append(row)
    return out


def _now(
    cams: dict[int, _Camera], latest: dict[int, list[ZoneMinute]]
) -> Iterable[tuple[int, str, str | None, int | None, datetime | None]]:
    """(camera, zone, kind, people, minute) for every camera's view and measured zone: the
    people on average over the latest minute, rounded; None when not analysed lately."""
    for camera in cams.values():
        rows = {r.zone: r for r in latest.get(camera.id, [])}
        view = rows.get(WHOLE_VIEW)
        places: list[tuple[str, str | None]] = [(WHOLE_VIEW, None)]
        places += [(z.name, z.kind.value) for z in camera.zones]
        for zone, kind in places:
            if view is None:
                yield camera.id, zone, kind, None, None
                continue
            row = rows.get(zone)
            people = round(row.occupancy_sum / view.seconds) if row and view.seconds else 0
            yield camera.id, zone, kind, people, view.start


def _view_seconds(rows: list[ZoneHour]) -> dict[tuple[int, datetime], float]:
    """Seconds analysed per camera and hour (the whole view's rows)."""
    return {(r.camera_id, r.start): r.seconds for r in rows if r.zone == WHOLE_VIEW}


def _queue_hours(
    camera_id: int,
    rows: list[ZoneHour],
    seconds: dict[tuple[int, datetime], float],
    tz: ZoneInfo,
) -> list[QueueBucket]:
    return [
        QueueBucket(
            start=row.start.astimezone(tz),
            mean_length=_mean(row.occupancy_sum, seconds.get((camera_id, row.start), 0.0)),
            max_length=row.occupancy_max,
            wait_s=_mean_wait([row]),
        )
        for row in sorted(rows, key=lambda r: r.start)
    ]


def _mean(person_seconds: float, seconds: float) -> float:
    """People on average over the analysed time."""
    return round(person_seconds / seconds, 3) if seconds else 0.0


def _mean_wait(rows: Sequence[ZoneMinute | ZoneHour]) -> float | None:
    exits = sum(r.exits for r in rows)
    return round(sum(r.dwell_sum_s for r in rows) / exits, 1) if exits else None


def _ref(camera: _Camera, zone: str, kind: str | None) -> dict[str, object]:
    return {
        "camera_id": camera.id,
        "camera_name": camera.name,
        "store_id": camera.store_id,
        "zone": zone,
        "kind": ZoneKind(kind) if kind else None,
    }


def _day(local: datetime) -> datetime:
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _days(span: Range) -> list[datetime]:
    """The local days the range touches (for continuous day charts)."""
    first = _day(span.since.astimezone(span.tz))
    last = (span.until - timedelta(microseconds=1)).astimezone(span.tz)
    out: list[datetime] = []
    day = first
    while day <= last and len(out) <= 400:
        out.append(day)
        day = _day((day + timedelta(hours=26)).astimezone(span.tz))
    return out
