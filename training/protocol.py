"""The evaluation protocol: how good a learner is, measured so that no figure has seen its
own answers.

1. Videos are stitched into recording sessions (`sessions.py`) and folds are of whole
   sessions (`folds.py`): no recording is on both sides of a fold.
2. For each outer fold, everything that `shopguard model train` fits is fitted on the other
   folds only (`fit_policy`): the choice among learners (the event-aware criterion), the
   one-positive-per-frame pick, the calibration and the threshold, all from inner
   out-of-fold scores of the other folds. The held fold is then scored by the learner
   fitted on all the other folds, calibrated and thresholded by what they gave.
3. The figures (`figures.py`) pool the held folds: frame figures over the labelled clips,
   event figures on the session timelines (don't-care bands applied) at each fold's own
   threshold, with bootstrap intervals over sessions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from server.behaviour.classifier import ScoringPolicy
from server.behaviour.scoring import Calibration
from training.crossval import Judge, Tried, calibrate, out_of_fold, search
from training.dataset import PersonRows, one_per_frame, video_scores
from training.events import BUDGETS, choose_threshold
from training.folds import Grouping, assign
from training.learners import Learner
from training.metrics import MERGE_GAP_S
from training.poselift import PoseLiftVideo
from training.sessions import Sessions, stitch
from training.timeline import BAND_S, Timeline, timelines

Say = Callable[[str], None]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Setup:
    """The protocol's settings."""

    folds: int = 5
    grouping: Grouping = "session"  # "video": the first protocol's folds, for comparison
    smoothing_s: float = 1.0
    max_false_per_hour: float = 1.0  # the threshold's budget, per hour with people
    merge_gap_s: float = MERGE_GAP_S
    budgets: tuple[float, ...] = BUDGETS  # the criterion's
    min_track_age_s: float | None = None  # the scoring policy's track-age rule; None: its default

    def policy(
        self, threshold: float = 0.5, calibration: Calibration | None = None
    ) -> ScoringPolicy:
        """The scoring policy of these settings."""
        base = ScoringPolicy(self.smoothing_s, threshold, calibration or Calibration.identity())
        if self.min_track_age_s is None:
            return base
        return replace(base, min_track_age_s=self.min_track_age_s)


@dataclass(frozen=True, slots=True)
class EvalData:
    """Videos, their rows and their session timelines."""

    videos: tuple[PoseLiftVideo, ...]
    training: PersonRows  # normal-only tracks cut into pieces: what learners fit on
    scoring: PersonRows  # whole tracks, as the server sees them: what is scored
    sessions: Sessions
    timelines: tuple[Timeline, ...]

    @classmethod
    def of(cls, training: PersonRows, scoring: PersonRows, band_s: float = BAND_S) -> EvalData:
        if training.videos != scoring.videos:
            raise ValueError("training and scoring rows must be of the same videos")
        sessions = stitch(scoring.videos)
        return cls(
            scoring.videos, training, scoring, sessions, timelines(scoring.videos, sessions, band_s)
        )

    def judge(self, videos: npt.NDArray[np.bool_], setup: Setup) -> Judge:
        """Judges out-of-fold scores on the sessions of the chosen videos."""
        chosen = tuple(np.unique(self.sessions.video_session[videos]).tolist())
        return Judge(
            self.sessions, self.timelines, chosen, setup.policy(), setup.merge_gap_s, setup.budgets
        )


@dataclass(frozen=True, slots=True)
class Fitting:
    """What fitting on some videos gives: the chosen learner, the rows it fits on, the
    out-of-fold scores and the scoring policy fitted on them."""

    learner: Learner[Any]
    keep: npt.NDArray[np.bool_]  # (N training rows,) the rows to fit on
    raw: F64  # (N scoring rows,) out-of-fold raw scores, fitted on the `keep` rows
    policy: ScoringPolicy
    tried: tuple[Tried, ...]


