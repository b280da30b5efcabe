"""① Supervisor: back-off, status sequence and recovery with real sources that fail then work."""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
import time
from pathlib import Path

import pytest

from server.pipeline.ring_buffer import PacketRing
from server.pipeline.source import CameraSource
from server.pipeline.supervisor import (
    Supervisor,
    SupervisorConfig,
    backoff_delay,
)
from server.records.cameras import StatusChange
from server.records.video import Frame
from shared.schemas.cameras import CameraStatus
from tests.pipeline.media import synthetic_video

CFG = SupervisorConfig(backoff_base_s=1.0, backoff_cap_s=8.0, jitter=0.0)


@pytest.mark.parametrize(
    ("failures", "expected"),
    [
        (0, 1.0),  # before any failure: the base
        (1, 1.0),  # first failure: the base
        (3, 4.0),  # doubles per failure
        (4, 8.0),  # reaches the cap
        (30, 8.0),  # stays at the cap, no overflow
    ],
)
def test_backoff_doubles_up_to_the_cap(failures: int, expected: float) -> None:
    assert backoff_delay(failures, CFG, random.Random(0)) == expected


def test_backoff_jitter_only_shortens_within_its_share() -> None:
    cfg = SupervisorConfig(backoff_base_s=1.0, backoff_cap_s=8.0, jitter=0.5)
    rng = random.Random(1)
    delays = [backoff_delay(4, cfg, rng) for _ in range(200)]
    assert all(4.0 <= d <= 8.0 for d in delays) and len(set(delays)) > 100


async def test_a_camera_that_fails_three_times_then_works(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00garbage" * 512)
    good = synthetic_video(tmp_path / "cam.mp4", frames=25, fps=25, gop=25)
    ring = PacketRing(10.0)
    opened: list[float] = []

    def open_source() -> CameraSource:
        opened.append(time.monotonic())
        path = garbage if len(opened) <= 3 else good
        return CameraSource(1, str(path), ring, analysis_fps=5.0, loop_file=True)

    changes: list[StatusChange] = []

    async def on_status(change: StatusChange) -> None:
        changes.append(change)

    cfg = SupervisorConfig(backoff_base_s=0.1, backoff_cap_s=0.3, jitter=0.0, offline_after=3)
    supervisor = Supervisor(1, open_source, on_status, cfg, random.Random(0))
    stop = asyncio.Event()
    frames: list[Frame] = []
    async with asyncio.timeout(10):
        async for frame in supervisor.frames(stop):
            frames.append(frame)
            if len(frames) == 3:
                stop.set()

    assert [c.status for c in changes] == [
        CameraStatus.connecting,
        CameraStatus.degraded,  # failure 1
        CameraStatus.offline,  # failure 3 (failure 2 stayed degraded: no new event)
        CameraStatus.online,
    ]
    assert changes[1].error is not None and "camera 1: Invalid data" in changes[1].error
    assert changes[-1].error is None
    gaps = [b - a for a, b in itertools.pairwise(opened)]
    assert [round(g, 1) for g in gaps] == [0.1, 0.2, 0.3]  # 0.1 · 2^n, capped at 0.3
    stats = supervisor.stats
    assert (stats.attempts, stats.errors, stats.failures_in_a_row) == (4, 3, 0)
    assert stats.last_error == changes[2].error
    assert [f.seq for f in frames] == [0, 1, 2]


async def test_a_server_that_never_answers_fails_the_open_timeout() -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    port = silent.getsockname()[1]
    changes: list[StatusChange] = []
    stop = asyncio.Event()

    async def on_status(change: StatusChange) -> None:
        changes.append(change)
        if change.status is CameraStatus.degraded:
            stop.set()

    def open_source() -> CameraSource:
        url = f"http://user:pw@127.0.0.1:{port}/mjpeg"
        return CameraSource(1, url, PacketRing(10.0), open_timeout_s=1.0, read_timeout_s=1.0)

    cfg = SupervisorConfig(open_timeout_s=0.5, backoff_base_s=0.1, jitter=0.0)
    supervisor = Supervisor(1, open_source, on_status, cfg)
    try:
        async with asyncio.timeout(10):
            async for _ in supervisor.frames(stop):
                pytest.fail("a silent server gave a frame")
    finally:
        silent.close()
    assert [c.status for c in changes] == [
        CameraStatus.connecting,
        CameraStatus.degraded,
    ]
    assert changes[1].error == (
        f"camera 1: no frame 0.5s after opening (http://user:***@127.0.0.1:{port}/mjpeg)"
    )
