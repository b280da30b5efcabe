"""② PacketRing: whole GOPs dropped from the front, windows that start on a keyframe."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

from server.pipeline.ring_buffer import PacketRing
from server.records.video import Packet
from tests.pipeline.media import read_packets, synthetic_video

TB = Fraction(1, 25)


def packets(layout: str, fps: float = 1.0, size: int = 10) -> list[Packet]:
    """`K..K.` → a keyframe then deltas, one packet per 1/fps seconds from t = 0."""
    return [Packet(b"x" * size, i, i, TB, c == "K", i / fps) for i, c in enumerate(layout)]


def times(ps: list[Packet]) -> list[float]:
    return [p.captured_at for p in ps]


@pytest.mark.parametrize(
    ("layout", "seconds", "kept_from"),
    [
        ("K...K...K...", 4.0, 4),  # at 11 s the last two GOPs (4..11) still cover 4 s
        ("K...K...K...", 7.0, 4),  # 4..11 is exactly 7 s: the first GOP goes
        ("K...K...K...", 7.5, 0),  # 4..11 is too short: keep all three GOPs
        ("K...K...K...", 100.0, 0),  # never enough: keep everything
        ("..K...K..", 2.0, 6),  # packets before the first keyframe are skipped
        ("K.........", 3.0, 0),  # one long GOP cannot be cut
    ],
)
def test_ring_keeps_whole_gops_covering_the_configured_seconds(
    layout: str, seconds: float, kept_from: int
) -> None:
    ring = PacketRing(seconds=seconds)
    for p in packets(layout):
        ring.push(p)
    held = ring.window(-1e9, 1e9)
    assert times(held) == [float(i) for i in range(kept_from, len(layout))]
    assert held[0].is_keyframe
    assert ring.nbytes == 10 * len(held) == 10 * len(ring)
    assert ring.skipped == layout.index("K")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (5.0, 6.0, [4.0, 5.0, 6.0]),  # starts back at the keyframe before `start`
        (4.0, 4.0, [4.0]),  # a keyframe exactly at `start`
        (9.5, 20.0, [8.0, 9.0, 10.0, 11.0]),  # end past the newest packet
        (-50.0, 1.0, [0.0, 1.0]),  # start before the ring: from its oldest keyframe
        (-50.0, -10.0, []),  # entirely before the ring
    ],
)
def test_window_starts_on_a_keyframe_at_or_before_start(
    start: float, end: float, expected: list[float]
) -> None:
    ring = PacketRing(seconds=100.0)
    for p in packets("K...K...K..."):
        ring.push(p)
    assert times(ring.window(start, end)) == expected


def test_byte_budget_drops_whole_gops_then_a_gop_too_large_for_it() -> None:
    ring = PacketRing(seconds=100.0, max_bytes=45)
    for p in packets("K...K..."):
        ring.push(p)
    assert times(ring.window(-1.0, 99.0)) == [
        4.0,
        5.0,
        6.0,
        7.0,
    ]  # 80 bytes > 45: GOP 1 went
    assert ring.nbytes == 40

    single = PacketRing(seconds=100.0, max_bytes=25)
    for p in packets("K...K"):
        single.push(p)
    # 30 bytes in one GOP: cleared, the next delta skipped, then the next keyframe kept
    assert times(single.window(-1.0, 99.0)) == [4.0]
    assert (single.nbytes, single.skipped) == (10, 1)


def test_latest_frame_slot_and_clear() -> None:
    ring = PacketRing(seconds=1.0)
    assert ring.latest_frame is None
    for p in packets("K.."):
        ring.push(p)
    ring.clear()
    assert (len(ring), ring.nbytes, ring.span_s) == (0, 0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"seconds": 0.0}, "seconds"), ({"max_bytes": 0}, "max_bytes")],
)
def test_ring_rejects_bad_configuration(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PacketRing(**kwargs)  # type: ignore[arg-type]


def to_packet(p: av.Packet[Any]) -> Packet:
    """Stream time doubles as capture time for a file read as fast as possible."""
    assert p.time_base is not None and p.pts is not None
    return Packet(bytes(p), p.pts, p.dts, p.time_base, p.is_keyframe, float(p.pts * p.time_base))


def test_ring_holds_the_configured_seconds_of_a_real_h264_stream(
    tmp_path: Path,
) -> None:
    clip = synthetic_video(tmp_path / "cam.mp4", frames=200, fps=25, gop=25)  # 8 s
    ring = PacketRing(seconds=3.0)
    for p in read_packets(clip):
        ring.push(to_packet(p))
    held = ring.window(-1.0, 1e9)
    assert held[0].is_keyframe
    assert 3.0 <= ring.span_s < 3.0 + 1.0  # at least 3 s, at most one GOP (1 s) more
    assert [p.is_keyframe for p in held].count(True) == 4  # GOPs at 4, 5, 6, 7 s
    assert ring.nbytes == sum(len(p.data) for p in held)


def test_a_window_remuxes_without_reencoding_into_an_mp4_starting_on_a_keyframe(
    tmp_path: Path,
) -> None:
    source = synthetic_video(tmp_path / "cam.mp4", frames=150, fps=25, gop=25)  # 6 s
    ring = PacketRing(seconds=10.0)
    for p in read_packets(source):
        ring.push(to_packet(p))
    clip = ring.window(2.5, 4.5)  # from the keyframe at 2 s to 4.5 s
    assert clip[0].captured_at == 2.0 and clip[0].is_keyframe

    out_path = tmp_path / "clip.mp4"
    with av.open(str(source)) as template, av.open(str(out_path), "w") as out:
        stream = out.add_stream_from_template(template.streams.video[0])
        offset = clip[0].dts if clip[0].dts is not None else 0
        for kept in clip:
            packet = av.Packet(kept.data)
            packet.pts = None if kept.pts is None else kept.pts - offset
            packet.dts = None if kept.dts is None else kept.dts - offset
            packet.time_base = kept.time_base
            packet.is_keyframe = kept.is_keyframe
            packet.stream = stream
            out.mux(packet)

    with av.open(str(out_path)) as result:
        frames = list(result.decode(video=0))
    assert len(frames) == len(clip) == 63  # 2.00 s … 4.48 s at 25 fps
    assert frames[0].key_frame
    assert frames[0].to_ndarray(format="bgr24").shape == (240, 320, 3)
