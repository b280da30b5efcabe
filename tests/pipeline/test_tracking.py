"""④ tracks: ByteTrack ids and keypoint histories on literal poses, and on poses recorded
from a real clip of pedestrians (tests/data/vtest_poses.npz, replayed by `ReplayPose`)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from server.pipeline.tracking import Tracker
from server.records.people import NUM_KEYPOINTS, Poses, Tracks
from tests.pipeline.replay import VTEST_POSES, ReplayPose

FPS = 10.0
Box = tuple[float, float, float, float]


def make_poses(*boxes: Box, score: float = 0.9) -> Poses:
    """People standing in `boxes` (x0, y0, x1, y1), keypoints spread over each box."""
    xyxy = np.asarray(boxes, np.float32).reshape(-1, 4)
    grid = np.linspace(0.1, 0.9, NUM_KEYPOINTS, dtype=np.float32)[None, :]  # (1, K)
    x = xyxy[:, [0]] + (xyxy[:, [2]] - xyxy[:, [0]]) * grid
    y = xyxy[:, [1]] + (xyxy[:, [3]] - xyxy[:, [1]]) * grid
    n = len(xyxy)
    return Poses(
        xyxy=xyxy,
        keypoints=np.stack([x, y], axis=-1),
        keypoint_conf=np.full((n, NUM_KEYPOINTS), 0.8, np.float32),
        score=np.full(n, score, np.float32),
    )


def walker(x: float, y: float = 100.0) -> Box:
    """A 40x100 px person whose box starts at (x, y)."""
    return (x, y, x + 40, y + 100)


def run(tracker: Tracker, frames: list[Poses]) -> list[Tracks]:
    return [tracker.update(poses, i / FPS) for i, poses in enumerate(frames)]


def id_at(tracks: Tracks, x: float, y: float) -> int:
    """The id of the track whose box starts at (`x`, `y`)."""
    (row,) = np.flatnonzero(np.isclose(tracks.xyxy[:, :2], [x, y]).all(axis=1))
    return int(tracks.track_id[row])


# --- literal poses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        # one person walking right, 8 px a frame: one id throughout
        ([make_poses(walker(10 + 8 * i)) for i in range(20)], [[1]] * 20),
        # missed in frame 5 (an occlusion): absent there, same id after
        (
            [make_poses(walker(10 + 8 * i)) if i != 5 else Poses.empty() for i in range(12)],
            [[1]] * 5 + [[]] + [[1]] * 6,
        ),
        # missed for 3 frames (0.3 s, within the 2 s timeout): same id after
        (
            [
                make_poses(walker(10 + 8 * i)) if i not in (4, 5, 6) else Poses.empty()
                for i in range(10)
            ],
            [[1]] * 4 + [[]] * 3 + [[1]] * 3,
        ),
        # nobody at all: empty tracks every frame
        ([Poses.empty()] * 5, [[]] * 5),
        # a person arriving later: confirmed from their second frame, first id is 1
        (
            [Poses.empty()] * 3 + [make_poses(walker(10 + 8 * i)) for i in range(4)],
            [[]] * 4 + [[1]] * 3,
        ),
        # two people standing apart: two ids, kept
        ([make_poses(walker(10), walker(300))] * 6, [[1, 2]] * 6),
    ],
)
def test_ids_per_frame(frames: list[Poses], expected: list[list[int]]) -> None:
    got = run(Tracker(fps=FPS), frames)
    assert [t.track_id.tolist() for t in got] == expected


def test_two_people_crossing_keep_their_ids() -> None:
    # A walks right from x=100, B walks left from x=300, 10 px a frame each: they overlap
    # around frame 10 (IoU up to 1) and end where the other started
    frames = [make_poses(walker(100 + 10 * i), walker(300 - 10 * i, y=110)) for i in range(21)]
    got = run(Tracker(fps=FPS), frames)
    a, b = id_at(got[0], 100, 100), id_at(got[0], 300, 110)
    assert a != b
    assert id_at(got[-1], 300, 100) == a  # A is now on the right
    assert id_at(got[-1], 100, 110) == b
    for i, tracks in enumerate(got):
        assert id_at(tracks, 100 + 10 * i, 100) == a, f"frame {i}"
        assert id_at(tracks, 300 - 10 * i, 110) == b, f"frame {i}"


def test_tracks_carry_the_matched_poses() -> None:
    tracker = Tracker(fps=FPS)
    poses = make_poses(walker(300), walker(10))
    tracks = tracker.update(poses, 0.0)
    assert tracks.ts == 0.0 and tracks.track_id.tolist() == [1, 2]
    for row, track_row in ((0, 0), (1, 1)):
        np.testing.assert_array_equal(tracks.xyxy[track_row], poses.xyxy[row])
        np.testing.assert_array_equal(tracks.keypoints[track_row], poses.keypoints[row])
        np.testing.assert_array_equal(tracks.keypoint_conf[track_row], poses.keypoint_conf[row])
    assert tracks.keypoints.dtype == np.float32 and tracks.track_id.dtype == np.int64


def test_history_keeps_the_configured_seconds_with_timestamps() -> None:
    tracker = Tracker(fps=FPS, history_s=1.0)
    frames = [make_poses(walker(10 + 8 * i)) for i in range(30)]
    run(tracker, frames)
    past = tracker.history(1)
    np.testing.assert_allclose(past.ts, np.arange(19, 30) / FPS)  # 1 s at 10 fps: 11 frames
    assert past.span_s == pytest.approx(1.0)
    np.testing.assert_array_equal(past.keypoints, np.stack([f.keypoints[0] for f in frames[19:]]))
    np.testing.assert_array_equal(past.xyxy[:, 0], 10 + 8 * np.arange(19, 30, dtype=np.float32))
    assert past.keypoint_conf.shape == (11, NUM_KEYPOINTS)


def test_history_skips_the_frames_a_track_was_missed() -> None:
    tracker = Tracker(fps=FPS)
    frames = [make_poses(walker(10 + 8 * i)) if i != 3 else Poses.empty() for i in range(6)]
    run(tracker, frames)
    np.testing.assert_allclose(tracker.history(1).ts, [0.0, 0.1, 0.2, 0.4, 0.5])


def test_a_track_lost_past_the_timeout_loses_its_history_and_id() -> None:
    tracker = Tracker(fps=FPS, lost_timeout_s=0.5)
    run(tracker, [make_poses(walker(10 + 8 * i)) for i in range(5)])
    assert tracker.live_ids() == [1]
    for i in range(5, 11):  # gone for 0.6 s
        tracker.update(Poses.empty(), i / FPS)
    assert tracker.live_ids() == []
    with pytest.raises(KeyError, match="track 1 is not live"):
        tracker.history(1)
    # back where it was last seen: a new person as far as the tracker knows
    again = [tracker.update(make_poses(walker(50)), (11 + i) / FPS) for i in range(2)]
    assert again[-1].track_id.tolist() == [2]
    assert len(tracker.history(2)) == 1  # its unconfirmed first frame is in no Tracks


def test_time_must_not_go_back() -> None:
    tracker = Tracker(fps=FPS)
    tracker.update(Poses.empty(), 1.0)
    with pytest.raises(ValueError, match="ts: must be finite and not before"):
        tracker.update(Poses.empty(), 0.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fps": 0.0}, "fps: must be positive"),
        ({"fps": 10.0, "history_s": 0.0}, "history_s: must be positive"),
        ({"fps": 10.0, "lost_timeout_s": -1.0}, "lost_timeout_s: must be >= 0"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Tracker(**kwargs)


def test_tracks_validate_shapes() -> None:
    empty = Tracks.empty(0.0)
    assert len(empty) == 0
    with pytest.raises(ValueError, match="track_id: dtype"):
        Tracks(
            0.0,
            np.zeros(0, np.int32),
            empty.xyxy,
            empty.keypoints,
            empty.keypoint_conf,
            empty.score,
        )
    with pytest.raises(ValueError, match="keypoints: shape"):
        Tracks(
            0.0,
            empty.track_id,
            empty.xyxy,
            np.zeros((0, 17, 3), np.float32),
            empty.keypoint_conf,
            empty.score,
        )


# --- a real clip: vtest.avi's first 100 frames (10 s at 10 fps, 7-8 pedestrians) -----------


def test_replayed_pedestrians_keep_stable_ids() -> None:
    replay = ReplayPose(VTEST_POSES)
    assert (len(replay), replay.fps, replay.frame_hw) == (100, 10.0, (576, 768))
    tracker = Tracker(fps=replay.fps, history_s=4.0)
    image = np.zeros((*replay.frame_hw, 3), np.uint8)
    detected, tracked, seen = 0, 0, Counter[int]()
    frames: list[Tracks] = []
    for i in range(len(replay)):
        poses = replay.estimate(image)
        tracks = tracker.update(poses, i / replay.fps)
        detected, tracked = detected + len(poses), tracked + len(tracks)
        seen.update(tracks.track_id.tolist())
        frames.append(tracks)
    # about 8 people walk through in these 10 s (3 at the start, a couple and a man from the
    # right, a man behind the sign post, one more in the group at the left); 7 ids are made,
    # each followed for 1.7 s or more
    assert 6 <= len(seen) <= 9
    assert min(seen.values()) >= 15
    assert tracked / detected >= 0.85  # nearly every detection belongs to a track
    # no id jumps between people: a track's box moves at walking pace, never more than a
    # third of its height from one frame to the next (a switch would jump a person's width+)
    rows = [(t.ts, k, b) for t in frames for k, b in zip(t.track_id.tolist(), t.xyxy, strict=True)]
    for track_id in seen:
        ts = np.asarray([r[0] for r in rows if r[1] == track_id])
        boxes = np.stack([r[2] for r in rows if r[1] == track_id])
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        step = np.linalg.norm(np.diff(centre, axis=0), axis=1) / (np.diff(ts) * replay.fps)
        height = boxes[1:, 3] - boxes[1:, 1]
        assert (step < height / 3).all(), f"track {track_id} jumps"
    # histories hold the configured 4 s for people followed that long: 41 frames at 10 fps
    histories = [tracker.history(k) for k in tracker.live_ids()]
    assert histories and all(h.span_s <= 4.0 + 1e-9 for h in histories)
    longest = max(histories, key=len)
    assert len(longest) == 41
    assert longest.span_s == pytest.approx(4.0)
    assert longest.keypoints.shape == (41, NUM_KEYPOINTS, 2)
    with pytest.raises(IndexError, match="all 100 recorded frames were replayed"):
        replay.estimate(image)
