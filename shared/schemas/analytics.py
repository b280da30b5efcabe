"""Store analytics from tracked people: footfall over counting lines, occupancy and dwell
per zone, heatmaps of where people stand, and checkout queues. Only aggregates are kept
(per camera, zone or line and minute; heatmaps per camera and hour): no person's trail."""

from datetime import datetime

from pydantic import BaseModel, Field

from shared.schemas.cameras import ZoneKind

# dwell histograms: visits by how long they lasted, in bins [edge[i], edge[i + 1]) seconds;
# the last bin is open-ended
DWELL_EDGES_S: tuple[float, ...] = (
    0,
    5,
    10,
    20,
    30,
    45,
    60,
    90,
    120,
    180,
    300,
    600,
    900,
    1200,
    1800,
    3600,
)
HEATMAP_COLS = 32  # heatmap cells across the picture
HEATMAP_ROWS = 24  # and down


class PlaceRef(BaseModel):
    """Where a figure was measured: a camera and one of its zones ("" for its whole view)."""

    camera_id: int
    camera_name: str
    store_id: int
    zone: str = Field(description="The zone's name; \"\" for the camera's whole view.")
    kind: ZoneKind | None = Field(description="The zone's kind; null for the whole view.")


class FootfallBucket(BaseModel):
    start: datetime
    entered: int
    left: int


class LineFootfall(BaseModel):
    camera_id: int
    camera_name: str
    store_id: int
    line: str
    entered: int
    left: int


class FootfallPublic(BaseModel):
    """People crossing the counting lines, in and out."""

    since: datetime
    until: datetime
    tz: str
    entered: int
    left: int
    by_hour: list[FootfallBucket] = Field(description="Hours with any crossing, in `tz`.")
    by_day: list[FootfallBucket] = Field(description="Days of the range, in `tz`.")
    by_line: list[LineFootfall]


class OccupancyNow(PlaceRef):
    people: int | None = Field(description="People in the zone; null: not analysed lately.")
    at: datetime | None = Field(description="The minute measured (the latest complete one).")


class OccupancyBucket(BaseModel):
    start: datetime
    mean: float = Field(description="People on average over the analysed time.")
    max: int


class ZoneOccupancy(PlaceRef):
    by_hour: list[OccupancyBucket]


class OccupancyPublic(BaseModel):
    since: datetime
    until: datetime
    tz: str
    now: list[OccupancyNow]
    zones: list[ZoneOccupancy]


class ZoneDwell(PlaceRef):
    visits: int = Field(description="Visits that ended in the range.")
    mean_s: float | None
    median_s: float | None = Field(description="Estimated from the histogram's bins.")
    p90_s: float | None = Field(description="Estimated from the histogram's bins.")
    histogram: list[int] = Field(description="Visits per bin of `edges_s`.")


class DwellPublic(BaseModel):
    since: datetime
    until: datetime
    edges_s: list[float] = Field(description="Bin edges in seconds; the last bin is open.")
    zones: list[ZoneDwell]


class HeatmapPublic(BaseModel):
    """Where people stood: seconds spent per cell by anyone's feet, rows top to bottom."""

    camera_id: int
    since: datetime
    until: datetime
    cols: int
    rows: int
    cells: list[list[float]] = Field(description="Person-seconds per cell, `rows` x `cols`.")
    person_seconds: float
    peak: float = Field(description="The largest cell, for scaling colours.")


class QueueBucket(BaseModel):
    start: datetime
    mean_length: float
    max_length: int
    wait_s: float | None = Field(description="Mean time in the queue of those who left it.")


class QueuePublic(PlaceRef):
    length_now: int | None = Field(description="People in the queue; null: not analysed lately.")
    wait_now_s: float | None = Field(
        description="Estimated wait: the mean time in the queue of those who left it in the "
        "last 15 minutes; null when nobody did."
    )
    at: datetime | None
    by_hour: list[QueueBucket]


class QueuesPublic(BaseModel):
    since: datetime
    until: datetime
    tz: str
    queues: list[QueuePublic]
