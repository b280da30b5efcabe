"""A frame counter drawn into the pixels, read back after coding and scaling: 8 black or
white blocks, each 1/16 of the width wide, in a strip at the top; and a real video of people
with it (the repository's pedestrian clip), for the live benchmarks and tests."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

PEOPLE_CLIP = Path(__file__).resolve().parents[2] / "tests" / "data" / "vtest_people.mp4"
FPS = 10  # the clip's, 640x360


def stamp_counter(image: npt.NDArray[np.uint8], index: int) -> None:
    """Draw `index` (mod 256) into the top strip of `image` (H, W, 3), in place."""
    block = max(image.shape[1] // 16, 2)
    for bit in range(8):
        image[:block, bit * block : (bit + 1) * block] = 255 if index >> bit & 1 else 0


def read_counter(image: npt.NDArray[np.uint8]) -> int:
    """The counter `stamp_counter` drew; survives lossy coding and scaling that keeps the
    aspect ratio."""
    block = max(image.shape[1] // 16, 2)
    row = image[block // 2, block // 2 :: block][:8]  # the centre of each block
    return sum(1 << bit for bit, pixel in enumerate(row) if int(pixel.mean()) > 127)


def counted_video(path: Path, passes: int = 3) -> Path:
    """The people clip forwards, backwards, forwards... (no jumps) `passes` times, 10 fps, a
    keyframe each second, its frame number stamped at the top; written to `path`."""
    with av.open(str(PEOPLE_CLIP)) as source:
        frames = [np.asarray(f.to_ndarray(format="bgr24"), np.uint8) for f in source.decode(0)]
    sequence = [f for n in range(passes) for f in (frames if n % 2 == 0 else frames[::-1])]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.codec_context.options = {
            "preset": "ultrafast",
            "x264-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0",
        }
        for index, image in enumerate(sequence):
            image = image.copy()
            stamp_counter(image, index)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    return path
