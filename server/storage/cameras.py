"""Cameras and DVRs. Only `camera_public` and `dvr_public` turn rows into API shapes, so
source URLs always leave masked."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Conflict, InvalidRequest, NotFound
from server.security.redact import has_credentials, keep_secret, redact_url
from server.storage.models import Alert, Camera, Dvr, utcnow
from shared.schemas.alerts import AlertStatus
from shared.schemas.cameras import (
    CameraCreate,
    CameraPublic,
    CameraStatus,
    CameraThreshold,
    CameraUpdate,
    CountingLine,
    DvrCreate,
    DvrPublic,
    SourceKind,
    Zone,
    check_source,
)


async def open_alert_counts(*, session: AsyncSession, camera_ids: Sequence[int]) -> dict[int, int]:
    """Camera id → its alerts not reviewed yet (new or acknowledged); cameras without any
    are left out."""
    if not camera_ids:
        return {}
    rows = await session.execute(
        select(Alert.camera_id, func.count())
        .where(
            Alert.camera_id.in_(camera_ids),
            Alert.status.in_([AlertStatus.new.value, AlertStatus.acknowledged.value]),
        )
        .group_by(Alert.camera_id)
    )
    return {camera_id: int(count) for camera_id, count in rows}


def camera_public(camera: Camera, threshold: CameraThreshold, open_alerts: int = 0) -> CameraPublic:
    """The camera as the API shows it, with the threshold in force (`alerting/thresholds.py`)."""
    return CameraPublic(
        id=camera.id,
        store_id=camera.store_id,
        name=camera.name,
        source_kind=SourceKind(camera.source_kind),
        source_url=redact_url(camera.source_url),
        substream_url=redact_url(camera.substream_url) if camera.substream_url else None,
        has_credentials=has_credentials(camera.source_url),
        dvr_id=camera.dvr_id,
        channel=camera.channel,
        location=camera.location,
        zones=[Zone.model_validate(zone) for zone in camera.zones],
        lines=[CountingLine.model_validate(line) for line in camera.lines],
        enabled=camera.enabled,
        threshold=camera.threshold,
        alert_budget_per_day=camera.alert_budget_per_day,
        **threshold.model_dump(),
        analysis_fps=camera.analysis_fps,
        analysis_width=camera.analysis_width,
        status=CameraStatus(camera.status),
        status_since=camera.status_since,
        last_error=camera.last_error,
        open_alerts=open_alerts,
        created_at=camera.created_at,
        updated_at=camera.updated_at,
    )


def dvr_public(dvr: Dvr) -> DvrPublic:
    return DvrPublic(
        id=dvr.id,
        store_id=dvr.store_id,
        name=dvr.name,
        source_kind=SourceKind(dvr.source_kind),
        url_template=redact_url(dvr.url_template),
        channels=dvr.channels,
        first_channel=dvr.first_channel,
        camera_ids=sorted(camera.id for camera in dvr.cameras),
        created_at=dvr.created_at,
    )


async def list_cameras(
    *, session: AsyncSession, store_ids: list[int] | None, store_id: int | None = None
) -> Sequence[Camera]:
    query = select(Camera).order_by(Camera.store_id, Camera.name)
    if store_ids is not None:
        query = query.where(Camera.store_id.in_(store_ids))
    if store_id is not None:
        query = query.where(Camera.store_id == store_id)
    return (await session.scalars(query)).all()


async def get_camera(
    *, session: AsyncSession, camera_id: int, store_ids: list[int] | None
) -> Camera:
    camera = await session.get(Camera, camera_id)
    if camera is None or (store_ids is not None and camera.store_id not in store_ids):
        raise NotFound(f"camera {camera_id} not found")
    return camera


async def create_camera(
    *,
    session: AsyncSession,
    camera_in: CameraCreate,
    dvr_id: int | None = None,
    channel: int | None = None,
) -> Camera:
    fields = camera_in.model_dump(exclude={"zones", "lines"})
    camera = Camera(
        **fields,
        zones=[zone.model_dump(mode="json") for zone in camera_in.zones],
        lines=[line.model_dump(mode="json") for line in camera_in.lines],
        dvr_id=dvr_id,
        channel=channel,
        status=_initial_status(camera_in.enabled),
    )
    session.add(camera)
    await _flush_unique(session, camera_in.name)
    return camera


async def update_camera(
    *, session: AsyncSession, camera: Camera, camera_in: CameraUpdate
) -> Camera:
    changes = camera_in.model_dump(exclude_unset=True)
    if "zones" in changes and camera_in.zones is not None:
        changes["zones"] = [zone.model_dump(mode="json") for zone in camera_in.zones]
    if "lines" in changes and camera_in.lines is not None:
        changes["lines"] = [line.model_dump(mode="json") for line in camera_in.lines]
    for required in ("name", "source_kind", "source_url", "location", "zones", "lines", "enabled"):
        if required in changes and changes[required] is None:
            del changes[required]
    for field in ("source_url", "substream_url"):  # a masked URL sent back keeps its secret
        if changes.get(field) is not None:
            changes[field] = keep_secret(changes[field], getattr(camera, field))
    kind = SourceKind(changes.get("source_kind", camera.source_kind))
    try:
        check_source(kind, changes.get("source_url", camera.source_url))
        substream = changes.get("substream_url", camera.substream_url)
        if substream:
            check_source(kind, substream)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc
    enabled_before = camera.enabled
    for field, value in changes.items():
        setattr(camera, field, value)
    if camera.enabled != enabled_before:
        camera.status = _initial_status(camera.enabled)
        camera.status_since = utcnow()
        camera.last_error = None
    await _flush_unique(session, camera.name)
    return camera


async def set_camera_status(
    *,
    session: AsyncSession,
    camera_id: int,
    status: CameraStatus,
    error: str | None,
    now: datetime,
) -> Camera | None:
    """Record a connection state the pipeline reports, in one conditional UPDATE.

    Only an enabled camera takes it, so a report racing with a disable (or a delete) never
    overwrites `disabled`. Returns the updated camera, or None when it is gone, disabled, or
    already in that state with that error.
    """
    changed = await session.scalars(
        update(Camera)
        .where(
            Camera.id == camera_id,
            Camera.enabled.is_(True),
            (Camera.status != status.value) | Camera.last_error.is_distinct_from(error),
        )
        .values(
            status=status.value,
            last_error=error,
            status_since=case((Camera.status != status.value, now), else_=Camera.status_since),
            updated_at=Camera.updated_at,  # a status is no edit of the camera
        )
        .returning(Camera)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return changed.one_or_none()


async def delete_camera(*, session: AsyncSession, camera: Camera) -> None:
    alerts = await session.scalar(
        select(func.count()).select_from(Alert).where(Alert.camera_id == camera.id)
    )
    if alerts:
        raise Conflict(
            f"camera {camera.id} has {alerts} alerts with evidence; disable it instead of deleting"
        )
    await session.delete(camera)
    await session.flush()


async def create_dvr(*, session: AsyncSession, dvr_in: DvrCreate) -> Dvr:
    """Create the DVR and one camera per channel, named `<DVR> ch<N>`."""
    dvr = Dvr(**dvr_in.model_dump(exclude={"location"}))
    session.add(dvr)
    await _flush_unique(session, dvr_in.name, what="DVR")
    for channel in range(dvr_in.first_channel, dvr_in.first_channel + dvr_in.channels):
        substream = dvr_in.substream_url_template
        camera_in = CameraCreate(
            store_id=dvr_in.store_id,
            name=f"{dvr_in.name} ch{channel}",
            source_kind=dvr_in.source_kind,
            source_url=dvr_in.url_template.replace("{channel}", str(channel)),
            substream_url=substream.replace("{channel}", str(channel)) if substream else None,
            location=dvr_in.location,
        )
        await create_camera(session=session, camera_in=camera_in, dvr_id=dvr.id, channel=channel)
    await session.refresh(dvr, attribute_names=["cameras"])
    return dvr


async def list_dvrs(*, session: AsyncSession, store_ids: list[int] | None) -> Sequence[Dvr]:
    query = select(Dvr).order_by(Dvr.store_id, Dvr.name)
    if store_ids is not None:
        query = query.where(Dvr.store_id.in_(store_ids))
    return (await session.scalars(query)).all()


async def get_dvr(*, session: AsyncSession, dvr_id: int, store_ids: list[int] | None) -> Dvr:
    dvr = await session.get(Dvr, dvr_id)
    if dvr is None or (store_ids is not None and dvr.store_id not in store_ids):
        raise NotFound(f"DVR {dvr_id} not found")
    return dvr


async def delete_dvr(*, session: AsyncSession, dvr: Dvr) -> None:
    """Delete the DVR with its cameras, unless one of them has alerts."""
    for camera in dvr.cameras:
        await delete_camera(session=session, camera=camera)
    await session.delete(dvr)
    await session.flush()


def _initial_status(enabled: bool) -> str:
    return CameraStatus.offline.value if enabled else CameraStatus.disabled.value


async def _flush_unique(session: AsyncSession, name: str, what: str = "camera") -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a {what} named {name!r} exists in this store") from exc
