"""The ensemble as the server loads it: the XGBoost file names the temporal network beside
it; the raw score is the weighted mean of the members' on the same windows; the identity,
the files that move with it and the alert budget's tag cover both files; a missing or
changed member is refused with the file named; the live scorer gives the ensemble's score
of the tracker's history; the shipped model is this ensemble."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from server.alerting.thresholds import ModelFacts
from server.behaviour.classifier import BehaviourModel, Members
from server.behaviour.ensemble import Ensemble
from server.behaviour.models import LoadedModel, load_behaviour_model, model_files, model_identity
from server.behaviour.scorer import BehaviourScorer
from server.behaviour.sequence import SEQUENCE_MODEL_NAME, SequenceModel, metadata_path
from server.bench.behaviour_speed import people_at, walking_person
from server.errors import ModelError
from server.pipeline.tracking import Tracker
from server.weights import DEFAULT_WEIGHTS_DIR, record_sha, sha256_of, sha_path
from tests.behaviour.test_sequence_model import write_mean_model

SHIPPED = DEFAULT_WEIGHTS_DIR / "behaviour-xgb.json"
TEMPORAL = DEFAULT_WEIGHTS_DIR / SEQUENCE_MODEL_NAME


def write_ensemble(folder: Path, xgb_weight: float = 0.5, temporal_weight: float = 0.5) -> Path:
    """The shipped booster and temporal network as an ensemble in `folder` (its main file)."""
    folder.mkdir(parents=True, exist_ok=True)
    for file in (TEMPORAL, metadata_path(TEMPORAL)):
        shutil.copyfile(file, folder / file.name)
        shutil.copyfile(sha_path(file), folder / sha_path(file).name)
    xgb = BehaviourModel.load(SHIPPED)
    members = Members(TEMPORAL.name, xgb_weight, temporal_weight, sha256_of(TEMPORAL))
    path = folder / SHIPPED.name
    BehaviourModel(xgb.booster, xgb.spec, xgb.policy, xgb.info, members).save(path)
    record_sha(path)
    return path


def walkers(count: int, seconds: float) -> tuple[Tracker, list[int], float]:
    """`count` real pedestrians' poses walking side by side through a real tracker."""
    person = walking_person()
    tracker = Tracker(fps=5.0, history_s=8.0)
    ts = 0.0
    for step in range(int(seconds * 5)):
        ts = step / 5.0
        tracks = tracker.update(people_at(person, count, ts), ts)
    return tracker, [int(i) for i in tracks.track_id], ts


def test_the_raw_score_is_the_weighted_mean_of_the_members(tmp_path: Path) -> None:
    model = load_behaviour_model(write_ensemble(tmp_path, 0.25, 0.75))
    assert isinstance(model, Ensemble)
    tracker, ids, ts = walkers(3, 5.6)
    assert len(ids) == 3
    histories = [tracker.history(i) for i in ids]
    ends = [np.asarray([ts])] * len(ids)
    xgb = BehaviourModel.load(SHIPPED).raw_scores_at(histories, ends)
    temporal = SequenceModel.load(TEMPORAL).score(histories, ends)
    assert not np.allclose(xgb, temporal)  # two models, two opinions
    np.testing.assert_allclose(model.raw_scores_at(histories, ends), 0.25 * xgb + 0.75 * temporal)
    assert model.history_s >= model.temporal.spec.history_s  # the tracker keeps enough


def test_the_live_scorer_scores_the_trackers_history_with_the_ensemble(tmp_path: Path) -> None:
    model = load_behaviour_model(write_ensemble(tmp_path))
    person = walking_person()
    tracker = Tracker(fps=5.0, history_s=model.history_s + 0.5)
    scorer = BehaviourScorer(model)
    for step in range(28):  # 5.4 s: before the recorded walk starts over
        ts = step / 5.0
        tracks = tracker.update(people_at(person, 2, ts % person.span_s), ts)
        verdicts = scorer.score(tracks, tracker)
    histories = [tracker.history(int(i)) for i in tracks.track_id]
    expected = model.raw_scores_at(histories, [np.asarray([tracks.ts])] * len(histories))
    np.testing.assert_allclose(verdicts.raw, expected, rtol=1e-5)


