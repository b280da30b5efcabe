"""Track smoothing in seconds (and as the live scorer's cadence has it), the track-age
rule's pieces (moments that count, first sight across id switches) and the calibration
map, on literal arrays."""

from __future__ import annotations

import numpy as np
import pytest

from server.behaviour.scoring import (
    Calibration,
    alerting_scores,
    box_iou,
    continues,
    first_seen,
    track_scores,
)
from server.records.people import NUM_KEYPOINTS, TrackHistory


def test_a_track_is_averaged_over_its_last_seconds_whatever_the_frame_rate() -> None:
    # 0.2 s of 1.0 among zeros: at 5 fps and at 15 fps the mean over ~1 s comes out the same
    # (0.99 s: no moment sits exactly on a window's edge)
    slow_ts = np.arange(10) / 5.0
    slow = track_scores(slow_ts, (slow_ts == 1.0).astype(float), smoothing_s=0.99)
    fast_ts = np.arange(30) / 15.0
    fast = track_scores(fast_ts, ((fast_ts >= 1.0) & (fast_ts < 1.19)).astype(float), 0.99)
    assert slow[5] == pytest.approx(1 / 5)  # window (0.01, 1]: 5 moments, one of them 1.0
    assert fast[15] == pytest.approx(1 / 15)  # only the spike's first frame is in yet
    assert fast[17] == pytest.approx(3 / 15)  # the spike's 3 frames (0.2 s) in the last 1 s
    assert slow[9] == pytest.approx(0.2) and fast[29] == pytest.approx(0.2)  # both: 0.2 s of 1 s


def test_smoothing_is_causal_and_zero_seconds_passes_scores_through() -> None:
    ts = np.array([0.0, 0.5, 2.0, 2.1])
    raw = np.array([0.2, 0.8, 0.4, 1.0])
    np.testing.assert_allclose(track_scores(ts, raw, 1.0), [0.2, 0.5, 0.4, 0.7])
    np.testing.assert_array_equal(track_scores(ts, raw, 0.0), raw)
    assert track_scores([], [], 1.0).shape == (0,)
    with pytest.raises(ValueError, match="one"):
        track_scores(ts, raw[:3], 1.0)


