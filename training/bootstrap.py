"""Bootstrap intervals over recording sessions.

Frames and alerts of one session are not independent (one person, one afternoon), so the
unit resampled is the session: each resample draws sessions with replacement and a figure
is recomputed with each session counted as often as it was drawn. Sessions holding
shoplifting and the others are drawn apart (a stratified bootstrap), so every resample
holds as many of each as the data: with 24 sessions of thefts among 71, a plain draw would
vary the number of thefts as much as the model. The interval is the resamples' 5th and
95th percentiles (90%); the seed is fixed, so a rerun gives the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RESAMPLES = 1000
SEED = 20261
LEVEL = 0.90

Weights = npt.NDArray[np.float64]  # (S,) how many times each session was drawn


@dataclass(frozen=True, slots=True)
class Interval:
    """A figure and its bootstrap interval."""

    point: float
    low: float
    high: float

    def row(self, digits: int = 4) -> dict[str, float | None]:
        def clean(value: float) -> float | None:
            return None if math.isnan(value) else round(value, digits)

        return {"value": clean(self.point), "low": clean(self.low), "high": clean(self.high)}


def resample_weights(
    strata: npt.NDArray[np.int64], resamples: int = RESAMPLES, seed: int = SEED
) -> npt.NDArray[np.float64]:
    """(resamples, S): per resample, how many times each session was drawn; sessions are
    drawn with replacement within their stratum (`strata`, shape (S,))."""
    rng = np.random.default_rng(seed)
    out = np.zeros((resamples, len(strata)), np.float64)
    for stratum in np.unique(strata).tolist():
        members = np.flatnonzero(strata == stratum)
        draws = rng.integers(0, len(members), size=(resamples, len(members)))
        for r in range(resamples):
            out[r] += np.bincount(members[draws[r]], minlength=len(strata))
    return out


def interval(
    statistic: Callable[[Weights], float],
    weights: npt.NDArray[np.float64],
    level: float = LEVEL,
) -> Interval:
    """`statistic` on every session once, and the percentile interval over the resamples'
    `weights` (resamples where it is undefined, nan, are left out)."""
    point = statistic(np.ones(weights.shape[1]))
    values = np.asarray([statistic(w) for w in weights], np.float64)
    values = values[~np.isnan(values)]
    if not len(values):
        return Interval(point, float("nan"), float("nan"))
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return Interval(point, float(low), float(high))
