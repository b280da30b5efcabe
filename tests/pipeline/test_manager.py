"""The pipeline manager inside the real app: file cameras go online, follow the camera routes,
fail on their own, report through the API, the event log and the stats endpoint."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from server.app import create_app
from server.demo import DEMO_ANALYSIS_WIDTH, DEMO_CAMERA, DEMO_STORE, transcode_to_h264
from server.pipeline.manager import STOPPED_ERROR
from server.runtime import Runtime
from server.storage import events
from server.storage.db import make_engine, make_sessionmaker
from server.storage.models import Camera
from shared.schemas.events import CameraStatusChanged
from tests.conftest import make_settings
from tests.helpers import ADMIN_PASSWORD, LIFESPAN_S, login
from tests.pipeline.app_helpers import (
    FAST,
    add_camera,
    add_store,
    camera_json,
    eventually,
    has_status,
    pipeline_stats,
)
from tests.pipeline.conftest import PEOPLE_CLIP
from tests.pipeline.media import synthetic_video


async def status_events(runtime: Runtime, camera_id: int) -> list[CameraStatusChanged]:
    async with runtime.sessionmaker() as session:
        log = await events.events_since(session=session, since=0, store_ids=None, limit=1000)
    return [
        e.event
        for e in log
        if isinstance(e.event, CameraStatusChanged) and e.event.camera_id == camera_id
    ]


async def test_a_file_camera_goes_online_and_disabling_stops_it(
    pipeline_app: FastAPI, api: httpx.AsyncClient, clip: Path
) -> None:
    runtime: Runtime = pipeline_app.state.runtime
    camera_id = await add_camera(api, await add_store(api), "Aisle 1", clip)

    await eventually(lambda: has_status(api, camera_id, "online"))
    body = await camera_json(api, camera_id)
    assert body["last_error"] is None
    statuses = [e.status.value for e in await status_events(runtime, camera_id)]
    assert statuses[:2] == ["connecting", "online"]

    async def frames_counted() -> bool:
        row = (await pipeline_stats(api)).get(camera_id)
        return row is not None and row["frames_analysed"] >= 5

    await eventually(frames_counted)
    row = (await pipeline_stats(api))[camera_id]
    assert row["status"] == "online" and row["packets"] > row["frames_analysed"]
    assert row["attempts"] == 1 and row["errors"] == 0 and row["last_error"] is None
    assert row["ring_bytes"] > 0 and row["fps"] > 0
    runner = runtime.pipeline.runners[camera_id]
    assert runtime.pipeline.ring(camera_id) is runner.ring and len(runner.ring) > 0

    response = await api.post(f"/api/v1/cameras/{camera_id}/disable")
    assert response.status_code == 200 and response.json()["status"] == "disabled"

    async def task_stopped() -> bool:
        return (
            camera_id not in await pipeline_stats(api)
            and runner.task is not None
            and (runner.task.done())
        )

    await eventually(task_stopped)
    await asyncio.sleep(0.5)  # nothing the stopped task said afterwards may overwrite it
    assert (await camera_json(api, camera_id))["status"] == "disabled"
    assert (await status_events(runtime, camera_id))[-1].status.value == "disabled"

    response = await api.post(f"/api/v1/cameras/{camera_id}/enable")
    assert response.status_code == 200
    await eventually(lambda: has_status(api, camera_id, "online"))
    assert runtime.pipeline.runners[camera_id] is not runner


async def test_a_garbage_camera_fails_while_the_other_stays_online(
    api: httpx.AsyncClient, clip: Path, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00garbage" * 512)
    store_id = await add_store(api)
    good = await add_camera(api, store_id, "Good", clip)
    bad = await add_camera(api, store_id, "Bad", garbage)

    await eventually(lambda: has_status(api, good, "online"))

    async def failed_three_times() -> bool:  # a new camera shows offline until it starts
        row = (await pipeline_stats(api)).get(bad)
        return row is not None and row["errors"] >= 3 and await has_status(api, bad, "offline")

    await eventually(failed_three_times)
    body = await camera_json(api, bad)
    reason = "Invalid data found when processing input"
    assert body["last_error"] == f"camera {bad}: {reason} ({garbage})"
    stats = await pipeline_stats(api)
    assert stats[bad]["errors"] >= 3 and stats[bad]["frames_analysed"] == 0
    assert stats[bad]["last_error"] == body["last_error"]
    before = stats[good]["frames_analysed"]
    await asyncio.sleep(1.0)
    stats = await pipeline_stats(api)
    assert stats[good]["frames_analysed"] >= before + 3  # ~5 fps, undisturbed
    assert stats[good]["errors"] == 0 and (await camera_json(api, good))["status"] == "online"

    response = await api.delete(f"/api/v1/cameras/{bad}")
    assert response.status_code == 204
    await eventually(lambda: _without(api, bad))


async def _without(api: httpx.AsyncClient, camera_id: int) -> bool:
    return camera_id not in await pipeline_stats(api)


async def test_the_demo_camera_is_created_once_and_shows_people_tracked(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    clip = PEOPLE_CLIP
    settings = make_settings(tmp_path / "data", database_url, pipeline=FAST)
    settings = settings.model_copy(update={"demo_video": clip})
    for start in range(2):
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sg.test") as api:
                api.headers.update(await login(api, "admin", ADMIN_PASSWORD))
                cameras = (await api.get("/api/v1/cameras")).json()["data"]
                assert [c["name"] for c in cameras] == [DEMO_CAMERA]
                assert cameras[0]["source_kind"] == "file"
                assert cameras[0]["source_url"] == str(clip)
                stores = (await api.get("/api/v1/stores")).json()["data"]
                assert [s["name"] for s in stores] == [DEMO_STORE]
                assert cameras[0]["analysis_width"] == DEMO_ANALYSIS_WIDTH
                demo_id = cameras[0]["id"]
                await eventually(lambda: has_status(api, demo_id, "online"))  # noqa: B023
                await eventually(lambda: _tracking_people(api, demo_id))  # noqa: B023
        engine = make_engine(settings.resolved_database_url)  # the app's engine is closed
        try:
            async with make_sessionmaker(engine)() as session:
                row = await session.get(Camera, cameras[0]["id"])
        finally:
            await engine.dispose()
        assert row is not None
        assert (start, row.status, row.last_error) == (start, "offline", STOPPED_ERROR)


async def _tracking_people(api: httpx.AsyncClient, camera_id: int) -> bool:
    row = (await pipeline_stats(api)).get(camera_id)
    return row is not None and row["people"] >= 1 and row["live_tracks"] >= 1


async def test_the_pipeline_is_off_when_disabled(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str], clip: Path
) -> None:
    api = client
    api.headers.update(admin_headers)
    camera_id = await add_camera(api, await add_store(api), "Aisle 1", clip)
    await asyncio.sleep(0.5)
    response = await api.get("/api/v1/pipeline/stats")
    assert response.json() == {
        "enabled": False,
        "analysis_error": None,
        "behaviour_error": None,
        "pose_workers": None,
        "analytics": None,
        "cameras": [],
        "count": 0,
    }
    assert (await camera_json(api, camera_id))["status"] == "offline"


def test_transcode_turns_mpeg4_part2_into_h264(tmp_path: Path) -> None:
    divx = synthetic_video(tmp_path / "vtest.avi", frames=30, fps=10, codec="mpeg4")
    out = transcode_to_h264(divx, tmp_path / "demo" / "vtest.mp4")
    assert out == 30
    with av.open(str(tmp_path / "demo" / "vtest.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (320, 240)
        assert sum(1 for _ in container.decode(stream)) == 30
    assert not (tmp_path / "demo" / "vtest.mp4.part.mp4").exists()
