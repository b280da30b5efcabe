"""Training rows from PoseLift videos: normal tracks cut in pieces, one positive per frame,
and row scores back to frame scores."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from server.records.people import TrackHistory
from training.dataset import cut, frame_scores, one_per_frame, person_rows
from training.poselift import load_split

MINI = Path(__file__).parents[1] / "data" / "poselift_mini"


def track(ts: list[float], track_id: int = 7) -> TrackHistory:
    n = len(ts)
    return TrackHistory(
        track_id=track_id,
        ts=np.asarray(ts, np.float64),
        xyxy=np.tile(np.asarray([0, 0, 10, 30], np.float32), (n, 1)),
        keypoints=np.zeros((n, 17, 2), np.float32),
        keypoint_conf=np.ones((n, 17), np.float32),
    )


def test_a_track_is_cut_into_pieces_of_seconds_from_its_start() -> None:
    pieces = cut(track([10.0, 11.0, 13.9, 14.0, 20.5]), 4.0)
    assert [p.track_id for p in pieces] == [7000, 7001, 7002]
    assert [p.ts.tolist() for p in pieces] == [[10.0, 11.0, 13.9], [14.0], [20.5]]


def test_rows_of_the_mini_release_and_frame_scores() -> None:
    videos = load_split(MINI, "Train") + load_split(MINI, "Test")
    rows = person_rows(videos)
    whole = sum(len(h) for v in videos for h in v.tracks)
    assert len(rows) == whole  # one row per pose
    cut_rows = person_rows(videos, normal_piece_s=1.0)
    assert len(cut_rows) == whole and not np.array_equal(cut_rows.track, rows.track)
    test = videos[1]
    assert test.labels is not None
    labelled = rows.video == 1
    np.testing.assert_array_equal(rows.label[labelled], test.labels[rows.frame[labelled]])
    assert (rows.label[rows.video == 0] == 0).all()  # normal-only video
    scores = frame_scores(rows, np.linspace(0, 1, len(rows)))
    assert [len(s) for s in scores] == [v.n_frames for v in videos]
    for index in (0, 1):
        mine = rows.video == index
        for frame in np.unique(rows.frame[mine]).tolist():
            here = np.linspace(0, 1, len(rows))[mine & (rows.frame == frame)]
            assert scores[index][frame] == here.max()  # the most suspicious person's
        empty = np.setdiff1d(np.arange(videos[index].n_frames), rows.frame[mine])
        assert (scores[index][empty] == 0).all()  # nobody in it: 0


def test_only_the_most_suspicious_person_of_a_shoplifting_frame_stays_positive() -> None:
    video = load_split(MINI, "Test")[0]
    # a bystander beside each person, in the same frames: two people in every labelled frame
    bystanders = tuple(
        TrackHistory(h.track_id + 100, h.ts, h.xyxy + 200, h.keypoints + 200, h.keypoint_conf)
        for h in video.tracks
    )
    crowded = dataclasses.replace(video, tracks=video.tracks + bystanders)
    rows = person_rows([crowded])
    raw = np.random.default_rng(0).random(len(rows))
    keep = one_per_frame(rows, raw)
    assert keep[rows.label == 0].all()  # every normal row stays
    shoplifting = np.unique(rows.frame[rows.label == 1]).tolist()
    assert shoplifting and all(
        ((rows.frame == f) & (rows.label == 1)).sum() >= 2 for f in shoplifting
    )
    for frame in shoplifting:
        here = np.flatnonzero((rows.frame == frame) & (rows.label == 1))
        assert keep[here].sum() == 1 and keep[here[np.argmax(raw[here])]]
    assert (~keep).sum() == (rows.label == 1).sum() - len(shoplifting)  # the others left out
