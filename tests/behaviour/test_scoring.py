"""Track smoothing in seconds and the calibration map, on literal arrays."""

from __future__ import annotations

import numpy as np
import pytest

from server.behaviour.scoring import Calibration, track_scores


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
