"""The behaviour model file: a tiny real booster saved, loaded, and every way a file can be
wrong refused with a message naming the file and the fault."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb

from server.behaviour.classifier import MIN_TRACK_AGE_S, MODEL_NAME, BehaviourModel, ScoringPolicy
from server.behaviour.features import FeatureSpec
from server.behaviour.scoring import Calibration
from server.errors import ModelError
from server.weights import DEFAULT_WEIGHTS_DIR, record_sha

SPEC = FeatureSpec(windows_s=(1.0, 2.0))
NAMES = SPEC.feature_names
F = len(NAMES)


def tiny_booster(features: int = F) -> Any:
    """Learns 'feature 0 above 0.5' from 200 random rows."""
    rng = np.random.default_rng(0)
    x = rng.random((200, features), dtype=np.float32)
    y = (x[:, 0] > 0.5).astype(np.float32)
    params = {"objective": "binary:logistic", "max_depth": 2, "nthread": 1, "seed": 0}
    return xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=20)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    policy = ScoringPolicy(0.8, 0.42, Calibration((0.0, 0.5, 1.0), (0.0, 0.1, 0.9)), 1.5)
    path = tmp_path / "behaviour.json"
    BehaviourModel(tiny_booster(), SPEC, policy, {"note": "test"}).save(path)
    return path


def test_a_saved_model_loads_with_its_spec_policy_and_scores(model_file: Path) -> None:
    model = BehaviourModel.load(model_file)
    assert model.spec == SPEC and model.spec.window_s == 2.0
    assert json.loads(model_file.read_text())["feature_names"][:2] == [
        "seen_frac@1s",
        "wrist_hidden_frac@1s",
    ]
    assert (model.policy.smoothing_s, model.policy.threshold) == (0.8, 0.42)
    assert model.policy.min_track_age_s == 1.5
    assert model.policy.calibration.y == (0.0, 0.1, 0.9)
    assert model.info == {"note": "test"}
    rows = np.full((2, F), 0.5, np.float32)
    rows[0, 0], rows[1, 0] = 0.05, 0.95
    raw = model.raw_scores(rows)
    assert raw.shape == (2,) and raw[0] < 0.2 < 0.8 < raw[1]
    assert model.raw_scores(np.zeros((0, F), np.float32)).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        model.raw_scores(np.zeros((1, F - 1), np.float32))
    assert not model_file.with_name(model_file.name + ".partial").exists()


def rewrite(path: Path, change: dict[str, Any]) -> None:
    document = json.loads(path.read_text())
    document.update(change)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something/2"}, r"format 'something/2', expected shopguard\.behaviour/1"),
        ({"feature_names": list(reversed(NAMES))}, "another order"),
        ({"feature_names": [*NAMES[:-1], "new"]}, r"missing \['still_frac@2s'\]"),
        ({"feature_names": None}, "no feature_names list"),
        ({"feature_spec": {"windows_s": [1.0, 2.1]}}, "bad or missing field"),  # not whole steps
        ({"feature_spec": {"windows_s": [2.0, 1.0]}}, "bad or missing field"),  # not ascending
        ({"feature_spec": {"window_s": 2.0}}, "bad or missing field"),  # an older file's field
        ({"feature_spec": {"windows_s": [1.0]}}, r"unknown \['seen_frac@2s'"),
        ({"policy": {"smoothing_s": 1.0}}, "bad or missing field"),  # no threshold
        (
            {"policy": {"smoothing_s": 1, "threshold": 0.5, "min_track_age_s": -1.0}},
            "bad or missing field",
        ),
        ({"booster_ubj": "%%% not base64"}, "bad or missing field"),
        ({"booster_ubj": base64.b64encode(b"\x00garbage").decode()}, "booster is unreadable"),
    ],
)
def test_a_wrong_model_file_is_refused_naming_file_and_fault(
    model_file: Path, change: dict[str, Any], message: str
) -> None:
    rewrite(model_file, change)
    with pytest.raises(ModelError, match=message) as caught:
        BehaviourModel.load(model_file)
    assert str(model_file) in caught.value.message


def test_a_booster_of_another_width_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "narrow.json"
    BehaviourModel(tiny_booster(F - 2), SPEC, ScoringPolicy()).save(path)
    with pytest.raises(ModelError, match=f"takes {F - 2} features"):
        BehaviourModel.load(path)


def test_a_model_changed_after_its_sha256_was_recorded(model_file: Path) -> None:
    record_sha(model_file)
    assert BehaviourModel.load(model_file).policy.threshold == 0.42
    rewrite(model_file, {"info": {"note": "edited"}})
    with pytest.raises(ModelError, match=r"does not match its sha256"):
        BehaviourModel.load(model_file)


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"not found: train one with `shopguard model train`"):
        BehaviourModel.load(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"\x89PNG not json")
    with pytest.raises(ModelError, match="is not JSON"):
        BehaviourModel.load(broken)
    truncated = tmp_path / "truncated.json"
    truncated.write_text('{"format": "shopguard.behaviour/1", "feature_na')
    with pytest.raises(ModelError, match="is not JSON"):
        BehaviourModel.load(truncated)


def policy_without_age(path: Path) -> None:
    """The file as written before the track-age rule existed: no `min_track_age_s`."""
    document = json.loads(path.read_text())
    del document["policy"]["min_track_age_s"]
    path.write_text(json.dumps(document))


def test_a_file_from_before_the_track_age_rule_gets_the_documented_default(
    model_file: Path,
) -> None:
    policy_without_age(model_file)
    policy = BehaviourModel.load(model_file).policy
    assert policy.min_track_age_s == MIN_TRACK_AGE_S == ScoringPolicy().min_track_age_s
    assert (policy.smoothing_s, policy.threshold) == (0.8, 0.42)  # the rest as written


def test_the_shipped_model_loads_with_a_track_age_rule() -> None:
    path = DEFAULT_WEIGHTS_DIR / MODEL_NAME
    written = json.loads(path.read_text())["policy"].get("min_track_age_s", MIN_TRACK_AGE_S)
    assert BehaviourModel.load(path).policy.min_track_age_s == written > 0


@pytest.mark.parametrize("age", [-0.5, float("nan"), float("inf")])
def test_a_minimum_track_age_must_be_a_finite_number_of_seconds(age: float) -> None:
    with pytest.raises(ValueError, match="min_track_age_s"):
        ScoringPolicy(min_track_age_s=age)
