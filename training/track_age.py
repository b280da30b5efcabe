"""What the track-age rule (`ScoringPolicy.min_track_age_s`) does to out-of-fold figures.

One out-of-fold pass of the XGBoost (session folds, the one-positive pick, as `shopguard
model train` fits), then the same raw scores under each minimum age, three ways:
- "clip": rows as training makes them, ages on each video alone (PoseLift's labelled
  clips are cut around the incident, so everyone in a clip seems to have just appeared:
  pessimistic);
- "session": the same rows, ages across the cuts of each recording (a person whose box
  goes on across a cut was seen before it: what a live camera would know);
- "live": rows as the live scorer has them (`replay.as_live`: 5 fps, the person's frames
  across cuts and id switches) and their ages.
Reported per minimum age: frame AUC-ROC over the labelled clips, episodes caught within
false-alert budgets on the session timelines, and the alerts at the threshold that catches
half the episodes, with how many of the false ones peak on a person seen for less than
3.5 s. Scores are not calibrated (a monotone map changes none of these figures).

    python -m training.track_age --data ../shared/data/poselift --out docs/bench/track-age.json
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

from server.behaviour.classifier import ScoringPolicy
from server.behaviour.features import DEFAULT_SPEC
from server.behaviour.scoring import Calibration, alerting_scores
from training.crossval import out_of_fold
from training.dataset import (
    PersonRows,
    one_per_frame,
    person_rows,
    smoothed_scores,
    track_ages,
    video_scores,
)
from training.events import episode_peaks, event_table, session_alerts
from training.folds import assign
from training.learners import XGBoostLearner
from training.poselift import load_split
from training.protocol import EvalData
from training.replay import as_live
from training.report_out import emit

Say = Callable[[str], None]
F64 = npt.NDArray[np.float64]

MIN_AGES_S = (0.0, 1.0, 2.0, 3.0, 4.0)
BUDGETS = (1.0, 2.0, 4.0, 10.0, 20.0)  # false alerts per hour with people
YOUNG_S = 3.5  # a false alert "peaks on a new track" when its top person is younger
NORMAL_PIECE_S = 4.0  # as `shopguard model train` cuts normal-only tracks


def top_ages(rows: PersonRows, scores: F64, ages: F64) -> list[F64]:
    """Per video, each frame's most suspicious person's age (NaN with nobody)."""
    out = [np.full(v.n_frames, np.nan) for v in rows.videos]
    order = np.lexsort((scores, rows.frame, rows.video))  # per frame, the top row last
    last = np.concatenate([rows.video[order][1:] != rows.video[order][:-1], [True]])
    last |= np.concatenate([rows.frame[order][1:] != rows.frame[order][:-1], [True]])
    for row in order[last].tolist():
        out[int(rows.video[row])][int(rows.frame[row])] = ages[row]
    return out


def figures(
    data: EvalData, rows: PersonRows, raw: F64, min_age_s: float, ages: F64
) -> dict[str, Any]:
    """Frame and event figures of the raw scores of `rows` (the videos of `data`) under
    the age rule, ages as given."""
    policy = ScoringPolicy(1.0, 0.5, Calibration.identity(), min_age_s)
    per_video = video_scores(rows, raw, policy, ages=ages)
    labelled = [
        (v.labels, s) for v, s in zip(data.videos, per_video, strict=True) if v.labels is not None
    ]
    y = np.concatenate([lab for lab, _ in labelled])
    auc = roc_auc_score(y, np.concatenate([s for _, s in labelled])) * 100
    lines = [np.asarray(s, np.float64) for s in data.sessions.stitch(per_video)]
    peaks = episode_peaks(data.timelines, lines)
    table = event_table(data.timelines, lines, peaks)
    episodes = int(table.episodes.sum())
    within = table.caught_within(BUDGETS)
    per_hour, share = table.curve()
    half = int(np.flatnonzero(share >= 0.5)[-1]) if (share >= 0.5).any() else 0
    threshold = float(peaks[half])
    smoothed = smoothed_scores(rows, raw, 1.0, min_age_s=min_age_s, ages=ages)
    row_scores = alerting_scores(smoothed, policy.calibration)
    top = [
        np.asarray(a, np.float64)
        for a in data.sessions.stitch(top_ages(rows, row_scores, ages), fill=np.nan)
    ]
    false_alerts = young = 0
    for s, (timeline, line) in enumerate(zip(data.timelines, lines, strict=True)):
        for alert in session_alerts(timeline, line, threshold, session=s):
            if alert.outcome != "false":
                continue
            false_alerts += 1
            peak = alert.start + int(np.argmax(line[alert.start : alert.end]))
            young += bool(top[s][peak] < YOUNG_S)
    return {
        "min_track_age_s": min_age_s,
        "frame_auc_roc": round(float(auc), 2),
        "episodes": episodes,
        "episodes_caught_within": {
            f"{b:g}/h": round(float(c) * episodes) for b, c in zip(BUDGETS, within, strict=True)
        },
        "at_half_the_episodes": {
            "threshold": round(threshold, 4),
            "episodes_caught": round(float(share[half]) * episodes),
            "false_alerts": false_alerts,
            "false_alerts_per_hour": round(float(per_hour[half]), 2),
            f"false_alerts_peaking_on_a_person_seen_under_{YOUNG_S:g}s": young,
        },
    }


def run(
    data_dir: Path, say: Say, min_ages: Sequence[float] = MIN_AGES_S, *, train_as_live: bool
) -> dict[str, Any]:
    started = time.monotonic()
    videos = load_split(data_dir, "Test") + load_split(data_dir, "Train")
    scoring = person_rows(videos, DEFAULT_SPEC)
    live = as_live(scoring, DEFAULT_SPEC)
    training = (
        live.rows
        if train_as_live
        else person_rows(videos, DEFAULT_SPEC, normal_piece_s=NORMAL_PIECE_S)
    )
    data = EvalData.of(person_rows(videos, DEFAULT_SPEC, normal_piece_s=NORMAL_PIECE_S), scoring)
    say(f"{len(videos)} videos, {len(scoring)} rows, {len(data.sessions)} sessions")
    video_fold = assign(data.videos, 5, "session")
    learner = XGBoostLearner(threads=2)
    first = out_of_fold(training, video_fold, learner, say)[0]
    keep = one_per_frame(training, first)
    say("refitting without bystanders")
    _, raw, live_raw = out_of_fold(training, video_fold, learner, say, keep, (scoring, live.rows))
    positive = scoring.label == 1
    views = {  # rows as trained, ages per video or across cuts; rows as the live scorer has them
        "clip": (scoring, raw, track_ages(scoring, across_cuts=False)),
        "session": (scoring, raw, track_ages(scoring)),
        "live": (live.rows, live_raw, live.ages),
    }
    result: dict[str, Any] = {
        "folds": "5, whole recording sessions",
        "trained_on": "rows as live (as_live)" if train_as_live else "rows as training makes them",
        "positive_rows_younger_than": {
            mode: {f"{n}s": round(float(np.mean(a[positive] < n)), 3) for n in (1, 2, 3, 4, 6)}
            for mode, (_, _, a) in views.items()
        },
    }
    for mode, (rows, scores, ages) in views.items():
        result[f"ages_{mode}"] = []
        for min_age in min_ages:
            result[f"ages_{mode}"].append(figures(data, rows, scores, min_age, ages))
            say(f"ages {mode}, min age {min_age:g} s: {result[f'ages_{mode}'][-1]}")
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True, help="PoseLift folder")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    parser.add_argument(
        "--train-as-live",
        action="store_true",
        help="fit on rows as the live scorer has them (`as_live`), not as training makes them",
    )
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        sys.stderr.write(line + "\n")

    result = run(args.data, say, train_as_live=args.train_as_live)
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
