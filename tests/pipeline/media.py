"""Synthetic test video written with PyAV: a moving bar and a per-frame counter, no downloads."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from server.bench.counter import read_counter, stamp_counter


def synthetic_image(index: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """(H, W, 3) BGR: a grey ramp, a bar moving right, and `index` as 8 black/white blocks."""
    image = np.empty((height, width, 3), np.uint8)
    image[:] = (np.arange(width, dtype=np.uint32) * 255 // max(width - 1, 1)).astype(np.uint8)[
        None, :, None
    ]
    x = (index * 8) % max(width - 16, 1)
    image[:, x : x + 16] = (0, 0, 255)
    stamp_counter(image, index)
    return image


def synthetic_video(
    path: Path,
    *,
    frames: int = 50,
    fps: int = 25,
    width: int = 320,
    height: int = 240,
    gop: int = 25,
    codec: str = "libx264",
    bitrate: int | None = None,
    noise: bool = False,
) -> Path:
    """Write an H.264 (or `codec`) clip with a keyframe every `gop` frames; returns `path`."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.gop_size = gop
        if codec == "libx264":
            options = {
                "preset": "ultrafast",
                "x264-params": f"keyint={gop}:min-keyint={gop}",
            }
            options["x264-params"] += ":scenecut=0"
            if bitrate is not None:
                options |= {
                    "b": str(bitrate),
                    "maxrate": str(bitrate),
                    "bufsize": str(bitrate),
                }
                options["x264-params"] += ":nal-hrd=cbr"
            stream.codec_context.options = options
        for index in range(frames):
            image = synthetic_image(index, width, height)
            if noise:
                image = np.maximum(image, rng.integers(0, 96, image.shape, np.uint8))
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def read_packets(path: Path) -> list[av.Packet[Any]]:
    """Every video packet of `path` that carries data, in demux order."""
    with av.open(str(path)) as container:
        return [p for p in container.demux(video=0) if p.size > 0]


def frame_index(image: npt.NDArray[np.uint8]) -> int:
    """The counter `synthetic_image` drew into `image` (H, W, 3), read back from its blocks."""
    return read_counter(image)


def jpeg_frames(path: Path, *, limit: int | None = None) -> list[bytes]:
    """The frames of the video at `path` (the first `limit`), each encoded as a JPEG by PyAV."""
    jpegs: list[bytes] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        encoder = av.CodecContext.create("mjpeg", "w")
        assert isinstance(encoder, av.VideoCodecContext)
        encoder.width, encoder.height = stream.codec_context.width, stream.codec_context.height
        encoder.pix_fmt = "yuvj420p"
        encoder.time_base = Fraction(1, 25)  # JPEG keeps no times
        for frame in container.decode(stream):
            jpegs.extend(bytes(p) for p in encoder.encode(frame.reformat(format="yuvj420p")))
            if limit is not None and len(jpegs) >= limit:
                break
        jpegs.extend(bytes(p) for p in encoder.encode(None))
    return jpegs[:limit]
