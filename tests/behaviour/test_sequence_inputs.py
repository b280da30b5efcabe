"""The temporal model's inputs: what each channel holds for a literal person, what must not
change them (place and size in the frame, frame rate, absolute time), and that a window
only sees poses up to its end, so training's windows over whole tracks equal the live
tracker's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from server.behaviour.sequence import (
    CHANNELS,
    DEFAULT_SEQUENCE_SPEC,
    SequenceSpec,
    sequence_inputs,
)
from server.records.people import NUM_KEYPOINTS, TrackHistory
from tests.behaviour.motion import STANDING, at_fps, moved, shopping, still
from training.poselift import load_split

SPEC = DEFAULT_SEQUENCE_SPEC
ENDS = np.asarray([3.8, 5.0, 6.0])  # window ends, each with a full window of the track
MINI = Path(__file__).parents[1] / "data" / "poselift_mini"


def channel(name: str) -> int:
    return CHANNELS.index(name)


def inputs(history: TrackHistory, ends: npt.ArrayLike = ENDS) -> npt.NDArray[np.float32]:
    return sequence_inputs([history], [np.asarray(ends, np.float64)])


def until(history: TrackHistory, end: float, keep_s: float) -> TrackHistory:
    """The history as the live tracker holds it at `end`: its last `keep_s` seconds."""
    inside = (history.ts <= end + 1e-9) & (history.ts >= end - keep_s - 1e-9)
    return TrackHistory(
        history.track_id,
        history.ts[inside],
        history.xyxy[inside],
        history.keypoints[inside],
        history.keypoint_conf[inside],
    )


def test_shape_and_the_channels_of_a_person_standing_still() -> None:
    x = inputs(still(at_fps(15, 6.0)))
    assert x.shape == (3, len(CHANNELS), SPEC.steps) and x.dtype == np.float32
    torso = float(np.linalg.norm(STANDING[5] - STANDING[11]))  # shoulder to hip, ~101 px
    hip_centre = STANDING[11:13].mean(axis=0)
    np.testing.assert_allclose(x[:, channel("nose_x")], 0.0, atol=1e-5)
    np.testing.assert_allclose(
        x[:, channel("nose_y")], (STANDING[0, 1] - hip_centre[1]) / torso, rtol=1e-5
    )
    np.testing.assert_allclose(
        x[:, channel("right_wrist_x")], (STANDING[10, 0] - hip_centre[0]) / torso, rtol=1e-5
    )
    assert (x[:, [channel(f"{p}_known") for p in ("nose", "left_ankle")]] == 1).all()
    assert (x[:, channel("box_seen")] == 1).all()
    np.testing.assert_allclose(x[:, channel("box_h")], 380 / torso, rtol=1e-5)
    velocities = [i for i, name in enumerate(CHANNELS) if "_v" in name]
    np.testing.assert_allclose(x[:, velocities], 0.0, atol=1e-5)
    np.testing.assert_allclose(x[:, [channel("box_x"), channel("box_y")]], 0.0, atol=1e-5)


def test_motion_shows_in_velocities_and_the_box_path() -> None:
    x = inputs(still(at_fps(15, 6.0), px_s=(50.0, 0.0)))
    torso = float(np.linalg.norm(STANDING[5] - STANDING[11]))
    # every step after the first moved 50 px/s, the first step has no previous one
    np.testing.assert_allclose(x[:, channel("right_wrist_vx"), 1:], 50 / torso, rtol=1e-4)
    np.testing.assert_allclose(x[:, channel("right_wrist_vx"), 0], 0.0)
    np.testing.assert_allclose(x[:, channel("box_vy"), 1:], 0.0, atol=1e-5)
    # the box's path ends where it is now: (steps - 1) steps of 0.2 s behind at the start
    path = x[:, channel("box_x")]
    np.testing.assert_allclose(path[:, -1], 0.0, atol=1e-5)
    np.testing.assert_allclose(path[:, 0], -50 * 0.2 * (SPEC.steps - 1) / torso, rtol=1e-4)


def test_a_track_that_began_a_second_ago_has_unseen_steps_before() -> None:
    x = inputs(still(at_fps(15, 1.0) + 5.0), [6.0])[0]
    seen = x[channel("box_seen")]
    assert seen[-6:].tolist() == [1.0] * 6 and seen[:-6].tolist() == [0.0] * (SPEC.steps - 6)
    assert (x[:, :-6] == 0).all()  # every channel of an unseen step is 0


def test_a_window_with_nobody_is_all_zeros() -> None:
    assert (inputs(still(at_fps(15, 2.0)), [30.0]) == 0).all()


@pytest.mark.parametrize(
    ("scale", "shift", "dt"), [(0.4, (300.0, -80.0), 0.0), (2.5, (-900.0, 1500.0), 1.764e9)]
)
def test_place_size_and_absolute_time_do_not_change_the_inputs(
    scale: float, shift: tuple[float, float], dt: float
) -> None:
    reference = inputs(shopping(at_fps(15, 6.0)))
    assert np.abs(reference).max() > 1  # the motion exercises the channels
    changed = inputs(moved(shopping(at_fps(15, 6.0)), scale=scale, shift=shift, dt=dt), ENDS + dt)
    np.testing.assert_allclose(changed, reference, atol=2e-3)


def test_the_frame_rate_changes_the_inputs_little() -> None:
    """5 fps live and 15 fps in training sample the same motion onto the same grid."""
    fast, slow = inputs(shopping(at_fps(15, 6.0))), inputs(shopping(at_fps(5, 6.0)))
    np.testing.assert_allclose(slow, fast, atol=1e-4)


def test_a_joint_unknown_now_is_not_filled_in_from_the_future() -> None:
    """The right wrist is under `min_conf` around t = 3 s: live, at 3 s, it has not come
    back yet; a window over the whole track must not know better."""
    history = shopping(at_fps(15, 6.0))
    conf = history.keypoint_conf.copy()
    conf[(history.ts > 2.85) & (history.ts < 3.15), 10] = 0.1
    history = moved(history, conf=conf)
    whole = inputs(history, [3.0])
    live = inputs(until(history, 3.0, SPEC.history_s), [3.0])
    np.testing.assert_array_equal(whole, live)
    assert whole[0, channel("right_wrist_known"), -1] == 0.0
    assert whole[0, channel("right_wrist_known"), -2] == 1.0
    # a second later both sides of the gap are known: the gap is filled in
    later = inputs(history, [4.0])[0, channel("right_wrist_known")]
    assert (later == 1.0).all()


def test_windows_over_poselift_tracks_equal_the_live_trackers() -> None:
    """A window at every pose of a PoseLift track, over the whole track, equals one over
    the history the live tracker would hold then (its last `history_s` seconds)."""
    (video,) = load_split(MINI, "Test")
    track = max(video.tracks, key=len)
    every = sequence_inputs([track])
    assert every.shape == (len(track), len(CHANNELS), SPEC.steps)
    live = sequence_inputs(
        [until(track, float(t), SPEC.history_s) for t in track.ts], [[t] for t in track.ts]
    )
    np.testing.assert_array_equal(every, live)
    assert (every[:, channel("box_seen")] == 1).any() and np.isfinite(every).all()


def test_values_are_clipped() -> None:
    history = still(at_fps(15, 6.0))
    jumpy = history.keypoints.copy()
    jumpy[45, 9] += 5000.0  # the left wrist jumps far away for a frame
    x = sequence_inputs(
        [TrackHistory(1, history.ts, history.xyxy, jumpy, history.keypoint_conf)],
        [[3.0, 3.2]],
        SequenceSpec(clip=4.0),
    )
    assert np.abs(x).max() == 4.0


def test_many_tracks_at_once_equal_one_at_a_time() -> None:
    people = [shopping(at_fps(15, 6.0)), still(at_fps(5, 6.0), px_s=(10.0, 5.0))]
    ends = [np.asarray([2.0, 5.0]), np.asarray([4.0])]
    together = sequence_inputs(people, ends)
    apart = np.concatenate([sequence_inputs([p], [e]) for p, e in zip(people, ends, strict=True)])
    np.testing.assert_array_equal(together, apart)
    assert sequence_inputs([], []).shape == (0, len(CHANNELS), SPEC.steps)
    with pytest.raises(ValueError, match="end_ts"):
        sequence_inputs(people, ends[:1])


def test_spec_bounds() -> None:
    assert SPEC.window_s == pytest.approx(4.0) and SPEC.history_s == pytest.approx(4.3)
    for bad in ({"steps": 1}, {"step_s": 0.0}, {"min_conf": 1.5}, {"clip": 0.0}):
        with pytest.raises(ValueError):
            SequenceSpec(**bad)
    assert NUM_KEYPOINTS * 5 + 7 == len(CHANNELS)
