"""Video-grouped cross-validation: no video is ever in training and validation at once.

Every video, labelled or normal-only, belongs to one of `k` folds (labelled videos spread
by whether they hold shoplifting and by camera, normal-only ones by camera). A fold's
videos are scored by a booster fitted on the other folds' videos, so every frame gets an
out-of-fold score. `nested` also picks the hyper-parameters inside each outer fold, by an
inner cross-validation over the other folds only: the honest figure. Labels are per frame:
a first fit's out-of-fold scores pick the one person of each shoplifting frame who stays a
positive (`dataset.one_per_frame`), and the booster is fitted again on those rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression

from server.behaviour.classifier import ScoringPolicy
from server.behaviour.scoring import Calibration
from training.dataset import (
    PersonRows,
    frame_scores,
    one_per_frame,
    smoothed_scores,
    video_scores,
)
from training.fit import Params, fit, predict
from training.metrics import frame_metrics
from training.poselift import PoseLiftVideo

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class OutOfFold:
    """Every row's out-of-fold raw score, and the parameters each outer fold used."""

    raw: npt.NDArray[np.float64]  # (N,)
    params: tuple[Params, ...]  # per outer fold


def assign_folds(videos: Sequence[PoseLiftVideo], k: int) -> npt.NDArray[np.int32]:
    """Each video's fold, 0..k-1, deterministic."""
    if k < 2:
        raise ValueError(f"k: at least 2 folds, got {k}")

    def order(v: PoseLiftVideo) -> tuple[bool, int, str]:
        return (v.labels is not None and bool(v.labels.any()), v.camera, v.name)

    fold = np.zeros(len(videos), np.int32)
    for labelled in (True, False):
        members = [i for i, v in enumerate(videos) if (v.labels is not None) == labelled]
        for rank, index in enumerate(sorted(members, key=lambda i: order(videos[i]))):
            fold[index] = rank % k
    return fold


def out_of_fold(
    rows: PersonRows,
    video_fold: npt.NDArray[np.int32],
    params: Params,
    say: Say,
    keep: npt.NDArray[np.bool_] | None = None,
    scored: PersonRows | None = None,
) -> npt.NDArray[np.float64]:
    """Out-of-fold raw scores with fixed `params`, fitted on the `keep` rows only, of the
    rows of `scored` (the same videos cut otherwise) or else of `rows`."""
    target = rows if scored is None else scored
    row_fold, target_fold = video_fold[rows.video], video_fold[target.video]
    raw = np.zeros(len(target), np.float64)
    usable = np.ones(len(rows), bool) if keep is None else keep
    for k in np.unique(video_fold).tolist():
        held = target_fold == k
        if not held.any() or not (row_fold != k).any():
            continue
        booster = fit(rows.take((row_fold != k) & usable), params)
        raw[held] = predict(booster, target.take(held))
        say(f"fold {k + 1}/{len(np.unique(video_fold))} scored ({int(held.sum())} rows)")
    return raw


def search(
    rows: PersonRows,
    video_fold: npt.NDArray[np.int32],
    trials: Sequence[Params],
    policy: ScoringPolicy,
    say: Say,
) -> tuple[Params, npt.NDArray[np.float64], list[dict[str, Any]]]:
    """The trial with the best out-of-fold frame AUC-ROC over the labelled videos present,
    its out-of-fold scores, and every trial's figure."""
    quiet: Say = lambda _: None  # noqa: E731
    tried: list[dict[str, Any]] = []
    best: tuple[float, Params, npt.NDArray[np.float64]] | None = None
    for number, params in enumerate(trials, 1):
        raw = out_of_fold(rows, video_fold, params, quiet)
        figure = labelled_auc(rows, raw, policy)
        tried.append({**params.row(), "auc_roc": round(figure, 2)})
        say(f"trial {number}/{len(trials)}: AUC-ROC {figure:.1f} ({params})")
        if best is None or figure > best[0]:
            best = (figure, params, raw)
    assert best is not None
    return best[1], best[2], tried


def nested(
    rows: PersonRows,
    video_fold: npt.NDArray[np.int32],
    trials: Sequence[Params],
    policy: ScoringPolicy,
    say: Say,
    scored: PersonRows | None = None,
) -> OutOfFold:
    """Out-of-fold scores whose parameters were chosen without the fold scored: of the rows
    of `scored` (the same videos cut otherwise, e.g. uncut as live) or else of `rows`."""
    target = rows if scored is None else scored
    row_fold = video_fold[rows.video]
    target_fold = video_fold[target.video]
    folds = np.unique(video_fold).tolist()
    raw = np.zeros(len(target), np.float64)
    chosen: list[Params] = []
    for k in folds:
        say(f"outer fold {k + 1}/{len(folds)}: searching {len(trials)} settings on the others")
        inside = row_fold != k
        inner_rows = rows.take(inside)
        inner_folds = _inner_folds(rows.videos, video_fold, k)
        params, inner_raw, _ = search(inner_rows, inner_folds, trials, policy, lambda _: None)
        booster = fit(inner_rows.take(one_per_frame(inner_rows, inner_raw)), params)
        held = target_fold == k
        raw[held] = predict(booster, target.take(held))
        chosen.append(params)
        figure = labelled_auc(target.take(held), raw[held], policy, allow_one_class=True)
        say(f"outer fold {k + 1}/{len(folds)}: {params}; this fold's AUC-ROC {figure:.1f}")
    return OutOfFold(raw, tuple(chosen))


def _inner_folds(
    videos: Sequence[PoseLiftVideo], video_fold: npt.NDArray[np.int32], outer: int
) -> npt.NDArray[np.int32]:
    """Folds over the videos outside fold `outer` (at least 2), -1 for that fold's own."""
    inner = np.flatnonzero(video_fold != outer)
    folds = max(2, len(np.unique(video_fold)) - 1)
    out = np.full(len(videos), -1, np.int32)
    out[inner] = assign_folds([videos[int(i)] for i in inner], folds)
    return out


def labelled_auc(
    rows: PersonRows,
    raw: npt.NDArray[np.float64],
    policy: ScoringPolicy,
    *,
    allow_one_class: bool = False,
) -> float:
    """Frame AUC-ROC over the labelled videos that `rows` has rows of (nan if one class)."""
    scores = video_scores(rows, raw, policy)
    present = set(np.unique(rows.video).tolist())
    pairs = [
        (v.labels, s)
        for i, (v, s) in enumerate(zip(rows.videos, scores, strict=True))
        if v.labels is not None and i in present
    ]
    try:
        return frame_metrics([y for y, _ in pairs], [s for _, s in pairs]).auc_roc
    except ValueError:
        if allow_one_class:
            return float("nan")
        raise


def calibrate(rows: PersonRows, raw: npt.NDArray[np.float64], smoothing_s: float) -> Calibration:
    """Isotonic map from a frame's top smoothed score to how often such frames were
    shoplifting, over the frames with people of every video (normal-only ones count as
    normal throughout), fitted on out-of-fold scores."""
    top = frame_scores(rows, smoothed_scores(rows, raw, smoothing_s))
    xs, ys = [], []
    for index, (video, score) in enumerate(zip(rows.videos, top, strict=True)):
        seen = np.zeros(video.n_frames, bool)
        seen[rows.frame[rows.video == index]] = True
        labels = video.labels if video.labels is not None else np.zeros(video.n_frames, np.int8)
        xs.append(score[seen])
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
