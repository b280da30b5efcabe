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

from server.alerting.thresholds import BUDGET_INFO_KEY
from server.behaviour.classifier import BehaviourModel, Members, ScoringPolicy
from server.behaviour.features import DEFAULT_SPEC, FeatureSpec
from server.behaviour.models import load_behaviour_model
from server.weights import record_sha, sha256_of
from training import protocol
from training.bootstrap import RESAMPLES
from training.dataset import PersonRows, person_rows, video_scores
from training.events import event_table
from training.figures import Pooled, audit, frame_figures, report
from training.fit import candidates
from training.folds import Grouping
from training.learners import (
    ENSEMBLE,
    LEARNERS,
    Average,
    Learner,
    XGBoostLearner,
    ensemble,
    with_store_weight,
    xgboost_trials,
)
from training.model_scores import row_scores, xgboost_of
from training.plots import write_curves, write_event_curve
from training.poselift import PoseLiftVideo, load_split
from training.protocol import CrossValidated, EvalData, Setup, fit_policy
from training.sessions import cuts, stitch
from training.store_training import check_store_data, with_store_episodes
from training.timeline import BAND_S, timelines

Say = Callable[[str], None]
TRAINABLE = ("xgb", ENSEMBLE)  # what the server can load: `server/behaviour/models.py`
STORE_WEIGHT = 1.0  # store rows / PoseLift rows of their class, in the final fit
HOURS_WITH_PEOPLE_A_DAY = 10.0  # a store camera's day, for the default alert budget
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


def train(
    data: Path,
    out: Path,
    *,
    folds: int = 5,
    trials: int = 1,
    smoothing_s: float = 1.0,
    max_false_per_hour: float = 1.0,
    band_s: float = BAND_S,
    evaluate: bool = True,
    resamples: int = RESAMPLES,
    min_track_age_s: float | None = None,
    store_data: Path | None = None,
    learner: str = ENSEMBLE,
    plots: Path | None = None,
    store_weight: float = STORE_WEIGHT,
    say: Say,
) -> dict[str, Any]:
    """Choose settings by the criterion on session-grouped out-of-fold scores, calibrate and
    pick the threshold on those scores, fit on every video, write the model file and its
    sha256; with `evaluate`, also run the protocol (`cv`) and keep its figures. With
    `store_data`, the store's labelled episodes join the final fit (`store_training.py`).
    `learner`: `ENSEMBLE` (the XGBoost and the temporal network, whose files are written
    beside `out`: `server/behaviour/ensemble.py`) or "xgb" (the XGBoost alone).
    `store_weight`: a store row weighs this many times a PoseLift row of its class."""
    if learner not in TRAINABLE:
        raise ValueError(f"learner {learner!r}: one of {', '.join(TRAINABLE)}")
    if store_data is not None:
        check_store_data(store_data)  # before the hour of training, not after it
    videos, training, scoring = load(data, ("Train", "Test"), say)
    setup = Setup(
        folds, "session", smoothing_s, max_false_per_hour, min_track_age_s=min_track_age_s
    )
    dataset = EvalData.of(training, scoring, band_s)
    every = np.ones(len(videos), bool)
    learners: list[Learner[Any]] = xgboost_trials(candidates(trials))
    if learner == ENSEMBLE:
        learners = [ensemble(p) for p in candidates(trials)]
    fitting = fit_policy(dataset, every, learners, folds, setup, say)
    chosen = fitting.learner
    policy = fitting.policy
    scores = video_scores(scoring, fitting.raw, policy)
    in_sample = report(
        _pooled(dataset, scores, [policy] * len(dataset.sessions), setup), resamples=0
    )
    say(f"fitting {chosen.name} on all {len(videos)} videos")
    rows, keep, store = with_store_episodes(training, fitting.keep, store_data, say)
    if store is not None:
        chosen = with_store_weight(chosen, store_weight)
        store["weight"] = store_weight
    fitted = chosen.fit(rows, keep)
    booster, sequence = fitted if isinstance(chosen, Average) else (fitted, None)
    info: dict[str, Any] = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "learner": chosen.name,
        "store_data": store,
        "data": _describe(dataset, band_s),
        "params": _xgboost(chosen).params.row(),
        "search": [t.row() for t in fitting.tried],
        "out_of_fold": {
            **_headline(in_sample),
            "threshold": round(policy.threshold, 4),
            "note": "session-grouped out-of-fold scores, with the calibration and threshold "
            "fitted on these very scores (in-sample event figures); `protocol` holds the "
            "honest ones",
        },
    }
    if evaluate:
        say("the protocol: every step above repeated inside each fold")
        held = protocol.cross_validate(dataset, learners, setup, say)
        info["protocol"] = protocol_figures(dataset, held, setup, resamples)
        if plots is not None:
            info["protocol"]["plots"] = write_protocol_plots(
                dataset, held, setup, info["protocol"], plots
            )
        info[BUDGET_INFO_KEY] = alerts_per_camera_day(info["protocol"])
    members = None
    if sequence is not None:
        from training.temporal.export import export_sequence  # torch: the train extra

        about = {k: info[k] for k in ("trained_at", "learner", "store_data", "data")}
        temporal = export_sequence(sequence, out.parent, {"member_of": out.name, **about})
        say(f"wrote {temporal} (the ensemble's temporal network) and its metadata")
        members = Members(temporal.name, temporal_sha256=sha256_of(temporal))
    model = BehaviourModel(booster, DEFAULT_SPEC, policy, info, members)
    model.save(out)
    say(f"wrote {out} (sha256 {record_sha(out)[:12]}…)")
    return info


