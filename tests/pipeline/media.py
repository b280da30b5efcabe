"""Synthetic test video written with PyAV: a moving bar and a per-frame counter, no downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt


def synthetic_image(index: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """(H, W, 3) BGR: a grey ramp, a bar moving right, and `index` as 8 black/white blocks."""
    image = np.empty((height, width, 3), np.uint8)
    image[:] = (np.arange(width, dtype=np.uint32) * 255 // max(width - 1, 1)).astype(np.uint8)[
        None, :, None
    ]
    x = (index * 8) % max(width - 16, 1)
    image[:, x : x + 16] = (0, 0, 255)
    block = max(width // 16, 2)
    for bit in range(8):
        image[:block, bit * block : (bit + 1) * block] = 255 if index >> bit & 1 else 0
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
