"""Made-up tracks whose analytics are known: people as foot points moving on a picture."""

from __future__ import annotations

import numpy as np

from server.records.people import NUM_KEYPOINTS, Tracks

WIDTH, HEIGHT = 1000, 800


def tracks_at(ts: float, people: dict[int, tuple[float, float]]) -> Tracks:
    """Tracks at `ts`: track id → foot point in fractions of a WIDTH x HEIGHT picture."""
    ids = sorted(people)
    n = len(ids)
    keypoints = np.zeros((n, NUM_KEYPOINTS, 2), np.float32)
    conf = np.zeros((n, NUM_KEYPOINTS), np.float32)
    xyxy = np.zeros((n, 4), np.float32)
    for row, track_id in enumerate(ids):
        x, y = people[track_id][0] * WIDTH, people[track_id][1] * HEIGHT
        keypoints[row, :, 0], keypoints[row, :, 1] = x, y - 100  # the body above the feet
        keypoints[row, 15:17] = (x, y)  # ankles
        conf[row] = 0.9
        xyxy[row] = (x - 20, y - 170, x + 20, y + 5)
    return Tracks(
        ts=ts,
        track_id=np.asarray(ids, np.int64),
        xyxy=xyxy,
        keypoints=keypoints,
        keypoint_conf=conf,
        score=np.full((n,), 0.9, np.float32),
    )


def walk(
    start: tuple[float, float], end: tuple[float, float], t0: float, t1: float, fps: float
) -> list[tuple[float, tuple[float, float]]]:
    """(ts, point) from `start` at `t0` to `end` at `t1`, `fps` frames a second."""
    count = round((t1 - t0) * fps) + 1
    return [
        (
            t0 + i / fps,
            (
                start[0] + (end[0] - start[0]) * i / (count - 1),
                start[1] + (end[1] - start[1]) * i / (count - 1),
            ),
        )
        for i in range(count)
    ]
