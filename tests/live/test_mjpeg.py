"""The MJPEG fallback over real HTTP: JPEG parts of the live picture; an MJPEG viewer counts
in the viewer caps like a WebRTC one, is let go when the client hangs up, and its stream
ends when its session signs out."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from server.annotate.pictures import MAX_WAITING
from server.config import LiveConfig
from server.live.mjpeg import BOUNDARY
from tests.helpers import error_of
from tests.live.camera import LiveCamera, live_camera
from tests.live.client import offer
from tests.pipeline.app_helpers import eventually

LIVE = LiveConfig(width=480, fps=10.0, max_viewers_per_camera=1, mjpeg_fps=5.0)


async def first_jpeg(chunks: AsyncIterator[bytes]) -> Image.Image:
    """The first JPEG part of a multipart/x-mixed-replace body."""
    data = b""
    async for chunk in chunks:
        data += chunk
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            continue
        head = data[:head_end].decode()
        assert head.startswith(f"--{BOUNDARY}\r\n") and "Content-Type: image/jpeg" in head
        length = int(head.rsplit("Content-Length: ", 1)[1])
        body = data[head_end + 4 : head_end + 4 + length]
        if len(body) == length:
            return Image.open(io.BytesIO(body))
    raise AssertionError(f"the stream ended after {len(data)} bytes, no whole JPEG")


def watching_count(camera: LiveCamera, expected: int):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return camera.runtime.live.count(camera.camera_id) == expected

    return check


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_mjpeg_viewer_counts_in_the_caps_and_leaves_with_its_client(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    async with live_camera(tmp_path, database_url, LIVE) as camera:
        token = (await camera.link())["token"]
        path = f"/api/v1/cameras/{camera.camera_id}/live.mjpeg"
        async with camera.http.stream("GET", path, params={"token": token}) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("multipart/x-mixed-replace")
            chunks = stream.aiter_bytes()  # kept: dropping it would hang up
            picture = await first_jpeg(chunks)
            assert picture.size == (480, 270)
            assert camera.runtime.live.count(camera.camera_id) == 1
            pc, busy = await offer(camera.http, f"/api/v1/cameras/{camera.camera_id}/webrtc", token)
            await pc.close()
            assert busy.status_code == 503, busy.text
            assert "max_viewers_per_camera" in error_of(busy)["message"]
        await eventually(watching_count(camera, 0), within_s=5)  # hung up: let go

        probe = await camera.http.get(path, params={"token": token, "probe": "true"})
        assert probe.status_code == 204 and camera.runtime.live.count() == 0  # not a viewer
        async with camera.http.stream("GET", path, params={"token": token}) as stream:
            chunks = stream.aiter_bytes()
            await first_jpeg(chunks)
            over = await camera.http.get(path, params={"token": token, "probe": "true"})
            assert over.status_code == 503, over.text  # the player would wait and retry
            await camera.http.post("/api/v1/auth/logout")
            rest = b"".join([chunk async for chunk in chunks])  # it ends
            assert len(rest) < 1_000_000
        assert camera.runtime.live.count(camera.camera_id) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_camera_snapshot_is_its_newest_picture_or_busy(
    tmp_path: Path, database_url: str
) -> None:
    async with live_camera(tmp_path, database_url, LIVE) as camera:
        path = f"/api/v1/cameras/{camera.camera_id}/snapshot.jpg"
        first = await camera.http.get(path, params={"width": 320})
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == "image/jpeg"
        picture = Image.open(io.BytesIO(first.content))
        assert picture.size == (320, 180)  # the 640x360 camera, scaled

        async def moved_on() -> bool:
            later = await camera.http.get(path, params={"width": 320})
            return later.status_code == 200 and later.content != first.content

        await eventually(moved_on, within_s=5.0)
        assert camera.runtime.live.count(camera.camera_id) == 0  # not a viewer
        too_wide = await camera.http.get(path, params={"width": 5000})
        assert too_wide.status_code == 422
        nobody = await camera.http.get(path, headers={"Authorization": ""})
        assert nobody.status_code == 401

        pictures = camera.runtime.pictures  # a burst: every picture thread's place is taken
        release, pictures.max_waiting = threading.Event(), 1
        held = asyncio.create_task(pictures.run(release.wait, 10.0))
        try:
            busy = await camera.http.get(path)
            assert busy.status_code == 503 and "try again" in error_of(busy)["message"]
        finally:
            release.set()
            await held
        pictures.max_waiting = MAX_WAITING
        assert (await camera.http.get(path)).status_code == 200
