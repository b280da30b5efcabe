"""PoseLift loader on real files: y/x swap, NaN confidence, GT longer than the poses, and a
clear error naming the file for everything malformed."""

from __future__ import annotations

import logging
import pickle
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from server.behaviour.features import FeatureSpec
from server.records.people import TrackHistory
from training.poselift import (
    POSELIFT_FPS,
    UNKNOWN_CONF,
    PoseLiftFormatError,
    PoseLiftVideo,
    load_split,
    load_video,
    split_files,
)

MINI = Path(__file__).parents[1] / "data" / "poselift_mini"
RELEASE = Path(__file__).parents[3] / "shared" / "data" / "poselift"  # ../shared beside the repo
needs_release = pytest.mark.skipif(
    not (RELEASE / "Train").is_dir(), reason=f"PoseLift not found at {RELEASE}"
)


RawPoses = dict[int, dict[int, tuple[list[float], npt.NDArray[np.float16]]]]


def _raw(path: Path) -> RawPoses:
    """The pickle as plain `pickle` reads it (a file we trust), to compare with."""
    with path.open("rb") as f:
        data: RawPoses = pickle.load(f)
    return data


def _inside_box(track: TrackHistory) -> float:
    """Share of keypoints within their box (1 px of slack)."""
    x, y, box = track.keypoints[..., 0], track.keypoints[..., 1], track.xyxy[:, None]
    inside = (x >= box[..., 0] - 1) & (x <= box[..., 2] + 1)
    inside &= (y >= box[..., 1] - 1) & (y <= box[..., 3] + 1)
    return float(inside.mean())


def test_train_video_tracks_and_times() -> None:
    video = load_video(MINI / "Train" / "2_96.pkl")
    assert (video.name, video.camera, video.fps, video.n_frames) == ("2_96", 2, 15.0, 481)
    assert video.labels is None
    assert video.gt_frames_dropped == 0
    (track,) = video.tracks  # 474 empty frames, then one person in the last 7
    assert track.track_id == 9
    np.testing.assert_array_equal(video.frames(track), np.arange(474, 481))
    np.testing.assert_allclose(track.ts, np.arange(474, 481) / POSELIFT_FPS)


def test_keypoints_are_swapped_from_y_x_to_x_y() -> None:
    path = MINI / "Test" / "5_299.pkl"
    raw_box, raw_kp = _raw(path)[3][1]
    (track,) = load_video(path).tracks
    np.testing.assert_array_equal(track.xyxy[3], np.asarray(raw_box, np.float32))
    np.testing.assert_array_equal(track.keypoints[3, :, 0], raw_kp[:, 1])
    np.testing.assert_array_equal(track.keypoints[3, :, 1], raw_kp[:, 0])
    # and the result is a person: inside the box, shoulders side by side, ankles below the nose
    swapped = track.keypoints[..., ::-1].copy()
    as_read = _inside_box(track)
    assert as_read > 0.8
    assert as_read > 0.2 + _inside_box(
        TrackHistory(track.track_id, track.ts, track.xyxy, swapped, track.keypoint_conf)
    )
    shoulder_spread = np.abs(track.keypoints[:, 5] - track.keypoints[:, 6])  # (T, 2) |dx|, |dy|
    assert np.median(shoulder_spread[:, 0]) > 3 * np.median(shoulder_spread[:, 1])
    assert (track.keypoints[:, 15:, 1].mean(axis=1) > track.keypoints[:, 0, 1]).mean() >= 0.8


def test_nan_confidence_becomes_unknown_conf_and_keeps_the_coordinates() -> None:
    path = MINI / "Train" / "2_96.pkl"
    raw = _raw(path)
    nan_frames = [
        f for f, people in raw.items() for _, kp in people.values() if np.isnan(kp[:, 2]).all()
    ]
    assert nan_frames == [475, 477]  # interpolated poses, between detected ones
    (track,) = load_video(path).tracks
    frames = list(load_video(path).frames(track))
    for f in nan_frames:
        row = frames.index(f)
        np.testing.assert_array_equal(track.keypoint_conf[row], np.full(17, UNKNOWN_CONF))
        np.testing.assert_array_equal(track.keypoints[row, :, 0], raw[f][9][1][:, 1])
    assert np.isfinite(track.keypoint_conf).all()
    assert UNKNOWN_CONF >= FeatureSpec().min_conf  # so the features use these poses
    detected = track.keypoint_conf[[frames.index(f) for f in frames if f not in nan_frames]]
    assert not (detected == UNKNOWN_CONF).all(axis=1).any()


def test_gt_longer_than_poses_is_trimmed_and_said(caplog: pytest.LogCaptureFixture) -> None:
    gt = MINI / "GT" / "5_299.npy"
    with caplog.at_level(logging.INFO, logger="training.poselift"):
        video = load_video(MINI / "Test" / "5_299.pkl", gt)
    assert video.n_frames == 15
    assert video.gt_frames_dropped == 2
    assert video.labels is not None
    assert video.labels.dtype == np.int8
    np.testing.assert_array_equal(video.labels, np.load(gt)[:15])
    assert f"{gt}: dropped 2 GT labels after the last pose frame" in caplog.text


def test_split_of_the_mini_release() -> None:
    assert split_files(MINI, "Test") == [(MINI / "Test" / "5_299.pkl", MINI / "GT" / "5_299.npy")]
    (train,) = load_split(MINI, "Train")
    (test,) = load_split(MINI, "Test")
    assert (train.name, train.labels) == ("2_96", None)
    assert test.labels is not None
    assert test.labels.tolist() == [0] + [1] * 10 + [0] * 4


