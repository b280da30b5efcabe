"""The temporal network as a `training.learners.Learner`: what the evaluation protocol fits
in each fold (`SequenceLearner()`), alone or averaged with the XGBoost
(`Average((XGBoostLearner(), SequenceLearner()))`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from training.dataset import PersonRows
from training.temporal.fit import SequenceFit, TrainSettings, fit_sequence, predict_sequence


@dataclass(frozen=True, slots=True)
class SequenceLearner:
    """`fit_sequence` / `predict_sequence` with fixed settings."""

    settings: TrainSettings = field(default_factory=TrainSettings)
    say: Callable[[str], None] | None = field(default=None, compare=False)  # epoch lines

    @property
    def name(self) -> str:
        changed = {k: v for k, v in self.settings.row().items() if getattr(TrainSettings(), k) != v}
        return "tcn" + (f"({', '.join(f'{k}={v}' for k, v in changed.items())})" if changed else "")

    def fit(self, rows: PersonRows, keep: npt.NDArray[np.bool_]) -> SequenceFit:
        if self.say is None:
            return fit_sequence(rows, keep, settings=self.settings)
        return fit_sequence(rows, keep, settings=self.settings, say=self.say)

    def predict(self, fitted: SequenceFit, rows: PersonRows) -> npt.NDArray[np.float64]:
        return predict_sequence(fitted, rows)
