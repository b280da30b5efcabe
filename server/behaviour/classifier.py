"""⑥ classifier: the behaviour model file, and scoring feature rows with it.

One JSON file holds everything scoring needs: the XGBoost booster (UBJSON, base64), the
ordered feature names and the `FeatureSpec` its rows were cut with (on load the names are
checked against those this code makes of that spec, so a silent column shift cannot
happen), the track smoothing, the calibration and the operating threshold, plus how it was
trained and measured. A model that is an ensemble also names its other member
(`Members`: the temporal network's file beside it, and each member's weight); its policy is
then the ensemble's, and `models.load_behaviour_model` loads both (`ensemble.py`).
`training/` writes it (`shopguard model train`); the server only loads it.

Example:
    >>> model = BehaviourModel.load(Path("weights/behaviour-xgb.json"))
    >>> raw = model.raw_scores(batch_features(histories, ends, model.spec))
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from server.behaviour.features import FeatureSpec, batch_features
from server.behaviour.scoring import Calibration
from server.errors import ModelError
from server.records.people import TrackHistory

MODEL_FORMAT = "shopguard.behaviour/1"
MODEL_NAME = "behaviour-xgb.json"
TRAIN_HINT = "train one with `shopguard model train`"


MIN_TRACK_AGE_S = 2.0  # the track-age rule of new models, and of files written before it


@dataclass(frozen=True, slots=True)
class ScoringPolicy:
    """How raw person scores become the alerting score.

    `min_track_age_s`: the moments of a track younger than this (seconds since its person
    was first seen, across id switches: `scoring.first_seen`) do not count toward its
    alerting score, which is 0 until one does: a person entering the view, or a new track
    id, cannot alert from their first seconds alone (the labelled clips taught the model
    that a track which just began is suspicious). A model file without the field gets
    `MIN_TRACK_AGE_S`: the rule only ever removes alerts."""

    smoothing_s: float = 1.0  # track scores averaged over this many seconds
    threshold: float = 0.5  # calibrated score from which a moment counts as shoplifting
    calibration: Calibration = field(default_factory=Calibration.identity)
    min_track_age_s: float = MIN_TRACK_AGE_S

    def __post_init__(self) -> None:
        if not (0 <= self.smoothing_s < math.inf):
            raise ValueError(f"smoothing_s: must be >= 0, got {self.smoothing_s}")
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold: must be within 0..1, got {self.threshold}")
        if not (0 <= self.min_track_age_s < math.inf):
            raise ValueError(f"min_track_age_s: must be >= 0, got {self.min_track_age_s}")


@dataclass(frozen=True, slots=True)
class Members:
    """The other member of an ensemble, as its main (XGBoost) file names it."""

    temporal: str  # the temporal network's ONNX file, beside the main file
    xgb_weight: float = 0.5  # the raw score is the weighted mean of the members'
    temporal_weight: float = 0.5
    temporal_sha256: str | None = None  # the network it was trained with: no other is loaded

    def __post_init__(self) -> None:
        if not self.temporal or Path(self.temporal).name != self.temporal:
            raise ValueError(f"temporal: a file name beside the model, got {self.temporal!r}")
        weights = (self.xgb_weight, self.temporal_weight)
        if not all(math.isfinite(w) and w >= 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"weights: non-negative and not both 0, got {weights}")


class BehaviourModel:
    """An XGBoost booster with the spec, names and policy it was trained with."""

    def __init__(
        self,
        booster: Any,
        spec: FeatureSpec,
        policy: ScoringPolicy,
        info: dict[str, Any] | None = None,
        members: Members | None = None,
    ) -> None:
        booster.set_param({"nthread": 1})  # scoring is small: one core, no thread start-up
        self.booster, self.spec, self.policy = booster, spec, policy
        self.info = info or {}
        self.members = members  # None: the booster is the whole model

    @property
    def history_s(self) -> float:
        """Seconds of a track before a window's end that its features read."""
        return self.spec.window_s + self.spec.max_gap_s

    def raw_scores_at(
        self, histories: Sequence[TrackHistory], end_ts: Sequence[npt.ArrayLike]
    ) -> npt.NDArray[np.float64]:
        """The raw score of each track's windows ending at its `end_ts`, in that order."""
        return self.raw_scores(batch_features(histories, end_ts, self.spec))

    def raw_scores(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Each row's raw probability, shape (N,), for rows of the spec's features."""
        width = len(self.spec.feature_names)
        if features.ndim != 2 or features.shape[1] != width:
            raise ValueError(f"features: shape must be (N, {width})")
        if len(features) == 0:
            return np.zeros(0, np.float64)
        return np.asarray(self.booster.inplace_predict(features), np.float64).reshape(-1)

    def save(self, path: Path) -> None:
        """Write the model file (atomically: a partial file never replaces a good one)."""
        document = {
            "format": MODEL_FORMAT,
            "feature_names": list(self.spec.feature_names),
            "feature_spec": asdict(self.spec),
            "policy": {
                "smoothing_s": self.policy.smoothing_s,
                "threshold": self.policy.threshold,
                "min_track_age_s": self.policy.min_track_age_s,
                "calibration": {
                    "x": list(self.policy.calibration.x),
                    "y": list(self.policy.calibration.y),
                },
            },
            "info": self.info,
            **({"ensemble": asdict(self.members)} if self.members else {}),
            "booster_ubj": base64.b64encode(bytes(self.booster.save_raw("ubj"))).decode(),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> BehaviourModel:
        """Read and check a model file; `ModelError` names the file and what is wrong."""
        import xgboost as xgb

        from server.weights import is_recorded, sha_path

        if not path.is_file():
            raise ModelError(f"behaviour model {path} not found: {TRAIN_HINT}")
        if sha_path(path).is_file() and not is_recorded(path):
            raise ModelError(
                f"behaviour model {path} does not match its sha256 (changed or damaged)"
            )
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelError(f"behaviour model {path} is not JSON ({exc})") from exc
        if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
            found = document.get("format") if isinstance(document, dict) else None
            raise ModelError(f"behaviour model {path}: format {found!r}, expected {MODEL_FORMAT}")
        try:
            spec = FeatureSpec(**document["feature_spec"])
            policy_doc = document["policy"]
            calibration = Calibration(
                tuple(policy_doc["calibration"]["x"]), tuple(policy_doc["calibration"]["y"])
            )
            policy = ScoringPolicy(
                policy_doc["smoothing_s"],
                policy_doc["threshold"],
                calibration,
                policy_doc.get("min_track_age_s", MIN_TRACK_AGE_S),
            )
            raw = base64.b64decode(document["booster_ubj"], validate=True)
            members = Members(**document["ensemble"]) if "ensemble" in document else None
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ModelError(f"behaviour model {path}: bad or missing field ({exc})") from exc
        names, expected = document.get("feature_names"), list(spec.feature_names)
        if names != expected:
            raise ModelError(
                f"behaviour model {path}: {_names_differ(names, expected)}; retrain it"
            )
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(raw))
        except xgb.core.XGBoostError as exc:
            reason = str(exc).splitlines()[0]
            raise ModelError(
                f"behaviour model {path}: the booster is unreadable ({reason})"
            ) from exc
        if booster.num_features() != len(expected):
            raise ModelError(
                f"behaviour model {path}: the booster takes {booster.num_features()} features, "
                f"the names list {len(expected)}"
            )
        return cls(booster, spec, policy, document.get("info") or {}, members)


def _names_differ(names: object, expected: list[str]) -> str:
    if not isinstance(names, list):
        return "no feature_names list"
    missing = [n for n in expected if n not in names]
    extra = [n for n in names if n not in expected]
    if missing or extra:
        return f"names differ from its feature_spec's (missing {missing}, unknown {extra})"
    return "names are in another order than its feature_spec's"