def test_identity_files_and_budget_tag_cover_both_members(tmp_path: Path) -> None:
    path = write_ensemble(tmp_path / "a")
    names = {f.name for f in model_files(path)}
    assert names == {
        "behaviour-xgb.json",
        "behaviour-xgb.json.sha256",
        "behaviour-tcn.onnx",
        "behaviour-tcn.onnx.sha256",
        "behaviour-tcn.json",
        "behaviour-tcn.json.sha256",
    }
    identity = model_identity(path)
    assert identity != sha256_of(path)
    assert LoadedModel.load(path).identity == identity
    facts = ModelFacts.read(path)
    assert facts is not None and facts.identity == identity  # peaks tagged as scored
    other = write_ensemble(tmp_path / "b", 0.4, 0.6)  # another average: another model
    assert model_identity(other) != identity
    moved = tmp_path / "c"
    shutil.copytree(tmp_path / "a", moved)
    assert model_identity(moved / path.name) == identity  # files moved: the same model


def test_an_xgboost_file_alone_is_its_own_model(tmp_path: Path) -> None:
    xgb = BehaviourModel.load(SHIPPED)
    path = tmp_path / SHIPPED.name
    BehaviourModel(xgb.booster, xgb.spec, xgb.policy, xgb.info).save(path)
    shutil.copyfile(TEMPORAL, tmp_path / TEMPORAL.name)  # beside it, but not named by it
    model = load_behaviour_model(path)
    assert isinstance(model, BehaviourModel)
    assert model_identity(path) == sha256_of(path)
    assert [f.name for f in model_files(path)] == [path.name]


@pytest.mark.parametrize("member", ["behaviour-tcn.onnx", "behaviour-tcn.json"])
def test_a_missing_member_is_refused_by_name(tmp_path: Path, member: str) -> None:
    path = write_ensemble(tmp_path)
    (tmp_path / member).unlink()
    with pytest.raises(ModelError, match=f"temporal model .*{member} not found"):
        load_behaviour_model(path)


def test_a_changed_member_is_refused(tmp_path: Path) -> None:
    path = write_ensemble(tmp_path)
    onnx = tmp_path / TEMPORAL.name
    onnx.write_bytes(onnx.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="does not match its sha256"):
        load_behaviour_model(path)


def test_a_network_other_than_the_one_trained_with_is_refused(tmp_path: Path) -> None:
    """A retrain that wrote the network but stopped before the main file leaves a new
    network beside the old main file: refused, not scored as an untested mix."""
    path = write_ensemble(tmp_path)
    assert isinstance(load_behaviour_model(path), Ensemble)
    write_mean_model(tmp_path / TEMPORAL.name)  # another network, its own files all valid
    with pytest.raises(ModelError, match=r"is not the network behaviour-xgb\.json was trained"):
        load_behaviour_model(path)


def test_bad_members_in_the_main_file_are_refused(tmp_path: Path) -> None:
    path = write_ensemble(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"behaviour-tcn.onnx"', '"../behaviour-tcn.onnx"'), "utf-8")
    sha_path(path).unlink()
    with pytest.raises(ModelError, match="bad or missing field"):
        load_behaviour_model(path)


def test_the_shipped_model_is_the_ensemble() -> None:
    model = load_behaviour_model(SHIPPED)
    assert isinstance(model, Ensemble)
    assert model.xgb.members == Members(TEMPORAL.name, 0.5, 0.5, sha256_of(TEMPORAL))
    assert model.info["learner"] == "mean(xgb + tcn)"
    assert model.info["alerts_per_camera_day"] >= 1
