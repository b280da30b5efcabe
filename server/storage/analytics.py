"""Analytics aggregates: a `CameraMinute` is added into its minute's rows (kept briefly, for
"now" and the last quarter of an hour) and its hour's rows (kept long, for every chart), and
into the camera's hourly heatmap; read back by place and time; pruned by age.

A period written twice (a camera moved to another worker mid-minute, a write retried) adds
up rather than failing: each row is read, merged and written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.records.analytics import WHOLE_VIEW, CameraMinute, LineCount, ZoneCount
from server.storage.models import HeatmapHour, LineHour, LineMinute, ZoneHour, ZoneMinute

Zones = TypeVar("Zones", ZoneMinute, ZoneHour)
Lines = TypeVar("Lines", LineMinute, LineHour)
Table = type[ZoneMinute] | type[ZoneHour] | type[LineMinute] | type[LineHour] | type[HeatmapHour]
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Place:
    """Which rows to read; `store_ids=None` means every store."""

    store_ids: list[int] | None
    store_id: int | None = None
    camera_id: int | None = None

    def of(self, table: Table) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.store_ids is not None:
            conditions.append(table.store_id.in_(self.store_ids))
        if self.store_id is not None:
            conditions.append(table.store_id == self.store_id)
        if self.camera_id is not None:
            conditions.append(table.camera_id == self.camera_id)
        return conditions


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


async def save_minute(*, session: AsyncSession, store_id: int, minute: CameraMinute) -> None:
    """Add the minute's figures (the caller commits). The whole view's rows are written for
    every analysed minute; a zone's or line's only when something happened in it."""
    at = datetime.fromtimestamp(minute.minute_ts, UTC)
    for count in minute.zones:
        if count.zone == WHOLE_VIEW or count.occupancy_max or count.entries or count.exits:
            await _add_zone(session, ZoneMinute, store_id, minute.camera_id, at, count)
            await _add_zone(session, ZoneHour, store_id, minute.camera_id, hour_of(at), count)
    for line in minute.lines:
        if line.entered or line.left:
            await _add_line(session, LineMinute, store_id, minute.camera_id, at, line)
            await _add_line(session, LineHour, store_id, minute.camera_id, hour_of(at), line)
    if float(minute.heat.sum()) > 0:
        await _add_heat(session, store_id, minute.camera_id, hour_of(at), minute.heat)
    await session.flush()


async def zone_rows(
    *, session: AsyncSession, table: type[Zones], place: Place, since: datetime, until: datetime
) -> list[Zones]:
    """Rows of periods starting in [since, until)."""
    query = select(table).where(*place.of(table), table.start >= since, table.start < until)
    return list((await session.scalars(query.order_by(table.start))).all())


async def line_rows(
    *, session: AsyncSession, table: type[Lines], place: Place, since: datetime, until: datetime
) -> list[Lines]:
    """Rows of periods starting in [since, until)."""
    query = select(table).where(*place.of(table), table.start >= since, table.start < until)
    return list((await session.scalars(query.order_by(table.start))).all())


async def heat_rows(
    *, session: AsyncSession, place: Place, since: datetime, until: datetime
) -> list[HeatmapHour]:
    """The hours starting in [since, until)."""
    query = select(HeatmapHour).where(
        *place.of(HeatmapHour), HeatmapHour.start >= since, HeatmapHour.start < until
    )
    return list((await session.scalars(query)).all())


async def prune(*, session: AsyncSession, minutes_before: datetime, hours_before: datetime) -> int:
    """Delete minute rows older than `minutes_before` and hour rows and heatmaps older than
    `hours_before`; how many rows went (the caller commits)."""
    removed = 0
    for table, before in (
        (ZoneMinute, minutes_before),
        (LineMinute, minutes_before),
        (ZoneHour, hours_before),
        (LineHour, hours_before),
        (HeatmapHour, hours_before),
    ):
        result = await session.execute(delete(table).where(table.start < before))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


async def _add_zone(
    session: AsyncSession,
    table: type[Zones],
    store_id: int,
    camera_id: int,
    start: datetime,
    count: ZoneCount,
) -> None:
    row = await session.scalar(
        select(table).where(
            table.camera_id == camera_id, table.zone == count.zone, table.start == start
        )
    )
    if row is None:
        row = table(store_id=store_id, camera_id=camera_id, zone=count.zone, start=start)
        row.entries = row.exits = row.occupancy_max = 0
        row.seconds = row.occupancy_sum = row.dwell_sum_s = 0.0
        row.dwell_hist = []
        session.add(row)
    row.kind = count.kind
    row.seconds += count.seconds
    row.occupancy_sum += count.occupancy_sum
    row.occupancy_max = max(row.occupancy_max, count.occupancy_max)
    row.entries += count.entries
    row.exits += count.exits
    row.dwell_sum_s += count.dwell_sum_s
    old = list(row.dwell_hist) + [0] * (len(count.dwell_hist) - len(row.dwell_hist))
    row.dwell_hist = [a + b for a, b in zip(old, count.dwell_hist, strict=False)]


async def _add_line(
    session: AsyncSession,
    table: type[Lines],
    store_id: int,
    camera_id: int,
    start: datetime,
    line: LineCount,
) -> None:
    row = await session.scalar(
        select(table).where(
            table.camera_id == camera_id, table.line == line.line, table.start == start
        )
    )
    if row is None:
        row = table(store_id=store_id, camera_id=camera_id, line=line.line, start=start)
        row.entered = row.left = 0
        session.add(row)
    row.entered += line.entered
    row.left += line.left


async def _add_heat(
    session: AsyncSession,
    store_id: int,
    camera_id: int,
    hour: datetime,
    heat: npt.NDArray[np.float32],
) -> None:
    rows, cols = heat.shape
    row = await session.scalar(
        select(HeatmapHour).where(HeatmapHour.camera_id == camera_id, HeatmapHour.start == hour)
    )
    if row is not None and (row.rows, row.cols) != (rows, cols):
        await session.delete(row)  # another grid size: start the hour again
        await session.flush()
        row = None
    if row is None:
        row = HeatmapHour(store_id=store_id, camera_id=camera_id, start=hour, rows=rows, cols=cols)
        row.cells = [0.0] * heat.size
        session.add(row)
    total = np.asarray(row.cells, np.float64) + heat.ravel()
    row.cells = [round(float(v), 1) for v in total]  # tenths of a second: short in JSON
