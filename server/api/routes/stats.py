"""Alert statistics and losses over a time range."""

from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from server.api.deps import CurrentUser, SessionDep
from server.api.params import as_utc, time_zone
from server.errors import InvalidRequest
from server.storage import losses, stats, stores
from server.storage.alerts import AlertFilter
from server.storage.models import utcnow
from shared.schemas.losses import LossesPublic
from shared.schemas.stats import StatsPublic

router = APIRouter(prefix="/stats", tags=["stats"])

MAX_RANGE = timedelta(days=366)
LOSS_MONTHS = 12  # the losses' default range: this month and the 11 before


@router.get("")
async def read_stats(
    principal: CurrentUser,
    session: SessionDep,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: Annotated[
        str | None,
        Query(max_length=64, description="IANA zone for hours and days; default: the store's."),
    ] = None,
    store_id: int | None = None,
    camera_id: int | None = None,
) -> StatsPublic:
    """Alerts per hour, per day by outcome, per hour of the day, per camera (with a hint for
    cameras with many false alarms) and per store; shares reviewed, confirmed and false
    alarms; the median time to review.

    The range defaults to the last 7 days and may span at most 366 days. Hours and days are
    counted in `tz`, else in the time zone of `store_id`, else in the one zone all the
    caller's stores share, else in UTC.
    """
    end = as_utc(until) or utcnow()
    start = as_utc(since) or end - timedelta(days=7)
    if start >= end:
        raise InvalidRequest("`since` must be before `until`")
    if end - start > MAX_RANGE:
        raise InvalidRequest("the range may span at most 366 days")
    where = AlertFilter(
        store_ids=principal.store_scope,
        store_id=store_id,
        camera_id=camera_id,
        since=start,
        until=end,
    )
    if tz is None:
        tz = await _default_zone(session, principal.store_scope, store_id)
    return await stats.alert_stats(session=session, where=where, tz=time_zone(tz))


@router.get("/losses")
async def read_losses(
    principal: CurrentUser,
    session: SessionDep,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: Annotated[
        str | None,
        Query(max_length=64, description="IANA zone for months; default: each store's own."),
    ] = None,
    store_id: int | None = None,
    camera_id: int | None = None,
) -> LossesPublic:
    """Losses prevented (stolen goods recovered, goods at risk in deterred incidents) and
    suffered (stolen goods not recovered), from the values recorded at review: in total per
    currency, per store in its currency, per camera and per month. Amounts are strings with
    two decimals; different currencies are never added up.

    The range defaults to this month and the 11 before (from the first of the month, in
    `tz` or the zone `GET /stats` would use) and may span at most 366 days. Months are
    counted in `tz`, else in each store's own zone. Test alerts are left out.
    """
    end = as_utc(until) or utcnow()
    if since is None:
        start_zone = time_zone(tz or await _default_zone(session, principal.store_scope, store_id))
        start = _months_back(end.astimezone(start_zone), LOSS_MONTHS - 1)
    else:
        start = as_utc(since) or end
    if start >= end:
        raise InvalidRequest("`since` must be before `until`")
    if end - start > MAX_RANGE:
        raise InvalidRequest("the range may span at most 366 days")
    where = AlertFilter(
        store_ids=principal.store_scope,
        store_id=store_id,
        camera_id=camera_id,
        since=start,
        until=end,
    )
    zone = time_zone(tz) if tz is not None else None
    return await losses.loss_stats(session=session, where=where, tz=zone)


def _months_back(moment: datetime, months: int) -> datetime:
    """Local midnight of the first of the month `months` before `moment`'s."""
    index = moment.year * 12 + moment.month - 1 - months
    try:
        first = moment.date().replace(year=index // 12, month=index % 12 + 1, day=1)
    except ValueError as exc:  # before year 1
        raise InvalidRequest("`until` is too early: give `since` too") from exc
    return datetime.combine(first, time(), tzinfo=moment.tzinfo)


async def _default_zone(
    session: AsyncSession, scope: list[int] | None, store_id: int | None
) -> str:
    """The zone of `store_id`, or the one zone all visible stores share; else UTC."""
    visible = await stores.list_stores(session=session, store_ids=scope)
    if store_id is not None:  # like a filter: another store just finds nothing
        visible = [store for store in visible if store.id == store_id]
    zones = {store.timezone for store in visible}
    return zones.pop() if len(zones) == 1 else "UTC"
