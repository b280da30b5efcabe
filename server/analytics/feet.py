"""Where each tracked person stands: the foot point, in fractions of the picture."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from server.behaviour.geometry import ANKLES
from server.records.people import Tracks

MIN_ANKLE_CONF = 0.3  # ankles under this confidence are not trusted


def foot_points(tracks: Tracks, width: int, height: int) -> npt.NDArray[np.float64]:
    """(N, 2) x, y in 0..1: the middle of the confident ankles, else the bottom centre of
    the person's box (feet hidden by a counter or a trolley)."""
    if not len(tracks) or width <= 0 or height <= 0:
        return np.zeros((0, 2), np.float64)
    ankles = tracks.keypoints[:, list(ANKLES)].astype(np.float64)  # (N, 2, 2)
    seen = tracks.keypoint_conf[:, list(ANKLES)] >= MIN_ANKLE_CONF  # (N, 2)
    count = seen.sum(axis=1)
    mean = (ankles * seen[..., None]).sum(axis=1) / np.maximum(count, 1)[:, None]
    box = tracks.xyxy.astype(np.float64)
    bottom = np.stack([(box[:, 0] + box[:, 2]) / 2, box[:, 3]], axis=1)
    points = np.where((count > 0)[:, None], mean, bottom)
    return np.clip(points / np.asarray([width, height], np.float64), 0.0, 1.0)
