"""Recording alerts and camera states: the database first, then the live announcement."""

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from server.notify.bus import EventBus
from server.storage import alerts, cameras
from server.storage.models import Alert, Camera
from shared.schemas.cameras import CameraStatus
from shared.schemas.events import AlertCreated, CameraStatusChanged, EventEnvelope


async def record_alert(
    *,
    session: AsyncSession,
    bus: EventBus,
    camera: Camera,
    zone: str,
    event_type: str,
    score: float,
    started_at: datetime,
    last_seen_at: datetime | None = None,
    track_ids: list[int] | None = None,
    before_commit: Callable[[AsyncSession, Alert], Awaitable[object]] | None = None,
) -> Alert:
    """Store a new alert and announce `alert.created` once it is committed; `before_commit`
    adds what must be stored with it (its pushes)."""
    alert = await alerts.create_alert(
        session=session,
        camera=camera,
        zone=zone,
        event_type=event_type,
        score=score,
        started_at=started_at,
        last_seen_at=last_seen_at,
        track_ids=track_ids,
    )
    envelope = await bus.stage(
        session, AlertCreated(alert=alerts.alert_public(alert)), store_id=alert.store_id
    )
    if before_commit is not None:
        await before_commit(session, alert)
    await commit_and_announce(session, bus, envelope)
    return alert


async def report_camera_status(
    *,
    session: AsyncSession,
    bus: EventBus,
    camera_id: int,
    status: CameraStatus,
    error: str | None,
    now: datetime,
) -> bool:
    """Store a camera's new state and announce `camera.status`; False if unchanged, or
    when the camera is gone or disabled meanwhile."""
    camera = await cameras.set_camera_status(
        session=session, camera_id=camera_id, status=status, error=error, now=now
    )
    if camera is None:
        return False
    envelope = await bus.stage(session, camera_status_event(camera), store_id=camera.store_id)
    await commit_and_announce(session, bus, envelope)
    return True


def camera_status_event(camera: Camera) -> CameraStatusChanged:
    return CameraStatusChanged(
        camera_id=camera.id,
        store_id=camera.store_id,
        status=CameraStatus(camera.status),
        since=camera.status_since,
        last_error=camera.last_error,
    )


async def commit_and_announce(
    session: AsyncSession, bus: EventBus, *envelopes: EventEnvelope
) -> None:
    """Commit, then announce: nobody hears of a change the database does not hold."""
    await session.commit()
    for envelope in envelopes:
        bus.announce(envelope)
