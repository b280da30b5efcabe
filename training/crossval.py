"""Out-of-fold scores: every video scored by a learner fitted without its fold, the search
over learners by the event-aware criterion, and the calibration fitted on such scores.

Folds come from `training/folds.py` (whole recording sessions by default). Labels are per
frame: a first pass's out-of-fold scores pick the one person of each shoplifting frame who
stays a positive (`dataset.one_per_frame`), and the learner is fitted again on those rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression

from server.behaviour.classifier import ScoringPolicy
from server.behaviour.scoring import Calibration
from training.dataset import PersonRows, frame_scores, smoothed_scores, video_scores
from training.events import BUDGETS, EventTable, episode_peaks, event_table
from training.learners import Learner
from training.metrics import MERGE_GAP_S, frame_metrics
from training.sessions import Sessions
from training.timeline import Timeline

Say = Callable[[str], None]
F64 = npt.NDArray[np.float64]


def out_of_fold(
    rows: PersonRows,
    video_fold: npt.NDArray[np.int32],
    learner: Learner[Any],
    say: Say,
    keep: npt.NDArray[np.bool_] | None = None,
    targets: Sequence[PersonRows] = (),
) -> list[F64]:
    """Out-of-fold raw scores of `rows` and then of each of `targets` (the same videos cut
    otherwise), the learner fitted on the `keep` rows of the other folds. Videos of fold -1
    are neither fitted on nor scored."""
    every = (rows, *targets)
    raws = [np.zeros(len(t), np.float64) for t in every]
    usable = np.ones(len(rows), bool) if keep is None else keep
    row_fold = video_fold[rows.video]
    folds = [k for k in np.unique(video_fold).tolist() if k >= 0]
    for number, k in enumerate(folds, 1):
        train = (row_fold != k) & (row_fold >= 0) & usable
        held = [video_fold[t.video] == k for t in every]
        if not held[0].any() or not train.any():
            continue
        fitted = learner.fit(rows, train)
        for raw, target, mine in zip(raws, every, held, strict=True):
            raw[mine] = learner.predict(fitted, target.take(mine))
        say(f"fold {number}/{len(folds)} scored ({int(held[-1].sum())} rows)")
    return raws


@dataclass(frozen=True, slots=True)
class Tried:
    """One learner of a search and its out-of-fold figures."""

    learner: Learner[Any]
    criterion: float  # share of episodes caught, averaged over the budgets
    auc_roc: float  # frame AUC-ROC over the labelled clips

    def row(self) -> dict[str, Any]:
        return {
            "learner": self.learner.name,
            "criterion": round(self.criterion, 4),
            "auc_roc": round(self.auc_roc, 2),
        }


def search(
    rows: PersonRows,
    scoring: PersonRows,
    video_fold: npt.NDArray[np.int32],
    learners: Sequence[Learner[Any]],
    judge: Judge,
    say: Say,
) -> tuple[int, list[F64], list[Tried]]:
    """The learner with the best out-of-fold criterion (frame AUC-ROC breaks ties), its
    out-of-fold raw scores of `rows` and `scoring`, and every learner's figures."""
    quiet: Say = lambda _: None  # noqa: E731
    tried: list[Tried] = []
    best: tuple[tuple[float, float], int, list[F64]] | None = None
    for number, learner in enumerate(learners):
        raws = out_of_fold(rows, video_fold, learner, quiet, targets=(scoring,))
        found = Tried(learner, judge.criterion(scoring, raws[1]), judge.auc_roc(scoring, raws[1]))
        tried.append(found)
        say(
            f"trial {number + 1}/{len(learners)}: criterion {found.criterion:.3f}, "
            f"AUC-ROC {found.auc_roc:.1f} ({learner.name})"
        )
        key = (found.criterion, np.nan_to_num(found.auc_roc, nan=-1.0))
        if best is None or key > best[0]:
            best = (key, number, raws)
    assert best is not None
    return best[1], best[2], tried


