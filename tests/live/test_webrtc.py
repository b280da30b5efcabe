"""Live view over WebRTC, end to end: a camera plays a real video with a frame counter drawn
in its pixels; a real aiortc viewer signs in through a live link, receives frames of the
configured size, and the counters show them live (new each time, none stale); a second
viewer over the camera's cap is refused; signing out closes the view."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from server.config import LiveConfig
from server.live.frames import LiveFrames
from server.records.analysis import FrameAnalysis
from server.records.people import Tracks
from server.records.video import Frame
from server.runtime import Runtime
from tests.helpers import ADMIN_PASSWORD, error_of, login
from tests.live.camera import live_camera
from tests.live.client import offer, watching
from tests.pipeline.app_helpers import eventually
from tests.pipeline.media import frame_index

LIVE = LiveConfig(width=480, fps=10.0, max_viewers_per_camera=1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_viewer_sees_live_frames_of_the_configured_size(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    async with live_camera(tmp_path, database_url, LIVE) as camera:
        http, runtime, camera_id = camera.http, camera.runtime, camera.camera_id
        captured: dict[int, float] = {}  # frame counter -> when the camera captured it

        async def note_captures() -> None:
            while True:
                latest = runtime.live.frames.latest(camera_id)
                if latest is not None:
                    captured.setdefault(frame_index(latest.image), latest.captured_at)
                await asyncio.sleep(0.01)

        noting = asyncio.create_task(note_captures())
        link = await camera.link()
        assert link["url"] == f"/live/{camera_id}#token={link['token']}"
        async with watching(http, camera_id, link["token"]) as viewer:
            frames = await viewer.collect(12)
            assert runtime.live.count(camera_id) == 1
            other, busy = await offer(http, f"/api/v1/cameras/{camera_id}/webrtc", link["token"])
            await other.close()
            assert busy.status_code == 503 and "max_viewers_per_camera" in error_of(busy)["message"]
            await http.post("/api/v1/auth/logout")  # ends the session: the view closes
            await eventually(lambda: _none_left(runtime), within_s=10)
        http.headers.update(await login(http, "admin", ADMIN_PASSWORD))
        link = await camera.link()
        async with watching(http, camera_id, link["token"]) as viewer:
            await viewer.collect(1)
            await runtime.live.close_all()  # as at shutdown

            async def closed() -> bool:
                return viewer.pc.connectionState == "closed" or viewer.ended.is_set()

            await eventually(closed, within_s=15)
        noting.cancel()

    assert {f.image.shape for f in frames} == {(270, 480, 3)}  # 640x360 scaled to 480 wide
    counters = [frame_index(f.image) for f in frames]
    steps = [b - a for a, b in itertools.pairwise(counters)]
    assert all(step != 0 for step in steps), counters  # never the same frame twice
    assert sum(step > 0 for step in steps) >= len(steps) - 1, counters  # forward (one loop)
    lags = [f.arrived - captured[c] for f, c in zip(frames, counters, strict=True) if c in captured]
    assert len(lags) >= len(frames) // 2, (counters, sorted(captured))
    assert max(lags) < 1.0, lags  # live: each frame shown within a second of its capture


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_viewer_that_never_connects_frees_its_place(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    live = LiveConfig(width=320, max_viewers_per_camera=1, connect_timeout_s=1.0)
    async with live_camera(tmp_path, database_url, live) as camera:
        token = (await camera.link())["token"]
        path = f"/api/v1/cameras/{camera.camera_id}/webrtc"
        pc, answered = await offer(camera.http, path, token)
        assert answered.status_code == 200
        await pc.close()  # gives up before connecting: the server hears nothing
        assert camera.runtime.live.count(camera.camera_id) == 1
        await eventually(lambda: _none_left(camera.runtime), within_s=10)
        async with watching(camera.http, camera.camera_id, token) as viewer:
            await viewer.collect(2)  # the place is free again


async def _none_left(runtime: Runtime) -> bool:
    return runtime.live.count() == 0


async def test_late_frames_are_skipped_not_queued() -> None:
    """A slow viewer gets the newest frame, not a backlog: see `LiveFrames.next_after`."""
    frames = LiveFrames()
    for n in range(5):
        image = np.zeros((36, 64, 3), np.uint8)
        frames.take(FrameAnalysis(Frame(1, image, 100.0 + n, n), Tracks.empty(100.0 + n), None))
    newest = await frames.next_after(1, 100.0, timeout_s=0.1)
    assert newest is not None and newest.captured_at == 104.0
    assert await frames.next_after(1, 104.0, timeout_s=0.1) is None  # nothing newer yet
    started = time.monotonic()
    waiting = asyncio.create_task(frames.next_after(1, 104.0, timeout_s=5.0))
    await asyncio.sleep(0.05)
    late = Frame(1, np.zeros((36, 64, 3), np.uint8), 105.0, 5)
    frames.take(FrameAnalysis(late, Tracks.empty(105.0), None))
    woken = await waiting
    assert woken is not None and woken.captured_at == 105.0
    assert time.monotonic() - started < 1.0  # woken by the frame, not the timeout
