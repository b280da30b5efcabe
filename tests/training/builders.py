"""Synthetic PoseLift videos for the protocol tests: named `<camera>_<number>`, one person
walking through every frame (or through the frames given), labels where asked."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from server.records.people import TrackHistory
from training.poselift import POSELIFT_FPS, PoseLiftVideo


def person(
    frames: Sequence[int] | np.ndarray,
    track_id: int = 1,
    box: Sequence[float] = (100, 100, 160, 260),
) -> TrackHistory:
    """A person standing in `box` in `frames`, with a plausible pose (17 keypoints)."""
    f = np.asarray(frames, np.int64)
    rng = np.random.default_rng(track_id)
    x1, y1, x2, y2 = box
    keypoints = np.stack(
        [
            rng.uniform(x1, x2, (len(f), 17)),
            np.linspace(y1, y2, 17)[None, :] + rng.normal(0, 2, (len(f), 17)),
        ],
        axis=-1,
    ).astype(np.float32)
    return TrackHistory(
        track_id=track_id,
        ts=f / POSELIFT_FPS,
        xyxy=np.tile(np.asarray(box, np.float32), (len(f), 1)),
        keypoints=keypoints,
        keypoint_conf=np.full((len(f), 17), 0.9, np.float32),
    )


def video(
    name: str,
    n_frames: int,
    shoplifting: Sequence[tuple[int, int]] | None = None,
    people: Sequence[int] | np.ndarray | None = None,
    box: Sequence[float] = (100, 100, 160, 260),
) -> PoseLiftVideo:
    """A video `name` ("<camera>_<number>") of `n_frames`: a labelled clip when
    `shoplifting` (frame ranges [start, end)) is given, even empty, else normal-only."""
    labels = None
    if shoplifting is not None:
        labels = np.zeros(n_frames, np.int8)
        for start, end in shoplifting:
            labels[start:end] = 1
    seen = np.arange(n_frames) if people is None else np.asarray(people)
    tracks = (person(seen, box=box),) if len(seen) else ()
    camera = int(name.split("_")[0])
    return PoseLiftVideo(name, camera, POSELIFT_FPS, n_frames, tracks, labels)
