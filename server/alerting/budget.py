"""An alert budget per camera: the threshold that keeps a camera near "at most N alerts a day".

Computation only (no I/O); `thresholds.py` feeds it each camera's recorded history.

**History.** A camera's finished tracks under the current model within the last
`WINDOW_DAYS` (each: first and last seen, peak alerting score), and the seconds the camera
was analysed and scored meanwhile (`observed_s`). Days observed = observed_s / 86400.

**Alerts per day at a threshold t.** The tracks whose peak reaches t, merged as the dedup
merges detections: a track joins an episode when it starts within the dedup window of the
episode's last second. Approximations, stated: per camera, not per zone (zones split
episodes, so a camera with zones may see somewhat more alerts), and a track counts from its
first to its last second, not only while above t. Alerts per day = episodes / days observed.

**The threshold for a budget N.** Candidates are the distinct peaks at or above the floor,
strictest first. Going down the list, the threshold stops at the last candidate before the
first one whose alerts per day exceed N (so every stricter threshold is within budget too:
merging makes episodes non-monotone in t), and sits halfway between that candidate and the
next peak (room on both sides for tomorrow's scores). Bounds: never below the floor, never
above 1. When every candidate fits, it is the floor; when even the top peak alone exceeds N,
halfway between it and 1.

**Reviews.** The budget aimed at is N x `review_factor`: the share of real incidents among
the camera's reviewed alerts (confirmed thefts and deterred; false alarms against them;
unclear ones left out), counted with `REVIEW_PRIOR` imaginary real and false reviews each
so that a handful cannot swing it, divided by `REFERENCE_PRECISION` and held within
[`MIN_REVIEW_FACTOR`, 1]. Many false alarms: a stricter threshold; confirmed thefts bring it
back towards the admin's N, never past it.

Example:
    >>> curve = alert_curve(history, dedup_window_s=300.0, floor=0.3)
    >>> threshold, per_day = curve.threshold_for(3.0 * review_factor(Reviews(2, 6)))
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shared.schemas.cameras import ThresholdSource

DAY_S = 86400.0
WINDOW_DAYS = 7.0  # the peaks a threshold is derived from
MIN_DAYS = 1.0  # days of scored video before a budget sets the threshold
REVIEW_DAYS = 28.0  # the reviews that move the budget
REVIEW_PRIOR = 2  # imaginary real and false reviews added to each camera's own
REFERENCE_PRECISION = 0.5  # a camera with half its reviewed alerts real keeps its budget
MIN_REVIEW_FACTOR = 0.25  # the budget is cut to a quarter at most

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PeakHistory:
    """N finished tracks of one camera and model, and the seconds it was scored."""

    first_seen: F64  # (N,) Unix seconds
    last_seen: F64  # (N,) Unix seconds
    peak: F64  # (N,) alerting score 0..1
    observed_s: float  # seconds the camera was analysed and scored over the same days

    def __post_init__(self) -> None:
        n = self.peak.shape[0] if self.peak.ndim == 1 else -1
        for name in ("first_seen", "last_seen", "peak"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name}: shape must be (N,) like peak")
        if not self.observed_s >= 0:
            raise ValueError(f"observed_s: must be >= 0, got {self.observed_s}")

    def __len__(self) -> int:
        return int(self.peak.shape[0])

    @property
    def days(self) -> float:
        return self.observed_s / DAY_S

    @classmethod
    def empty(cls, observed_s: float = 0.0) -> PeakHistory:
        none = np.zeros(0, np.float64)
        return cls(none, none, none, observed_s)


@dataclass(frozen=True, slots=True)
class Reviews:
    """A camera's reviewed alerts over the last `REVIEW_DAYS`."""

    real: int = 0  # confirmed thefts and deterred
    false_alarms: int = 0


def review_factor(reviews: Reviews) -> float:
    """What the camera's reviews make of its budget: 1 without reviews, down to
    `MIN_REVIEW_FACTOR` when nearly all are false alarms (formula in the module docstring)."""
    precision = (reviews.real + REVIEW_PRIOR) / (
        reviews.real + reviews.false_alarms + 2 * REVIEW_PRIOR
    )
    return float(np.clip(precision / REFERENCE_PRECISION, MIN_REVIEW_FACTOR, 1.0))


def episodes(first_seen: F64, last_seen: F64, window_s: float) -> int:
    """How many alerts the tracks make when merged as the dedup merges (any order)."""
    if first_seen.size == 0:
        return 0
    order = np.argsort(first_seen, kind="stable")
    first, last = first_seen[order], last_seen[order]
    reach = np.maximum.accumulate(last)  # the episode's last second so far
    return 1 + int(np.count_nonzero(first[1:] - reach[:-1] > window_s))


def alerts_per_day(history: PeakHistory, threshold: float, window_s: float) -> float:
    """Expected alerts per day at `threshold`; 0 with no day observed."""
    if history.days <= 0:
        return 0.0
    chosen = history.peak >= threshold
    count = episodes(history.first_seen[chosen], history.last_seen[chosen], window_s)
    return count / history.days


