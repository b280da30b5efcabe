"""The live scorer: a real tracker fed a shopper's poses at 5 fps, a real (tiny) booster;
its verdicts are the model's raw scores on the training features, smoothed and calibrated."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xgboost as xgb

from server.behaviour.classifier import BehaviourModel, ScoringPolicy
from server.behaviour.features import DEFAULT_SPEC, batch_features
from server.behaviour.scorer import BehaviourScorer
from server.behaviour.scoring import Calibration, track_scores
from server.pipeline.records import Poses, Tracks, Verdicts
from server.pipeline.tracking import Tracker
from tests.behaviour.motion import at_fps, shopping

REACH = DEFAULT_SPEC.column("reach_max", 3.0)


def reach_booster() -> Any:
    """A booster that finds reaching out suspicious: 'reach_max above 0.7 torso lengths'."""
    rng = np.random.default_rng(1)
    x = rng.random((400, len(DEFAULT_SPEC.feature_names)), dtype=np.float32) * 2
    y = (x[:, REACH] > 0.7).astype(np.float32)
    params = {"objective": "binary:logistic", "max_depth": 2, "nthread": 1, "seed": 0}
    return xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=30)


@pytest.fixture
def model() -> BehaviourModel:
    calibration = Calibration((0.0, 1.0), (0.0, 0.5))  # halves every score: easy to see
    return BehaviourModel(reach_booster(), DEFAULT_SPEC, ScoringPolicy(1.0, 0.3, calibration))


def poses_of(history_kp: np.ndarray, box: np.ndarray) -> Poses:
    return Poses(
        xyxy=box[None].astype(np.float32),
        keypoints=history_kp[None].astype(np.float32),
        keypoint_conf=np.full((1, 17), 0.9, np.float32),
        score=np.asarray([0.9], np.float32),
    )


def test_live_verdicts_are_the_training_scores_smoothed_and_calibrated(
    model: BehaviourModel,
) -> None:
    person = shopping(at_fps(5.0, 6.0))
    tracker, scorer = Tracker(fps=5.0, history_s=4.0), BehaviourScorer(model)
    found: list[Verdicts] = []
    for ts, kp, box in zip(person.ts, person.keypoints, person.xyxy, strict=True):
        tracks = tracker.update(poses_of(kp, box), float(ts))
        found.append(scorer.score(tracks, tracker))
    scored = [v for v in found if len(v)]
    assert len(scored) >= len(found) - 2  # tracked from its second frame
    track_id = int(scored[0].track_id[0])
    assert all(v.track_id.tolist() == [track_id] for v in scored)
    # each raw score is what the model gives on the training features of the same window
    history = tracker.history(track_id)
    last = scored[-1]
    expected = model.raw_scores(batch_features([history], [np.asarray([last.ts])], model.spec))
    np.testing.assert_allclose(last.raw, expected, rtol=1e-6)
    # and the score is the raw scores of the last second averaged, then calibrated (halved)
    ts = np.asarray([v.ts for v in scored])
    raw = np.asarray([float(v.raw[0]) for v in scored])
    smoothed = track_scores(ts, raw, 1.0)
    np.testing.assert_allclose([v.score[0] for v in scored], smoothed / 2, rtol=1e-5)
    assert max(v.top for v in scored) > 0.25  # the reach to the shelf is seen
    assert all(v.threshold == 0.3 for v in found)


def test_nobody_tracked_gives_empty_verdicts_and_ended_tracks_start_afresh(
    model: BehaviourModel,
) -> None:
    person = shopping(at_fps(5.0, 2.0))
    tracker, scorer = Tracker(fps=5.0, lost_timeout_s=0.5), BehaviourScorer(model)
    for ts, kp, box in zip(person.ts, person.keypoints, person.xyxy, strict=True):
        scorer.score(tracker.update(poses_of(kp, box), float(ts)), tracker)
    empty = Tracks.empty(3.0)
    tracker.update(Poses.empty(), 3.0)  # gone for 1 s: the track ends
    verdicts = scorer.score(empty, tracker)
    assert len(verdicts) == 0 and verdicts.top == 0.0 and verdicts.ts == 3.0
    assert tracker.live_ids() == []
    # the same person back later is a new track whose score starts from its own raw score
    back = shopping(at_fps(5.0, 1.0))
    first: Verdicts | None = None
    for ts, kp, box in zip(back.ts + 10.0, back.keypoints, back.xyxy, strict=True):
        verdicts = scorer.score(tracker.update(poses_of(kp, box), float(ts)), tracker)
        if len(verdicts) and first is None:
            first = verdicts
    assert first is not None
    np.testing.assert_allclose(first.score, first.raw / 2, rtol=1e-5)


def test_a_camera_is_scored_at_most_every_so_many_seconds(model: BehaviourModel) -> None:
    scorer = BehaviourScorer(model, every_s=0.4)
    frames = at_fps(5.0, 2.0)  # 0.0, 0.2, ... 2.0
    assert [t for t in frames.tolist() if scorer.due(t)] == [0.0, 0.4, 0.8, 1.2, 1.6, 2.0]
    every = BehaviourScorer(model)
    assert all(every.due(t) for t in frames.tolist())
    with pytest.raises(ValueError, match="every_s"):
        BehaviourScorer(model, every_s=-1.0)
