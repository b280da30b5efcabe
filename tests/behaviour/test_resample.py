"""Timeline sampling on literal tracks: frame values, linear fill-in of short gaps, NaN
elsewhere, and no mixing of tracks that share times."""

from __future__ import annotations

import numpy as np
import pytest

from server.behaviour.resample import NUM_POINTS, Timeline
from server.records.people import NUM_KEYPOINTS, TrackHistory


def track(ts: list[float], x: list[float], conf: list[float], track_id: int = 1) -> TrackHistory:
    """Every keypoint at (x, 2x), box (x, 0, x + 10, 20); the nose has confidence `conf`."""
    n = len(ts)
    xs = np.asarray(x, np.float32)
    kp = np.repeat(np.stack([xs, 2 * xs], -1)[:, None], NUM_KEYPOINTS, axis=1)
    keypoint_conf = np.full((n, NUM_KEYPOINTS), 0.9, np.float32)
    keypoint_conf[:, 0] = conf
    return TrackHistory(
        track_id=track_id,
        ts=np.asarray(ts, np.float64),
        xyxy=np.stack([xs, 0 * xs, xs + 10, 0 * xs + 20], -1),
        keypoints=kp,
        keypoint_conf=keypoint_conf,
    )


A = track([0.0, 0.2, 0.4, 1.4, 1.6], [0, 10, 20, 70, 80], [0.9, 0.1, 0.9, 0.9, 0.9])
B = track([0.0, 0.2], [500, 600], [0.9, 0.9], track_id=2)  # at the same times as A
NAN = float("nan")


@pytest.mark.parametrize(
    ("t", "nose_x", "hip_x", "box_x1"),
    [
        (0.0, 0, 0, 0),  # a frame
        (0.1, 5, 5, 5),  # between frames; the nose between its known frames 0.0 and 0.4
        (0.2, 10, 10, 10),  # a frame where the nose is unknown: filled in (0.4 <= max_gap_s)
        (0.4, 20, 20, 20),  # a frame, and the nose known in it
        (0.9, NAN, NAN, NAN),  # inside a 1 s gap of the track
        (1.5, 75, 75, 75),
        (1.6, 80, 80, 80),  # the last frame
        (1.7, NAN, NAN, NAN),  # after the track
        (-0.1, NAN, NAN, NAN),  # before it
    ],
)
def test_sample_one_track(t: float, nose_x: float, hip_x: float, box_x1: float) -> None:
    timeline = Timeline.build([B, A], min_conf=0.3, margin_s=1.5)
    points = timeline.sample(np.asarray([1]), np.asarray([t]), max_gap_s=0.5)
    assert points.shape == (1, NUM_POINTS, 2)
    got = [points[0, 0, 0], points[0, 11, 0], points[0, NUM_KEYPOINTS, 0]]
    np.testing.assert_allclose(got, [nose_x, hip_x, box_x1], atol=1e-4)


def test_nose_unknown_until_both_neighbours_are_close() -> None:
    timeline = Timeline.build([A], min_conf=0.3, margin_s=1.5)
    points = timeline.sample(np.asarray([0, 0]), np.asarray([0.2, 0.2]), max_gap_s=0.3)
    assert np.isnan(points[:, 0]).all()  # its neighbours are 0.4 s apart
    np.testing.assert_allclose(points[:, 11], [[10, 20], [10, 20]])  # the hip was seen


def test_tracks_at_the_same_times_do_not_mix() -> None:
    timeline = Timeline.build([A, B], min_conf=0.3, margin_s=1.5)
    points = timeline.sample(np.asarray([0, 1, 1]), np.asarray([0.2, 0.2, 0.3]), max_gap_s=0.5)
    np.testing.assert_allclose(points[:2, 11, 0], [10, 600])
    assert np.isnan(points[2]).all()  # after B's end, not A's next frame


def test_margin_must_exceed_the_gap() -> None:
    timeline = Timeline.build([A], min_conf=0.3, margin_s=0.5)
    with pytest.raises(ValueError, match=r"max_gap_s: must be under the margin 0\.5"):
        timeline.sample(np.asarray([0]), np.asarray([0.0]), max_gap_s=0.5)
