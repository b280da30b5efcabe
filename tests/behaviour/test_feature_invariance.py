"""What must not change the features: where the person is in the frame, how big, the frame
rate, absolute time, history older than the window, and a joint missing now and then.
Every test compares whole rows of the default spec: all its windows (1, 3 and 6 s)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from server.behaviour.features import DEFAULT_SPEC, FEATURE_NAMES, batch_features
from server.records.people import NUM_KEYPOINTS, TrackHistory
from tests.behaviour.motion import at_fps, moved, shopping

ENDS = np.asarray([2.4, 3.0, 3.4, 4.0])  # window ends (seconds) at which rows are compared
NAMES = DEFAULT_SPEC.feature_names
SPEEDS = [i for i, n in enumerate(NAMES) if "speed" in n or "rate" in n]


def rows(history: TrackHistory, ends: npt.NDArray[np.float64] = ENDS) -> npt.NDArray[np.float32]:
    """The history's feature rows for windows ending at `ends`."""
    return batch_features([history], [ends])


@pytest.fixture(scope="module")
def reference() -> npt.NDArray[np.float32]:
    """Rows of the shopping motion filmed at 15 fps, as PoseLift is."""
    return rows(shopping(at_fps(15)))


def test_reference_motion_exercises_the_features(reference: npt.NDArray[np.float32]) -> None:
    """Guards the tests below against comparing rows of fill values."""
    fill = rows(shopping(at_fps(15)), np.asarray([-10.0]))  # a window before the track
    known = (reference != fill).any(axis=0)
    names = {n.removesuffix("@3s") for n, k in zip(NAMES, known, strict=True) if k and "@3s" in n}
    unused = {
        "wrist_hidden_frac",
        "wrist_chest_frac",
        "hands_together_frac",
        "torso_lean_mean",
        "torso_lean_max",
        "box_height_change",
    }  # the motion keeps these at 0
    assert names == set(FEATURE_NAMES) - unused


@pytest.mark.parametrize("shift", [(350.0, -90.0), (-400.0, 1200.0)])
def test_position_in_the_frame(
    reference: npt.NDArray[np.float32], shift: tuple[float, float]
) -> None:
    np.testing.assert_allclose(rows(moved(shopping(at_fps(15)), shift=shift)), reference, atol=1e-4)


@pytest.mark.parametrize("scale", [0.3, 2.5])
def test_size_in_the_frame(reference: npt.NDArray[np.float32], scale: float) -> None:
    np.testing.assert_allclose(rows(moved(shopping(at_fps(15)), scale=scale)), reference, atol=1e-4)


def test_absolute_time(reference: npt.NDArray[np.float32]) -> None:
    delayed = moved(shopping(at_fps(15)), dt=1_764_000_000.0)  # wall-clock seconds
    np.testing.assert_allclose(rows(delayed, ENDS + 1_764_000_000.0), reference, atol=1e-4)


@pytest.mark.parametrize("fps", [5.0, 10.0, 30.0])
def test_frame_rate(reference: npt.NDArray[np.float32], fps: float) -> None:
    """The same motion filmed at another rate; frames fall on the 0.2 s grid."""
    np.testing.assert_allclose(rows(shopping(at_fps(fps))), reference, atol=1e-4)


def test_frame_rate_with_jittered_frames() -> None:
    """5 fps frames up to 50 ms off the grid: rows agree within what 5 fps can resolve (a
    share may differ by a grid time, a peak speed by a few percent)."""
    jitter = (
        np.asarray(
            [0, 31, -44, 12, 47, -8, -27, 40, 3, -49, 22, 35, -15, 9, -38, 44, -21, 18, -5, 29, 0],
            np.float64,
        )
        / 1000
    )
    ts = at_fps(5) + jitter
    ends = ts[[-5, -3, -1]]
    fine_ts = np.union1d(at_fps(30), ends)  # live, a window ends on a frame: here too
    fine, coarse = rows(shopping(fine_ts), ends), rows(shopping(ts), ends)
    slow = np.setdiff1d(np.arange(len(NAMES)), SPEEDS)
    np.testing.assert_allclose(coarse[:, slow], fine[:, slow], atol=0.07)  # a grid time (1/16)
    np.testing.assert_allclose(coarse[:, SPEEDS], fine[:, SPEEDS], rtol=0.1, atol=0.02)


