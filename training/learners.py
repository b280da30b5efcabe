"""Learners: what the evaluation protocol fits in each fold and scores the held fold with.

The protocol (`training/protocol.py`) only needs a learner to fit on some rows and to give
one raw score per row; calibration, smoothing, thresholds and figures are the protocol's.
Rows are `PersonRows`: feature rows that also name their video, frame and track and carry
the videos, so a learner over keypoint sequences can rebuild its own inputs from the same
rows (`training.dataset.row_histories` gives each row's track, cut as the rows were).

    class Learner(Protocol[Fitted]):
        name: str
        def fit(self, rows: PersonRows, keep: Mask) -> Fitted: ...
        def predict(self, fitted: Fitted, rows: PersonRows) -> Scores: ...

`keep` says which rows the fit may learn from (the protocol leaves out bystanders in
shoplifting frames, `dataset.one_per_frame`); `predict` returns raw scores, shape (N,),
higher for more suspicious, on any scale (they are calibrated afterwards).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from training.dataset import PersonRows
from training.fit import Params, fit, predict

Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]
Fitted = TypeVar("Fitted")


class Learner(Protocol[Fitted]):
    """Fits on person rows and gives each row a raw score."""

    @property
    def name(self) -> str:
        """Says what it is and its settings, for reports."""
        ...

    def fit(self, rows: PersonRows, keep: Mask) -> Fitted:
        """Fitted on the `keep` rows of `rows` (labels in `rows.label`)."""
        ...

    def predict(self, fitted: Fitted, rows: PersonRows) -> Scores:
        """A raw score per row of `rows`, shape (N,)."""
        ...


@dataclass(frozen=True, slots=True)
class XGBoostLearner:
    """The XGBoost booster of `training/fit.py` with fixed settings."""

    params: Params = field(default_factory=Params)
    threads: int = 2

    @property
    def name(self) -> str:
        changed = {k: v for k, v in self.params.row().items() if getattr(Params(), k) != v}
        return "xgb" + (f"({', '.join(f'{k}={v}' for k, v in changed.items())})" if changed else "")

    def fit(self, rows: PersonRows, keep: Mask) -> Any:
        return fit(rows.take(keep), self.params, threads=self.threads)

    def predict(self, fitted: Any, rows: PersonRows) -> Scores:
        return predict(fitted, rows)


@dataclass(frozen=True, slots=True)
class Average:
    """An ensemble: the (weighted) mean of its members' raw scores. Each member is fitted on
    the same rows; raw scores are averaged as they come, so members should give scores on
    comparable scales (probabilities, as XGBoost's are)."""

    members: tuple[Learner[Any], ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError("members: an average needs at least one learner")
        if self.weights is not None and (
            len(self.weights) != len(self.members) or min(self.weights) < 0 or not sum(self.weights)
        ):
            raise ValueError("weights: one non-negative weight per member, not all 0")

    @property
    def name(self) -> str:
        return "mean(" + " + ".join(m.name for m in self.members) + ")"

    def fit(self, rows: PersonRows, keep: Mask) -> tuple[Any, ...]:
        return tuple(member.fit(rows, keep) for member in self.members)

    def predict(self, fitted: tuple[Any, ...], rows: PersonRows) -> Scores:
        weights = np.asarray(self.weights or [1.0] * len(self.members), np.float64)
        scores = np.stack(
            [m.predict(f, rows) for m, f in zip(self.members, fitted, strict=True)]
        ).reshape(len(self.members), len(rows))
        return np.asarray(weights @ scores / weights.sum(), np.float64)


def temporal(store_weight: float = 1.0) -> Learner[Any]:
    """The temporal network (`training/temporal/`; imports torch, the train extra)."""
    from training.temporal.fit import TrainSettings
    from training.temporal.learner import SequenceLearner

    return SequenceLearner(TrainSettings(store_weight=store_weight))


def ensemble(params: Params | None = None) -> Average:
    """The shipped model: the XGBoost and the temporal network, raw scores averaged
    (`server/behaviour/ensemble.py`); both weigh store rows by `params.store_weight`."""
    params = params or Params()
    return Average((XGBoostLearner(params), temporal(params.store_weight)), (0.5, 0.5))


def with_store_weight(learner: Learner[Any], store_weight: float) -> Learner[Any]:
    """The same learner, weighing the store's rows `store_weight` times (`fit.row_weights`)."""
    if isinstance(learner, XGBoostLearner):
        return replace(learner, params=replace(learner.params, store_weight=store_weight))
    if isinstance(learner, Average) and isinstance(first := learner.members[0], XGBoostLearner):
        return ensemble(replace(first.params, store_weight=store_weight))
    raise TypeError(f"{learner.name}: no store weight to set")


ENSEMBLE = "xgb+temporal"
# learners by name, for `shopguard model cv --learner` and `train --learner`
LEARNERS: dict[str, Callable[[], Learner[Any]]] = {
    "xgb": XGBoostLearner,
    "temporal": temporal,
    ENSEMBLE: ensemble,
}


def xgboost_trials(trials: Sequence[Params]) -> list[Learner[Any]]:
    """One XGBoost learner per setting of a search."""
    return [XGBoostLearner(p) for p in trials]
