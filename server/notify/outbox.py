"""The push outbox: pushes are rows written in the same transaction as the alert they
announce, so an alert that is stored is also pushed, whatever fails afterwards.

Who gets one: every active user who may see the camera's store (admins see all stores),
on each of their registered devices, unless their push preferences say no: pushes off,
the store or camera not among those they chose, or the store's local time in their quiet
hours (`notify/preferences.py`). A camera that pushed an opening less than `cooldown_s` ago
pushes no new opening; a test alert is pushed all the same (it checks that pushes arrive).
Alerts without pushes are still stored and announced live.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.notify.preferences import store_clock, wants_push
from server.notify.push import alert_payload
from server.storage.models import (
    Alert,
    Camera,
    PushDevice,
    PushOutbox,
    PushPreference,
    User,
    user_stores,
)
from shared.schemas.auth import Role

OPENED, RAISED = "opened", "raised"
TESTED = "test"  # an admin's test alert: pushed whatever the camera's cooldown


async def enqueue_alert_pushes(
    session: AsyncSession,
    *,
    alert: Alert,
    camera: Camera,
    reason: str,
    now: datetime,
    cooldown_s: float,
) -> int:
    """Add the alert's pushes to the outbox (not committed); how many."""
    if reason == OPENED and cooldown_s > 0:
        recent = await session.scalar(
            select(PushOutbox.id)
            .join(Alert, Alert.id == PushOutbox.alert_id)
            .where(
                Alert.camera_id == camera.id,
                PushOutbox.reason == OPENED,
                PushOutbox.created_at > now - timedelta(seconds=cooldown_s),
            )
            .limit(1)
        )
        if recent is not None:
            return 0
    members = select(user_stores.c.user_id).where(user_stores.c.store_id == camera.store_id)
    candidates = (
        await session.execute(
            select(PushDevice, PushPreference)
            .join(User, User.id == PushDevice.user_id)
            .outerjoin(PushPreference, PushPreference.user_id == User.id)
            .where(
                User.is_active,
                (User.role == Role.admin.value) | User.id.in_(members),
                PushPreference.user_id.is_(None) | PushPreference.enabled,
            )
            .order_by(PushDevice.id)
        )
    ).all()
    if not candidates:
        return 0
    clock = await store_clock(session, store_id=camera.store_id, now=now)
    devices = [device for device, pref in candidates if wants_push(pref, camera, clock)]
    payload = alert_payload(
        alert_id=alert.id,
        store_id=alert.store_id,
        camera_id=camera.id,
        camera_name=camera.name,
        zone=alert.zone,
        event_type=alert.event_type,
        score=alert.peak_score,
        reason=reason,
    )
    for device in devices:
        session.add(
            PushOutbox(
                alert_id=alert.id,
                device_id=device.id,
                reason=reason,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
        )
    await session.flush()
    return len(devices)


class AlertPushes:
    """What the alert recorder calls: add pushes inside the alert's transaction, then wake
    the dispatcher once that transaction has committed."""

    def __init__(self, cooldown_s: float, wake: Callable[[], None]) -> None:
        self.cooldown_s, self._wake = cooldown_s, wake

    async def add(self, session: AsyncSession, alert: Alert, camera: Camera, reason: str) -> int:
        return await enqueue_alert_pushes(
            session,
            alert=alert,
            camera=camera,
            reason=reason,
            now=datetime.now(UTC),
            cooldown_s=self.cooldown_s,
        )

    def committed(self) -> None:
        self._wake()