@dataclass(frozen=True, slots=True)
class AlertCurve:
    """Expected alerts per day at each candidate threshold (distinct peaks >= `floor`),
    strictest first: from `thresholds[k]` down to just above `thresholds[k + 1]` the same
    tracks alert, `per_day[k]` a day."""

    thresholds: F64  # (M,) descending
    per_day: F64  # (M,)
    floor: float
    history: PeakHistory
    window_s: float

    @property
    def days(self) -> float:
        return self.history.days

    def at(self, threshold: float) -> float:
        """Expected alerts per day at any threshold."""
        if threshold < self.floor:
            return alerts_per_day(self.history, threshold, self.window_s)
        stricter_or_equal = np.flatnonzero(self.thresholds >= threshold)
        return float(self.per_day[stricter_or_equal[-1]]) if stricter_or_equal.size else 0.0

    def threshold_for(self, budget_per_day: float) -> tuple[float, float]:
        """The threshold for `budget_per_day` (module docstring) and its alerts per day."""
        over = np.flatnonzero(self.per_day > budget_per_day * (1 + 1e-9))
        fits = int(over[0]) if over.size else len(self.thresholds)
        if fits == len(self.thresholds):
            threshold = self.floor
        elif fits == 0:
            threshold = min(1.0, (float(self.thresholds[0]) + 1.0) / 2)
        else:
            threshold = (float(self.thresholds[fits - 1]) + float(self.thresholds[fits])) / 2
        threshold = min(1.0, max(self.floor, threshold))
        return threshold, self.at(threshold)


def alert_curve(history: PeakHistory, window_s: float, floor: float) -> AlertCurve:
    """The curve of `history` (module docstring): tracks are added strictest first, each
    merging with the episodes it reaches, so the whole curve costs O(N log N)."""
    chosen = np.flatnonzero(history.peak >= floor)
    order = chosen[np.argsort(-history.peak[chosen], kind="stable")]
    starts: list[float] = []  # disjoint episodes, each [first, last + window], in order
    ends: list[float] = []
    count = 0
    thresholds: list[float] = []
    counts: list[int] = []
    for row in order.tolist():
        a = float(history.first_seen[row])
        b = float(history.last_seen[row]) + window_s
        lo = bisect.bisect_left(ends, a)  # the first episode reaching a
        hi = bisect.bisect_right(starts, b)  # past the last episode starting by b
        if hi > lo:
            a, b = min(a, starts[lo]), max(b, ends[hi - 1])
        starts[lo:hi], ends[lo:hi] = [a], [b]
        count += 1 - (hi - lo)
        peak = float(history.peak[row])
        if thresholds and thresholds[-1] == peak:
            counts[-1] = count
        else:
            thresholds.append(peak)
            counts.append(count)
    days = history.days
    per_day = np.asarray(counts, np.float64) / days if days > 0 else np.zeros(len(counts))
    return AlertCurve(np.asarray(thresholds, np.float64), per_day, floor, history, window_s)


@dataclass(frozen=True, slots=True)
class ThresholdChoice:
    """The threshold in force for a camera, where it comes from, and what it gives."""

    source: ThresholdSource
    threshold: float | None  # None: the model's, and no model to ask
    expected_per_day: float | None  # None: under a day of scored video
    budget_per_day: float | None  # the budget aimed at (after reviews); None: no budget
    review_factor: float
    days_observed: float

    @property
    def rule(self) -> float | None:
        """What the alert recorder holds the camera to: its own or its budget's threshold;
        None: the global one, else the model's (as while learning)."""
        return (
            self.threshold
            if self.source in (ThresholdSource.manual, ThresholdSource.budget)
            else None
        )


def choose(
    *,
    manual: float | None,
    budget_per_day: float | None,
    fallback: float | None,
    curve: AlertCurve | None,
    reviews: Reviews,
) -> ThresholdChoice:
    """The threshold in force: the camera's own (`manual`) when set; else, with a budget
    (the camera's own or the global one; None: budgets are off) and at least `MIN_DAYS` of
    history, the budget's; else `fallback` (the global threshold, else the model's), as
    `learning` while a budget waits for history and as `model` when budgets are off."""
    days = curve.days if curve is not None else 0.0
    factor = review_factor(reviews)
    enough = curve is not None and days >= MIN_DAYS
    aimed: float | None = None
    threshold: float | None
    if manual is not None:
        source, threshold = ThresholdSource.manual, manual
    elif budget_per_day is None:
        source, threshold = ThresholdSource.model, fallback
    elif curve is None or not enough:
        source, threshold = ThresholdSource.learning, fallback
        aimed = budget_per_day * factor
    else:
        aimed = budget_per_day * factor
        source = ThresholdSource.budget
        threshold, _ = curve.threshold_for(aimed)
    expected = (
        curve.at(threshold) if enough and curve is not None and threshold is not None else None
    )
    return ThresholdChoice(source, threshold, expected, aimed, factor, days)
