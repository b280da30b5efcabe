"""① CameraSource on real files: pacing, looping, dropping, and clear ends."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import time
from pathlib import Path

import pytest

from server.errors import CameraUnavailable
from server.pipeline.ring_buffer import PacketRing
from server.pipeline.source import CameraSource
from server.records.video import Frame
from tests.pipeline.media import synthetic_video


async def take(source: CameraSource, count: int, wait_s: float = 10.0) -> list[Frame]:
    frames: list[Frame] = []
    deadline = time.monotonic() + wait_s
    while len(frames) < count:
        assert time.monotonic() < deadline, f"only {len(frames)} frames in {wait_s}s"
        frame = await source.get(0.5)
        if frame is not None:
            frames.append(frame)
    return frames


async def test_file_source_paces_to_the_analysis_fps_and_loops(tmp_path: Path) -> None:
    clip = synthetic_video(tmp_path / "cam.mp4", frames=25, fps=25, gop=25)  # 1 s
    ring = PacketRing(seconds=10.0)
    source = CameraSource(1, str(clip), ring, analysis_fps=5.0, loop_file=True)
    source.start(asyncio.get_running_loop())
    try:
        frames = await take(source, 8)  # 1.6 s of a 1 s clip: it looped
    finally:
        await source.close()
    assert [f.seq for f in frames] == list(range(8))
    assert all(f.image.shape == (240, 320, 3) and f.camera_id == 1 for f in frames)
    gaps = [b.captured_at - a.captured_at for a, b in itertools.pairwise(frames)]
    assert all(0.1 < gap < 0.35 for gap in gaps), gaps  # real time, 5 of 25 fps kept
    assert source.stats.loops >= 1 and source.stats.packets > 25
    assert source.stats.frames_decoded >= source.stats.packets - 1  # H.264: every frame decoded
    assert ring.window(-1.0, 1e12)[0].is_keyframe
    assert ring.latest_frame is not None and ring.latest_frame.seq >= 7
    assert source.state == "closed"


async def test_a_file_played_live_stamps_frames_on_the_stream_s_clock(tmp_path: Path) -> None:
    # as a live camera sends them: 40 ms apart exactly, however late the reader gets to them
    # (a busy box preempting the reader between two clock reads once stamped a frame after
    # the next one, which the tracker refused)
    clip = synthetic_video(tmp_path / "cam.mp4", frames=50, fps=25, gop=25)  # 2 s
    source = CameraSource(1, str(clip), PacketRing(10.0), analysis_fps=25.0, queue_size=50)
    source.start(asyncio.get_running_loop())
    try:
        frames = await take(source, 20)
    finally:
        await source.close()
    assert [f.seq for f in frames] == list(range(20))
    gaps = [b.captured_at - a.captured_at for a, b in itertools.pairwise(frames)]
    assert gaps == pytest.approx([0.04] * 19, abs=1e-6)
    assert abs(frames[0].captured_at - time.time()) < 5.0  # wall-clock time, as frames carry


async def test_a_slow_consumer_makes_the_queue_drop_never_the_reader_wait(
    tmp_path: Path,
) -> None:
    clip = synthetic_video(tmp_path / "cam.mp4", frames=100, fps=25, gop=25)
    ring = PacketRing(seconds=100.0)
    source = CameraSource(1, str(clip), ring, analysis_fps=25.0, queue_size=2, realtime=False)
    source.start(asyncio.get_running_loop())
    await asyncio.sleep(1.0)  # nobody reads meanwhile
    assert (source.stats.packets, len(ring)) == (100, 100)
    assert source.stats.frames_queued == 100
    assert source.stats.frames_dropped == 100 - 1  # the end marker pushed one more out
    newest = await source.get(1.0)
    assert newest is not None and newest.seq == 99  # the newest frame was kept
    with pytest.raises(CameraUnavailable, match="stream ended"):
        await source.get(1.0)
    await source.close()


async def test_a_file_that_ends_without_looping_ends_the_source_clearly(
    tmp_path: Path,
) -> None:
    clip = synthetic_video(tmp_path / "cam.mp4", frames=10, fps=25, gop=5)
    source = CameraSource(1, str(clip), PacketRing(10.0), analysis_fps=25.0, realtime=False)
    source.start(asyncio.get_running_loop())
    frames = await take(source, 4)
    with pytest.raises(CameraUnavailable, match=r"camera 1: stream ended"):
        while True:
            await source.get(5.0)
    assert len(frames) == 4 and source.state == "ended"
    assert source.stats.packets == 10
    await source.close()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("garbage.mp4", bytes(range(256)) * 64, "Invalid data"),  # not a video at all
        ("missing.mp4", None, "No such file"),  # nothing there
    ],
)
async def test_an_unreadable_file_fails_with_a_clear_error(
    tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    source = CameraSource(1, str(path), PacketRing(10.0))
    source.start(asyncio.get_running_loop())
    with pytest.raises(CameraUnavailable, match=rf"camera 1: .*{reason}"):
        await source.get(5.0)
    assert source.state == "failed" and source.error is not None
    await source.close()


async def test_credentials_never_reach_errors_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "rtsp://admin:s3cret@127.0.0.1:1/ch1?password=hunter2"  # nothing listens on port 1
    source = CameraSource(1, url, PacketRing(10.0), open_timeout_s=2.0, read_timeout_s=2.0)
    with caplog.at_level(logging.DEBUG):
        source.start(asyncio.get_running_loop())
        with pytest.raises(CameraUnavailable) as raised:
            await source.get(5.0)
        await source.close()
    text = f"{raised.value} {caplog.text} {source.url}"
    assert "s3cret" not in text and "hunter2" not in text
    assert "rtsp://admin:***@127.0.0.1:1/ch1?password=***" in str(raised.value)


async def test_a_source_that_never_answers_says_it_timed_out() -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    port = silent.getsockname()[1]
    url = f"rtsp://user:secret@127.0.0.1:{port}/ch1"
    source = CameraSource(1, url, PacketRing(10.0), open_timeout_s=1.0, read_timeout_s=1.0)
    source.start(asyncio.get_running_loop())
    try:
        with pytest.raises(CameraUnavailable) as failure:
            async with asyncio.timeout(10):
                while await source.get(0.2) is None:
                    pass
    finally:
        await source.close()
        silent.close()
    masked = f"rtsp://user:***@127.0.0.1:{port}/ch1"
    assert failure.value.message == f"camera 1: no answer within 1s ({masked})"
