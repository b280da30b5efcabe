"""① Live cameras: CameraSource and Supervisor against real RTSP and MJPEG servers on 127.0.0.1.

The RTSP camera is GStreamer's server in a subprocess (`rtsp_server.py`): killed and restarted
on the same port it is a camera that reboots; SIGSTOPped it is a hung DVR whose TCP connection
stays open. Those tests need `infra/scripts/install_test_tools.sh`; without it they skip, or
fail under SHOPGUARD_TEST_REQUIRE_RTSP=1.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from server.pipeline.ring_buffer import PacketRing
from server.pipeline.source import CameraSource
from server.pipeline.supervisor import Supervisor, SupervisorConfig
from server.records.cameras import StatusChange
from server.records.video import Frame
from shared.schemas.cameras import CameraStatus
from tests.pipeline.live_servers import REQUIRE_RTSP, MjpegServer, RtspServer, rtsp_unavailable
from tests.pipeline.media import frame_index, jpeg_frames

connecting, online, degraded, offline = (
    CameraStatus.connecting,
    CameraStatus.online,
    CameraStatus.degraded,
    CameraStatus.offline,
)


@pytest.fixture
def gstreamer() -> None:
    """Skips (or fails, under SHOPGUARD_TEST_REQUIRE_RTSP=1) without GStreamer's RTSP server."""
    reason = rtsp_unavailable()
    if reason is not None:
        if REQUIRE_RTSP:
            pytest.fail(f"SHOPGUARD_TEST_REQUIRE_RTSP=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture
def rtsp(gstreamer: None, clip: Path) -> Iterator[RtspServer]:
    """The 2 s clip served in a loop at rtsp://127.0.0.1:{port}/cam."""
    with RtspServer(clip, name="cam") as server:
        yield server


@dataclass
class Watched:
    """A supervised camera running in a task: what it delivered and every status it reported."""

    supervisor: Supervisor
    frames: list[Frame] = field(default_factory=list)
    changes: list[StatusChange] = field(default_factory=list)

    @property
    def statuses(self) -> list[CameraStatus]:
        return [c.status for c in self.changes]

    async def on_status(self, change: StatusChange) -> None:
        self.changes.append(change)


@contextlib.asynccontextmanager
async def supervised(
    camera_id: int, open_source: Callable[[], CameraSource], cfg: SupervisorConfig
) -> AsyncIterator[Watched]:
    """Run `Supervisor.frames` in a task for the block; stop and join it on the way out."""
    watched = Watched(Supervisor(camera_id, open_source, lambda c: watched.on_status(c), cfg))
    stop = asyncio.Event()

    async def consume() -> None:
        async for frame in watched.supervisor.frames(stop):
            watched.frames.append(frame)

    task = asyncio.create_task(consume(), name=f"camera-{camera_id}")
    try:
        yield watched
    finally:
        stop.set()
        async with asyncio.timeout(15):  # at most one read timeout to close the source
            await task


async def until(what: str, condition: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until `condition` holds, polled; fails the test after `timeout_s`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            pytest.fail(f"{what}: not within {timeout_s:g}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def rtsp_source(camera_id: int, url: str, ring: PacketRing) -> CameraSource:
    """A camera that gives up on a silent server after 2 s (FFmpeg's open and read timeouts)."""
    return CameraSource(
        camera_id, url, ring, analysis_fps=5.0, open_timeout_s=2.0, read_timeout_s=2.0
    )


async def test_an_rtsp_camera_comes_back_when_its_server_restarts_and_others_never_stall(
    gstreamer: None, clip: Path
) -> None:
    cfg = SupervisorConfig(
        open_timeout_s=5.0, backoff_base_s=0.2, backoff_cap_s=0.5, jitter=0.0, offline_after=2
    )
    ring = PacketRing(10.0)
    with RtspServer(clip, name="front") as front, RtspServer(clip, name="back") as back:
        async with (
            supervised(1, lambda: rtsp_source(1, front.url(), ring), cfg) as cam1,
            supervised(2, lambda: rtsp_source(2, back.url(), PacketRing(10.0)), cfg) as cam2,
        ):
            await until(
                "both cameras deliver", lambda: min(len(cam1.frames), len(cam2.frames)) >= 3, 10
            )
            front.stop()  # the camera loses power
            to_degraded = await until("degraded", lambda: degraded in cam1.statuses, 3.0)
            await until("offline", lambda: offline in cam1.statuses, 3.0)  # failure 2: refused
            await asyncio.to_thread(front.start)  # back up, on the same port
            restarted_at, delivered = time.time(), len(cam1.frames)
            to_online = await until("online again", lambda: cam1.statuses[-1] is online, 5.0)
            await until("frames again", lambda: len(cam1.frames) >= delivered + 3, 5.0)
            await asyncio.sleep(0.5)  # the other camera keeps going a little longer

    assert cam1.statuses == [connecting, online, degraded, offline, online]
    assert to_degraded < 1.0, "a dead server is noticed at once (the TCP connection drops)"
    assert to_online < cfg.backoff_cap_s + 3.0, "back within the capped back-off and one open"
    errors = [c.error for c in cam1.changes]
    assert errors[0] is None and errors[1] is None and errors[-1] is None
    assert all(e is not None and e.startswith("camera 1: ") for e in errors[2:4]), errors
    assert cam1.supervisor.stats.failures_in_a_row == 0
    assert cam1.frames[-1].captured_at > restarted_at
    assert cam1.frames[-1].image.shape == (240, 320, 3)
    held = ring.window(restarted_at, 1e12)  # the reopened stream, from its first keyframe
    assert held and held[0].is_keyframe and held[0].captured_at > restarted_at
    assert ring.stream is not None and (ring.stream.codec, ring.stream.width) == ("h264", 320)

    assert cam2.statuses == [connecting, online]
    gaps = [b.captured_at - a.captured_at for a, b in itertools.pairwise(cam2.frames)]
    assert len(cam2.frames) >= 10 and max(gaps) < 1.0, gaps  # never a second without
    assert cam2.supervisor.stats.attempts == 1  # never reopened
    assert all(a.seq < b.seq for a, b in itertools.pairwise(cam2.frames))


async def test_a_frozen_rtsp_server_trips_the_stall_watchdog_and_the_camera_recovers(
    rtsp: RtspServer,
) -> None:
    # The watchdog (1 s) must notice before FFmpeg's own read timeout (2 s) does.
    cfg = SupervisorConfig(
        open_timeout_s=2.0,
        stall_timeout_s=1.0,
        backoff_base_s=0.2,
        backoff_cap_s=0.5,
        jitter=0.0,
        offline_after=10,
    )
    url = rtsp.url()
    async with supervised(1, lambda: rtsp_source(1, url, PacketRing(10.0)), cfg) as cam:
        await until("frames", lambda: len(cam.frames) >= 3, 10.0)
        rtsp.pause()  # TCP stays open, nothing arrives
        try:
            to_stall = await until("stalled", lambda: degraded in cam.statuses, 4.0)
            # a reopen against the frozen server fails too (connects, but no answer)
            stats = cam.supervisor.stats
            await until("a failed reopen", lambda: stats.failures_in_a_row >= 2, 10.0)
            delivered = len(cam.frames)
        finally:
            rtsp.resume()
        to_online = await until("online again", lambda: cam.statuses[-1] is online, 6.0)
        await until("frames again", lambda: len(cam.frames) >= delivered + 3, 5.0)

    assert cam.statuses == [connecting, online, degraded, online]
    assert cam.changes[2].error == f"camera 1: stalled, no packet for 1s ({url})"
    assert 0.8 < to_stall < 2.0  # 1 s after the last packet, which came just before pause()
    assert to_online < cfg.backoff_cap_s + cfg.open_timeout_s + 2.0
    assert cam.supervisor.stats.attempts >= 3  # opened, reopened while frozen, reopened after


async def test_a_hung_camera_shows_degraded_within_seconds_of_its_last_picture(
    rtsp: RtspServer,
) -> None:
    """With the server's own timeouts (FFmpeg reads block 10 s, reconnect after 20 s of
    silence), a frozen server must not leave its camera "online" at 0 fps meanwhile."""
    cfg = SupervisorConfig(jitter=0.0)  # degraded after 5 s without a picture
    url = rtsp.url()

    def patient_source() -> CameraSource:
        return CameraSource(
            1, url, PacketRing(10.0), analysis_fps=5.0, open_timeout_s=10.0, read_timeout_s=10.0
        )

    async with supervised(1, patient_source, cfg) as cam:
        await until("frames", lambda: len(cam.frames) >= 3, 10.0)
        rtsp.pause()
        try:
            # 5 s after the last picture (which came just before the pause), with room for
            # a loaded machine; FFmpeg's own read timeout alone would take 10 s
            await until("degraded", lambda: degraded in cam.statuses, 8.0)
        finally:
            rtsp.resume()
        await until("online again", lambda: cam.statuses[-1] is online, 30.0)
    assert cam.changes[2].error is not None
    assert cam.changes[2].error.startswith("camera 1: no picture for 5s")


@pytest.mark.parametrize(
    ("max_width", "shape"),
    [
        (None, (240, 320, 3)),  # as the camera sends it
        (160, (120, 160, 3)),  # scaled down for analysis, aspect kept
    ],
)
async def test_an_mjpeg_camera_over_http_yields_frames_and_fills_the_ring(
    clip: Path, max_width: int | None, shape: tuple[int, int, int]
) -> None:
    ring = PacketRing(10.0)
    with MjpegServer(jpeg_frames(clip), fps=10.0) as server:
        source = CameraSource(3, server.url, ring, analysis_fps=5.0, max_width=max_width)
        source.start(asyncio.get_running_loop())
        try:
            frames = [await source.get(5.0) for _ in range(4)]
        finally:
            await source.close()

    assert all(f is not None and f.image.shape == shape for f in frames)
    indices = [frame_index(f.image) for f in frames if f is not None]
    assert indices[0] == 0 and indices == sorted(set(indices)), indices  # in order, no repeat
    assert [f.seq for f in frames if f is not None] == [0, 1, 2, 3]
    assert ring.stream is not None
    assert (ring.stream.codec, ring.stream.width, ring.stream.height) == ("mjpeg", 320, 240)
    held = ring.window(-1.0, 1e12)
    assert len(held) == source.stats.packets >= 4 and all(p.is_keyframe for p in held)
    assert source.stats.frames_decoded == 4  # intra-only: pictures not analysed not decoded
    assert server.clients == 1 and source.state == "closed"


@pytest.mark.parametrize("kind", ["rtsp", "mjpeg"])
async def test_a_live_camera_is_analysed_at_the_analysis_fps(
    kind: str, clip: Path, request: pytest.FixtureRequest
) -> None:
    with contextlib.ExitStack() as servers:
        if kind == "rtsp":
            url = request.getfixturevalue("rtsp").url()
        else:
            url = servers.enter_context(MjpegServer(jpeg_frames(clip), fps=10.0)).url
        source = CameraSource(1, url, PacketRing(10.0), analysis_fps=5.0, read_timeout_s=2.0)
        source.start(asyncio.get_running_loop())
        frames: list[Frame] = []
        try:
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline and (
                not frames or frames[-1].captured_at < frames[0].captured_at + 3.5
            ):
                if (frame := await source.get(0.5)) is not None:
                    frames.append(frame)
        finally:
            await source.close()
    # 2 s of steady state, after the burst of the first second (what the opening probe read)
    start = frames[0].captured_at + 1.5
    counted = sum(start <= f.captured_at < start + 2.0 for f in frames)
    assert 8 <= counted <= 12, f"{counted} frames analysed in 2 s, not 10 (5 fps)"


async def test_rtsp_credentials_never_reach_logs_statuses_or_errors(
    rtsp: RtspServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = rtsp.url(credentials="admin:s3cret")  # the test server asks for none: it plays
    cfg = SupervisorConfig(
        open_timeout_s=2.0, backoff_base_s=0.1, backoff_cap_s=0.2, jitter=0.0, offline_after=3
    )
    opened: list[CameraSource] = []

    def open_source() -> CameraSource:
        opened.append(rtsp_source(1, url, PacketRing(10.0)))
        return opened[-1]

    with caplog.at_level(logging.DEBUG):
        async with supervised(1, open_source, cfg) as cam:
            await until("frames", lambda: len(cam.frames) >= 2, 10.0)
            rtsp.stop()  # then every reopen is refused
            await until("offline", lambda: offline in cam.statuses, 5.0)

    assert cam.statuses == [connecting, online, degraded, offline]
    texts = [
        caplog.text,
        *(str(c.error) for c in cam.changes),
        str(cam.supervisor.stats.last_error),
        *(f"{s.url} {s.error}" for s in opened),
    ]
    assert not [t for t in texts if "s3cret" in t]
    masked = f"rtsp://admin:***@127.0.0.1:{rtsp.port}/cam"
    assert all(masked in str(c.error) for c in cam.changes[2:]), cam.changes
    assert masked in caplog.text and len(opened) >= 3  # opened, then refused twice
