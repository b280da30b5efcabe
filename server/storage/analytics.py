"""Analytics aggregates: a `CameraMinute` stored as per-minute zone and line rows and added
into the camera's hourly heatmap; read back by place and time; pruned by age.

A minute written twice (a camera moved to another worker mid-minute, a write retried) adds
up rather than failing: each row is read, merged and written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.records.analytics import WHOLE_VIEW, CameraMinute, LineCount, ZoneCount
from server.storage.models import HeatmapHour, LineMinute, ZoneMinute


@dataclass(frozen=True, slots=True)
class Place:
    """Which rows to read; `store_ids=None` means every store."""

    store_ids: list[int] | None
    store_id: int | None = None
    camera_id: int | None = None

    def of(
        self, table: type[ZoneMinute] | type[LineMinute] | type[HeatmapHour]
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.store_ids is not None:
            conditions.append(table.store_id.in_(self.store_ids))
        if self.store_id is not None:
            conditions.append(table.store_id == self.store_id)
        if self.camera_id is not None:
            conditions.append(table.camera_id == self.camera_id)
        return conditions


async def save_minute(*, session: AsyncSession, store_id: int, minute: CameraMinute) -> None:
    """Add the minute's figures (the caller commits). The whole view's row is written for
    every analysed minute; a zone's or line's only when something happened in it."""
    at = datetime.fromtimestamp(minute.minute_ts, UTC)
    for count in minute.zones:
        if count.zone == WHOLE_VIEW or count.occupancy_max or count.entries or count.exits:
            await _add_zone(session, store_id, minute.camera_id, at, count)
    for line in minute.lines:
        if line.entered or line.left:
            await _add_line(session, store_id, minute.camera_id, at, line)
    if float(minute.heat.sum()) > 0:
        await _add_heat(session, store_id, minute.camera_id, at, minute.heat)
    await session.flush()


async def zone_rows(
    *, session: AsyncSession, place: Place, since: datetime, until: datetime
) -> list[ZoneMinute]:
    query = select(ZoneMinute).where(
        *place.of(ZoneMinute), ZoneMinute.minute >= since, ZoneMinute.minute < until
    )
    return list((await session.scalars(query.order_by(ZoneMinute.minute))).all())


async def line_rows(
    *, session: AsyncSession, place: Place, since: datetime, until: datetime
) -> list[LineMinute]:
    query = select(LineMinute).where(
        *place.of(LineMinute), LineMinute.minute >= since, LineMinute.minute < until
    )
    return list((await session.scalars(query.order_by(LineMinute.minute))).all())


async def heat_rows(
    *, session: AsyncSession, place: Place, since: datetime, until: datetime
) -> list[HeatmapHour]:
    """The hours that overlap [since, until)."""
    query = select(HeatmapHour).where(
        *place.of(HeatmapHour),
        HeatmapHour.hour > since - timedelta(hours=1),
        HeatmapHour.hour < until,
    )
    return list((await session.scalars(query)).all())


async def prune(*, session: AsyncSession, before: datetime) -> int:
    """Delete aggregates older than `before`; how many rows went (the caller commits)."""
    removed = 0
    for table, column in (
        (ZoneMinute, ZoneMinute.minute),
        (LineMinute, LineMinute.minute),
        (HeatmapHour, HeatmapHour.hour),
    ):
        result = await session.execute(delete(table).where(column < before))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


async def _add_zone(
    session: AsyncSession, store_id: int, camera_id: int, at: datetime, count: ZoneCount
) -> None:
    row = await session.scalar(
        select(ZoneMinute).where(
            ZoneMinute.camera_id == camera_id,
            ZoneMinute.zone == count.zone,
            ZoneMinute.minute == at,
        )
    )
    if row is None:
        session.add(
            ZoneMinute(
                store_id=store_id,
                camera_id=camera_id,
                zone=count.zone,
                kind=count.kind,
                minute=at,
                frames=count.frames,
                occupancy_sum=count.occupancy_sum,
                occupancy_max=count.occupancy_max,
                entries=count.entries,
                exits=count.exits,
                dwell_sum_s=count.dwell_sum_s,
                dwell_hist=list(count.dwell_hist),
            )
        )
        return
    row.kind = count.kind
    row.frames += count.frames
    row.occupancy_sum += count.occupancy_sum
    row.occupancy_max = max(row.occupancy_max, count.occupancy_max)
    row.entries += count.entries
    row.exits += count.exits
    row.dwell_sum_s += count.dwell_sum_s
    old = list(row.dwell_hist) + [0] * (len(count.dwell_hist) - len(row.dwell_hist))
    row.dwell_hist = [a + b for a, b in zip(old, count.dwell_hist, strict=False)]


async def _add_line(
    session: AsyncSession, store_id: int, camera_id: int, at: datetime, line: LineCount
) -> None:
    row = await session.scalar(
        select(LineMinute).where(
            LineMinute.camera_id == camera_id,
            LineMinute.line == line.line,
            LineMinute.minute == at,
        )
    )
    if row is None:
        session.add(
            LineMinute(
                store_id=store_id,
                camera_id=camera_id,
                line=line.line,
                minute=at,
                entered=line.entered,
                left=line.left,
            )
        )
        return
    row.entered += line.entered
    row.left += line.left


async def _add_heat(
    session: AsyncSession,
    store_id: int,
    camera_id: int,
    at: datetime,
    heat: np.ndarray,
) -> None:
    hour = at.replace(minute=0, second=0, microsecond=0)
    rows, cols = heat.shape
    row = await session.scalar(
        select(HeatmapHour).where(HeatmapHour.camera_id == camera_id, HeatmapHour.hour == hour)
    )
    if row is None or (row.rows, row.cols) != (rows, cols):
        if row is not None:  # another grid size: start the hour again
            await session.delete(row)
            await session.flush()
        session.add(
            HeatmapHour(
                store_id=store_id,
                camera_id=camera_id,
                hour=hour,
                rows=rows,
                cols=cols,
                cells=_rounded(heat.ravel()),
            )
        )
        return
    total = np.asarray(row.cells, np.float64) + heat.ravel()
    row.cells = _rounded(total)


def _rounded(cells: np.ndarray) -> list[float]:
    """Tenths of a second: enough for a heatmap, and short in JSON."""
    return [round(float(v), 1) for v in cells]
