"""A running server (uvicorn on 127.0.0.1) with one file camera playing the counted people
video and already analysing: what every live view test starts from."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from server.app import create_app
from server.bench.counter import counted_video
from server.config import LiveConfig
from server.runtime import Runtime
from tests.conftest import make_settings
from tests.helpers import ADMIN_PASSWORD, LiveServer, login
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually


@dataclass
class LiveCamera:
    server: LiveServer
    http: httpx.AsyncClient  # the admin's, signed in
    camera_id: int

    @property
    def runtime(self) -> Runtime:
        return self.server.runtime

    async def link(self) -> dict[str, Any]:
        """A live link to the camera: its page `url` and `token`."""
        response = await self.http.post(f"/api/v1/cameras/{self.camera_id}/live-link")
        assert response.status_code == 200, response.text
        link: dict[str, Any] = response.json()
        return link


@contextlib.asynccontextmanager
async def live_camera(
    tmp_path: Path, database_url: str, live: LiveConfig
) -> AsyncIterator[LiveCamera]:
    video = counted_video(tmp_path / "people.mp4")  # 640x360, 10 fps, 18 s
    settings = make_settings(tmp_path / "data", database_url, pipeline=FAST).model_copy(
        update={"live": live}
    )
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        http.headers.update(await login(http, "admin", ADMIN_PASSWORD))
        camera_id = await add_camera(http, await add_store(http), "Aisle 4", video)

        async def analysing() -> bool:
            return server.runtime.live.frames.latest(camera_id) is not None

        await eventually(analysing, within_s=30)
        yield LiveCamera(server, http, camera_id)
