"""One live picture: the analysis frame scaled to the viewers' width, its people drawn (the
camera's alerting people in red), the camera's name and the time below."""

from __future__ import annotations

import time

import numpy as np
from PIL import Image

from server.annotate.draw import draw_caption, draw_people
from server.live.frames import LiveFrame


def live_size(frame_size: tuple[int, int], width: int) -> tuple[int, int]:
    """(width, height) at `width`, keeping the aspect ratio, both even (for the encoders)."""
    height = round(frame_size[1] * width / frame_size[0])
    return width // 2 * 2, max(2, height // 2 * 2)


def render(frame: LiveFrame, *, width: int, label: str) -> Image.Image:
    """The RGB picture a viewer sees."""
    rgb = np.ascontiguousarray(frame.image[..., ::-1])
    picture = Image.fromarray(rgb)
    size = live_size(picture.size, width)
    if picture.size != size:
        picture = picture.resize(size, Image.Resampling.BILINEAR)
    if frame.overlay is not None:
        draw_people(picture, frame.overlay, highlight=frame.highlight)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(frame.captured_at))
    draw_caption(picture, f"{label}  {stamp}")
    return picture
