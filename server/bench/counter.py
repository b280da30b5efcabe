"""A frame counter drawn into the pixels, read back after coding and scaling: 8 black or
white blocks, each 1/16 of the width wide, in a strip at the top."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


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