def fit_policy(
    data: EvalData,
    inside: npt.NDArray[np.bool_],
    learners: Sequence[Learner[Any]],
    folds: int,
    setup: Setup,
    say: Say,
) -> Fitting:
    """On the videos `inside` (shape (M,)) only: folds over them, the learner with the best
    criterion, the one positive per frame, out-of-fold scores again without bystanders,
    then the calibration and the threshold within the false-alert budget."""
    index = np.flatnonzero(inside)
    video_fold = np.full(len(data.videos), -1, np.int32)
    video_fold[index] = assign([data.videos[i] for i in index], folds, setup.grouping)
    rows = data.training.take(inside[data.training.video])
    scoring_rows = inside[data.scoring.video]
    judge = data.judge(inside, setup)
    if len(learners) > 1:
        say(f"searching {len(learners)} learners, {folds}-fold CV each")
    number, raws, tried = search(
        rows, data.scoring, video_fold, learners, judge, say if len(learners) > 1 else _quiet
    )
    learner = learners[number]
    keep_inside = one_per_frame(rows, raws[0])
    say(f"refitting {learner.name} without bystanders ({int((~keep_inside).sum())} rows left out)")
    _, raw = out_of_fold(rows, video_fold, learner, say, keep_inside, (data.scoring,))
    raw = np.where(scoring_rows, raw, 0.0)
    keep = np.zeros(len(data.training), bool)
    keep[np.flatnonzero(inside[data.training.video])[keep_inside]] = True
    policy = operating_policy(data, raw, inside, setup)
    return Fitting(learner, keep, raw, policy, tuple(tried))


def operating_policy(
    data: EvalData, raw: F64, inside: npt.NDArray[np.bool_], setup: Setup
) -> ScoringPolicy:
    """Calibration and threshold from out-of-fold raw scores of the videos `inside`: the
    threshold catching the most episodes within the budget on their sessions' timelines."""
    rows = data.scoring.take(inside[data.scoring.video])
    calibration = calibrate(
        rows, raw[inside[data.scoring.video]], setup.smoothing_s, data.timelines, data.sessions
    )
    policy = setup.policy(0.5, calibration)
    judge = data.judge(inside, setup)
    scores = [
        np.asarray(s, np.float64)
        for s in data.sessions.stitch(video_scores(data.scoring, raw, policy))
    ]
    lines = [data.timelines[s] for s in judge.chosen]
    threshold = choose_threshold(
        lines, [scores[s] for s in judge.chosen], setup.max_false_per_hour, setup.merge_gap_s
    )
    return setup.policy(threshold, calibration)


@dataclass(frozen=True, slots=True)
class CrossValidated:
    """Held-out scores of every video, each fold's with its own fitted policy."""

    video_fold: npt.NDArray[np.int32]  # (M,)
    raw: F64  # (N scoring rows,) raw scores of the learner fitted without the row's fold
    policies: tuple[ScoringPolicy, ...]  # per fold, fitted on the other folds only
    learners: tuple[str, ...]  # per fold, the learner the other folds chose
    scores: tuple[F64, ...]  # per video (n_frames,), calibrated by its fold's policy

    def session_policy(self, sessions: Sessions) -> list[ScoringPolicy]:
        """Each session's fold's policy."""
        first = [s.videos[0] for s in sessions.items]
        return [self.policies[int(self.video_fold[i])] for i in first]


def cross_validate(
    data: EvalData, learners: Sequence[Learner[Any]], setup: Setup, say: Say
) -> CrossValidated:
    """The protocol's held-out scores (steps 1 and 2 of the module's docstring)."""
    video_fold = assign(data.videos, setup.folds, setup.grouping)
    raw = np.zeros(len(data.scoring), np.float64)
    scores: list[F64] = [np.zeros(v.n_frames) for v in data.videos]
    policies, chosen = [], []
    for k in range(setup.folds):
        started = time.monotonic()
        held = video_fold == k
        sessions = len(np.unique(data.sessions.video_session[held]))
        say(f"outer fold {k + 1}/{setup.folds}: {sessions} sessions held out")
        inner = _prefixed(say, f"outer fold {k + 1}/{setup.folds}: ")
        fitting = fit_policy(data, ~held, learners, max(2, setup.folds - 1), setup, inner)
        fitted = fitting.learner.fit(data.training, fitting.keep)
        mine = held[data.scoring.video]
        raw[mine] = fitting.learner.predict(fitted, data.scoring.take(mine))
        held_scores = video_scores(data.scoring, np.where(mine, raw, 0.0), fitting.policy)
        for index in np.flatnonzero(held).tolist():
            scores[index] = held_scores[index]
        policies.append(fitting.policy)
        chosen.append(fitting.learner.name)
        say(
            f"outer fold {k + 1}/{setup.folds}: threshold {fitting.policy.threshold:.3f} from "
            f"the other folds ({time.monotonic() - started:.0f}s)"
        )
    return CrossValidated(video_fold, raw, tuple(policies), tuple(chosen), tuple(scores))


def _quiet(_: str) -> None:
    return None


def _prefixed(say: Say, prefix: str) -> Say:
    return lambda line: say(prefix + line)
