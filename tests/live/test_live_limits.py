"""Live views a user may hold, and how long they last: one user cannot take every place of a
camera (the next person still gets in), and a view ends as soon as an admin takes its user's
store away or disables them, not when its link would expire. MJPEG over real HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from server.config import LiveConfig
from tests.helpers import create_user, error_of
from tests.live.camera import LiveCamera, live_camera
from tests.live.test_mjpeg import first_jpeg, watching_count
from tests.pipeline.app_helpers import eventually

LIVE = LiveConfig(width=320, fps=5.0, mjpeg_fps=5.0, max_viewers_per_camera=4)
ENDS_WITHIN_S = 10.0


async def viewer_of_the_store(camera: LiveCamera, name: str) -> tuple[int, httpx.AsyncClient]:
    """A viewer of the camera's store: their id and a client signed in as them."""
    found = await camera.http.get(f"/api/v1/cameras/{camera.camera_id}")
    headers = await create_user(camera.http, {}, name, "viewer", [found.json()["store_id"]])
    users = (await camera.http.get("/api/v1/users")).json()["data"]
    [user_id] = [user["id"] for user in users if user["username"] == name]
    return user_id, httpx.AsyncClient(base_url=camera.server.http_url, headers=headers, timeout=30)


async def link_token(http: httpx.AsyncClient, camera_id: int) -> str:
    response = await http.post(f"/api/v1/cameras/{camera_id}/live-link")
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_one_user_cannot_take_every_place_of_a_camera(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    live = LIVE.model_copy(update={"max_views_per_user_camera": 2})
    async with live_camera(tmp_path, database_url, live) as camera:
        path = f"/api/v1/cameras/{camera.camera_id}/live.mjpeg"
        token = await link_token(camera.http, camera.camera_id)
        async with (
            camera.http.stream("GET", path, params={"token": token}) as first,
            camera.http.stream("GET", path, params={"token": token}) as second,
        ):
            assert (first.status_code, second.status_code) == (200, 200)
            third = await camera.http.get(path, params={"token": token, "probe": "true"})
            assert third.status_code == 503, third.text
            assert "max_views_per_user_camera" in error_of(third)["message"]
            _, viewer = await viewer_of_the_store(camera, "clerk")
            async with viewer:  # places are left for the next person
                theirs = await link_token(viewer, camera.camera_id)
                async with viewer.stream("GET", path, params={"token": theirs}) as stream:
                    assert stream.status_code == 200
                    await first_jpeg(stream.aiter_bytes())


@pytest.mark.parametrize("change", [{"store_ids": []}, {"is_active": False}])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_view_ends_at_once_when_an_admin_takes_the_store_or_the_account_away(
    tmp_path: Path, database_url: str, model_path: Path, change: dict[str, object]
) -> None:
    async with live_camera(tmp_path, database_url, LIVE) as camera:
        user_id, viewer = await viewer_of_the_store(camera, "clerk")
        path = f"/api/v1/cameras/{camera.camera_id}/live.mjpeg"
        async with viewer:
            token = await link_token(viewer, camera.camera_id)
            async with viewer.stream("GET", path, params={"token": token}) as stream:
                chunks = stream.aiter_bytes()
                await first_jpeg(chunks)
                changed = await camera.http.patch(f"/api/v1/users/{user_id}", json=change)
                assert changed.status_code == 200, changed.text

                async def rest() -> bytes:
                    return b"".join([chunk async for chunk in chunks])

                await asyncio.wait_for(rest(), ENDS_WITHIN_S)  # the stream ends
        await eventually(watching_count(camera, 0), within_s=5)
