"""The protocol's figures, from held-out frame scores on session timelines.

- Frame figures over the labelled clips (the published protocol: every frame of every
  labelled clip, nobody in view scoring 0), and over every frame with people of every
  video outside the don't-care bands (normal-only video included).
- Event figures at each fold's own threshold (fitted without that fold), on the timelines.
- The operating points (fixed calibrated thresholds) and the curve of episodes caught
  against false alerts per hour with people, with its bootstrap band.
- The criterion (episodes caught averaged over budgets), beside the frame figures.
- 90% bootstrap intervals over sessions for the main figures.
- Where the alerts that are not catches fall (the false-alert audit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from training.bootstrap import RESAMPLES, SEED, Interval, interval, resample_weights
from training.events import (
    BUDGETS,
    EventFigures,
    EventTable,
    episode_peaks,
    event_table,
    session_alerts,
)
from training.metrics import MERGE_GAP_S, frame_metrics, runs
from training.poselift import PoseLiftVideo
from training.sessions import holds_shoplifting
from training.timeline import Timeline

F64 = npt.NDArray[np.float64]
OPERATING_POINTS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7)  # thresholds shown in reports
CURVE_BUDGETS = tuple(float(b) for b in np.round(np.arange(0, 40.01, 0.25), 2))


@dataclass(frozen=True, slots=True)
class Pooled:
    """Held-out frame scores on timelines, and what the figures are computed from."""

    timelines: tuple[Timeline, ...]
    scores: tuple[F64, ...]  # per session (T,), calibrated
    thresholds: F64  # (S,) each session's threshold (its fold's)
    chosen: EventTable  # at `thresholds`
    sweep: EventTable  # at every episode peak (and above all: nothing)
    points: EventTable  # at OPERATING_POINTS
    merge_gap_s: float = MERGE_GAP_S

    @classmethod
    def of(
        cls,
        timelines: Sequence[Timeline],
        scores: Sequence[F64],
        thresholds: F64,
        merge_gap_s: float = MERGE_GAP_S,
    ) -> Pooled:
        lines, values = tuple(timelines), tuple(np.asarray(s, np.float64) for s in scores)
        sweep = np.concatenate([episode_peaks(lines, values), [np.inf]])
        return cls(
            lines,
            values,
            np.asarray(thresholds, np.float64),
            event_table(lines, values, np.asarray(thresholds)[:, None], merge_gap_s),
            event_table(lines, values, sweep, merge_gap_s),
            event_table(lines, values, np.asarray(OPERATING_POINTS), merge_gap_s),
            merge_gap_s,
        )

    def frames(self, *, labelled_only: bool) -> tuple[F64, F64, npt.NDArray[np.int64]]:
        """Labels, scores and session of the frames the frame figures are over."""
        y, s, owner = [], [], []
        for index, (line, score) in enumerate(zip(self.timelines, self.scores, strict=True)):
            use = line.labelled if labelled_only else (line.people & ~line.band)
            y.append(line.label[use])
            s.append(score[use])
            owner.append(np.full(int(use.sum()), index, np.int64))
        return (
            np.concatenate([np.zeros(0), *y]),
            np.concatenate([np.zeros(0), *s]),
            np.concatenate([np.zeros(0, np.int64), *owner]),
        )

    def strata(self) -> npt.NDArray[np.int64]:
        """1 for sessions holding an episode, 0 for the others."""
        return np.asarray([int(bool(t.episodes)) for t in self.timelines], np.int64)


def report(
    pooled: Pooled,
    budgets: Sequence[float] = BUDGETS,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, Any]:
    """Every figure of the protocol, as the JSON `shopguard model cv` prints."""
    labelled = frame_figures(*pooled.frames(labelled_only=True)[:2])
    everything = frame_figures(*pooled.frames(labelled_only=False)[:2])
    chosen = pooled.chosen.figures()
    weights = resample_weights(pooled.strata(), resamples, seed)
    intervals = _intervals(pooled, weights, budgets) if resamples else {}
    per_hour, share = pooled.points.curve()
    return {
        "auc_roc": labelled.get("auc_roc"),
        "auc_pr": labelled.get("auc_pr"),
        "eer": labelled.get("eer"),
        "criterion": round(pooled.sweep.criterion(budgets), 4),
        "episodes_caught_share": round(chosen.caught_share, 4),
        "false_alerts_per_hour": round(chosen.false_alerts_per_hour, 2),
        "intervals": {name: found.row() for name, found in intervals.items()},
        "frames_labelled": labelled,
        "frames_all": everything,
        "events_at_fold_thresholds": {
            **chosen.row(),
            "thresholds": sorted({round(float(t), 4) for t in pooled.thresholds}),
        },
        "criterion_detail": {
            "budgets_per_hour": list(budgets),
            "caught_share_within": [
                round(float(v), 4) for v in pooled.sweep.caught_within(budgets)
            ],
            "note": "thresholds picked per budget on these scores: a figure of ranking",
        },
        "operating_points": [
            {
                "threshold": t,
                "episodes_caught_share": round(float(c), 4),
                "false_alerts_per_hour": round(float(f), 2),
                "band_alerts": int(pooled.points.band_alerts[:, i].sum()),
            }
            for i, (t, f, c) in enumerate(zip(OPERATING_POINTS, per_hour, share, strict=True))
        ],
        "curve": curve_band(pooled, weights),
        "bootstrap": {"resamples": resamples, "seed": seed, "level": 0.9, "unit": "session"},
    }


def frame_figures(y: F64, s: F64) -> dict[str, Any]:
    """AUC-ROC, AUC-PR (percent) and EER of frames, or counts alone when one class."""
    try:
        found = frame_metrics([y.astype(np.int8)], [s])
    except ValueError:
        return {"frames": len(y), "positive_frames": int(y.sum())}
    return {
        "auc_roc": round(found.auc_roc, 2),
        "auc_pr": round(found.auc_pr, 2),
        "eer": round(found.eer, 4),
        "frames": found.frames,
        "positive_frames": found.positive_frames,
    }


def curve_band(pooled: Pooled, weights: F64) -> dict[str, Any]:
    """Share of episodes caught within each false-alert budget: the point curve and its
    bootstrap 90% band."""
    point = pooled.sweep.caught_within(CURVE_BUDGETS)
    curve: dict[str, Any] = {
        "false_alerts_per_hour": list(CURVE_BUDGETS),
        "caught_share": [round(float(v), 4) for v in point],
    }
    if len(weights):
        draws = np.stack([pooled.sweep.caught_within(CURVE_BUDGETS, w) for w in weights])
        low, high = np.nanpercentile(draws, [5, 95], axis=0)
        curve["low"] = [round(float(v), 4) for v in low]
        curve["high"] = [round(float(v), 4) for v in high]
    return curve


def _intervals(pooled: Pooled, weights: F64, budgets: Sequence[float]) -> dict[str, Interval]:
    y, s, owner = pooled.frames(labelled_only=True)
    ranked = Ranked(y, s)

    def chosen(w: F64) -> EventFigures:
        return pooled.chosen.figures(0, w)

    return {
        "auc_roc": interval(lambda w: ranked.auc_roc(w[owner]), weights),
        "auc_pr": interval(lambda w: ranked.auc_pr(w[owner]), weights),
        "episodes_caught_share": interval(lambda w: chosen(w).caught_share, weights),
        "false_alerts_per_hour": interval(lambda w: chosen(w).false_alerts_per_hour, weights),
        "criterion": interval(lambda w: pooled.sweep.criterion(budgets, w), weights),
    }


class Ranked:
    """Frames sorted once by score, for AUC-ROC and AUC-PR (average precision, as
    scikit-learn computes them) under many weightings of the frames: a resample's weights
    sum into the curves without sorting again."""

    def __init__(self, y: F64, s: F64) -> None:
        order = np.argsort(-s, kind="mergesort")
        self.y = y[order].astype(np.float64)
        self.order = order
        ends = np.flatnonzero(np.diff(s[order]))  # the last frame of each tied score
        self.ends = np.concatenate([ends, [len(s) - 1]]) if len(s) else ends

    def _counts(self, w: F64) -> tuple[F64, F64]:
        weight = w[self.order]
        tp = np.cumsum(weight * self.y)[self.ends]
        fp = np.cumsum(weight * (1 - self.y))[self.ends]
        return tp, fp

    def auc_roc(self, w: F64) -> float:
        """Weighted AUC-ROC in percent (nan without both classes)."""
        tp, fp = self._counts(w)
        if not len(tp) or tp[-1] <= 0 or fp[-1] <= 0:
            return float("nan")
        tpr = np.concatenate([[0], tp / tp[-1]])
        fpr = np.concatenate([[0], fp / fp[-1]])
        return float(np.trapezoid(tpr, fpr) * 100)

    def auc_pr(self, w: F64) -> float:
        """Weighted average precision in percent (nan without both classes)."""
        tp, fp = self._counts(w)
        if not len(tp) or tp[-1] <= 0 or fp[-1] <= 0:
            return float("nan")
        flagged = tp + fp
        precision = np.divide(tp, flagged, out=np.zeros_like(tp), where=flagged > 0)
        recall = tp / tp[-1]
        return float(np.sum(np.diff(np.concatenate([[0], recall])) * precision) * 100)


def audit(
    pooled: Pooled,
    videos: Sequence[PoseLiftVideo],
    thresholds: F64,
) -> dict[str, Any]:
    """Where the alerts that catch nothing fall, at per-session `thresholds` (S,): in a
    don't-care band, in the normal-only video right after a clip with shoplifting, and how
    long after the last episode's end."""
    rows: list[dict[str, Any]] = []
    for s, (line, score) in enumerate(zip(pooled.timelines, pooled.scores, strict=True)):
        for alert in session_alerts(line, score, float(thresholds[s]), pooled.merge_gap_s, s):
            if alert.outcome == "caught":
                continue
            video = line.video_at(alert.start)
            place = line.session.videos.index(video)
            before = line.session.videos[place - 1] if place else None
            after_theft = (
                videos[video].labels is None
                and before is not None
                and holds_shoplifting(videos[before])
            )
            ended = [e.end for e in line.episodes if e.end <= alert.start]
            rows.append(
                {
                    "outcome": alert.outcome,
                    "video": videos[video].name,
                    "start_s": round((alert.start - line.session.offsets[place]) / line.fps, 1),
                    "peak": round(alert.peak, 3),
                    "after_theft_clip": after_theft,
                    "s_after_episode": (
                        round((alert.start - max(ended)) / line.fps, 1) if ended else None
                    ),
                }
            )
    after = [r["s_after_episode"] for r in rows if r["s_after_episode"] is not None]
    return {
        "alerts_not_catching": len(rows),
        "in_bands": sum(r["outcome"] == "band" for r in rows),
        "false": sum(r["outcome"] == "false" for r in rows),
        "in_normal_video_right_after_a_theft_clip": sum(r["after_theft_clip"] for r in rows),
        "within_30s_after_an_episode": sum(a <= 30 for a in after),
        "within_60s_after_an_episode": sum(a <= 60 for a in after),
        "counted_video_by_video": _video_by_video(pooled, videos, thresholds),
        "alerts": rows,
    }


def _video_by_video(
    pooled: Pooled, videos: Sequence[PoseLiftVideo], thresholds: F64
) -> dict[str, int]:
    """The same scores counted as the first protocol did: each video alone (alerts neither
    merged across a cut nor excused by a band). How many false alerts, and how many of them
    in the normal-only video right after a clip with shoplifting."""
    false = after_theft = 0
    for s, (line, score) in enumerate(zip(pooled.timelines, pooled.scores, strict=True)):
        session = line.session
        for place, (index, start, length) in enumerate(
            zip(session.videos, session.offsets, session.lengths, strict=True)
        ):
            truth = line.label[start : start + length]
            alerts = runs(
                score[start : start + length] >= thresholds[s], round(pooled.merge_gap_s * line.fps)
            )
            episodes = runs(truth == 1)
            found = sum(
                not any(a < e_end and e_start < b for e_start, e_end in episodes) for a, b in alerts
            )
            false += found
            previous = session.videos[place - 1] if place else None
            if (
                previous is not None
                and videos[index].labels is None
                and holds_shoplifting(videos[previous])
            ):
                after_theft += found
    return {"false_alerts": false, "in_normal_video_right_after_a_theft_clip": after_theft}
