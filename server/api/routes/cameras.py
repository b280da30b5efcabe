"""Cameras: everyone sees their stores' cameras, admins add, change and remove them. Each
camera shows the threshold in force (its own, its alert budget's, or the global one) and
the alerts per day it gives."""

from collections.abc import Sequence

from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncSession

from server.api.deps import AdminUser, AuditDep, CurrentUser, RuntimeDep, SessionDep
from server.notify.outbox import TESTED
from server.pipeline.source_policy import check_file_source
from server.pipeline.source_probe import probe_source_async
from server.security.redact import keep_secret, redact_url
from server.services.alerts import camera_status_event, commit_and_announce, record_alert
from server.storage import cameras, stores
from server.storage.alerts import alert_public
from server.storage.models import Alert, Camera, utcnow
from server.storage.settings import effective_settings
from shared.schemas.alerts import TEST_EVENT_TYPE, AlertPublic
from shared.schemas.cameras import (
    CameraCreate,
    CameraPublic,
    CamerasPublic,
    CameraUpdate,
    SourceKind,
    SourceProbe,
    SourceProbeResult,
)

router = APIRouter(prefix="/cameras", tags=["cameras"])


@router.get("")
async def list_cameras(
    principal: CurrentUser, session: SessionDep, runtime: RuntimeDep, store_id: int | None = None
) -> CamerasPublic:
    """Cameras you may see, optionally of one store."""
    rows = await cameras.list_cameras(
        session=session, store_ids=principal.store_scope, store_id=store_id
    )
    return CamerasPublic(data=await _public(rows, session, runtime), count=len(rows))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_camera(
    body: CameraCreate, _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> CameraPublic:
    """Add a camera to a store."""
    _confined(runtime, body.source_kind, body.source_url, body.substream_url)
    await stores.get_store(session=session, store_id=body.store_id, store_ids=None)
    camera = await cameras.create_camera(session=session, camera_in=body)
    await audit.record(
        "camera.create",
        "camera",
        camera.id,
        {"name": camera.name, "store_id": camera.store_id, "source": redact_url(body.source_url)},
    )
    await session.commit()
    runtime.pipeline.request_reconcile()
    return (await _public([camera], session, runtime))[0]


@router.post("/source-test")
async def probe_new_source(
    body: SourceProbe, _: AdminUser, runtime: RuntimeDep, audit: AuditDep, session: SessionDep
) -> SourceProbeResult:
    """Open a source and decode one picture, before adding it as a camera. A failed
    connection is a result (`ok` false, with why), not an error."""
    _confined(runtime, body.source_kind, body.source_url)
    result = await probe_source_async(body.source_url, runtime.settings.pipeline.open_timeout_s)
    await audit.record("camera.source_test", "camera", "", {"source": result.source_url})
    await session.commit()
    return result


@router.post("/{camera_id}/source-test")
async def probe_camera_source(
    camera_id: int,
    _: AdminUser,
    session: SessionDep,
    runtime: RuntimeDep,
    audit: AuditDep,
    body: SourceProbe | None = None,
) -> SourceProbeResult:
    """Try this camera's stored source, or the one in the body (a masked URL as shown here
    stands for the stored one, with its password)."""
    camera = await cameras.get_camera(session=session, camera_id=camera_id, store_ids=None)
    url = camera.source_url if body is None else keep_secret(body.source_url, camera.source_url)
    _confined(runtime, SourceKind(camera.source_kind if body is None else body.source_kind), url)
    result = await probe_source_async(url, runtime.settings.pipeline.open_timeout_s)
    await audit.record("camera.source_test", "camera", camera.id, {"source": result.source_url})
    await session.commit()
    return result


@router.get("/{camera_id}")
async def read_camera(
    camera_id: int, principal: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> CameraPublic:
    """One camera with its status and the threshold in force."""
    camera = await cameras.get_camera(
        session=session, camera_id=camera_id, store_ids=principal.store_scope
    )
    return (await _public([camera], session, runtime))[0]


@router.patch("/{camera_id}")
async def update_camera(
    camera_id: int,
    body: CameraUpdate,
    _: AdminUser,
    session: SessionDep,
    runtime: RuntimeDep,
    audit: AuditDep,
) -> CameraPublic:
    """Change a camera's source, zones, overrides (threshold, alert budget) or enabled flag."""
    return await _update(camera_id, body, session, runtime, audit)


@router.post("/{camera_id}/enable")
async def enable_camera(
    camera_id: int, _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> CameraPublic:
    """Start analysing this camera."""
    return await _update(camera_id, CameraUpdate(enabled=True), session, runtime, audit)


@router.post("/{camera_id}/disable")
async def disable_camera(
    camera_id: int, _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> CameraPublic:
    """Stop analysing this camera; its alerts and evidence stay."""
    return await _update(camera_id, CameraUpdate(enabled=False), session, runtime, audit)


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_camera(
    camera_id: int, _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> None:
    """Delete a camera that has no alerts (disable it otherwise)."""
    camera = await cameras.get_camera(session=session, camera_id=camera_id, store_ids=None)
    await cameras.delete_camera(session=session, camera=camera)
    await audit.record("camera.delete", "camera", camera_id, {"name": camera.name})
    await session.commit()
    runtime.pipeline.request_reconcile()


@router.post("/{camera_id}/test-alert", status_code=status.HTTP_201_CREATED)
async def send_test_alert(
    camera_id: int, _: AdminUser, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> AlertPublic:
    """Raise a test alert on this camera, to check that phones and screens receive alerts:
    stored, announced live and pushed like a real one (`notify/outbox.py`)."""
    camera = await cameras.get_camera(session=session, camera_id=camera_id, store_ids=None)
    await audit.record("camera.test_alert", "camera", camera.id)
    pushes = runtime.alerts.pushes

    async def with_pushes(session: AsyncSession, alert: Alert) -> None:
        if pushes is not None:
            await pushes.add(session, alert, camera, TESTED)

    alert = await record_alert(
        session=session,
        bus=runtime.bus,
        camera=camera,
        zone="",
        event_type=TEST_EVENT_TYPE,
        score=1.0,
        started_at=utcnow(),
        before_commit=with_pushes,
    )
    if pushes is not None:
        pushes.committed()
    return alert_public(alert)


async def _update(
    camera_id: int, body: CameraUpdate, session: SessionDep, runtime: RuntimeDep, audit: AuditDep
) -> CameraPublic:
    camera = await cameras.get_camera(session=session, camera_id=camera_id, store_ids=None)
    if body.source_url is not None or body.substream_url or body.source_kind is not None:
        kind = SourceKind(body.source_kind or camera.source_kind)
        _confined(runtime, kind, body.source_url or camera.source_url, body.substream_url)
    status_before = camera.status
    await cameras.update_camera(session=session, camera=camera, camera_in=body)
    changed = body.model_dump(exclude_unset=True, exclude={"source_url", "substream_url"})
    if body.source_url is not None:
        changed["source"] = redact_url(body.source_url)
    await audit.record("camera.update", "camera", camera.id, changed)
    envelopes = []
    if camera.status != status_before:
        envelopes.append(
            await runtime.bus.stage(session, camera_status_event(camera), store_id=camera.store_id)
        )
    await commit_and_announce(session, runtime.bus, *envelopes)
    runtime.pipeline.request_reconcile()
    return (await _public([camera], session, runtime))[0]


def _confined(runtime: RuntimeDep, kind: SourceKind, *urls: str | None) -> None:
    """Refuse (422) a file source outside the media folders (a URL given as a file source is
    refused for its shape, by the schema's rules)."""
    if kind is SourceKind.file:
        for url in urls:
            if url and "://" not in url:
                check_file_source(url, runtime.settings.media_folders)


async def _public(
    rows: Sequence[Camera], session: SessionDep, runtime: RuntimeDep
) -> list[CameraPublic]:
    """The cameras as shown, each with the threshold in force under today's settings and
    its alerts not reviewed yet."""
    detection = (await effective_settings(session=session, settings=runtime.settings)).detection
    open_alerts = await cameras.open_alert_counts(session=session, camera_ids=[c.id for c in rows])
    return [
        cameras.camera_public(c, runtime.thresholds.public(c, detection), open_alerts.get(c.id, 0))
        for c in rows
    ]