def _xgboost(learner: Learner[Any]) -> XGBoostLearner:
    """The XGBoost of a trained learner (alone, or the ensemble's first member)."""
    found = learner.members[0] if isinstance(learner, Average) else learner
    if not isinstance(found, XGBoostLearner):
        raise TypeError(f"{learner.name}: the server loads XGBoost boosters")
    return found


def alerts_per_camera_day(protocol_report: dict[str, Any]) -> float:
    """The alert budget a camera gets by default: the held-out false alerts per hour with
    people at the folds' thresholds (thefts are rare next to them in a store, unlike in
    PoseLift) over a day of `HOURS_WITH_PEOPLE_A_DAY`, at least 1."""
    events = protocol_report["events_at_fold_thresholds"]
    per_hour = float(events["false_alerts"]) / max(float(events["people_hours"]), 1e-9)
    return round(max(1.0, per_hour * HOURS_WITH_PEOPLE_A_DAY), 1)


def cross_validate(
    data: Path,
    plots: Path | None,
    *,
    folds: int = 5,
    trials: int = 1,
    smoothing_s: float = 1.0,
    max_false_per_hour: float = 1.0,
    normal_piece_s: float | None = NORMAL_PIECE_S,
    grouping: Grouping = "session",
    band_s: float = BAND_S,
    learner: str = "xgb",
    resamples: int = RESAMPLES,
    min_track_age_s: float | None = None,
    say: Say,
) -> dict[str, Any]:
    """The protocol (`training/protocol.py`) over every video of `data`: its figures."""
    started = time.monotonic()
    if learner not in LEARNERS:
        raise ValueError(f"learner {learner!r}: one of {', '.join(sorted(LEARNERS))}")
    _, training, scoring = load(data, ("Train", "Test"), say, normal_piece_s)
    dataset = EvalData.of(training, scoring, band_s)
    setup = Setup(folds, grouping, smoothing_s, max_false_per_hour, min_track_age_s=min_track_age_s)
    learners: list[Learner[Any]] = (
        xgboost_trials(candidates(trials)) if learner == "xgb" else [LEARNERS[learner]()]
    )
    held = protocol.cross_validate(dataset, learners, setup, say)
    say(f"figures and {resamples} bootstrap resamples")
    figures = protocol_figures(dataset, held, setup, resamples)
    figures["normal_piece_s"] = normal_piece_s
    figures["data"] = _describe(dataset, band_s)
    if plots is not None:
        figures["plots"] = write_protocol_plots(dataset, held, setup, figures, plots)
    figures["seconds"] = round(time.monotonic() - started)
    return figures


def write_protocol_plots(
    dataset: EvalData, held: CrossValidated, setup: Setup, figures: dict[str, Any], plots: Path
) -> list[str]:
    """roc.png, pr.png (held-out frames of the labelled clips) and events.png into `plots`."""
    pooled = _pooled(dataset, held.scores, held.session_policy(dataset.sessions), setup)
    y, s, _ = pooled.frames(labelled_only=True)
    title = f"PoseLift, {setup.folds}-fold {setup.grouping}-grouped CV, thresholds fitted in-fold"
    paths = write_curves([y.astype(np.int8)], [s], plots, title)
    event = write_event_curve(figures, plots, title)
    return [str(p) for p in (*paths, event)]


