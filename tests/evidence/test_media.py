"""Evidence media from real encoded video: remuxed H.264, MJPEG transcoded to H.264, faststart
MP4s that decode from their first frame, and a snapshot with the person drawn on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from server.evidence.media import ClipError, snapshot_jpeg, write_mp4
from server.pipeline.source import stream_info
from server.records.video import Packet, StreamInfo
from tests.pipeline.media import frame_index, read_packets, synthetic_video


def ring_like(path: Path) -> tuple[list[Packet], StreamInfo]:
    """The file's packets as a camera reader keeps them (stream time as capture time)."""
    with av.open(str(path)) as container:
        info = stream_info(container.streams.video[0])
    out = []
    for p in read_packets(path):
        assert p.time_base is not None
        stamp = p.dts if p.dts is not None else p.pts
        captured = float((stamp or 0) * p.time_base)
        out.append(Packet(bytes(p), p.pts, p.dts, p.time_base, p.is_keyframe, captured))
    return out, info


def decoded(path: Path) -> list[Any]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def moov_before_mdat(path: Path) -> bool:
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


def test_h264_is_remuxed_without_reencoding_and_starts_on_its_first_frame(tmp_path: Path) -> None:
    source = synthetic_video(tmp_path / "cam.mp4", frames=150, fps=25, gop=25)  # 6 s
    packets, info = ring_like(source)
    window = [p for p in packets if 2.0 <= p.captured_at < 4.5]
    out = tmp_path / "evidence" / "clip.mp4"
    duration = write_mp4(window, info, out)
    assert duration == pytest.approx(2.5, abs=0.05)
    frames = decoded(out)
    assert len(frames) == len(window) == 63  # 2.00 s … 4.48 s at 25 fps
    assert frame_index(frames[0].to_ndarray(format="bgr24")) == 50  # the frame at 2.0 s
    assert moov_before_mdat(out)  # faststart: plays while it downloads
    with av.open(str(source)) as original:  # the camera's own pictures, not re-encoded
        before = [f.to_ndarray(format="bgr24") for f in original.decode(video=0)][50:113]
    for ours, theirs in zip(frames, before, strict=True):
        np.testing.assert_array_equal(ours.to_ndarray(format="bgr24"), theirs)
    assert not list(out.parent.glob("*.partial"))


def test_mjpeg_is_transcoded_to_h264(tmp_path: Path) -> None:
    source = synthetic_video(tmp_path / "cam.avi", frames=50, fps=25, gop=1, codec="mjpeg")
    packets, info = ring_like(source)
    assert info.codec == "mjpeg"
    out = tmp_path / "clip.mp4"
    duration = write_mp4(packets, info, out)
    assert duration == pytest.approx(2.0, abs=0.1)
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    frames = decoded(out)
    assert len(frames) == 50
    assert frame_index(frames[10].to_ndarray(format="bgr24")) == 10
    assert moov_before_mdat(out)


def test_bad_windows_are_refused_and_leave_nothing(tmp_path: Path) -> None:
    source = synthetic_video(tmp_path / "cam.mp4", frames=50, fps=25, gop=25)
    packets, info = ring_like(source)
    out = tmp_path / "clip.mp4"
    with pytest.raises(ClipError, match="no video packets"):
        write_mp4([], info, out)
    with pytest.raises(ClipError, match="keyframe"):
        write_mp4(packets[1:], info, out)
    garbage = [Packet(b"\x00\x01garbage", 0, 0, packets[0].time_base, True, 0.0)]
    with pytest.raises(ClipError):
        write_mp4(garbage, StreamInfo("mjpeg", 64, 48, None, packets[0].time_base, 25.0), out)
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_snapshot_draws_the_box_and_the_skeleton(tmp_path: Path) -> None:
    image = np.full((240, 320, 3), 30, np.uint8)
    keypoints = np.tile(np.asarray([160.0, 120.0], np.float32), (17, 1))
    keypoints[5:11:2, 0] -= 40  # left arm
    keypoints[6:11:2, 0] += 40  # right arm
    keypoints[11:17, 1] += 60  # legs
    conf = np.full(17, 0.9, np.float32)
    path = tmp_path / "snap.jpg"
    box = np.asarray([100, 50, 220, 200], np.float32)
    snapshot_jpeg(image, path, xyxy=box, keypoints=keypoints, keypoint_conf=conf)
    drawn = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert drawn.shape == (240, 320, 3)
    assert drawn[50, 160, 0] > 150 and drawn[50, 160, 2] < 100  # the red box's top edge
    assert drawn[120, 160].sum() > 300  # a bright joint at the body's centre
    assert np.abs(drawn[5, 5] - 30).max() < 10  # the rest of the picture as it was
    plain = tmp_path / "plain.jpg"
    snapshot_jpeg(image, plain)
    assert np.abs(np.asarray(Image.open(plain)).astype(int) - 30).max() < 10
