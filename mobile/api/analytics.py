"""Store analytics on the server: footfall over counting lines, occupancy and dwell per
zone, checkout queues, and a camera's heatmap (as figures, or as a picture over its newest
frame). Every call takes the same `Window`: the range, the zone for hours and days, and a
store or camera to narrow to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mobile.api.client import ApiClient
from shared.schemas.analytics import (
    DwellPublic,
    FootfallPublic,
    HeatmapPublic,
    OccupancyPublic,
    QueuesPublic,
)

HEATMAP_WIDTH = 640  # pixels across the heatmap's picture

# The client's plumbing (`_call`, `_send`) is this package's own: these calls are the
# client's, kept in a module of their own (like mobile.api.invites).


@dataclass(frozen=True, slots=True)
class Window:
    """What to measure: from `since` to `until`, hours and days in `tz`, optionally one
    store's or one camera's."""

    since: datetime
    until: datetime
    tz: str | None = None
    store_id: int | None = None
    camera_id: int | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        if self.tz:
            params["tz"] = self.tz
        if self.store_id is not None:
            params["store_id"] = self.store_id
        if self.camera_id is not None:
            params["camera_id"] = self.camera_id
        return params


async def footfall(client: ApiClient, window: Window) -> FootfallPublic:
    """People crossing the counting lines, in and out, by hour, day and line."""
    return await client._call("GET", "/analytics/footfall", FootfallPublic, params=window.params())


async def occupancy(client: ApiClient, window: Window) -> OccupancyPublic:
    """People in each camera's view and zone now, and by hour."""
    return await client._call(
        "GET", "/analytics/occupancy", OccupancyPublic, params=window.params()
    )


async def dwell(client: ApiClient, window: Window) -> DwellPublic:
    """How long visits to each zone lasted."""
    return await client._call("GET", "/analytics/dwell", DwellPublic, params=window.params())


async def queues(client: ApiClient, window: Window) -> QueuesPublic:
    """Each queue zone's length and wait now, and by hour."""
    return await client._call("GET", "/analytics/queues", QueuesPublic, params=window.params())


async def heatmap(client: ApiClient, window: Window, camera_id: int) -> HeatmapPublic:
    """Where people stood on one camera's picture (person-seconds per cell)."""
    params = window.params() | {"camera_id": camera_id}
    return await client._call("GET", "/analytics/heatmap", HeatmapPublic, params=params)


async def heatmap_jpeg(
    client: ApiClient, window: Window, camera_id: int, width: int = HEATMAP_WIDTH
) -> bytes:
    """The heatmap blended over the camera's newest picture (grey without one), a JPEG."""
    params = window.params() | {"camera_id": camera_id, "width": width}
    response = await client._send("GET", "/analytics/heatmap.jpg", params=params)
    return response.content