def evaluate(
    data: Path, model_path: Path, plots: Path | None, say: Say, band_s: float = BAND_S
) -> dict[str, Any]:
    """The model's figures on the videos of `data`, at its own threshold: frame figures over
    the labelled clips; event counts on session timelines, and rates only when the folder
    holds normal-only video (`Train/`) to count false alerts per hour over."""
    model = load_behaviour_model(model_path)
    has_normal = (data / "Train").is_dir() and any((data / "Train").glob("*.pkl"))
    videos, _, rows = load(
        data, ("Train", "Test") if has_normal else ("Test",), say, None, xgboost_of(model).spec
    )
    started = time.monotonic()
    scores = video_scores(rows, row_scores(model, rows), model.policy)
    say(f"scored in {time.monotonic() - started:.1f}s")
    sessions = stitch(videos)
    lines = timelines(videos, sessions, band_s)
    stitched = [np.asarray(s, np.float64) for s in sessions.stitch(scores)]
    threshold = model.policy.threshold
    found = event_table(lines, stitched, np.asarray([threshold])).figures()
    labelled = [i for i, v in enumerate(videos) if v.labels is not None]
    y = np.concatenate([np.zeros(0, np.int8), *(_labels(videos[i]) for i in labelled)])
    s = np.concatenate([np.zeros(0), *(scores[i] for i in labelled)])
    frames = frame_figures(y, s)
    figures: dict[str, Any] = {
        **frames,
        "threshold": round(threshold, 4),
        "sessions": len(sessions),
        "normal_only_videos": len(videos) - len(labelled),
        "episodes": found.episodes,
        "episodes_caught": found.caught,
        "false_alerts": found.false_alerts,
        "band_alerts": found.band_alerts,
        "video_minutes": round(found.video_hours * 60, 3),
        "people_minutes": round(found.people_hours * 60, 3),
    }
    if has_normal:
        figures["episodes_caught_share"] = round(found.caught_share, 4)
        figures["counted_minutes"] = round(found.counted_hours * 60, 3)
        figures["false_alerts_per_hour"] = round(found.false_alerts_per_hour, 2)
    else:
        figures["rates"] = (
            "not given: this folder holds no normal-only video (Train/*.pkl), so false "
            "alerts per hour would be counted over the minutes around the incidents only; "
            "add the recordings' normal video for rates"
        )
    if plots is not None and "auc_roc" in frames:
        title = f"{model_path.name} on {data}"
        figures["plots"] = [str(p) for p in write_curves([y], [s], plots, title, threshold)]
    figures["model"] = str(model_path)
    return figures


def protocol_figures(
    dataset: EvalData, held: CrossValidated, setup: Setup, resamples: int
) -> dict[str, Any]:
    """The report of held-out scores, with each fold's policy and the false-alert audits."""
    pooled = _pooled(dataset, held.scores, held.session_policy(dataset.sessions), setup)
    figures = report(pooled, setup.budgets, resamples)
    figures["protocol"] = {
        "folds": setup.folds,
        "grouping": setup.grouping,
        "threshold_budget_per_hour_with_people": setup.max_false_per_hour,
        "merge_gap_s": setup.merge_gap_s,
        "criterion_budgets_per_hour": list(setup.budgets),
        "calibration_and_threshold": "fitted per outer fold on inner out-of-fold scores of "
        "the other folds only",
    }
    # the folds' raw scores pooled as they are (the first protocol pooled them so): frame
    # figures that each fold's own calibration neither helps nor hurts
    raw = video_scores(dataset.scoring, held.raw, setup.policy())
    labelled = [i for i, v in enumerate(dataset.videos) if v.labels is not None]
    figures["frames_labelled_uncalibrated"] = frame_figures(
        np.concatenate([np.zeros(0), *(_labels(dataset.videos[i]) for i in labelled)]),
        np.concatenate([np.zeros(0), *(raw[i] for i in labelled)]),
    )
    figures["folds"] = _folds(dataset, held, pooled)
    figures["audit_at_fold_thresholds"] = audit(pooled, dataset.videos, pooled.thresholds)
    half = _threshold_catching(pooled, 0.5)
    figures["audit_at_half_caught"] = {
        "threshold": round(half, 4),
        **audit(pooled, dataset.videos, np.full(len(pooled.timelines), half)),
    }
    return figures


