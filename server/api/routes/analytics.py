"""Store analytics: footfall, occupancy, dwell, queues and heatmaps from tracked people,
with the same role and store scoping as the alert statistics."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter, Depends, Query, Request, Response

from server.annotate.heatmap import heatmap_jpeg
from server.api.deps import CurrentUser, RuntimeDep, SessionDep
from server.api.params import TimeZoneQuery, as_utc, checked_range, store_time_zone, time_zone
from server.api.routes.live import running_on
from server.errors import InvalidRequest
from server.services import analytics
from server.services.analytics import Range
from server.storage.analytics import Place
from server.storage.models import utcnow
from shared.schemas.analytics import (
    DwellPublic,
    FootfallPublic,
    HeatmapPublic,
    OccupancyPublic,
    QueuesPublic,
)
from shared.schemas.errors import ErrorResponse

router = APIRouter(prefix="/analytics", tags=["analytics"])
pictures = APIRouter(prefix="/analytics", tags=["analytics"])  # workers serve these too

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


class Scope:
    """The query every analytics route takes: range, zone for hours and days, place."""

    def __init__(
        self,
        principal: CurrentUser,
        since: datetime | None = None,
        until: datetime | None = None,
        tz: TimeZoneQuery = None,
        store_id: int | None = None,
        camera_id: int | None = None,
    ) -> None:
        end = as_utc(until) or utcnow()
        start, end = checked_range(as_utc(since) or end - timedelta(days=7), end)
        if start < EARLIEST or end > LATEST:
            raise InvalidRequest("the range must lie between the years 2000 and 2999")
        self.since, self.until, self.tz = start, end, tz
        self.place = Place(principal.store_scope, store_id=store_id, camera_id=camera_id)

    async def range(self, session: SessionDep) -> Range:
        name = self.tz or await store_time_zone(session, self.place.store_ids, self.place.store_id)
        return Range(self.since, self.until, time_zone(name))


ScopeDep = Annotated[Scope, Depends()]


@router.get("/footfall")
async def read_footfall(scope: ScopeDep, session: SessionDep) -> FootfallPublic:
    """People crossing the cameras' counting lines, in and out: in all, per hour, per day
    and per line. A camera counts once an admin has drawn a line on it."""
    return await analytics.footfall(
        session=session, place=scope.place, span=await scope.range(session)
    )


@router.get("/occupancy")
async def read_occupancy(scope: ScopeDep, session: SessionDep) -> OccupancyPublic:
    """People in each camera's view and zones now (the latest complete minute) and per hour
    (mean over the analysed time, and the most at once)."""
    return await analytics.occupancy(
        session=session, place=scope.place, span=await scope.range(session), now=utcnow()
    )


@router.get("/dwell")
async def read_dwell(scope: ScopeDep, session: SessionDep) -> DwellPublic:
    """How long people stay in each zone (and in each camera's view): visits that ended in
    the range, their mean, median and 90th percentile, and a histogram."""
    return await analytics.dwell(
        session=session, place=scope.place, span=await scope.range(session)
    )


@router.get("/queues")
async def read_queues(scope: ScopeDep, session: SessionDep) -> QueuesPublic:
    """Every checkout queue (a zone of kind `queue`): its length now, the wait estimated from
    those who left it in the last 15 minutes, and both per hour."""
    return await analytics.queues(
        session=session, place=scope.place, span=await scope.range(session), now=utcnow()
    )


@router.get("/heatmap")
async def read_heatmap(
    scope: ScopeDep, session: SessionDep, camera_id: Annotated[int, Query()]
) -> HeatmapPublic:
    """Where people stood on one camera: seconds per cell of a grid over its picture (whole
    hours: the range is widened to the hours it touches)."""
    return await analytics.heatmap(
        session=session, place=scope.place, since=scope.since, until=scope.until
    )


@pictures.get(
    "/heatmap.jpg",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The heatmap over the picture."},
        503: {"model": ErrorResponse, "description": "Busy drawing pictures: ask again."},
    },
)
async def read_heatmap_picture(
    scope: ScopeDep,
    principal: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    request: Request,
    camera_id: Annotated[int, Query()],
    width: Annotated[int, Query(ge=64, le=1280, description="Width in pixels.")] = 640,
) -> Response:
    """The heatmap drawn over the camera's newest picture (grey while it has none; an API
    instance of several asks the worker that runs the camera)."""
    if (worker := await running_on(runtime, session, principal, camera_id)) is not None:
        assert runtime.relay is not None
        return await runtime.relay.relay(worker, request)
    heat = await analytics.heatmap(
        session=session, place=scope.place, since=scope.since, until=scope.until
    )
    latest = runtime.live.frames.latest(camera_id)
    jpeg = await runtime.pictures.run_or_refuse(
        heatmap_jpeg,
        _grid(heat),
        latest.image if latest is not None else None,
        width,
    )
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


def _grid(heat: HeatmapPublic) -> npt.NDArray[np.float64]:
    return np.asarray(heat.cells, np.float64)
