"""The live scorer: a real tracker fed a shopper's poses at 5 fps, a real (tiny) booster;
its verdicts are the model's raw scores on the training features, smoothed and calibrated,
and a track's first seconds do not count toward its alerting score (the track-age rule),
across id switches too."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xgboost as xgb

from server.behaviour.classifier import BehaviourModel, ScoringPolicy
from server.behaviour.features import DEFAULT_SPEC, batch_features
from server.behaviour.scorer import BehaviourScorer
from server.behaviour.scoring import Calibration, track_scores
from server.pipeline.tracking import Tracker
from server.records.people import Poses, TrackHistory, Tracks, Verdicts
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
    policy = ScoringPolicy(1.0, 0.3, calibration, min_track_age_s=0.0)  # no track-age rule
    return BehaviourModel(reach_booster(), DEFAULT_SPEC, policy)


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


SEEN_6S = DEFAULT_SPEC.column("seen_frac", 6.0)


def newcomer_model(min_track_age_s: float) -> BehaviourModel:
    """A booster that learnt PoseLift's track-start shortcut, 'a track seen over less than
    60% of the 6 s window is suspicious' (raw ~1 until a track is 3.4 s old, then ~0)."""
    rng = np.random.default_rng(1)
    x = rng.random((400, len(DEFAULT_SPEC.feature_names)), dtype=np.float32)
    y = (x[:, SEEN_6S] < 0.6).astype(np.float32)
    params = {"objective": "binary:logistic", "max_depth": 2, "nthread": 1, "seed": 0}
    booster = xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=30)
    policy = ScoringPolicy(1.0, 0.5, Calibration.identity(), min_track_age_s)
    return BehaviourModel(booster, DEFAULT_SPEC, policy)


def scored(
    model: BehaviourModel, frames: list[tuple[float, Poses]], tracker: Tracker | None = None
) -> list[Verdicts]:
    """The verdicts of a live tracker and scorer (every 0.4 s) on `frames`."""
    tracker = tracker or Tracker(fps=5.0, history_s=model.spec.window_s + 0.5)
    scorer = BehaviourScorer(model, every_s=0.4)
    out = []
    for ts, poses in frames:
        tracks = tracker.update(poses, ts)
        if scorer.due(ts):
            out.append(scorer.score(tracks, tracker))
    return out


@pytest.mark.parametrize(
    ("min_track_age_s", "first_alert_s"),
    [(0.0, 0.0), (1.0, 1.2), (2.0, 2.0), (3.0, 3.2), (4.0, None)],
)
def test_a_person_entering_the_view_cannot_alert_before_the_minimum_age(
    min_track_age_s: float, first_alert_s: float | None
) -> None:
    """Scored every 0.4 s from the moment they appear (0 s), the model finds them
    suspicious at once; their alerting score stays 0 while they are younger than the
    minimum age, then takes only the moments from that age on."""
    person = shopping(at_fps(5.0, 6.0))
    frames = [(float(t), poses_of(k, b)) for t, k, b in zip(*person_arrays(person), strict=True)]
    verdicts = scored(newcomer_model(min_track_age_s), frames)
    assert all(len(v) == 1 for v in verdicts)
    assert all(v.raw[0] > 0.9 for v in verdicts if v.ts < 3.0)  # the shortcut fires
    young = [v for v in verdicts if v.ts < min_track_age_s - 1e-6]
    assert all(v.score[0] == 0.0 for v in young)
    alerts = [v.ts for v in verdicts if v.score[0] >= v.threshold]
    assert (alerts[0] if alerts else None) == pytest.approx(first_alert_s)


def person_arrays(person: TrackHistory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return person.ts, person.keypoints, person.xyxy


def test_an_id_switch_keeps_the_persons_age_and_history() -> None:
    """A person walks for 2.8 s, runs (600 px/s) for 2 s, is hidden for 0.4 s and then stands
    where last seen: the real tracker's motion model has run on, and they come back under
    a new id. The new id is the same person: seen since 0 s, and scored on their frames
    under both ids, so the newcomer shortcut does not fire on it. Someone appearing
    elsewhere at that moment is a newcomer, held back by the minimum age."""
    model = newcomer_model(2.0)
    person = shopping(at_fps(5.0, 8.0), walk_px_s=0.0)
    away = np.asarray([-400.0, 0.0], np.float32)
    frames = []
    for ts, kp, box in zip(*person_arrays(person), strict=True):
        x = 50.0 * min(ts, 2.8) + 600.0 * float(np.clip(ts - 2.8, 0.0, 2.0))
        shift = np.asarray([x, 0.0], np.float32)
        runner = poses_of(kp + shift, box + np.tile(shift, 2))
        if 4.9 < ts < 5.3:  # hidden
            frames.append((float(ts), Poses.empty()))
        elif ts > 5.3:  # back, and a newcomer elsewhere
            other = poses_of(kp + away, box + np.tile(away, 2))
            pairs = zip(fields(runner), fields(other), strict=True)
            frames.append((float(ts), Poses(*(np.concatenate(pair) for pair in pairs))))
        else:
            frames.append((float(ts), runner))
    verdicts = scored(model, frames)
    ids = sorted({int(i) for v in verdicts for i in v.track_id})
    assert len(ids) == 3  # the runner, the runner again, the newcomer
    again, newcomer = ids[1:]
    first = next(v for v in verdicts if again in v.track_id.tolist())
    raw = dict(zip(first.track_id.tolist(), first.raw.tolist(), strict=True))
    score = dict(zip(first.track_id.tolist(), first.score.tolist(), strict=True))
    assert raw[again] < 0.1  # scored on the person's whole history: no newcomer
    assert score[again] == pytest.approx(raw[again], abs=1e-6)  # and counted at once
    assert raw[newcomer] > 0.9 and score[newcomer] == 0.0  # too new to count


def fields(poses: Poses) -> tuple[np.ndarray, ...]:
    return poses.xyxy, poses.keypoints, poses.keypoint_conf, poses.score