def test_history_before_the_window_is_ignored() -> None:
    """Live tracks keep only the last few seconds (the longest window); training tracks
    keep everything."""
    full = shopping(at_fps(15, end_s=9.0))
    ends = np.asarray([6.4, 7.0, 9.0])
    everything = rows(full, ends)
    for i, end in enumerate(ends):
        keep = (full.ts > end - DEFAULT_SPEC.window_s - 0.01) & (full.ts <= end)
        assert keep.sum() < len(full)
        recent = TrackHistory(
            1, full.ts[keep], full.xyxy[keep], full.keypoints[keep], full.keypoint_conf[keep]
        )
        np.testing.assert_allclose(rows(recent, ends[i : i + 1])[0], everything[i], atol=1e-6)


def without(history: TrackHistory, joint: int, frames: slice) -> TrackHistory:
    """`history` with `joint` under `min_conf` in `frames`, and its coordinates there
    thrown away (moved to the image's corner), so that using them would show."""
    conf, kp = history.keypoint_conf.copy(), history.keypoints.copy()
    conf[frames, joint] = 0.1
    kp[frames, joint] = 0.0
    return TrackHistory(history.track_id, history.ts, history.xyxy, kp, conf)


@pytest.mark.parametrize("joint", range(NUM_KEYPOINTS))
@pytest.mark.parametrize(("fps", "every"), [(15.0, 2), (5.0, 3)])
def test_joint_missing_now_and_then(
    reference: npt.NDArray[np.float32], joint: int, fps: float, every: int
) -> None:
    """A joint unknown in every other (15 fps) or every third (5 fps) frame is filled in
    (windows ending on a frame where it is known: see the test below). Rates over the 1 s
    window (5 steps) feel the interpolation more: a looser bound."""
    history = without(shopping(at_fps(fps)), joint, slice(1, None, every))
    known_at_end = np.isin(np.rint(ENDS * fps), np.arange(0, 100, every))
    assert known_at_end.sum() >= 2
    masked = rows(history, ENDS[known_at_end])
    expected = reference[known_at_end]
    short = np.asarray([i in SPEEDS and n.endswith("@1s") for i, n in enumerate(NAMES)])
    np.testing.assert_allclose(masked[:, ~short], expected[:, ~short], rtol=0.05, atol=0.03)
    np.testing.assert_allclose(masked[:, short], expected[:, short], rtol=0.3, atol=0.03)


@pytest.mark.parametrize("fps", [15.0, 5.0])
def test_a_window_never_sees_frames_after_its_end(fps: float) -> None:
    """Rows are causal, as live (where later frames have not happened): a wrist unknown in
    a window's last frame stays unknown there rather than being filled in from the next
    frame, so a training row equals the row of the track cut at the window's end."""
    history = without(shopping(at_fps(fps, end_s=5.0)), 10, slice(1, None, 2))
    ends = history.ts[[30, 33, 45, 48]] if fps == 15.0 else history.ts[[15, 16, 19, 20]]
    whole = rows(history, ends)
    for row, end in enumerate(ends):
        keep = history.ts <= end
        cut = TrackHistory(
            1,
            history.ts[keep],
            history.xyxy[keep],
            history.keypoints[keep],
            history.keypoint_conf[keep],
        )
        np.testing.assert_array_equal(rows(cut, np.asarray([end]))[0], whole[row])


def test_one_wrist_missing_when_the_hands_mirror_each_other() -> None:
    """Hand features take the known wrist: with mirrored arms, losing one changes nothing
    but the share of hidden wrists."""
    both = shopping(at_fps(15), mirror_hands=True, walk_px_s=0.0)
    full, one = rows(both), rows(without(both, 9, slice(None)))  # the left wrist, always
    hidden = np.asarray(["wrist_hidden_frac@" in n for n in NAMES])
    np.testing.assert_array_equal(one[:, hidden], 0.5)
    together = ["hands_together_frac@" in n for n in NAMES]
    assert (full[:, together] == 0).all()  # hands apart
    others = ~hidden
    np.testing.assert_allclose(one[:, others], full[:, others], atol=1e-5)
