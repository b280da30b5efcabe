"""A heatmap drawn over a camera's picture: warm where people stood long."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

BACKGROUND = 96  # grey, when the camera has no picture
OPACITY = 0.65  # of the hottest cells
JPEG_QUALITY = 80
# blue → cyan → green → yellow → red, as RGB at levels 0, 0.25, 0.5, 0.75, 1
_STOPS = np.asarray([0.0, 0.25, 0.5, 0.75, 1.0])
_COLOURS = np.asarray(
    [[0, 0, 255], [0, 255, 255], [0, 255, 0], [255, 255, 0], [255, 0, 0]], np.float64
)


def heatmap_jpeg(
    cells: npt.NDArray[np.float64], picture: npt.NDArray[np.uint8] | None, width: int
) -> bytes:
    """`cells` (rows, cols) seconds over `picture` (H, W, 3 BGR, or None), `width` px wide."""
    if picture is None:
        size = (width, round(width * 3 / 4))
        base = np.full((size[1], size[0], 3), BACKGROUND, np.float64)
    else:
        h, w = picture.shape[:2]
        size = (width, max(1, round(h * width / w)))
        rgb = Image.fromarray(np.ascontiguousarray(picture[..., ::-1]))
        base = np.asarray(rgb.resize(size, Image.Resampling.BILINEAR), np.float64)
    peak = float(cells.max()) if cells.size else 0.0
    if peak > 0:
        level = np.sqrt(cells / peak)  # quiet cells stay visible
        grey = Image.fromarray((level * 255).astype(np.uint8)).resize(
            size, Image.Resampling.BICUBIC
        )
        grey = grey.filter(ImageFilter.GaussianBlur(radius=width / 80))
        smooth = np.asarray(grey, np.float64)
        smooth /= max(float(smooth.max()), 1.0)  # the busiest spot stays the hottest
        colours = np.stack([np.interp(smooth, _STOPS, _COLOURS[:, c]) for c in range(3)], axis=-1)
        alpha = (np.clip(smooth * 1.5, 0, 1) * OPACITY)[..., None]
        base = base * (1 - alpha) + colours * alpha
    out = io.BytesIO()
    Image.fromarray(base.clip(0, 255).astype(np.uint8)).save(
        out, format="JPEG", quality=JPEG_QUALITY
    )
    return out.getvalue()
