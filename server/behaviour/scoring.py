"""From one person-moment's raw classifier output to a score that means what it says.

- `track_scores`: a track's raw probabilities averaged over the last `smoothing_s` seconds
  (causal, in seconds so it holds at any frame rate): one suspicious moment does not alert,
  a sustained one does.
- `Calibration`: a monotone map from that smoothed score to the probability that the frame
  shows shoplifting, fitted on out-of-fold predictions (isotonic regression) and stored
  with the model as its knots.

Example:
    >>> smoothed = track_scores(history.ts, raw, smoothing_s=1.0)
    >>> probability = calibration.apply(smoothed)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def track_scores(ts: npt.ArrayLike, raw: npt.ArrayLike, smoothing_s: float) -> F64:
    """Each moment's mean raw score over the track's moments in (ts - smoothing_s, ts].

    Args:
        ts: the track's times, shape (T,), seconds, increasing.
        raw: its raw scores at those times, shape (T,).
        smoothing_s: the averaging window; 0 returns `raw`.
    Returns:
        shape (T,), float64.
    """
    times, values = np.asarray(ts, np.float64), np.asarray(raw, np.float64)
    if times.shape != values.shape or times.ndim != 1:
        raise ValueError(f"ts and raw: one (T,) array each, got {times.shape}, {values.shape}")
    if smoothing_s <= 0 or len(values) == 0:
        return values.copy()
    sums = np.concatenate([[0.0], np.cumsum(values)])
    first = np.searchsorted(times, times - smoothing_s, side="right")  # oldest moment kept
    last = np.arange(1, len(times) + 1)
    return np.asarray((sums[last] - sums[first]) / (last - first), np.float64)


@dataclass(frozen=True, slots=True)
class Calibration:
    """A non-decreasing piecewise-linear map on 0..1, given by its knots (`x` increasing)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __post_init__(self) -> None:
        x, y = np.asarray(self.x), np.asarray(self.y)
        if len(x) < 2 or x.shape != y.shape:
            raise ValueError("calibration: needs at least two (x, y) knots of equal count")
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("calibration: knots must be finite")
        if (np.diff(x) <= 0).any() or (np.diff(y) < 0).any():
            raise ValueError("calibration: x must increase and y must not decrease")
        if y.min() < 0 or y.max() > 1:
            raise ValueError("calibration: y must lie within 0..1")

    @classmethod
    def identity(cls) -> Calibration:
        """No calibration: scores pass through."""
        return cls((0.0, 1.0), (0.0, 1.0))

    @classmethod
    def from_knots(cls, x: Sequence[float], y: Sequence[float]) -> Calibration:
        """Knots as fitted (e.g. isotonic regression's thresholds); repeated x merged."""
        xs, index = np.unique(np.asarray(x, np.float64), return_index=True)
        ys = np.maximum.accumulate(np.clip(np.asarray(y, np.float64)[index], 0.0, 1.0))
        if len(xs) == 1:
            xs, ys = np.array([xs[0], xs[0] + 1e-9]), np.array([ys[0], ys[0]])
        return cls(tuple(float(v) for v in xs), tuple(float(v) for v in ys))

    def apply(self, score: npt.ArrayLike) -> F64:
        """Calibrated probabilities, the same shape as `score`."""
        return np.asarray(np.interp(np.asarray(score, np.float64), self.x, self.y), np.float64)
