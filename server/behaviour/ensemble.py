"""⑥ the behaviour model as shipped: the XGBoost over window features (`classifier.py`) and
the temporal network over keypoint sequences (`sequence.py`), their raw scores averaged.

The XGBoost file names the network's file and the weights (`classifier.Members`) and holds
the policy (smoothing, calibration, threshold, track-age rule) of the average: training
fits it on the ensemble's out-of-fold scores (`shopguard model train`). Each member file is
checked on load as it is alone.

Example:
    >>> model = load_track_model(Path("weights/behaviour-xgb.json"))
    >>> raw = model.raw_scores_at(histories, ends)   # (N,) one per track's window
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from server.behaviour.classifier import BehaviourModel, ScoringPolicy
from server.behaviour.sequence import SequenceModel, metadata_path
from server.errors import ModelError
from server.records.people import TrackHistory
from server.weights import sha256_of

F64 = npt.NDArray[np.float64]


class TrackModel(Protocol):
    """What scoring a camera's tracks needs of a behaviour model."""

    @property
    def policy(self) -> ScoringPolicy: ...

    @property
    def info(self) -> dict[str, Any]: ...

    @property
    def history_s(self) -> float:
        """Seconds of a track before a window's end that the model reads."""
        ...

    def raw_scores_at(
        self, histories: Sequence[TrackHistory], end_ts: Sequence[npt.ArrayLike]
    ) -> F64:
        """The raw score of each track's windows ending at its `end_ts`, in that order."""
        ...


class Ensemble:
    """The weighted mean of the XGBoost's and the temporal network's raw scores."""

    def __init__(self, xgb: BehaviourModel, temporal: SequenceModel) -> None:
        if xgb.members is None:
            raise ValueError("xgb: its file names no ensemble members")
        self.xgb, self.temporal = xgb, temporal
        self.weights = np.asarray([xgb.members.xgb_weight, xgb.members.temporal_weight])

    @property
    def policy(self) -> ScoringPolicy:
        return self.xgb.policy

    @property
    def info(self) -> dict[str, Any]:
        return self.xgb.info

    @property
    def history_s(self) -> float:
        return max(self.xgb.history_s, self.temporal.spec.history_s)

    def raw_scores_at(
        self, histories: Sequence[TrackHistory], end_ts: Sequence[npt.ArrayLike]
    ) -> F64:
        return self.member_scores(
            self.xgb.raw_scores_at(histories, end_ts), self.temporal.score(histories, end_ts)
        )

    def member_scores(self, xgb_raw: F64, temporal_raw: F64) -> F64:
        """The ensemble's raw scores from its members' (training scores rows this way)."""
        return np.asarray(
            self.weights @ np.stack([xgb_raw, temporal_raw]) / self.weights.sum(), np.float64
        )


def load_track_model(path: Path) -> BehaviourModel | Ensemble:
    """The model whose main file is `path`: the XGBoost alone, or the ensemble its file
    names (`ModelError` says what is wrong with either file)."""
    xgb = BehaviourModel.load(path)
    if xgb.members is None:
        return xgb
    onnx = path.with_name(xgb.members.temporal)
    temporal = SequenceModel.load(onnx)
    pinned, found = xgb.members.temporal_sha256, sha256_of(onnx)
    if pinned is not None and found != pinned:  # e.g. a retrain stopped halfway
        raise ModelError(
            f"temporal model {onnx} is not the network {path.name} was trained with "
            f"(sha256 {found[:12]}…, expected {pinned[:12]}…): retrain, or put back the "
            "files trained together"
        )
    return Ensemble(xgb, temporal)


def member_files(path: Path) -> list[Path]:
    """The files besides `path` that the model whose main file it is needs (its members':
    the temporal network and its metadata), read from the main file without loading it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        name = document["ensemble"]["temporal"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(name, str) or Path(name).name != name or not name:
        return []
    onnx = path.with_name(name)
    return [onnx, metadata_path(onnx)]
