"""From one person-moment's raw classifier output to a score that means what it says.

- `track_scores`: a track's raw probabilities averaged over the last `smoothing_s` seconds
  (causal, in seconds so it holds at any frame rate): one suspicious moment does not alert,
  a sustained one does. Offline it averages the moments the live scorer would have scored
  (every `SCORE_EVERY_S`), and only moments that count: those of a track old enough
  (`ScoringPolicy.min_track_age_s`).
- `first_seen`, `joined`: when a track's person was first seen, and their history, across
  an id switch (`continues`): the track-age rule measures age from that first sight, and a
  continuing track is scored on the person's history, not on its own few frames.
- `Calibration`: a monotone map from that smoothed score to the probability that the frame
  shows shoplifting, fitted on out-of-fold predictions (isotonic regression) and stored
  with the model as its knots.

Example:
    >>> smoothed = track_scores(history.ts, raw, smoothing_s=1.0)
    >>> probability = calibration.apply(smoothed)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from server.records.people import TrackHistory

F64 = npt.NDArray[np.float64]

SCORE_EVERY_S = 0.4  # the live scorer's cadence (`pipeline.behaviour_every_s`'s default)
CONTINUE_WITHIN_S = 1.0  # a track starting this soon after another vanished may continue it
CONTINUE_MIN_IOU = 0.3  # ... when its first box overlaps the other's last this much
_EPS_S = 1e-6  # times this close are the same moment, despite float sums


def track_scores(
    ts: npt.ArrayLike,
    raw: npt.ArrayLike,
    smoothing_s: float,
    *,
    every_s: float = 0.0,
    counted: npt.ArrayLike | None = None,
) -> F64:
    """Each moment's mean raw score over the track's moments in (ts - smoothing_s, ts] that
    count.

    Args:
        ts: the track's times, shape (T,), seconds, increasing.
        raw: its raw scores at those times, shape (T,).
        smoothing_s: the averaging window; 0: each moment alone.
        every_s: 0 averages every moment in the window (the live scorer's own moments);
            > 0 only those whole multiples of `every_s` before it, the moments a scorer
            running every `every_s` seconds would have had (offline, at the source's rate).
        counted: which moments count, shape (T,) bool; None: all.
    Returns:
        shape (T,), float64; NaN where no moment of the window counts.
    """
    times, values = np.asarray(ts, np.float64), np.asarray(raw, np.float64)
    if times.shape != values.shape or times.ndim != 1:
        raise ValueError(f"ts and raw: one (T,) array each, got {times.shape}, {values.shape}")
    counts = np.ones(len(values), bool) if counted is None else np.asarray(counted, bool)
    if counts.shape != values.shape:
        raise ValueError(f"counted: shape must be {values.shape}, got {counts.shape}")
    if smoothing_s <= 0 or len(values) == 0:
        return np.where(counts, values, np.nan)
    if every_s <= 0:
        sums = np.concatenate([[0.0], np.cumsum(np.where(counts, values, 0.0))])
        n_in = np.concatenate([[0], np.cumsum(counts)])
        first = np.searchsorted(times, times - smoothing_s, side="right")  # oldest moment kept
        last = np.arange(1, len(times) + 1)
        total, number = sums[last] - sums[first], n_in[last] - n_in[first]
    else:
        total, number = np.zeros(len(values)), np.zeros(len(values), np.int64)
        for k in range(math.ceil(smoothing_s / every_s)):
            if k * every_s >= smoothing_s - _EPS_S:
                break
            target = times - k * every_s
            j = np.minimum(np.searchsorted(times, target - _EPS_S), len(times) - 1)
            hit = (np.abs(times[j] - target) <= _EPS_S) & counts[j]
            total += np.where(hit, values[j], 0.0)
            number += hit
    out = np.full(len(values), np.nan)
    return np.asarray(np.divide(total, number, out=out, where=number > 0), np.float64)


def alerting_scores(smoothed: npt.ArrayLike, calibration: Calibration) -> F64:
    """The alerting scores of smoothed scores: calibrated, and 0 where no moment counted
    (NaN from `track_scores`)."""
    calibrated = calibration.apply(smoothed)
    return np.where(np.isnan(calibrated), 0.0, calibrated)


def box_iou(boxes: npt.ArrayLike, box: npt.ArrayLike) -> F64:
    """IoU of each of `boxes` (C, 4) with `box` (4,), x1 y1 x2 y2; 0 for empty boxes."""
    many, one = np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(box, np.float64)
    low, high = np.maximum(many[:, :2], one[:2]), np.minimum(many[:, 2:], one[2:])
    inter = np.clip(high - low, 0, None).prod(axis=1)
    area = np.clip(many[:, 2:] - many[:, :2], 0, None).prod(axis=1)
    union = area + np.clip(one[2:] - one[:2], 0, None).prod() - inter
    return np.asarray(np.divide(inter, union, out=np.zeros(len(many)), where=union > 0), np.float64)


def continues(
    last_ts: npt.ArrayLike, last_box: npt.ArrayLike, start_ts: float, start_box: npt.ArrayLike
) -> F64:
    """How well a track first seen at `start_ts` in `start_box` continues each of C tracks
    last seen at `last_ts` (C,) in `last_box` (C, 4), i.e. is the same person after an id
    switch: the boxes' IoU when that track vanished at most `CONTINUE_WITHIN_S` before and
    the IoU is at least `CONTINUE_MIN_IOU`; 0 otherwise. Shape (C,)."""
    gap = start_ts - np.asarray(last_ts, np.float64).reshape(-1)
    iou = box_iou(last_box, start_box)
    near = (gap > 0) & (gap <= CONTINUE_WITHIN_S + _EPS_S) & (iou >= CONTINUE_MIN_IOU)
    return np.where(near, iou, 0.0)


def predecessors(histories: Sequence[TrackHistory]) -> npt.NDArray[np.int64]:
    """Which track each one continues (`continues`: one that had vanished, and is not seen,
    when it starts), -1 for none, shape (len(histories),). Tracks are taken in order of
    their start, as the live scorer meets them; a track is continued at most once."""
    starts = np.asarray([h.ts[0] if len(h) else math.inf for h in histories], np.float64)
    out = np.full(len(histories), -1, np.int64)
    for new in sorted(range(len(histories)), key=lambda i: (starts[i], i)):
        if not math.isfinite(starts[new]):
            continue
        start, box = starts[new], histories[new].xyxy[0]
        last_ts = np.full(len(histories), -math.inf)
        last_box = np.zeros((len(histories), 4), np.float32)
        for old, history in enumerate(histories):
            before = int(np.searchsorted(history.ts, start - _EPS_S))  # frames before start
            present = before < len(history) and abs(history.ts[before] - start) <= _EPS_S
            if old != new and old not in out and before > 0 and not present:
                last_ts[old], last_box[old] = history.ts[before - 1], history.xyxy[before - 1]
        fit = continues(last_ts, last_box, start, box)
        if fit.max(initial=0.0) > 0:
            out[new] = int(np.argmax(fit))
    return out


def first_seen(histories: Sequence[TrackHistory]) -> F64:
    """When each track's person was first seen, shape (len(histories),) seconds: its own
    first frame, or the first sight of the track it continues (`predecessors`), as the
    live scorer measures age, over whole recorded tracks."""
    return np.asarray([h.ts[0] if len(h) else math.inf for h in joined(histories)], np.float64)


def joined(histories: Sequence[TrackHistory]) -> list[TrackHistory]:
    """Each track with the frames of the tracks it continues (`predecessors`: theirs from
    before its start) in front: the person's history across id switches, which the live
    scorer scores a continuing track on."""
    previous = predecessors(histories)
    starts = [h.ts[0] if len(h) else math.inf for h in histories]
    out = list(histories)
    for new in sorted(range(len(histories)), key=lambda i: (starts[i], i)):
        if previous[new] >= 0:
            out[new] = join(out[int(previous[new])], histories[new])
    return out


def join(before: TrackHistory, after: TrackHistory) -> TrackHistory:
    """`after` (its id) with the frames of `before` from before its start in front."""
    keep = before.ts < after.ts[0] - _EPS_S if len(after) else np.ones(len(before), bool)
    return TrackHistory(
        after.track_id,
        np.concatenate([before.ts[keep], after.ts]),
        np.concatenate([before.xyxy[keep], after.xyxy]),
        np.concatenate([before.keypoints[keep], after.keypoints]),
        np.concatenate([before.keypoint_conf[keep], after.keypoint_conf]),
    )


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