@dataclass(frozen=True, slots=True)
class Judge:
    """Turns out-of-fold raw scores of scoring rows into figures on some sessions' timelines
    (uncalibrated: both figures only rank, so any increasing calibration gives the same)."""

    sessions: Sessions
    timelines: tuple[Timeline, ...]
    chosen: tuple[int, ...]  # the sessions judged
    policy: ScoringPolicy = field(default_factory=ScoringPolicy)  # calibration unused
    merge_gap_s: float = MERGE_GAP_S
    budgets: tuple[float, ...] = BUDGETS

    def session_scores(self, rows: PersonRows, raw: F64) -> list[F64]:
        """The chosen sessions' frame scores, stitched."""
        scores = self.sessions.stitch(video_scores(rows, raw, self.policy))
        return [np.asarray(scores[s], np.float64) for s in self.chosen]

    def table(self, rows: PersonRows, raw: F64) -> EventTable:
        scores = self.session_scores(rows, raw)
        lines = [self.timelines[s] for s in self.chosen]
        thresholds = np.concatenate([episode_peaks(lines, scores), [np.inf]])
        return event_table(lines, scores, thresholds, self.merge_gap_s)

    def criterion(self, rows: PersonRows, raw: F64) -> float:
        return self.table(rows, raw).criterion(self.budgets)

    def auc_roc(self, rows: PersonRows, raw: F64) -> float:
        """Frame AUC-ROC over the chosen sessions' labelled frames (nan if one class)."""
        scores = self.session_scores(rows, raw)
        lines = [self.timelines[s] for s in self.chosen]
        y = [t.label[t.labelled] for t in lines]
        s = [score[t.labelled] for t, score in zip(lines, scores, strict=True)]
        try:
            return frame_metrics(y, s).auc_roc
        except ValueError:
            return float("nan")


def calibrate(
    rows: PersonRows,
    raw: F64,
    smoothing_s: float,
    timelines: Sequence[Timeline] = (),
    sessions: Sessions | None = None,
) -> Calibration:
    """Isotonic map from a frame's top smoothed score to how often such frames were
    shoplifting, over the frames with people of every video of `rows` (normal-only ones
    count as normal throughout, except their don't-care bands when `timelines` are given),
    fitted on out-of-fold scores."""
    top = frame_scores(rows, smoothed_scores(rows, raw, smoothing_s))
    care = _care(rows, timelines, sessions)
    xs, ys = [], []
    for index in np.unique(rows.video).tolist():
        video = rows.videos[index]
        seen = np.zeros(video.n_frames, bool)
        seen[rows.frame[rows.video == index]] = True
        seen &= care[index]
        labels = video.labels if video.labels is not None else np.zeros(video.n_frames, np.int8)
        xs.append(top[index][seen])
        ys.append(labels[seen])
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(np.concatenate(xs), np.concatenate(ys).astype(np.float64))
    # isotonic regression is a step function: ties would erase the ranking inside each step.
    # Knots at the steps' middles (linear between) keep it, and stay within the steps' range.
    x, y = iso.X_thresholds_, iso.y_thresholds_
    step = np.concatenate([[0], np.flatnonzero(np.diff(y) > 0) + 1, [len(y)]])
    middles = [float(x[a:b].mean()) for a, b in itertools.pairwise(step)]
    levels = [float(y[a]) for a in step[:-1]]
    return Calibration.from_knots([0.0, *middles, 1.0], [levels[0], *levels, levels[-1]])


def _care(
    rows: PersonRows, timelines: Sequence[Timeline], sessions: Sessions | None
) -> list[npt.NDArray[np.bool_]]:
    """Per video, the frames outside don't-care bands (all when no timelines are given)."""
    care = [np.ones(v.n_frames, bool) for v in rows.videos]
    if sessions is None or not timelines:
        return care
    for index, video in enumerate(rows.videos):
        timeline = timelines[int(sessions.video_session[index])]
        start = int(sessions.video_offset[index])
        care[index] = ~timeline.band[start : start + video.n_frames]
    return care
