"""What scoring costs per analysed frame: N tracked people through the live scorer (features
over each one's window, the booster, for the ensemble also each one's keypoint sequence and
the temporal network, then smoothing, calibration), on one core:

    .venv/bin/python -m server.bench.behaviour_speed [--model weights/behaviour-xgb.json]

Each person is a real pedestrian's pose (recorded vtest poses) walking, replayed at 5 fps
through a real `Tracker`, side by side. Prints the median ms per frame for 1, 5, 10 and 20
people, after the window has filled; for an ensemble, its XGBoost alone too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from server.behaviour.classifier import MODEL_NAME
from server.behaviour.ensemble import Ensemble, TrackModel
from server.behaviour.models import load_behaviour_model
from server.behaviour.scorer import BehaviourScorer
from server.pipeline.tracking import Tracker
from server.records.people import Poses, TrackHistory
from server.weights import DEFAULT_WEIGHTS_DIR

ROOT = Path(__file__).resolve().parents[2]
POSES = ROOT / "tests" / "data" / "vtest_poses.npz"  # recorded poses of real pedestrians


def people_at(history: TrackHistory, count: int, ts: float) -> Poses:
    """`count` copies of the track's pose at `ts`, side by side (distinct boxes)."""
    row = int(np.searchsorted(history.ts, ts))
    row = min(row, len(history) - 1)
    shift = np.arange(count, dtype=np.float32)[:, None] * 300.0
    return Poses(
        xyxy=history.xyxy[row][None] + np.tile(np.c_[shift, np.zeros_like(shift)], 2),
        keypoints=history.keypoints[row][None] + np.c_[shift, np.zeros_like(shift)][:, None],
        keypoint_conf=np.repeat(history.keypoint_conf[row][None], count, 0),
        score=np.full(count, 0.9, np.float32),
    )


def per_frame_ms(model: TrackModel, person: TrackHistory, count: int) -> float:
    """Median ms of `BehaviourScorer.score` with `count` people, once the longest window
    has filled."""
    tracker = Tracker(fps=5.0, history_s=model.history_s + 0.5)  # as the server keeps
    scorer = BehaviourScorer(model)
    times: list[float] = []
    for step in range(60):
        ts = step / 5.0
        tracks = tracker.update(people_at(person, count, ts % person.span_s), ts)
        started = time.perf_counter()
        scorer.score(tracks, tracker)
        if ts >= model.history_s:
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, default=DEFAULT_WEIGHTS_DIR / MODEL_NAME)
    args = parser.parse_args(argv)
    model = load_behaviour_model(args.model)  # one thread each: as the server runs them
    person = walking_person()
    models: list[tuple[str, TrackModel]] = [(type(model).__name__.lower(), model)]
    if isinstance(model, Ensemble):
        models.append(("xgboost alone", model.xgb))
    for name, scored in models:
        for count in (1, 5, 10, 20):
            ms = per_frame_ms(scored, person, count)
            sys.stdout.write(f"{name}, {count} people: {ms:.2f} ms per frame\n")
    return 0


def walking_person() -> TrackHistory:
    """A real pedestrian's pose (the first of the recorded vtest poses) walking right at
    20 px/s for 16 s at 5 fps, its wrists swinging."""
    with np.load(POSES) as data:
        xyxy, keypoints = data["xyxy"][0], data["keypoints"][0]
        conf = data["keypoint_conf"][0]
    ts = np.arange(80, dtype=np.float64) / 5.0
    step = np.c_[20.0 * ts, np.zeros_like(ts)].astype(np.float32)  # (T, 2)
    swing = np.zeros((len(ts), 17, 2), np.float32)
    swing[:, 9:11, 0] = (8.0 * np.sin(2 * np.pi * ts / 1.2))[:, None]  # COCO wrists 9, 10
    return TrackHistory(
        track_id=1,
        ts=ts,
        xyxy=(xyxy[None] + np.tile(step, 2)).astype(np.float32),
        keypoints=(keypoints[None] + step[:, None] + swing).astype(np.float32),
        keypoint_conf=np.repeat(conf[None], len(ts), 0).astype(np.float32),
    )


if __name__ == "__main__":
    sys.exit(main())
