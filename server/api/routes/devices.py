"""Your phones and browsers registered for push notifications, and which alerts push."""

from fastapi import APIRouter, status

from server.api.deps import AuditDep, CurrentUser, RuntimeDep, SessionDep
from server.errors import InvalidRequest, NotFound
from server.notify.endpoints import EndpointRefused
from server.notify.webpush import WebPushNotifier
from server.storage import devices, preferences
from shared.schemas.devices import (
    DevicePublic,
    DeviceRegister,
    DevicesPublic,
    PushPlatform,
    WebPushKey,
)
from shared.schemas.preferences import PushPreferencesPublic, PushPreferencesUpdate

router = APIRouter(prefix="/devices", tags=["devices"])


@router.get("")
async def list_devices(principal: CurrentUser, session: SessionDep) -> DevicesPublic:
    """Your registered devices."""
    rows = await devices.list_devices(session=session, user_id=principal.user.id)
    return DevicesPublic(data=[DevicePublic.model_validate(d) for d in rows], count=len(rows))


@router.get("/webpush-key")
async def webpush_key(principal: CurrentUser, runtime: RuntimeDep) -> WebPushKey:
    """The server's VAPID public key, for a browser to subscribe to its pushes."""
    notifier = runtime.pushes.notifiers.get("webpush")
    if not isinstance(notifier, WebPushNotifier):
        raise NotFound("Web Push is not configured on this server")
    return WebPushKey(public_key=notifier.public_key)


@router.get("/preferences")
async def read_preferences(principal: CurrentUser, session: SessionDep) -> PushPreferencesPublic:
    """Which alerts push to your devices."""
    pref = await preferences.get_preferences(session=session, user_id=principal.user.id)
    return preferences.preferences_public(pref)


@router.put("/preferences")
async def replace_preferences(
    body: PushPreferencesUpdate, principal: CurrentUser, session: SessionDep, audit: AuditDep
) -> PushPreferencesPublic:
    """Replace which alerts push to your devices: stores, cameras, quiet hours, on or off."""
    pref = await preferences.replace_preferences(
        session=session,
        user_id=principal.user.id,
        store_scope=principal.store_scope,
        prefs_in=body,
    )
    details = body.model_dump(mode="json")
    await audit.record("device.preferences", "user", principal.user.id, details)
    await session.commit()
    return preferences.preferences_public(pref)


@router.post("", status_code=status.HTTP_201_CREATED)
async def register_device(
    body: DeviceRegister,
    principal: CurrentUser,
    session: SessionDep,
    audit: AuditDep,
    runtime: RuntimeDep,
) -> DevicePublic:
    """Register this device for push notifications (again is fine). A Web Push endpoint
    must be an https URL on a public host (422 otherwise), unless the server allows
    private ones (`push.allow_private_endpoints`)."""
    if body.platform is PushPlatform.webpush:
        notifier = runtime.pushes.notifiers.get("webpush")
        if not isinstance(notifier, WebPushNotifier):
            raise NotFound("Web Push is not configured on this server")
        try:
            await notifier.endpoints.vet(body.token)
        except EndpointRefused as exc:
            raise InvalidRequest(f"Web Push endpoint {exc}") from exc
    device = await devices.register_device(
        session=session, user_id=principal.user.id, device_in=body
    )
    await audit.record("device.register", "device", device.id, {"platform": device.platform})
    await session.commit()
    return DevicePublic.model_validate(device)


@router.delete("/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_device(
    device_id: int, principal: CurrentUser, session: SessionDep, audit: AuditDep
) -> None:
    """Stop push notifications to one of your devices."""
    await devices.delete_device(session=session, user_id=principal.user.id, device_id=device_id)
    await audit.record("device.delete", "device", device_id)
    await session.commit()