def _split_copy(tmp_path: Path) -> Path:
    shutil.copytree(MINI, tmp_path / "split")
    return tmp_path / "split"


def test_missing_gt_names_the_file(tmp_path: Path) -> None:
    root = _split_copy(tmp_path)
    (root / "GT" / "5_299.npy").unlink()
    with pytest.raises(
        PoseLiftFormatError, match=r"GT/5_299\.npy: missing GT labels for .*5_299\.pkl"
    ):
        load_split(root, "Test")


def test_gt_shorter_than_poses_names_the_file(tmp_path: Path) -> None:
    gt = tmp_path / "5_299.npy"
    np.save(gt, np.zeros(14, np.int64))
    with pytest.raises(PoseLiftFormatError, match=r"5_299\.npy: 14 labels for 15 pose frames"):
        load_video(MINI / "Test" / "5_299.pkl", gt)


def test_gt_that_is_not_labels_names_the_file(tmp_path: Path) -> None:
    gt = tmp_path / "5_299.npy"
    np.save(gt, np.full(15, 0.5))
    with pytest.raises(PoseLiftFormatError, match=r"5_299\.npy: must be a 1-D array of 0/1"):
        load_video(MINI / "Test" / "5_299.pkl", gt)


def _write(path: Path, data: object) -> Path:
    path.write_bytes(pickle.dumps(data, protocol=4))
    return path


KP = np.zeros((17, 3), np.float16)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([KP], "must be a dict with frame keys 0..N-1"),  # not a dict
        ({1: {}}, "must be a dict with frame keys 0..N-1"),  # frames do not start at 0
        ({0: []}, r"frame 0: must be a dict of people"),
        ({0: {1: [[0, 0, 1, 1]]}}, r"frame 0, person 1: must be int -> \[bbox, keypoints\]"),
        ({0: {}, 1: {4: [[0, 0, 1], KP]}}, r"frame 1, person 4: bbox must be 4 numbers"),
        ({0: {1: [[0, 0, 1, 1], KP[:, :2]]}}, r"keypoints shape must be \(17, 3\), got \(17, 2\)"),
        ({0: {1: [[0, 0, 1, 1], KP.astype(np.int8)]}}, "keypoints must be a float array"),
        ({0: {1: [[0, "a", 1, 1], KP]}}, "a bbox is not 4 numbers"),
        ({0: {1: [[0, np.inf, 1, 1], KP]}}, "a bbox or keypoint coordinate is not finite"),
    ],
)
def test_malformed_pickle_names_the_file(tmp_path: Path, data: object, message: str) -> None:
    path = _write(tmp_path / "3_7.pkl", data)
    with pytest.raises(PoseLiftFormatError, match=rf"3_7\.pkl: (.*: )?{message}"):
        load_video(path)


def test_truncated_pickle_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "5_299.pkl"
    path.write_bytes((MINI / "Test" / "5_299.pkl").read_bytes()[:1000])
    with pytest.raises(PoseLiftFormatError, match=r"5_299\.pkl: not a readable PoseLift pickle"):
        load_video(path)


def test_malicious_pickle_is_refused_and_names_the_file(tmp_path: Path) -> None:
    path, marker = tmp_path / "1_1.pkl", tmp_path / "pwned"
    code = f"open({str(marker)!r}, 'w').close()"
    path.write_bytes(b"cbuiltins\nexec\n(V" + code.encode() + b"\ntR.")  # exec(code) on load
    with pytest.raises(PoseLiftFormatError, match=r"1_1\.pkl: .*refusing .* builtins\.exec"):
        load_video(path)
    assert not marker.exists()


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(PoseLiftFormatError, match=r"1_2\.pkl: no such file"):
        load_video(tmp_path / "1_2.pkl")
    with pytest.raises(PoseLiftFormatError, match=r"Train: no such folder"):
        load_split(tmp_path, "Train")


def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "video.pkl", {})
    with pytest.raises(PoseLiftFormatError, match=r"video\.pkl: name must be <camera>_<video>"):
        load_video(path)


def test_video_record_checks_its_labels() -> None:
    with pytest.raises(ValueError, match=r"labels: must be int8 of shape \(3,\)"):
        PoseLiftVideo("1_1", 1, 15.0, 3, (), np.zeros(4, np.int8))
    with pytest.raises(ValueError, match="labels: must be 0 or 1"):
        PoseLiftVideo("1_1", 1, 15.0, 3, (), np.asarray([0, 2, 1], np.int8))


@needs_release
def test_whole_release_matches_its_documented_numbers() -> None:
    train = load_split(RELEASE, "Train")
    tracks = [t for v in train for t in v.tracks]
    assert len(train) == 104
    assert sum(v.n_frames for v in train) == 91_598
    assert len(tracks) == 566
    assert sum(len(t) for t in tracks) == 79_632
    test = load_split(RELEASE, "Test")
    dropped = {v.name: v.gt_frames_dropped for v in test if v.gt_frames_dropped}
    assert dropped == {"1_257": 5, "1_272": 4, "5_299": 2, "6_112": 628}
    six = next(v for v in test if v.name == "6_112")
    assert six.n_frames == 417
    assert six.labels is not None
    assert six.labels.shape == (417,)
    # the y/x swap over every pose: ankles below the nose, keypoints inside their box
    kp = np.concatenate([t.keypoints for t in tracks])
    assert (kp[:, 15:, 1].mean(axis=1) > kp[:, 0, 1]).mean() > 0.99
    assert np.mean([_inside_box(t) for t in tracks]) > 0.9
