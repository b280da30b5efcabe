"""One camera, several viewers: the camera's one track is relayed to each, and every viewer
gets the same live frames."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.config import LiveConfig
from server.runtime import Runtime
from tests.conftest import make_settings
from tests.evidence.test_clips_live import counted_people_video
from tests.helpers import ADMIN_PASSWORD, LiveServer, login
from tests.live.client import watching
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually
from tests.pipeline.media import frame_index


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_two_viewers_share_the_cameras_track(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    video = counted_people_video(tmp_path / "people.mp4")
    settings = make_settings(tmp_path / "data", database_url, pipeline=FAST).model_copy(
        update={"live": LiveConfig(width=320, fps=10.0)}
    )
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url) as http,
    ):
        http.headers.update(await login(http, "admin", ADMIN_PASSWORD))
        runtime: Runtime = server.runtime
        camera_id = await add_camera(http, await add_store(http), "Aisle 4", video)

        async def analysing() -> bool:
            return runtime.live.frames.latest(camera_id) is not None

        await eventually(analysing, within_s=30)
        token = (await http.post(f"/api/v1/cameras/{camera_id}/live-link")).json()["token"]
        async with (
            watching(http, camera_id, token) as first,
            watching(http, camera_id, token) as second,
        ):
            await first.collect(8)
            await second.collect(8)
            assert runtime.live.count(camera_id) == 2
            assert len(runtime.live._sources) == 1  # one drawing for both
    seen_first = {frame_index(f.image) for f in first.frames}
    seen_second = {frame_index(f.image) for f in second.frames}
    assert len(seen_first & seen_second) >= 4  # the same frames went to both