def _pooled(
    dataset: EvalData,
    per_video: Sequence[npt.NDArray[np.float64]],
    policies: Sequence[ScoringPolicy],
    setup: Setup,
) -> Pooled:
    """Per-video frame scores on the session timelines, each session at its policy's
    threshold."""
    stitched = [np.asarray(s, np.float64) for s in dataset.sessions.stitch(per_video)]
    thresholds = np.asarray([p.threshold for p in policies], np.float64)
    return Pooled.of(dataset.timelines, stitched, thresholds, setup.merge_gap_s)


def _threshold_catching(pooled: Pooled, share: float) -> float:
    """The highest shared threshold that catches at least `share` of the episodes."""
    _, caught = pooled.sweep.curve()
    fits = np.flatnonzero(caught >= share)
    return float(pooled.sweep.thresholds[fits[-1]]) if len(fits) else 0.0


def _folds(dataset: EvalData, held: CrossValidated, pooled: Pooled) -> list[dict[str, Any]]:
    out = []
    for k, policy in enumerate(held.policies):
        mine = [
            s
            for s, session in enumerate(dataset.sessions.items)
            if held.video_fold[session.videos[0]] == k
        ]
        lines = [pooled.timelines[s] for s in mine]
        y = np.concatenate([np.zeros(0), *(t.label[t.labelled] for t in lines)])
        s = np.concatenate(
            [np.zeros(0), *(pooled.scores[i][pooled.timelines[i].labelled] for i in mine)]
        )
        weights = np.zeros(len(pooled.timelines))
        weights[mine] = 1
        events = pooled.chosen.figures(0, weights)
        out.append(
            {
                "fold": k + 1,
                "sessions": [dataset.sessions.items[i].name for i in mine],
                "learner": held.learners[k],
                "threshold": round(policy.threshold, 4),
                "auc_roc": frame_figures(y, s).get("auc_roc"),
                "episodes": events.episodes,
                "episodes_caught": events.caught,
                "false_alerts": events.false_alerts,
                "band_alerts": events.band_alerts,
                "counted_hours": round(events.counted_hours, 3),
            }
        )
    return out


def _headline(figures: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "auc_roc",
        "auc_pr",
        "eer",
        "criterion",
        "episodes_caught_share",
        "false_alerts_per_hour",
    )
    return {k: figures[k] for k in keys}


def _describe(dataset: EvalData, band_s: float) -> dict[str, Any]:
    videos = dataset.videos
    labelled = [v for v in videos if v.labels is not None]
    found = cuts(videos, dataset.sessions)
    lines = dataset.timelines
    hours = 1 / (videos[0].fps * 3600) if videos else 0.0
    return {
        "normal_only_videos": len(videos) - len(labelled),
        "labelled_videos": len(labelled),
        "labelled_frames": sum(v.n_frames for v in labelled),
        "shoplifting_frames": int(
            sum(int(v.labels.sum()) for v in labelled if v.labels is not None)
        ),
        "sessions": len(dataset.sessions),
        "sessions_with_shoplifting": sum(bool(t.episodes) for t in lines),
        "stitched_cuts": len(found),
        "cuts_continuing_a_box": sum(c.continues for c in found),
        "episodes": sum(len(t.episodes) for t in lines),
        "episodes_cut_by_their_clip": sum(
            e.cut_before or e.cut_after for t in lines for e in t.episodes
        ),
        "band_s": band_s,
        "band_hours": round(sum(int(t.band.sum()) for t in lines) * hours, 3),
        "video_hours": round(sum(len(t) for t in lines) * hours, 3),
        "people_hours": round(sum(int(t.people.sum()) for t in lines) * hours, 3),
        "feature_spec": asdict(DEFAULT_SPEC),
    }


def _labels(video: PoseLiftVideo) -> npt.NDArray[np.int8]:
    return video.labels if video.labels is not None else np.zeros(video.n_frames, np.int8)
