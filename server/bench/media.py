"""Clips for `shopguard bench pipeline`: one simulated DVR channel made from the demo clip.

The demo clip (vtest: 768x576, 10 fps, real pedestrians) is cropped to the 640x360 region
people walk through and written twice at 25 fps: as the channel's 640x360 sub-stream and,
scaled 3x, as its 1920x1080 main stream (the same scene, as a DVR sends both).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import av

logger = logging.getLogger(__name__)

ROI = (128, 60, 768, 420)  # x0, y0, x1, y1 in vtest: 640x360 where people walk
FPS = 25
GOP = 50  # a keyframe every 2 s, as DVRs commonly send


@dataclass(frozen=True, slots=True)
class ChannelClips:
    main: Path  # 1920x1080 25 fps H.264
    sub: Path  # 640x360 25 fps H.264
    seconds: float


def make_channel_clips(source: Path, out_dir: Path, seconds: float = 30.0) -> ChannelClips:
    """Write (or reuse) the main and sub-stream clips of one channel."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = ChannelClips(out_dir / "main_1080p25.mp4", out_dir / "sub_360p25.mp4", seconds)
    if clips.main.is_file() and clips.sub.is_file():
        return clips
    if not source.is_file():
        raise FileNotFoundError(f"{source} not found: run ./infra/scripts/prepare_demo.sh")
    logger.info("writing the bench clips from %s (about a minute, once)", source)
    frames = int(seconds * FPS)
    x0, y0, x1, y1 = ROI
    with (
        av.open(str(source)) as src,
        _writer(clips.sub.with_suffix(".partial.mp4"), 640, 360, "1000k") as (sub_out, sub),
        _writer(clips.main.with_suffix(".partial.mp4"), 1920, 1080, "4000k") as (main_out, main),
    ):
        rate = float(src.streams.video[0].average_rate or 10)
        decoded = src.decode(video=0)
        picture = None
        shown = -1
        for index in range(frames):
            wanted = int(index * rate / FPS)  # repeat source frames up to 25 fps
            while shown < wanted:
                picture = next(decoded).to_ndarray(format="bgr24")[y0:y1, x0:x1].copy()
                shown += 1
            assert picture is not None
            small = av.VideoFrame.from_ndarray(picture, format="bgr24")
            sub_out.mux(sub.encode(small))
            big = small.reformat(width=1920, height=1080, format="yuv420p")
            main_out.mux(main.encode(big))
            if index % 125 == 0:
                logger.info("bench clips: %d/%d frames", index, frames)
        sub_out.mux(sub.encode(None))
        main_out.mux(main.encode(None))
    clips.sub.with_suffix(".partial.mp4").replace(clips.sub)
    clips.main.with_suffix(".partial.mp4").replace(clips.main)
    return clips


def add_h264(
    container: av.container.OutputContainer, width: int, height: int, bitrate: str
) -> av.VideoStream:
    """An H.264 stream as DVRs send it: FPS frames a second, a keyframe every GOP, no
    B-frames."""
    stream = container.add_stream("libx264", rate=FPS)
    assert isinstance(stream, av.VideoStream)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.gop_size = GOP
    stream.codec_context.options = {
        "preset": "veryfast",
        "b": bitrate,
        "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=0",
    }
    return stream


class _writer:
    def __init__(self, path: Path, width: int, height: int, bitrate: str) -> None:
        self.container = av.open(str(path), "w")
        self.stream = add_h264(self.container, width, height, bitrate)

    def __enter__(self) -> tuple[av.container.OutputContainer, av.VideoStream]:
        return self.container, self.stream

    def __exit__(self, *exc: object) -> None:
        self.container.close()
