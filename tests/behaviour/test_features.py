"""Window features: shapes, values on literal poses, gaps, and no NaN/inf on hostile input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from server.behaviour.features import (
    DEFAULT_SPEC,
    FEATURE_NAMES,
    FeatureSpec,
    batch_features,
    window_features,
)
from server.records.people import NUM_KEYPOINTS, TrackHistory
from tests.behaviour.motion import STANDING, at_fps, moved, shopping, still
from training.poselift import load_split

MINI = Path(__file__).parents[1] / "data" / "poselift_mini"
F = len(FEATURE_NAMES)
THREE = FeatureSpec(windows_s=(3.0,))  # one 3 s window: a row is FEATURE_NAMES in order
TORSO = float(np.hypot(540 - 525, 250 - 350))  # STANDING's shoulder-to-hip length, px


def one_window(
    history: TrackHistory, end_ts: float, spec: FeatureSpec = THREE
) -> npt.NDArray[np.float32]:
    return window_features(history, end_ts, spec)


def one_batch(
    histories: list[TrackHistory], end_ts: object = None, spec: FeatureSpec = THREE
) -> npt.NDArray[np.float32]:
    return batch_features(histories, end_ts, spec)  # type: ignore[arg-type]


def col(row: npt.NDArray[np.float32], name: str) -> float:
    """The named feature of one row."""
    return float(row[FEATURE_NAMES.index(name)])


def empty_history() -> TrackHistory:
    """A track with no frames."""
    return TrackHistory(
        track_id=1,
        ts=np.zeros(0),
        xyxy=np.zeros((0, 4), np.float32),
        keypoints=np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
        keypoint_conf=np.zeros((0, NUM_KEYPOINTS), np.float32),
    )


UNKNOWN_ROW = one_window(empty_history(), 0.0)  # every feature at its fill value


def test_names_are_unique_and_the_fill_row_is_documented() -> None:
    assert len(set(FEATURE_NAMES)) == F == 32
    fills = dict(zip(FEATURE_NAMES, UNKNOWN_ROW.tolist(), strict=True))
    assert fills["seen_frac"] == 0.0
    assert fills["wrist_pocket_dist_min"] == -1.0  # 0 would mean "hand in the pocket"
    assert fills["since_reach_s"] == 3.0  # no reach in the window
    assert set(fills.values()) == {-1.0, 0.0, 3.0}


def test_shapes() -> None:
    a, b = shopping(at_fps(15)), shopping(at_fps(5), track_id=2)
    row = one_window(a, 4.0)
    assert row.shape == (F,)
    assert row.dtype == np.float32
    rows = one_batch([a, empty_history(), b], [[3.0, 4.0], [], np.asarray([2.5])])
    assert rows.shape == (3, F)
    assert one_batch([a, b]).shape == (len(a) + len(b), F)  # a row per frame
    assert one_batch([]).shape == (0, F)
    with pytest.raises(ValueError, match="end_ts: 1 arrays for 2 tracks"):
        one_batch([a, b], [[4.0]])
    with pytest.raises(ValueError, match="end_ts: must be finite"):
        one_window(a, float("nan"))


def test_tracks_in_one_batch_do_not_mix() -> None:
    """Tracks at the same times (and one at Unix times) give the rows they give alone."""
    a = shopping(at_fps(15))
    b = still(at_fps(5), px_s=(100, 0))
    c = moved(a, dt=1.7e9)  # a, but at wall-clock seconds
    ends = [np.asarray([1.0, 3.0, 4.0]), np.asarray([0.4, 4.0]), 1.7e9 + np.asarray([3.0])]
    rows = one_batch([a, b, c], ends)
    alone = np.concatenate([one_batch([h], [e]) for h, e in zip([a, b, c], ends, strict=True)])
    np.testing.assert_allclose(rows, alone, atol=1e-5)
    np.testing.assert_allclose(rows[-1], rows[1], atol=1e-5)  # time of day does not matter


@pytest.mark.parametrize(
    ("history", "end_ts", "expected"),
    [
        # standing still: everything seen, nothing moves, arms hang (no reach, no pocket)
        (
            still(at_fps(5)),
            3.0,
            {
                "seen_frac": 1.0,
                "wrist_hidden_frac": 0.0,
                "wrist_pocket_frac": 0.0,
                "reach_out_frac": 0.0,
                "since_reach_s": 3.0,
                "wrist_speed_max": 0.0,
                "torso_lean_max": 0.0,
                "shoulder_width": 80 / TORSO,
                "leg_extent": 200 / TORSO,
                "head_drop_mean": -50 / TORSO,
                "box_aspect": 380 / 120,
                "box_speed_mean": 0.0,
                "still_frac": 1.0,
            },
        ),
        # walking right at 100 px/s: the box moves 100/380 box heights per second
        (
            still(at_fps(5), px_s=(100, 0)),
            4.0,
            {
                "box_speed_mean": 100 / 380,
                "box_net_disp": 300 / 380,
                "still_frac": 0.0,
                "wrist_speed_mean": 100 / TORSO,  # the hands move with the body
            },
        ),
        # the first second of a track: 6 of the window's 16 grid times are in it
        (still(at_fps(5)), 1.0, {"seen_frac": 6 / 16, "box_speed_max": 0.0}),
        # reach to the shelf and on to the pocket: out until 2.0 s, then 1.2 s near the body
        (
            shopping(at_fps(15)),
            4.0,
            {
                "reach_out_frac": 6 / 16,
                "since_reach_s": 2.0,
                "near_body_after_reach_s": 1.2,
                "wrist_height_max": (350 - 240) / TORSO,
                "wrist_pocket_dist_min": np.hypot(3, 2) / TORSO,
            },
        ),
    ],
)
def test_values_on_literal_poses(
    history: TrackHistory, end_ts: float, expected: dict[str, float]
) -> None:
    row = one_window(history, end_ts)
    got = {name: col(row, name) for name in expected}
    assert got == pytest.approx(expected, abs=0.01)


def test_hand_at_the_pocket_and_hands_together() -> None:
    pockets = STANDING.copy()
    pockets[[9, 10]] = pockets[[11, 12]] + [[-5, 5], [5, 5]]  # front pockets: just inside the hips
    row = one_window(still(at_fps(5), pockets), 3.0)
    assert col(row, "wrist_pocket_frac") == 1.0
    assert col(row, "wrist_waist_frac") == 1.0  # 0.28 torso lengths from the waist point
    assert col(row, "hands_together_frac") == 0.0
    together = STANDING.copy()
    together[[9, 10]] = [[505, 300], [495, 300]]  # both hands at the chest
    row = one_window(still(at_fps(5), together), 3.0)
    assert col(row, "hands_together_frac") == 1.0
    assert col(row, "wrist_chest_frac") == 1.0
    assert col(row, "wrist_pocket_frac") == 0.0


def test_head_turns_and_lean() -> None:
    turning = shopping(at_fps(15))
    assert col(one_window(turning, 3.0), "head_yaw_std") == pytest.approx(
        12 / np.sqrt(2) / TORSO, rel=0.1
    )  # a sine of 12 px swings with a std of 12/sqrt(2)
    bent = STANDING.copy()
    bent[:11] += [100, 0]  # the upper body leans sideways: shoulders 100 px off the hips
    row = one_window(still(at_fps(5), bent), 3.0)
    assert col(row, "torso_lean_mean") == pytest.approx(np.pi / 4, abs=0.02)


def test_gaps_in_the_track() -> None:
    ts = at_fps(5)
    one_missed = ts[ts != 2.0]  # a 0.4 s gap: filled in
    assert col(one_window(still(one_missed), 3.0), "seen_frac") == 1.0
    long_gap = ts[(ts < 1.0) | (ts > 2.0)]  # 0.8 to 2.2 s: grid times 1.0 .. 2.0 unseen
    assert col(one_window(still(long_gap), 3.0), "seen_frac") == pytest.approx(10 / 16)


def test_hidden_wrist() -> None:
    """A wrist under `min_conf` is unknown; at exactly `min_conf` it is known."""
    h = still(at_fps(5))
    conf = h.keypoint_conf.copy()
    conf[:, 9] = 0.29  # the left wrist, always
    row = one_window(moved(h, conf=conf), 3.0)
    assert col(row, "wrist_hidden_frac") == 0.5
    conf[:, 9] = 0.3
    assert col(one_window(moved(h, conf=conf), 3.0), "wrist_hidden_frac") == 0.0


def _hostile() -> list[tuple[str, TrackHistory, float]]:
    h = shopping(at_fps(15))
    no_conf = moved(h, conf=np.zeros_like(h.keypoint_conf))
    point = TrackHistory(
        1, h.ts, np.zeros_like(h.xyxy), np.zeros_like(h.keypoints), h.keypoint_conf
    )  # everyone at (0, 0), boxes of no size
    nan_kp = h.keypoints.copy()
    nan_kp[::2] = np.nan  # NaN coordinates that claim a high confidence
    nan_coords = TrackHistory(1, h.ts, h.xyxy, nan_kp, h.keypoint_conf)
    return [
        ("no joint confident", no_conf, 4.0),
        ("all at one point", point, 4.0),
        ("NaN coordinates", nan_coords, 4.0),
        ("one frame", still([2.0]), 2.0),
        ("before the track", h, -5.0),
        ("long after the track", h, 60.0),
        ("huge coordinates", moved(h, scale=1e6), 4.0),
        ("tiny person", moved(h, scale=1e-3), 4.0),
        ("no frames", empty_history(), 1.0),
    ]


@pytest.mark.parametrize(("case", "history", "end_ts"), _hostile(), ids=[c[0] for c in _hostile()])
def test_always_finite(case: str, history: TrackHistory, end_ts: float) -> None:
    row = window_features(history, end_ts)  # every window of the default spec
    names = DEFAULT_SPEC.feature_names
    assert np.isfinite(row).all(), dict(zip(names, row.tolist(), strict=True))


def test_a_row_holds_each_window_as_if_computed_alone() -> None:
    """The default row is the 1, 3 and 6 s windows side by side (the 6 s one on 0.4 s steps),
    each exactly what a spec of that window alone gives, on a track longer and shorter than
    the longest window."""
    tracks = [shopping(at_fps(15, end_s=9.0)), moved(still(at_fps(5), px_s=(40.0, 0.0)), dt=0.0)]
    ends = [np.asarray([0.5, 2.0, 6.2, 9.0]), np.asarray([1.0, 4.0])]
    row = batch_features(tracks, ends)
    assert row.shape == (6, 3 * F)
    assert DEFAULT_SPEC.feature_names[F] == "seen_frac@3s"
    for number, window in enumerate(DEFAULT_SPEC.windows_s):
        alone = batch_features(tracks, ends, FeatureSpec(windows_s=(window,)))
        np.testing.assert_allclose(row[:, number * F : (number + 1) * F], alone, atol=1e-6)
    seen = [DEFAULT_SPEC.column("seen_frac", w) for w in DEFAULT_SPEC.windows_s]
    np.testing.assert_allclose(row[2, seen], 1.0)  # 6.2 s into the track: all windows full
    np.testing.assert_allclose(row[1, seen], [1.0, 11 / 16, 6 / 16])  # 2 s in (6 s: 0.4 s steps)


def test_nothing_known_gives_the_fill_row() -> None:
    h = shopping(at_fps(15))
    np.testing.assert_array_equal(one_window(h, -5.0), UNKNOWN_ROW)
    np.testing.assert_array_equal(one_window(h, 60.0), UNKNOWN_ROW)
    no_conf = one_window(moved(h, conf=np.zeros_like(h.keypoint_conf)), 4.0)
    assert col(no_conf, "wrist_hidden_frac") == 1.0
    assert col(no_conf, "wrist_pocket_dist_min") == -1.0
    assert col(no_conf, "box_speed_mean") == pytest.approx(20 / 380, abs=1e-4)  # box still known


def test_spec_is_checked() -> None:
    assert THREE.n_grid == 16 and THREE.strides == (1,)
    assert DEFAULT_SPEC.grids == (6, 16, 16) and DEFAULT_SPEC.strides == (1, 1, 2)
    assert FeatureSpec(windows_s=(1.0,), step_s=0.1).n_grid == 11
    with pytest.raises(ValueError, match=r"3.0 s is not a whole number of its 0.4 s steps"):
        FeatureSpec(windows_s=(3.0,), max_grid=9)
    with pytest.raises(ValueError, match="windows_s: each must be a whole number"):
        FeatureSpec(windows_s=(1.1,), step_s=0.2)
    with pytest.raises(ValueError, match="distinct and ascending"):
        FeatureSpec(windows_s=(3.0, 1.0))
    with pytest.raises(ValueError, match="distinct and ascending"):
        FeatureSpec(windows_s=())
    with pytest.raises(ValueError, match="step_s: must be positive"):
        FeatureSpec(step_s=0)
    with pytest.raises(ValueError, match="min_conf"):
        FeatureSpec(min_conf=1.5)
    short = FeatureSpec(windows_s=(1.0,))
    row = one_window(still(at_fps(5)), 3.0, short)
    assert col(row, "since_reach_s") == 1.0


def test_real_poselift_rows() -> None:
    """A row per pose of the mini release, finite, and each the row of its own window."""
    tracks = [t for split in ("Train", "Test") for v in load_split(MINI, split) for t in v.tracks]
    rows = one_batch(tracks)
    assert rows.shape == (sum(len(t) for t in tracks), F)
    assert np.isfinite(rows).all()
    last = len(tracks[0]) - 1
    np.testing.assert_array_equal(rows[last], one_window(tracks[0], tracks[0].ts[-1]))
    assert col(rows[last], "seen_frac") == pytest.approx(3 / 16)  # 7 frames at 15 fps: 0.4 s
