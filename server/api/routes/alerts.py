"""Alerts: filtered pages, detail, and review by supervisors and admins."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import AuditDep, CurrentUser, ReviewerUser, RuntimeDep, SessionDep
from server.api.params import as_utc
from server.services.alerts import commit_and_announce
from server.storage import alerts
from server.storage.alerts import AlertFilter
from server.storage.models import utcnow
from shared.schemas.alerts import AlertOutcome, AlertPublic, AlertsPublic, AlertStatus, AlertUpdate
from shared.schemas.events import AlertUpdated

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
async def list_alerts(
    principal: CurrentUser,
    session: SessionDep,
    store_id: int | None = None,
    camera_id: int | None = None,
    status: Annotated[list[AlertStatus], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
    outcome: Annotated[list[AlertOutcome], Query()] = [],  # noqa: B006
    since: datetime | None = None,
    until: datetime | None = None,
    min_score: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AlertsPublic:
    """Alerts you may see, newest first; follow `next_cursor` for older ones."""
    where = AlertFilter(
        store_ids=principal.store_scope,
        store_id=store_id,
        camera_id=camera_id,
        statuses=tuple(status),
        outcomes=tuple(outcome),
        since=as_utc(since),
        until=as_utc(until),
        min_score=min_score,
    )
    rows, count, next_cursor = await alerts.list_alerts(
        session=session, where=where, limit=limit, cursor=cursor
    )
    return AlertsPublic(
        data=[alerts.alert_public(a) for a in rows], count=count, next_cursor=next_cursor
    )


@router.get("/{alert_id}")
async def read_alert(alert_id: int, principal: CurrentUser, session: SessionDep) -> AlertPublic:
    """One alert."""
    alert = await alerts.get_alert(
        session=session, alert_id=alert_id, store_ids=principal.store_scope
    )
    return alerts.alert_public(alert)


@router.patch("/{alert_id}")
async def review_alert(
    alert_id: int,
    body: AlertUpdate,
    principal: ReviewerUser,
    session: SessionDep,
    runtime: RuntimeDep,
    audit: AuditDep,
) -> AlertPublic:
    """Acknowledge or review an alert (status, outcome, notes)."""
    alert = await alerts.get_alert(
        session=session, alert_id=alert_id, store_ids=principal.store_scope
    )
    await alerts.review_alert(
        session=session, alert=alert, review=body, reviewer=principal.user, now=utcnow()
    )
    public = alerts.alert_public(alert)
    await audit.record(
        "alert.review",
        "alert",
        alert.id,
        body.model_dump(mode="json", exclude_unset=True, exclude={"if_version"}),
    )
    envelope = await runtime.bus.stage(session, AlertUpdated(alert=public), store_id=alert.store_id)
    await commit_and_announce(session, runtime.bus, envelope)
    return public
