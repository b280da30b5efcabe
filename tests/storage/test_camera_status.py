"""Statuses the pipeline reports land only on enabled cameras, atomically: a report that races
with a disable never overwrites `disabled` (both backends)."""

from datetime import UTC, datetime

from server.runtime import Runtime
from server.storage import cameras, stores
from server.storage.models import Camera
from shared.schemas.cameras import CameraCreate, CameraStatus, CameraUpdate, SourceKind
from shared.schemas.stores import StoreCreate

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def _camera(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        store = await stores.create_store(session=session, store_in=StoreCreate(name="Racing"))
        camera = await cameras.create_camera(
            session=session,
            camera_in=CameraCreate(
                store_id=store.id,
                name="Door",
                source_kind=SourceKind.rtsp,
                source_url="rtsp://10.0.0.5/ch1",
            ),
        )
        await session.commit()
        return camera.id


async def _status(runtime: Runtime, camera_id: int) -> tuple[str, str | None, datetime]:
    async with runtime.sessionmaker() as session:
        camera = await session.get(Camera, camera_id)
        assert camera is not None
        return camera.status, camera.last_error, camera.status_since


async def test_a_report_after_a_disable_leaves_the_camera_disabled(runtime: Runtime) -> None:
    camera_id = await _camera(runtime)
    async with runtime.sessionmaker() as pipeline, runtime.sessionmaker() as api:
        loaded = await pipeline.get(Camera, camera_id)  # the pipeline saw it enabled …
        assert loaded is not None and loaded.enabled
        target = await api.get(Camera, camera_id)  # … then an admin disabled it
        assert target is not None
        await cameras.update_camera(
            session=api, camera=target, camera_in=CameraUpdate(enabled=False)
        )
        await api.commit()
        stored = await cameras.set_camera_status(
            session=pipeline, camera_id=camera_id, status=CameraStatus.online, error=None, now=NOW
        )
        await pipeline.commit()
    assert stored is None
    assert (await _status(runtime, camera_id))[0] == "disabled"


async def test_reports_change_status_error_and_since_only_when_different(runtime: Runtime) -> None:
    camera_id = await _camera(runtime)
    async with runtime.sessionmaker() as session:
        first = await cameras.set_camera_status(
            session=session, camera_id=camera_id, status=CameraStatus.online, error=None, now=NOW
        )
        assert first is not None and first.status == "online" and first.status_since == NOW
        again = await cameras.set_camera_status(
            session=session, camera_id=camera_id, status=CameraStatus.online, error=None, now=NOW
        )
        assert again is None  # nothing changed: nothing to announce
        later = NOW.replace(minute=5)
        failing = await cameras.set_camera_status(
            session=session,
            camera_id=camera_id,
            status=CameraStatus.degraded,
            error="stalled",
            now=later,
        )
        assert failing is not None and failing.status_since == later
        worse = await cameras.set_camera_status(
            session=session,
            camera_id=camera_id,
            status=CameraStatus.degraded,
            error="refused",
            now=NOW.replace(minute=9),
        )
        assert worse is not None and worse.last_error == "refused"
        assert worse.status_since == later  # the same state since 12:05
        await session.commit()
    assert await _status(runtime, camera_id) == ("degraded", "refused", later)
    async with runtime.sessionmaker() as session:
        gone = await cameras.set_camera_status(
            session=session,
            camera_id=camera_id + 99,
            status=CameraStatus.online,
            error=None,
            now=NOW,
        )
        assert gone is None
