"""What `shopguard model train | cv | eval` do, step by step, reporting progress via `say`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from server.behaviour.classifier import BehaviourModel, ScoringPolicy
from server.behaviour.features import DEFAULT_SPEC, FeatureSpec
from server.weights import record_sha
from training.crossval import assign_folds, calibrate, nested, out_of_fold, search
from training.dataset import PersonRows, one_per_frame, person_rows, video_scores
from training.fit import candidates, fit, predict
from training.metrics import event_metrics, frame_metrics, threshold_for
from training.plots import write_curves
from training.poselift import POSELIFT_FPS, PoseLiftVideo, load_split

Say = Callable[[str], None]
OPERATING_POINTS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7)  # thresholds shown in reports
NORMAL_PIECE_S = 4.0  # normal-only tracks cut like the labelled clips (dataset.person_rows)


def load(
    data: Path,
    splits: Sequence[str],
    say: Say,
    normal_piece_s: float | None = NORMAL_PIECE_S,
    spec: FeatureSpec = DEFAULT_SPEC,
) -> tuple[list[PoseLiftVideo], PersonRows, PersonRows]:
    """The videos of `splits` under `data`, their training rows (normal-only tracks cut into
    `normal_piece_s` pieces) and their scoring rows (tracks whole, as the server sees them)."""
    started = time.monotonic()
    videos: list[PoseLiftVideo] = []
    for split in splits:
        found = load_split(data, "Train" if split == "Train" else "Test")
        say(f"loaded {len(found)} {split} videos from {data / split}")
        videos += found
    scoring = person_rows(videos, spec)
    training = scoring
    if normal_piece_s and any(v.labels is None for v in videos):
        training = person_rows(videos, spec, normal_piece_s=normal_piece_s)
    say(f"{len(scoring)} feature rows in {time.monotonic() - started:.1f}s")
    return videos, training, scoring


def report(
    videos: Sequence[PoseLiftVideo],
    scores: Sequence[npt.NDArray[np.float64]],
    threshold: float,
) -> dict[str, Any]:
    """Frame-level figures over the labelled videos, event-level ones over all videos."""
    labelled = [(v.labels, s) for v, s in zip(videos, scores, strict=True) if v.labels is not None]
    frames = frame_metrics([y for y, _ in labelled], [s for _, s in labelled])
    every = [_labels(v) for v in videos]
    events = event_metrics(every, list(scores), threshold, POSELIFT_FPS)
    points = [event_metrics(every, list(scores), t, POSELIFT_FPS) for t in OPERATING_POINTS]
    return {
        "auc_roc": round(frames.auc_roc, 2),
        "auc_pr": round(frames.auc_pr, 2),
        "eer": round(frames.eer, 4),
        "frames": frames.frames,
        "positive_frames": frames.positive_frames,
        "threshold": round(threshold, 4),
        "episodes": events.episodes,
        "episodes_caught": events.caught,
        "episodes_caught_share": round(events.caught_share, 4),
        "false_alerts": events.false_alerts,
        "normal_hours": round(events.normal_hours, 3),
        "false_alerts_per_hour": round(events.false_alerts_per_hour, 2),
        "operating_points": [
            {
                "threshold": p.threshold,
                "episodes_caught_share": round(p.caught_share, 4),
                "false_alerts_per_hour": round(p.false_alerts_per_hour, 2),
            }
            for p in points
        ],
    }


def train(
    data: Path,
    out: Path,
    *,
    folds: int = 5,
    trials: int = 1,
    smoothing_s: float = 1.0,
    max_false_per_hour: float = 1.0,
    say: Say,
) -> dict[str, Any]:
    """Search settings by video-grouped CV, calibrate and pick the threshold on its
    out-of-fold scores, fit on every video, write the model file and its sha256."""
    videos, rows, scoring = load(data, ("Train", "Test"), say)
    video_fold = assign_folds(videos, folds)
    policy = ScoringPolicy(smoothing_s=smoothing_s)
    say(f"searching {trials} settings, {folds}-fold video-grouped CV each")
    params, first, tried = search(rows, video_fold, candidates(trials), policy, say)
    keep = one_per_frame(rows, first)
    say(f"refitting without bystanders ({int((~keep).sum())} rows of shoplifting frames left out)")
    oof = out_of_fold(rows, video_fold, params, say, keep, scoring)
    policy = _operating_policy(videos, scoring, oof, smoothing_s, max_false_per_hour)
    figures = report(videos, video_scores(scoring, oof, policy), policy.threshold)
    say(f"fitting {params} on all {len(videos)} videos")
    booster = fit(rows.take(keep), params)
    info = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": _describe(videos),
        "params": params.row(),
        "search": tried,
        "out_of_fold": figures,
        "note": (
            "out-of-fold figures of the chosen settings (chosen on them: optimistic); "
            "`shopguard model cv` gives the nested, honest ones"
            if trials > 1
            else "out-of-fold figures of the fixed settings; `shopguard model cv` repeats "
            "the whole procedure inside each fold"
        ),
    }
    model = BehaviourModel(booster, DEFAULT_SPEC, policy, info)
    model.save(out)
    say(f"wrote {out} (sha256 {record_sha(out)[:12]}…)")
    return info


def cross_validate(
    data: Path,
    plots: Path | None,
    *,
    folds: int = 5,
    trials: int = 1,
    smoothing_s: float = 1.0,
    max_false_per_hour: float = 1.0,
    normal_piece_s: float | None = NORMAL_PIECE_S,
    say: Say,
) -> dict[str, Any]:
    """Nested video-grouped CV: the out-of-fold figures over all labelled videos."""
    videos, rows, scoring = load(data, ("Train", "Test"), say, normal_piece_s)
    video_fold = assign_folds(videos, folds)
    policy = ScoringPolicy(smoothing_s)
    result = nested(rows, video_fold, candidates(trials), policy, say, scoring)
    policy = _operating_policy(videos, scoring, result.raw, smoothing_s, max_false_per_hour)
    scores = video_scores(scoring, result.raw, policy)
    figures = report(videos, scores, policy.threshold)
    figures["folds"] = folds
    figures["normal_piece_s"] = normal_piece_s
    figures["params_per_fold"] = [p.row() for p in result.params]
    figures["data"] = _describe(videos)
    if plots is not None:
        labelled = [
            (v.labels, s) for v, s in zip(videos, scores, strict=True) if v.labels is not None
        ]
        metrics = frame_metrics([y for y, _ in labelled], [s for _, s in labelled])
        paths = write_curves(
            [y for y, _ in labelled],
            [s for _, s in labelled],
            metrics,
            plots,
            f"PoseLift test videos, {folds}-fold video-grouped nested CV",
            policy.threshold,
        )
        figures["plots"] = [str(p) for p in paths]
    return figures


def evaluate(data: Path, model_path: Path, plots: Path | None, say: Say) -> dict[str, Any]:
    """The model's figures on the labelled videos of `data` (`Test/*.pkl`, `GT/*.npy`)."""
    model = BehaviourModel.load(model_path)
    videos, _, rows = load(data, ("Test",), say, spec=model.spec)
    started = time.monotonic()
    scores = video_scores(rows, predict(model.booster, rows), model.policy)
    say(f"scored in {time.monotonic() - started:.1f}s")
    figures = report(videos, scores, model.policy.threshold)
    if plots is not None:
        metrics = frame_metrics([_labels(v) for v in videos], scores)
        paths = write_curves(
            [_labels(v) for v in videos],
            scores,
            metrics,
            plots,
            f"{model_path.name} on {data}",
            model.policy.threshold,
        )
        figures["plots"] = [str(p) for p in paths]
    figures["model"] = str(model_path)
    return figures


