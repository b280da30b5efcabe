"""How good frame scores are: frame-level AUC-ROC, AUC-PR and EER as the PoseLift papers
report them, and the event-level figures a store owner cares about: the share of
shoplifting episodes caught and the false alerts per hour of normal video.

An episode is a run of consecutive shoplifting frames. An alert is a run of frames at or
over the threshold; runs closer than `merge_gap_s` are one alert, as the server's alert
dedup makes them one incident. An episode is caught when an alert overlaps it; an alert
that overlaps no episode is a false alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

Labels = npt.NDArray[np.int8]
Scores = npt.NDArray[np.float64]
MERGE_GAP_S = 300.0  # the server's default alert dedup window


@dataclass(frozen=True, slots=True)
class FrameMetrics:
    """Over all frames of all videos; AUCs in percent, as in the published tables."""

    auc_roc: float
    auc_pr: float
    eer: float  # equal error rate, 0..1
    frames: int
    positive_frames: int


@dataclass(frozen=True, slots=True)
class EventMetrics:
    """At one threshold."""

    threshold: float
    episodes: int
    caught: int
    false_alerts: int
    normal_hours: float

    @property
    def caught_share(self) -> float:
        return self.caught / self.episodes if self.episodes else float("nan")

    @property
    def false_alerts_per_hour(self) -> float:
        return self.false_alerts / self.normal_hours if self.normal_hours else float("nan")


def frame_metrics(labels: Sequence[Labels], scores: Sequence[Scores]) -> FrameMetrics:
    """Frame-level figures over the concatenated videos (each labels/scores pair aligned)."""
    y, s = _concat(labels, scores)
    if y.min(initial=1) == y.max(initial=0):
        raise ValueError("frame metrics need both shoplifting and normal frames")
    fpr, tpr, _ = roc_curve(y, s)
    fnr = 1.0 - tpr
    i = int(np.argmin(np.abs(fpr - fnr)))
    return FrameMetrics(
        auc_roc=float(roc_auc_score(y, s) * 100),
        auc_pr=float(average_precision_score(y, s) * 100),
        eer=float((fpr[i] + fnr[i]) / 2),
        frames=len(y),
        positive_frames=int(y.sum()),
    )


def runs(mask: npt.NDArray[np.bool_], merge_gap: int = 0) -> list[tuple[int, int]]:
    """[start, end) of the runs of True, runs at most `merge_gap` frames apart joined."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    found = list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start - merged[-1][1] <= merge_gap:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def event_metrics(
    labels: Sequence[Labels],
    scores: Sequence[Scores],
    threshold: float,
    fps: float,
    merge_gap_s: float = MERGE_GAP_S,
) -> EventMetrics:
    """Episodes caught and false alerts at `threshold`, video by video."""
    episodes = caught = false_alerts = normal = 0
    gap = round(merge_gap_s * fps)
    for y, s in zip(labels, scores, strict=True):
        truth = runs(y == 1)
        alerts = runs(s >= threshold, gap)
        episodes += len(truth)
        caught += sum(any(_overlap(ep, alert) for alert in alerts) for ep in truth)
        false_alerts += sum(not any(_overlap(ep, alert) for ep in truth) for alert in alerts)
        normal += int((y == 0).sum())
    return EventMetrics(threshold, episodes, caught, false_alerts, normal / fps / 3600.0)


def threshold_for(
    labels: Sequence[Labels],
    scores: Sequence[Scores],
    fps: float,
    max_false_per_hour: float,
    merge_gap_s: float = MERGE_GAP_S,
) -> EventMetrics:
    """The lowest threshold (most episodes caught) whose false alerts per hour stay within
    `max_false_per_hour`. Only each episode's peak score can be the best threshold (just
    low enough to catch it), so those are the candidates."""
    _concat(labels, scores)
    peaks = [
        float(s[start:end].max())
        for y, s in zip(labels, scores, strict=True)
        for start, end in runs(y == 1)
    ]
    best: EventMetrics | None = None
    for threshold in sorted(set(peaks)):
        found = event_metrics(labels, scores, float(threshold), fps, merge_gap_s)
        if found.false_alerts_per_hour <= max_false_per_hour:
            if best is None or found.caught > best.caught:
                best = found
            if found.caught == found.episodes:
                break
    return best or event_metrics(labels, scores, 1.0 + 1e-9, fps, merge_gap_s)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _concat(labels: Sequence[Labels], scores: Sequence[Scores]) -> tuple[Labels, Scores]:
    if len(labels) != len(scores) or any(
        len(y) != len(s) for y, s in zip(labels, scores, strict=True)
    ):
        raise ValueError("labels and scores: one aligned array per video")
    y = np.concatenate([np.zeros(0, np.int8), *labels]).astype(np.int8)
    s = np.concatenate([np.zeros(0), *scores]).astype(np.float64)
    return y, s