def test_calibration_maps_monotonically_and_clips_outside_its_knots() -> None:
    calibration = Calibration((0.1, 0.5, 0.9), (0.0, 0.2, 0.9))
    np.testing.assert_allclose(calibration.apply([0.0, 0.1, 0.3, 0.9, 1.0]), [0, 0, 0.1, 0.9, 0.9])
    assert calibration.apply(np.zeros((2, 3))).shape == (2, 3)


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ((0.5,), (0.5,), "two"),  # one knot
        ((0.1, 0.1), (0.0, 0.5), "increase"),  # x repeated
        ((0.1, 0.2), (0.6, 0.5), "decrease"),  # y falls
        ((0.1, 0.2), (0.0, 1.5), "0..1"),  # y past 1
        ((0.1, float("nan")), (0.0, 0.5), "finite"),
    ],
)
def test_calibration_refuses_knots_that_are_not_a_probability_map(
    x: tuple[float, ...], y: tuple[float, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Calibration(x, y)


def test_isotonic_knots_with_repeated_x_become_a_valid_map() -> None:
    calibration = Calibration.from_knots([0.1, 0.1, 0.4, 0.8], [0.0, 0.1, 0.3, 0.7])
    assert calibration.x == (0.1, 0.4, 0.8)
    np.testing.assert_allclose(calibration.apply([0.1, 0.8]), [0.0, 0.7])
    single = Calibration.from_knots([0.3], [0.4])
    np.testing.assert_allclose(single.apply([0.0, 1.0]), [0.4, 0.4])


def test_offline_smoothing_takes_the_moments_the_live_scorer_would_have_scored() -> None:
    # 15 fps raw scores; a scorer every 0.4 s holds, at each moment, the moments 0, 0.4 and
    # 0.8 s before it (1.2 s is out of the 1 s window): every 6th frame
    ts = np.arange(30) / 15.0
    raw = np.arange(30, dtype=float)
    every = track_scores(ts, raw, 1.0, every_s=0.4)
    np.testing.assert_allclose(every[[0, 6, 12, 20, 29]], [0, 3, 6, 14, 23])
    # a missing moment (frame 8: the person not tracked then) is not replaced by a neighbour:
    # frame 14 averages frames 14 and 2, frame 20 frames 20 and 14
    gappy = np.delete(np.arange(30), [8])
    np.testing.assert_allclose(
        track_scores(gappy / 15.0, gappy.astype(float), 1.0, every_s=0.4)[[13, 19]], [8, 17]
    )


@pytest.mark.parametrize("every_s", [0.0, 0.4])
def test_only_moments_that_count_are_averaged_and_none_gives_nan(every_s: float) -> None:
    ts = np.round(np.arange(10) * 0.4, 6)
    raw = np.asarray([0.9, 0.9, 0.9, 0.9, 0.2, 0.4, 0.6, 0.9, 0.9, 0.9])
    counted = ts >= 1.6  # the track is old enough from 1.6 s on
    out = track_scores(ts, raw, 1.0, every_s=every_s, counted=counted)
    assert np.isnan(out[:4]).all()  # nothing counts yet: no score, not the young moments'
    np.testing.assert_allclose(out[4:], [0.2, 0.3, 0.4, 1.9 / 3, 0.8, 0.9])
    with pytest.raises(ValueError, match="counted"):
        track_scores(ts, raw, 1.0, counted=counted[:3])


def test_the_alerting_score_is_calibrated_and_zero_where_nothing_counts() -> None:
    calibration = Calibration((0.0, 1.0), (0.1, 0.5))
    np.testing.assert_allclose(alerting_scores([np.nan, 0.0, 1.0], calibration), [0, 0.1, 0.5])


BOX = np.asarray([100, 100, 200, 300], np.float32)


@pytest.mark.parametrize(
    ("gap_s", "shift_px", "continued"),
    [
        (0.2, 0.0, True),  # the same place a moment later: an id switch
        (1.0, 30.0, True),  # within a second, the box still overlapping (IoU 0.54)
        (1.2, 0.0, False),  # too long after
        (0.2, 80.0, False),  # elsewhere (IoU 0.11)
        (0.0, 0.0, False),  # both seen at once: two people
        (-0.4, 0.0, False),  # the other was seen after this one started
    ],
)
def test_a_track_continues_one_that_vanished_just_before_where_it_appears(
    gap_s: float, shift_px: float, continued: bool
) -> None:
    shifted = BOX + np.asarray([shift_px, 0, shift_px, 0], np.float32)
    fit = continues([10.0], BOX[None], 10.0 + gap_s, shifted)
    assert (fit[0] > 0) == continued
    assert fit[0] == (pytest.approx(box_iou(BOX[None], shifted)[0]) if continued else 0.0)


def track(track_id: int, start_s: float, end_s: float, box: np.ndarray = BOX) -> TrackHistory:
    ts = np.round(np.arange(start_s, end_s + 1e-9, 0.2), 6)
    return TrackHistory(
        track_id,
        ts,
        np.repeat(box[None], len(ts), 0).astype(np.float32),
        np.zeros((len(ts), NUM_KEYPOINTS, 2), np.float32),
        np.ones((len(ts), NUM_KEYPOINTS), np.float32),
    )


def test_first_sight_is_inherited_across_id_switches_once_and_in_chains() -> None:
    far = BOX + np.asarray([500, 0, 500, 0], np.float32)
    tracks = [
        track(1, 0.0, 3.0),  # the person ...
        track(2, 3.4, 6.0),  # ... under a new id 0.4 s later: seen since 0.0
        track(3, 6.2, 8.0),  # ... and again: still since 0.0
        track(4, 3.4, 5.0),  # a second new id where 1 vanished: 1 passed its age on already
        track(5, 3.2, 4.0, far),  # someone elsewhere
        track(6, 9.5, 10.0),  # 1.5 s after 3 vanished: a new person
    ]
    np.testing.assert_allclose(first_seen(tracks), [0.0, 0.0, 0.0, 3.4, 3.2, 9.5])
    assert first_seen([]).shape == (0,)
