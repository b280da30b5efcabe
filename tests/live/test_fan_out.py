"""One camera, several viewers: the camera's one track is relayed to each, and every viewer
gets the same live frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import LiveConfig
from tests.live.camera import live_camera
from tests.live.client import watching
from tests.pipeline.media import frame_index


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_two_viewers_share_the_cameras_track(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    async with live_camera(tmp_path, database_url, LiveConfig(width=320, fps=10.0)) as camera:
        token = (await camera.link())["token"]
        async with (
            watching(camera.http, camera.camera_id, token) as first,
            watching(camera.http, camera.camera_id, token) as second,
        ):
            await first.collect(8)
            await second.collect(8)
            assert camera.runtime.live.count(camera.camera_id) == 2
            assert len(camera.runtime.live._sources) == 1  # one drawing for both
    seen_first = {frame_index(f.image) for f in first.frames}
    seen_second = {frame_index(f.image) for f in second.frames}
    assert len(seen_first & seen_second) >= 4  # the same frames went to both
