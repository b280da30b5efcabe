"""Cross-validation folds: of whole recording sessions (the protocol), or of single videos
(the first protocol, kept to measure what grouping by session changes).

Folds of videos put cuts of one recording on both sides of a fold (`training/sessions.py`):
the same person, seconds apart, in training and in validation. Folds of sessions cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from training.poselift import PoseLiftVideo
from training.sessions import Sessions, holds_shoplifting, stitch

Grouping = Literal["session", "video"]


def session_folds(
    videos: Sequence[PoseLiftVideo], k: int, sessions: Sessions | None = None
) -> npt.NDArray[np.int32]:
    """Each video's fold, 0..k-1: its session's, deterministic.

    Sessions holding shoplifting are dealt round the folds in (camera, number) order, so
    every fold gets thefts of several cameras. The others then go, camera by camera and the
    longest first, each to the fold with the fewest timeline frames so far.
    """
    if k < 2:
        raise ValueError(f"k: at least 2 folds, got {k}")
    found = stitch(videos) if sessions is None else sessions
    items = found.items
    holds = [any(holds_shoplifting(videos[i]) for i in s.videos) for s in items]
    fold = np.zeros(len(items), np.int32)
    load = np.zeros(k, np.int64)
    thefts = sorted((i for i in range(len(items)) if holds[i]), key=lambda i: _place(found, i))
    for rank, index in enumerate(thefts):
        fold[index] = rank % k
        load[rank % k] += items[index].n_frames
    others = sorted(
        (i for i in range(len(items)) if not holds[i]),
        key=lambda i: (items[i].camera, -items[i].n_frames, items[i].numbers[0]),
    )
    for index in others:
        fold[index] = int(np.argmin(load))
        load[fold[index]] += items[index].n_frames
    return fold[found.video_session]


def video_folds(videos: Sequence[PoseLiftVideo], k: int) -> npt.NDArray[np.int32]:
    """Each video's fold, 0..k-1, video by video (the first protocol): labelled videos
    dealt round by (holds shoplifting, camera, name), then the normal-only ones."""
    if k < 2:
        raise ValueError(f"k: at least 2 folds, got {k}")

    def order(v: PoseLiftVideo) -> tuple[bool, int, str]:
        return (holds_shoplifting(v), v.camera, v.name)

    fold = np.zeros(len(videos), np.int32)
    for labelled in (True, False):
        members = [i for i, v in enumerate(videos) if (v.labels is not None) == labelled]
        for rank, index in enumerate(sorted(members, key=lambda i: order(videos[i]))):
            fold[index] = rank % k
    return fold


def assign(videos: Sequence[PoseLiftVideo], k: int, grouping: Grouping) -> npt.NDArray[np.int32]:
    """Each video's fold, grouped by `grouping`."""
    return session_folds(videos, k) if grouping == "session" else video_folds(videos, k)


def _place(sessions: Sessions, index: int) -> tuple[int, int]:
    session = sessions.items[index]
    return session.camera, session.numbers[0]
