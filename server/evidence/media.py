"""Evidence files: the clip as an MP4 that browsers and phones play, and the snapshot JPEG.

An H.264 camera's packets are remuxed as they came (no re-encoding, so no quality lost and
little CPU); other codecs (MJPEG from HTTP cameras, HEVC) are decoded and encoded to H.264.
Every MP4 is written with `faststart` (the index first: playback starts before the whole
file arrives), to a temporary name, and renamed into place once complete.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from PIL import Image

from server.annotate.draw import draw_person
from server.evidence.h264 import H264FormatError, parameter_sets, to_annexb
from server.records.video import Packet, StreamInfo

REMUXABLE = frozenset({"h264"})  # what browsers and phones play inside MP4 as it is
ENCODE_TIME_BASE = Fraction(1, 90_000)


class ClipError(RuntimeError):
    """A clip could not be made from the packets given; the message says why."""


def write_mp4(packets: Sequence[Packet], stream: StreamInfo, path: Path) -> float:
    """Write `packets` (starting on a keyframe) as an MP4 at `path`, atomically.

    Returns:
        the clip's duration in seconds.
    Raises:
        ClipError: no packets, no keyframe first, or the muxer or codec refused them.
    """
    if not packets:
        raise ClipError("no video packets for the clip (the ring buffer held none)")
    if not packets[0].is_keyframe:
        raise ClipError("the clip must start on a keyframe")
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if stream.codec in REMUXABLE:
            _remux(packets, stream, partial)
        else:
            _transcode(packets, stream, partial)
        duration = mp4_duration(partial)
        os.replace(partial, path)
    except (av.FFmpegError, H264FormatError, ValueError) as exc:
        raise ClipError(f"writing the clip failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return duration


def _remux(packets: Sequence[Packet], info: StreamInfo, out_path: Path) -> None:
    sets, length_size = parameter_sets(info.extradata)
    with av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_mux_stream(info.codec, width=info.width, height=info.height)
        stream.time_base = info.time_base
        kept = _in_order(packets)
        offset = kept[0][1]
        steps = [b[1] - a[1] for a, b in itertools.pairwise(kept)]
        typical = sorted(steps)[len(steps) // 2] if steps else 1
        for index, (source, dts, pts) in enumerate(kept):
            data = to_annexb(source.data, length_size)
            packet = av.Packet(sets + data if source.is_keyframe else data)
            packet.pts, packet.dts = pts - offset, dts - offset
            # without a duration the last frame would fall outside the MP4's edit list
            packet.duration = steps[index] if index < len(steps) else typical
            packet.time_base = source.time_base
            packet.is_keyframe = source.is_keyframe
            packet.stream = stream
            out.mux(packet)


def _in_order(packets: Sequence[Packet]) -> list[tuple[Packet, int, int]]:
    """(packet, dts, pts) with increasing dts: duplicates and steps back (a restarted
    stream) are left out."""
    out: list[tuple[Packet, int, int]] = []
    for packet in packets:
        pts = packet.pts if packet.pts is not None else packet.dts
        dts = packet.dts if packet.dts is not None else packet.pts
        if pts is None or dts is None:
            raise ClipError("packets without timestamps cannot be remuxed")
        if not out or dts > out[-1][1]:
            out.append((packet, dts, pts))
    return out


def _transcode(packets: Sequence[Packet], info: StreamInfo, out_path: Path) -> None:
    decoder = av.CodecContext.create(info.codec, "r")
    assert isinstance(decoder, av.VideoCodecContext)
    if info.extradata:
        decoder.extradata = info.extradata
    start = packets[0].captured_at
    with av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=round(info.fps or 25))
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = info.width - info.width % 2, info.height - info.height % 2
        stream.pix_fmt = "yuv420p"
        stream.time_base = ENCODE_TIME_BASE
        stream.options = {"preset": "veryfast", "crf": "23"}
        last = -1
        for kept in packets:
            for frame in decoder.decode(av.Packet(kept.data)):
                image = frame.reformat(width=stream.width, height=stream.height, format="yuv420p")
                pts = max(last + 1, round((kept.captured_at - start) / ENCODE_TIME_BASE))
                image.pts, image.time_base, last = pts, ENCODE_TIME_BASE, pts
                out.mux(stream.encode(image))
        out.mux(stream.encode(None))


def mp4_duration(path: Path) -> float:
    """Seconds of video in an MP4 file (from its stream, else its container)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return float(container.duration or 0) / av.time_base


def snapshot_jpeg(
    image_bgr: npt.NDArray[np.uint8],
    path: Path,
    *,
    xyxy: npt.NDArray[np.float32] | None = None,
    keypoints: npt.NDArray[np.float32] | None = None,
    keypoint_conf: npt.NDArray[np.float32] | None = None,
    quality: int = 85,
) -> None:
    """The frame as a JPEG with the person's box and skeleton drawn, written atomically."""
    picture = Image.fromarray(np.ascontiguousarray(image_bgr[..., ::-1]))
    draw_person(picture, xyxy=xyxy, keypoints=keypoints, keypoint_conf=keypoint_conf)
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        picture.save(partial, format="JPEG", quality=quality)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
