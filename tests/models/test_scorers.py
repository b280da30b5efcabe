"""A camera's scorers: real pedestrians' poses through a real tracker, the shipped model as
the active one and a copy at another threshold as the candidate. The frames' verdicts are
exactly the active model's, their shadow the candidate's (with its identity); a promotion
switches the live verdicts to the candidate's, its scorer's state kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from server.behaviour.live import CameraScorers, LiveModels
from server.behaviour.registry import ModelRegistry
from server.behaviour.scorer import BehaviourScorer
from server.bench.behaviour_speed import people_at, walking_person
from server.pipeline.tracking import Tracker
from server.records.people import Verdicts
from tests.models.builders import write_candidate, write_model

FPS, EVERY_S = 5.0, 0.4
IMAGE = np.zeros((360, 640, 3), np.uint8)


@pytest.fixture
def live(tmp_path: Path) -> LiveModels:
    """The active model at threshold 0.9, a candidate at 0.1."""
    active = write_model(tmp_path / "active.json", 0.9)
    write_candidate(tmp_path / "data", 0.1)
    models = LiveModels(ModelRegistry(tmp_path / "data", active))
    models.load()
    return models


Seen = list[tuple[str | None, Verdicts | None]]  # (None: live, or the shadow's identity, ...)
References = list[tuple[str | None, BehaviourScorer]]


def play(
    scorers: CameraScorers,
    tracker: Tracker,
    steps: range,
    seen: Seen,
    references: References,
    expected: Seen,
) -> None:
    """Two people walking, frame by frame as the worker runs them: the active model's
    verdicts and the candidate's (`shadow`, as each `FrameAnalysis` carries them) go to
    `seen`, and what the `references` score on the same frames, in the same order, to
    `expected`."""
    person = walking_person()
    for step in steps:
        ts = 1000.0 + step / FPS
        tracks = tracker.update(people_at(person, 2, ts % person.span_s), ts)
        verdicts = scorers.score(tracks, tracker) if scorers.due(ts) else None
        for who, reference in references:
            expected.append((who, None if verdicts is None else reference.score(tracks, tracker)))
        seen.append((None, verdicts))
        shadow = scorers.shadow(ts)
        if shadow is not None:
            seen.append((shadow.model, shadow.verdicts))


def same(seen: Seen, expected: Seen) -> None:
    assert [who for who, _ in seen] == [who for who, _ in expected]
    for (_, got), (_, want) in zip(seen, expected, strict=True):
        assert (got is None) == (want is None)
        if got is not None and want is not None:
            assert got.threshold == want.threshold
            np.testing.assert_array_equal(got.track_id, want.track_id)
            np.testing.assert_allclose(got.score, want.score, rtol=1e-6)


def test_frames_get_the_active_models_verdicts_and_the_candidates_in_shadow(
    live: LiveModels,
) -> None:
    active, candidate = live.pair.active, live.pair.candidate
    assert active is not None and candidate is not None and live.candidate_error is None
    tracker = Tracker(fps=FPS, history_s=live.pair.history_s())
    scorers = CameraScorers(live, tracker, EVERY_S)
    seen: Seen = []
    expected: Seen = []
    references: References = [
        (None, BehaviourScorer(active.model)),
        (candidate.identity, BehaviourScorer(candidate.model)),
    ]
    play(scorers, tracker, range(60), seen, references, expected)
    same(seen, expected)
    scored = [v for who, v in seen if who is None and v is not None]
    assert len(scored) == 30  # 12 s at 5 fps, scored every 0.4 s
    assert {v.threshold for v in scored} == {0.9}
    shadow = [v for who, v in seen if who == candidate.identity and v is not None]
    assert len(shadow) == len(scored) and {v.threshold for v in shadow} == {0.1}
    assert max(v.top for v in shadow) > 0  # people were scored, not just counted
    assert scorers.shadow_time.count == len(shadow)


def test_a_promotion_switches_the_live_verdicts_without_a_new_scorer(
    live: LiveModels,
) -> None:
    active, candidate = live.pair.active, live.pair.candidate
    assert active is not None and candidate is not None
    tracker = Tracker(fps=FPS, history_s=live.pair.history_s())
    scorers = CameraScorers(live, tracker, EVERY_S)
    follows_candidate = BehaviourScorer(candidate.model)  # scored the candidate all along
    seen: Seen = []
    expected: Seen = []
    both: References = [
        (None, BehaviourScorer(active.model)),
        (candidate.identity, follows_candidate),
    ]
    play(scorers, tracker, range(40), seen, both, expected)
    same(seen, expected)
    live.use(candidate, drop_candidate=True)  # promoted
    after: Seen = []
    want: Seen = []
    play(scorers, tracker, range(40, 60), after, [(None, follows_candidate)], want)
    same(after, want)  # the candidate's smoothing went on: the same scores as all along
    assert {who for who, _ in after} == {None}  # no shadow any more
    assert {v.threshold for _, v in after if v is not None} == {0.1}


def test_without_a_candidate_frames_carry_no_shadow(tmp_path: Path) -> None:
    models = LiveModels(ModelRegistry(tmp_path / "data", write_model(tmp_path / "a.json", 0.9)))
    models.load()
    assert models.pair.candidate is None and models.pair.active is not None
    tracker = Tracker(fps=FPS, history_s=models.pair.history_s())
    scorers = CameraScorers(models, tracker, EVERY_S)
    seen: Seen = []
    play(scorers, tracker, range(20), seen, [], [])
    assert {who for who, _ in seen} == {None} and len(seen) == 20
    assert scorers.shadow_time.count == 0


def test_a_broken_candidate_is_refused_and_the_active_model_scores_alone(
    tmp_path: Path,
) -> None:
    registry = ModelRegistry(tmp_path / "data", write_model(tmp_path / "a.json", 0.9))
    registry.candidate_path.parent.mkdir(parents=True)
    registry.candidate_path.write_text("{ half a model")
    models = LiveModels(registry)
    models.load()
    assert models.pair.candidate is None and models.pair.active is not None
    assert models.candidate_error == (
        f"behaviour model {registry.candidate_path} is not JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 3 (char 2))"
    )
    assert models.refresh_candidate() is False  # unchanged files are not read again
    write_candidate(tmp_path / "data", 0.1)  # training wrote a good one
    assert models.refresh_candidate() is True
    assert models.pair.candidate is not None and models.candidate_error is None


def test_a_candidate_that_is_the_active_model_is_refused(tmp_path: Path) -> None:
    active = write_model(tmp_path / "a.json", 0.9)
    registry = ModelRegistry(tmp_path / "data", active)
    registry.candidate_path.parent.mkdir(parents=True)
    registry.candidate_path.write_bytes(active.read_bytes())
    models = LiveModels(registry)
    models.load()
    assert models.pair.candidate is None
    assert models.candidate_error == "the candidate is the active model itself (the same sha256)"
