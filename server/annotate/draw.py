"""People drawn over a picture: box, skeleton, track id and score, the alert's people in red.

One drawing for every view of the analysis (the snapshot, the annotated clip, the live
view), with Pillow. Tracks are in the pixels of the analysis frame they were found in
(`frame_size`); pictures of another size (a clip decoded at the camera's full resolution)
get them scaled.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from server.records.people import Tracks

MIN_CONF = 0.3  # joints drawn
# COCO-17 limbs: face, arms, torso, legs
SKELETON = (
    (0, 1), (0, 2), (1, 3), (2, 4),
    (5, 7), (7, 9), (6, 8), (8, 10), (5, 6),
    (5, 11), (6, 12), (11, 12),
    (11, 13), (13, 15), (12, 14), (14, 16),
)  # fmt: skip
ALERT_COLOUR = (230, 40, 40)  # the alert's people, or anyone over the threshold
PERSON_COLOUR = (60, 200, 90)
LIMB_COLOUR, JOINT_COLOUR = (255, 200, 0), (40, 220, 255)
TEXT_COLOUR, TEXT_BACKGROUND = (255, 255, 255), (0, 0, 0)


@dataclass(frozen=True, slots=True)
class PeopleOverlay:
    """What to draw over one moment of a camera's video.

    `tracks` are in pixels of a `frame_size` (width, height) picture; `scores` are the
    latest alerting scores by track id (absent: not scored yet).
    """

    ts: float
    frame_size: tuple[int, int]
    tracks: Tracks
    scores: dict[int, float]
    threshold: float | None = None


def draw_people(
    picture: Image.Image,
    overlay: PeopleOverlay,
    *,
    highlight: Collection[int] = (),
) -> None:
    """Draw `overlay`'s people on `picture` (RGB, in place); `highlight` track ids in red."""
    draw = ImageDraw.Draw(picture)
    sx = picture.width / overlay.frame_size[0]
    sy = picture.height / overlay.frame_size[1]
    width = max(2, picture.width // 320)
    font = _font(max(12, picture.height // 36))
    tracks = overlay.tracks
    for row in range(len(tracks)):
        track_id = int(tracks.track_id[row])
        score = overlay.scores.get(track_id)
        over = score is not None and overlay.threshold is not None and score >= overlay.threshold
        colour = ALERT_COLOUR if track_id in highlight or over else PERSON_COLOUR
        box = tracks.xyxy[row] * np.array([sx, sy, sx, sy], np.float32)
        draw.rectangle([float(v) for v in box], outline=colour, width=width)
        points = tracks.keypoints[row] * np.array([sx, sy], np.float32)
        _skeleton(draw, points, tracks.keypoint_conf[row], width)
        label = f"#{track_id}" if score is None else f"#{track_id} {score:.2f}"
        _label(draw, (float(box[0]), float(box[1])), label, font, colour)


def draw_caption(picture: Image.Image, text: str) -> None:
    """`text` (camera, time) on a dark strip at the picture's bottom left."""
    font = _font(max(12, picture.height // 36))
    _label(ImageDraw.Draw(picture), (0.0, picture.height), text, font, TEXT_BACKGROUND)


def draw_person(
    picture: Image.Image,
    *,
    xyxy: npt.NDArray[np.float32] | None,
    keypoints: npt.NDArray[np.float32] | None,
    keypoint_conf: npt.NDArray[np.float32] | None,
) -> None:
    """One person's box (red) and skeleton, in `picture`'s own pixels (the snapshot)."""
    draw = ImageDraw.Draw(picture)
    width = max(2, picture.width // 320)
    if xyxy is not None:
        draw.rectangle([float(v) for v in xyxy], outline=ALERT_COLOUR, width=width)
    if keypoints is not None:
        conf = keypoint_conf if keypoint_conf is not None else np.ones(len(keypoints), np.float32)
        _skeleton(draw, keypoints, conf, width)


def _skeleton(
    draw: ImageDraw.ImageDraw,
    points: npt.NDArray[np.float32],
    conf: npt.NDArray[np.float32],
    width: int,
) -> None:
    known = conf >= MIN_CONF
    for a, b in SKELETON:
        if known[a] and known[b]:
            draw.line(
                [tuple(points[a].tolist()), tuple(points[b].tolist())],
                fill=LIMB_COLOUR,
                width=width,
            )
    r = width + 1
    for (x, y), ok in zip(points.tolist(), known.tolist(), strict=True):
        if ok:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=JOINT_COLOUR)


def _label(
    draw: ImageDraw.ImageDraw,
    at: tuple[float, float],
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    background: tuple[int, int, int],
    *,
    above: bool = True,
) -> None:
    """`text` on a filled strip, just above `at` (or from `at` down)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = 3
    height = bottom - top + 2 * pad
    x, y = at[0], max(0.0, at[1] - height) if above else at[1]
    draw.rectangle([x, y, x + right - left + 2 * pad, y + height], fill=background)
    draw.text((x + pad - left, y + pad - top), text, fill=TEXT_COLOUR, font=font)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font (no font files needed on the box)."""
    return ImageFont.load_default(size=size)