def _operating_policy(
    videos: Sequence[PoseLiftVideo],
    rows: PersonRows,
    raw: npt.NDArray[np.float64],
    smoothing_s: float,
    max_false_per_hour: float,
) -> ScoringPolicy:
    """Calibration and the threshold catching the most episodes within the false-alert
    budget, both from out-of-fold scores."""
    calibration = calibrate(rows, raw, smoothing_s)
    policy = ScoringPolicy(smoothing_s, 0.5, calibration)
    scores = video_scores(rows, raw, policy)
    chosen = threshold_for([_labels(v) for v in videos], scores, POSELIFT_FPS, max_false_per_hour)
    return ScoringPolicy(smoothing_s, min(1.0, chosen.threshold), calibration)


def _labels(video: PoseLiftVideo) -> npt.NDArray[np.int8]:
    """The video's frame labels; normal throughout for normal-only videos."""
    return video.labels if video.labels is not None else np.zeros(video.n_frames, np.int8)


def _describe(videos: Sequence[PoseLiftVideo]) -> dict[str, Any]:
    labelled = [v for v in videos if v.labels is not None]
    return {
        "normal_only_videos": len(videos) - len(labelled),
        "labelled_videos": len(labelled),
        "labelled_frames": sum(v.n_frames for v in labelled),
        "shoplifting_frames": int(
            sum(int(v.labels.sum()) for v in labelled if v.labels is not None)
        ),
        "feature_spec": asdict(DEFAULT_SPEC),
    }
