"""Alert statistics and losses over a time range."""

from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import CurrentUser, SessionDep
from server.api.params import TimeZoneQuery, as_utc, checked_range, store_time_zone, time_zone
from server.errors import InvalidRequest
from server.storage import losses, stats
from server.storage.alerts import AlertFilter
from server.storage.models import utcnow
from shared.schemas.losses import LossesPublic
from shared.schemas.stats import StatsPublic

router = APIRouter(prefix="/stats", tags=["stats"])

LOSS_MONTHS = 12  # the losses' default range: this month and the 11 before


@router.get("")
async def read_stats(
    principal: CurrentUser,
    session: SessionDep,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: TimeZoneQuery = None,
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
    start, end = checked_range(as_utc(since) or end - timedelta(days=7), end)
    where = AlertFilter(
        store_ids=principal.store_scope,
        store_id=store_id,
        camera_id=camera_id,
        since=start,
        until=end,
    )
    if tz is None:
        tz = await store_time_zone(session, principal.store_scope, store_id)
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
        start_zone = time_zone(
            tz or await store_time_zone(session, principal.store_scope, store_id)
        )
        start = _months_back(end.astimezone(start_zone), LOSS_MONTHS - 1)
    else:
        start = as_utc(since) or end
    start, end = checked_range(start, end)
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
