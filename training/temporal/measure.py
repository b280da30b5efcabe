"""How good and how costly the temporal network is, beside the XGBoost.

`compare`: out-of-fold frame figures of the XGBoost alone, the network alone and their
average (the mean of the two raw probabilities per person-moment), under the same folds
(`training/folds.py`: whole recording sessions, or single videos) and the same bystander pick
(`dataset.one_per_frame` on the XGBoost's first out-of-fold scores), scored on whole
tracks as the server sees them, smoothed over 1 s. `inference_cost`: the time ONNX
Runtime (one thread) and the input code take per scored frame, for 1, 5 and 10 people.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from server.behaviour.classifier import ScoringPolicy
from server.behaviour.sequence import DEFAULT_SEQUENCE_SPEC, SequenceModel, sequence_inputs
from server.records.people import TrackHistory
from training.crossval import out_of_fold
from training.dataset import PersonRows, one_per_frame, person_rows, video_scores
from training.folds import Grouping, assign
from training.learners import XGBoostLearner
from training.metrics import frame_metrics
from training.poselift import PoseLiftVideo, load_split
from training.temporal.fit import DEFAULT_SETTINGS, TrainSettings
from training.temporal.learner import SequenceLearner

Say = Callable[[str], None]
NORMAL_PIECE_S = 4.0  # normal-only tracks cut like the labelled clips, as `shopguard model`
SMOOTHING_S = 1.0  # the shipped XGBoost's track smoothing


def load_rows(data: Path, say: Say) -> tuple[list[PoseLiftVideo], PersonRows, PersonRows]:
    """Every video under `data`, its training rows (normal-only tracks cut into 4 s pieces)
    and its scoring rows (whole tracks)."""
    started = time.monotonic()
    videos = load_split(data, "Train") + load_split(data, "Test")
    training = person_rows(videos, normal_piece_s=NORMAL_PIECE_S)
    scoring = person_rows(videos)
    say(f"{len(videos)} videos, {len(scoring)} rows ({time.monotonic() - started:.0f}s)")
    return videos, training, scoring


def figures(scoring: PersonRows, raw: npt.NDArray[np.float64]) -> dict[str, float]:
    """Frame AUC-ROC and AUC-PR (percent) over the labelled videos, 1 s track smoothing."""
    scores = video_scores(scoring, raw, ScoringPolicy(smoothing_s=SMOOTHING_S))
    pairs = [(v.labels, s) for v, s in zip(scoring.videos, scores, strict=True)]
    labelled = [(y, s) for y, s in pairs if y is not None]
    found = frame_metrics([y for y, _ in labelled], [s for _, s in labelled])
    return {"auc_roc": round(found.auc_roc, 2), "auc_pr": round(found.auc_pr, 2)}


def compare(
    data: Path,
    *,
    folds: int = 5,
    grouping: Grouping = "session",
    settings: TrainSettings = DEFAULT_SETTINGS,
    say: Say,
) -> dict[str, Any]:
    """Out-of-fold figures of the XGBoost, the network and their average."""
    videos, rows, scoring = load_rows(data, say)
    video_fold = assign(videos, folds, grouping)
    xgb, tcn = XGBoostLearner(), SequenceLearner(settings, say)
    say(
        f"XGBoost: first out-of-fold pass ({folds} {grouping} folds) to pick one positive per frame"
    )
    first = out_of_fold(rows, video_fold, xgb, lambda _: None)[0]
    keep = one_per_frame(rows, first)
    say("XGBoost: out-of-fold scores without bystanders")
    xgb_raw = out_of_fold(rows, video_fold, xgb, say, keep, (scoring,))[1]
    say("temporal network: out-of-fold scores without bystanders")
    tcn_raw = out_of_fold(rows, video_fold, tcn, say, keep, (scoring,))[1]
    result = {
        "folds": f"{folds} folds of whole {grouping}s (training/folds.py)",
        "xgboost": figures(scoring, xgb_raw),
        "temporal": figures(scoring, tcn_raw),
        "average": figures(scoring, (xgb_raw + tcn_raw) / 2),
        "settings": settings.row(),
        "spec": asdict(DEFAULT_SEQUENCE_SPEC),
    }
    for name in ("xgboost", "temporal", "average"):
        say(f"{name}: {result[name]}")
    return result


def inference_cost(
    model: SequenceModel,
    histories: Sequence[TrackHistory],
    people: Sequence[int] = (1, 5, 10),
    repeats: int = 200,
) -> dict[str, dict[str, float]]:
    """Median milliseconds per scored frame with n people: making the inputs (numpy) and
    running the network (ONNX Runtime, one thread), each window ending at its track's end."""
    out: dict[str, dict[str, float]] = {}
    for n in people:
        chosen = [histories[i % len(histories)] for i in range(n)]
        ends = [np.asarray([h.ts[-1]]) for h in chosen]
        inputs = sequence_inputs(chosen, ends, model.spec)
        model.raw_scores(inputs)  # warm up
        making, running = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            inputs = sequence_inputs(chosen, ends, model.spec)
            middle = time.perf_counter()
            model.raw_scores(inputs)
            done = time.perf_counter()
            making.append(middle - started)
            running.append(done - middle)
        out[f"{n} people"] = {
            "inputs_ms": round(statistics.median(making) * 1000, 3),
            "onnx_ms": round(statistics.median(running) * 1000, 3),
        }
    return out


def live_histories(videos: Sequence[PoseLiftVideo], history_s: float) -> list[TrackHistory]:
    """Tracks of at least `history_s`, each cut to its first `history_s` seconds, as the
    live tracker's history holds them."""
    out = []
    for video in videos:
        for track in video.tracks:
            if track.span_s >= history_s:
                inside = track.ts <= track.ts[0] + history_s
                out.append(
                    TrackHistory(
                        track.track_id,
                        track.ts[inside],
                        track.xyxy[inside],
                        track.keypoints[inside],
                        track.keypoint_conf[inside],
                    )
                )
    return out
