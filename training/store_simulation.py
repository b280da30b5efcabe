"""Does learning from the store pay? A simulation on PoseLift: one camera plays "the store".

1. **The store** is one PoseLift camera (by default the one with the most labelled episodes
   among those with at least two sessions per batch). Its recording sessions
   (`training/sessions.py`), in video-number order, are its days, split into `batches`
   runs of consecutive sessions holding about equal shares of its episodes. (PoseLift
   numbers each camera's normal-only videos mostly before its labelled clips, e.g. camera
   1's run 97-207 and 221-294: batches of equal video time leave the first half without a
   single episode, and the retrained model with one or two to learn from before the last
   batch; `split="time"` cuts them so all the same.) Sessions are placed on a clock an
   hour apart (`training/store_camera.py`: no alert or track spans the gap).
2. **The base model** is trained as `shopguard model train` trains (the protocol's
   `fit_policy`: one positive per frame, calibration and threshold from session-grouped
   out-of-fold scores), on every OTHER camera's videos: the store's camera is new to it.
   The learner is the XGBoost alone, with its default settings.
3. **Each batch**, in order, for two arms: "before" (the base model, never retrained) and
   "after" (the base data plus every store episode reviewed so far):
   a. the batch's sessions are scored as live (`dataset.video_scores`: the scorer's
      cadence, smoothing, track-age rule, calibration; ages across cuts);
   b. the threshold is what the server's alert budget gives (`server/alerting/budget.py`):
      from the track peaks of the store's PREVIOUS batches, each as the model live in it
      scored them, and the arm's reviews so far, so that at most `budget_per_hour` alerts
      are expected per hour of video; before `min_history_s` of history (the first
      batch), the model's own threshold;
   c. alerts on the session timelines, merged within the dedup window, count as caught
      episodes, false alerts and band alerts exactly as the protocol counts them
      (`training/events.py`, don't-care bands of `training/timeline.py`);
   d. reviews from the labels: an alert overlapping an episode is a confirmed theft, one
      overlapping none a false alarm, one starting in a don't-care band "unclear" (kept by
      no one); with `mark_missed`, a supervisor marks each episode no alert caught as a
      missed theft. Each becomes an episode file as the server writes one
      (`server/posetracks`: the alert's people, or everyone in the marked span, over the
      span +- `margin_s`), and the "after" arm reads them back with the trainer's reader
      (`training/store_data.py`, margins don't-care). A confirmed alert labels its whole
      span theft, as the server's episode does, though alerts merged within the dedup
      window can span minutes around a theft of seconds; `confirmed_span="theft"` labels
      only its overlap with the thefts (a reviewer narrowing the label, which the server
      does not offer), to measure what that noise costs;
   e. the "after" arm retrains on the base rows plus all store episodes so far (when the
      batch added any), with the base model's calibration.

**Approximations, stated.** The budget is per hour of scored video, not per day: PoseLift's
cameras show an episode every few minutes (clips were cut around incidents), and a camera
here has 6-40 minutes of video, far under the server's one day of history
(`budget.MIN_DAYS`), so the budget's functions are fed hours as days are (alerts per day =
24 x alerts per hour) and the "enough history" rule is `min_history_s`. The server starts a
new model's peak history afresh (from its shadow run); here the history of the "after" arm
runs on across retrains, each batch's peaks scored by the model live in it: every peak is
out of sample (a retrained model's own peaks over the batches it learned from would be
in-sample for the reviewed people), and the models share the base's calibration. A
retrained model goes live at once, where the server runs it in shadow before an admin
promotes it. The store's poses are PoseLift's, 15 fps, where a live camera keeps about 5.
Counts are small: a camera has 1-10 episodes, so one episode more or less is a large
share.

Run:
    python -m training.store_simulation --data ../shared/data/poselift --batches 4 \
        --out docs/model-card/store-adaptation.json --plots docs/model-card
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from server.alerting.budget import DAY_S, PeakHistory, Reviews, alert_curve, review_factor
from server.alerting.thresholds import FLOOR_SHARE
from server.behaviour.classifier import ScoringPolicy
from server.behaviour.scoring import alerting_scores
from server.config import PoseTracksConfig
from training.commands import load
from training.dataset import PersonRows, smoothed_scores, track_ages, video_scores
from training.events import event_table, session_alerts
from training.fit import Params, predict
from training.learners import XGBoostLearner
from training.metrics import MERGE_GAP_S
from training.poselift import PoseLiftVideo
from training.protocol import EvalData, Setup, fit_policy
from training.report_out import emit
from training.store_camera import (
    ConfirmedSpan,
    Kept,
    RowPlaces,
    Split,
    Store,
    alert_tracks,
    choose_camera,
    clock,
    eligible_cameras,
    kept_episode,
    labelled_spans,
    store_of,
    write_episodes,
)
from training.store_training import StoreEpisodes, with_episodes
from training.timeline import Timeline

Say = Callable[[str], None]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

BUDGET_PER_HOUR = 6.0  # alerts per hour of scored video the budget allows (see the docstring)
MIN_HISTORY_S = 60.0  # seconds of scored video before the budget sets the threshold
MARGIN_S = PoseTracksConfig().margin_s  # poses kept around a labelled span, as the server
ARMS = ("before", "after")


@dataclass(frozen=True, slots=True)
class StoreSetup:
    """The simulation's settings."""

    camera: int | None = None  # the store; None: `choose_camera`
    batches: int = 4
    split: Split = "episodes"  # batches of equal shares of the episodes, or of the video
    budget_per_hour: float = BUDGET_PER_HOUR
    mark_missed: bool = True  # a supervisor marks each episode no alert caught
    confirmed_span: ConfirmedSpan = "alert"  # what a confirmed alert labels (`_labelled_spans`)
    folds: int = 5  # the base model's out-of-fold scores (calibration, threshold)
    min_history_s: float = MIN_HISTORY_S
    margin_s: float = MARGIN_S
    merge_gap_s: float = MERGE_GAP_S  # the dedup window
    store_weight: float = 1.0  # the after arm's store rows / PoseLift's (`fit.row_weights`)
    threads: int = 2

    def __post_init__(self) -> None:
        if self.batches < 2:
            raise ValueError(f"batches: at least 2, got {self.batches}")
        if not self.budget_per_hour > 0:
            raise ValueError(f"budget_per_hour: must be > 0, got {self.budget_per_hour}")


@dataclass(frozen=True, slots=True)
class Model:
    """A fitted booster and the policy it is scored with."""

    fitted: Any
    policy: ScoringPolicy
    training_rows: int  # rows offered to the fit (which thins normal-only video's)


@dataclass(frozen=True, slots=True)
class Scored:
    """A model's alerting scores on the store: per row of `Store.rows`, per session."""

    row: F64  # (R,) each store row's alerting score
    frames: dict[int, F64]  # session -> (T,) its timeline's frame scores


@dataclass(slots=True)
class Arm:
    """What one arm has seen so far: its reviews, and (after) its store episodes."""

    name: str
    real: int = 0  # reviewed alerts confirmed as thefts
    false_alarms: int = 0
    episodes: list[Kept] = field(default_factory=list)
    peaks: list[PeakHistory] = field(default_factory=list)  # per batch, as scored live

    def history(self) -> PeakHistory:
        """Every batch's track peaks so far, each under the model live in it."""
        if not self.peaks:
            return PeakHistory.empty()
        return PeakHistory(
            np.concatenate([p.first_seen for p in self.peaks]),
            np.concatenate([p.last_seen for p in self.peaks]),
            np.concatenate([p.peak for p in self.peaks]),
            sum(p.observed_s for p in self.peaks),
        )


def fit_base(data: EvalData, store: Store, setup: StoreSetup, say: Say) -> tuple[Model, Mask]:
    """The base model on every other camera, as `model train` fits one; and the training
    rows it fits on (over `data.training`)."""
    cameras = np.asarray([v.camera for v in data.videos])
    inside = cameras != store.camera
    learner = XGBoostLearner(threads=setup.threads)
    protocol_setup = Setup(setup.folds, "session", merge_gap_s=setup.merge_gap_s)
    fitting = fit_policy(data, inside, [learner], setup.folds, protocol_setup, say)
    say(f"fitting the base model on {int(inside.sum())} videos of cameras {_cameras(data, inside)}")
    fitted = learner.fit(data.training, fitting.keep)
    return Model(fitted, fitting.policy, int(fitting.keep.sum())), fitting.keep


def score(data: EvalData, store: Store, model: Model, ages: F64) -> Scored:
    """The model's alerting scores on the store's rows and session timelines, as live."""
    rows = data.scoring.take(store.rows)
    raw = predict(model.fitted, rows)
    policy = model.policy
    smoothed = smoothed_scores(
        rows, raw, policy.smoothing_s, min_age_s=policy.min_track_age_s, ages=ages
    )
    per_video = video_scores(rows, raw, policy, ages=ages)
    stitched = data.sessions.stitch(per_video)
    return Scored(
        alerting_scores(smoothed, policy.calibration),
        {s: np.asarray(stitched[s], np.float64) for s in store.sessions},
    )


def peak_history(
    data: EvalData, places: RowPlaces, scored: Scored, sessions: Sequence[int]
) -> PeakHistory:
    """The track peaks a camera would have recorded over `sessions`, and their seconds."""
    observed = sum(len(data.timelines[s]) / data.timelines[s].fps for s in sessions)
    chosen = np.flatnonzero(np.isin(places.session, np.asarray(sessions, np.int32)))
    if not len(chosen):
        return PeakHistory.empty(observed)
    tracks, owner = np.unique(places.track[chosen], return_inverse=True)
    first = np.full(len(tracks), np.inf)
    last = np.full(len(tracks), -np.inf)
    peak = np.zeros(len(tracks))
    np.minimum.at(first, owner, places.ts[chosen])
    np.maximum.at(last, owner, places.ts[chosen])
    np.maximum.at(peak, owner, scored.row[chosen])
    return PeakHistory(first, last, peak, observed)


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    source: str  # "budget" or "model"
    expected_per_hour: float | None  # the budget's expectation; None: the model's threshold
    review_factor: float


def budget_threshold(history: PeakHistory, arm: Arm, model: Model, setup: StoreSetup) -> Threshold:
    """The threshold the server's budget sets from `history` (module docstring, b)."""
    factor = review_factor(Reviews(arm.real, arm.false_alarms))
    if history.observed_s < setup.min_history_s:
        return Threshold(model.policy.threshold, "model", None, factor)
    floor = FLOOR_SHARE * model.policy.threshold
    curve = alert_curve(history, setup.merge_gap_s, floor)
    per_day = setup.budget_per_hour * DAY_S / 3600 * factor
    value, expected = curve.threshold_for(per_day)
    return Threshold(value, "budget", expected * 3600 / DAY_S, factor)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One arm on one batch."""

    threshold: Threshold
    episodes: int
    caught: int
    false_alerts: int
    band_alerts: int
    reviews: dict[str, int]  # theft, false_alarm, unclear, missed_marked

    def row(self) -> dict[str, Any]:
        return {
            "threshold": round(self.threshold.value, 4),
            "threshold_source": self.threshold.source,
            "expected_alerts_per_hour": None
            if self.threshold.expected_per_hour is None
            else round(self.threshold.expected_per_hour, 2),
            "review_factor": round(self.threshold.review_factor, 3),
            "episodes_caught": self.caught,
            "false_alerts": self.false_alerts,
            "band_alerts": self.band_alerts,
            "reviews": self.reviews,
        }


def run_batch(
    data: EvalData,
    store: Store,
    places: RowPlaces,
    scored: Scored,
    number: int,
    arm: Arm,
    model: Model,
    setup: StoreSetup,
    next_id: Callable[[], int],
) -> BatchResult:
    """Steps b-d of the module's docstring for one arm on batch `number`: the threshold,
    the events, and the reviews (the arm's counts, episodes and peaks grow)."""
    threshold = budget_threshold(arm.history(), arm, model, setup)
    sessions = store.batches[number]
    arm.peaks.append(peak_history(data, places, scored, sessions))
    lines = [data.timelines[s] for s in sessions]
    found = event_table(
        lines,
        [scored.frames[s] for s in sessions],
        np.asarray([threshold.value]),
        setup.merge_gap_s,
    ).figures()
    reviews = {"theft": 0, "false_alarm": 0, "unclear": 0, "missed_marked": 0}
    labelled_at = max(
        store.start[s] + len(data.timelines[s]) / data.timelines[s].fps for s in sessions
    )
    for session, line in zip(sessions, lines, strict=True):
        alerts = session_alerts(
            line, scored.frames[session], threshold.value, setup.merge_gap_s, session
        )
        for alert in alerts:
            if alert.outcome == "band":  # an incident going on past a cut: nobody can tell
                reviews["unclear"] += 1
                continue
            theft = alert.outcome == "caught"
            reviews["theft" if theft else "false_alarm"] += 1
            arm.real += theft
            arm.false_alarms += not theft
            tracks = alert_tracks(places, scored.row, alert, threshold.value)
            alert_id = next_id()
            for start, end in labelled_spans(alert, line, theft, setup.confirmed_span):
                span = clock(store, line, session, start, end)
                _keep(arm, data, store, session, span, tracks, theft, alert_id, labelled_at, setup)
        if not setup.mark_missed:
            continue
        for episode in line.episodes:
            if any(a.start < episode.end and a.end > episode.start for a in alerts):
                continue
            span = clock(store, line, session, episode.start, episode.end)
            if _keep(arm, data, store, session, span, None, True, None, labelled_at, setup):
                reviews["missed_marked"] += 1
    return BatchResult(
        threshold, found.episodes, found.caught, found.false_alerts, found.band_alerts, reviews
    )


def simulate_store(
    data: EvalData,
    camera: int,
    setup: StoreSetup,
    episodes_dir: Path,
    say: Say,
) -> dict[str, Any]:
    """The simulation with `camera` as the store (module docstring): its report."""
    started = time.monotonic()
    store = store_of(data, camera, setup.batches, setup.split)
    say(
        f"store: camera {camera}, {len(store.sessions)} sessions in {setup.batches} batches "
        f"({', '.join(str(len(b)) for b in store.batches)} sessions)"
    )
    base, base_keep = fit_base(data, store, setup, _prefixed(say, f"camera {camera}: "))
    ages = track_ages(data.scoring.take(store.rows))
    places = RowPlaces.of(data, store)
    arms = {name: Arm(name) for name in ARMS}
    counter = iter(range(1, 1_000_000))
    model = {"before": base, "after": base}
    batches: list[dict[str, Any]] = []
    store_rows = 0
    trained_on: list[Kept] = []  # the episodes the after model knows
    for number, sessions in enumerate(store.batches):
        scored = {name: score(data, store, model[name], ages) for name in ARMS}
        results = {
            name: run_batch(
                data,
                store,
                places,
                scored[name],
                number,
                arms[name],
                model[name],
                setup,
                lambda: next(counter),
            )
            for name in ARMS
        }
        lines = [data.timelines[s] for s in sessions]
        hours = _hours(lines)
        batch = {
            "batch": number + 1,
            "sessions": [data.sessions.items[s].name for s in sessions],
            "episodes": results["before"].episodes,
            **hours,
            "after_model_training_rows": model["after"].training_rows,
            "after_model_store_rows": store_rows,
            **{name: results[name].row() for name in ARMS},
        }
        batches.append(batch)
        say(
            f"camera {camera} batch {number + 1}/{setup.batches}: {batch['episodes']} episodes, "
            f"{hours['people_hours']:.3f} h with people; caught before/after "
            f"{results['before'].caught}/{results['after'].caught}, false alerts "
            f"{results['before'].false_alerts}/{results['after'].false_alerts} (thresholds "
            f"{results['before'].threshold.value:.3f}/{results['after'].threshold.value:.3f})"
        )
        if number + 1 < setup.batches and len(arms["after"].episodes) > len(trained_on):
            trained_on = list(arms["after"].episodes)
            write_episodes(arms["after"].episodes, episodes_dir)
            kept = StoreEpisodes.load(episodes_dir)
            rows, keep = with_episodes(data.training, base_keep, kept)
            store_rows = int(kept.care.sum())
            say(
                f"camera {camera}: retraining on the base rows and {len(kept.videos)} store "
                f"episodes ({store_rows} rows)"
            )
            params = Params(store_weight=setup.store_weight)
            fitted = XGBoostLearner(params, threads=setup.threads).fit(rows, keep)
            model["after"] = Model(fitted, base.policy, int(keep.sum()))
    report = {
        "store_camera": camera,
        "base_cameras": _cameras(data, np.asarray([v.camera != camera for v in data.videos])),
        "base_threshold": round(base.policy.threshold, 4),
        "base_training_rows": base.training_rows,
        "batches": batches,
        "total": _total(batches),
        "store_episodes_kept": StoreEpisodes.load(episodes_dir).summary()
        if any(episodes_dir.rglob("*.npz"))
        else None,
        "seconds": round(time.monotonic() - started),
    }
    return report


def run(
    videos: Sequence[PoseLiftVideo],
    training: PersonRows,
    scoring: PersonRows,
    setup: StoreSetup,
    say: Say,
    *,
    all_cameras: bool = False,
    episodes_dir: Path | None = None,
) -> dict[str, Any]:
    """The simulation on `videos` (rows as `training.commands.load` makes them): with
    `setup.camera` (or the chosen one) as the store, or each eligible camera in turn."""
    if tuple(videos) != training.videos:
        raise ValueError("rows: of other videos")
    data = EvalData.of(training, scoring)
    cameras = (
        eligible_cameras(data, setup.batches)
        if all_cameras
        else [setup.camera if setup.camera is not None else choose_camera(data, setup.batches)]
    )
    stores = []
    with tempfile.TemporaryDirectory(prefix="store-episodes-") as scratch:
        for camera in cameras:
            folder = (episodes_dir or Path(scratch)) / f"camera-{camera}"
            if folder.exists() and any(folder.rglob("*.npz")):
                raise ValueError(f"{folder}: holds episodes already; give an empty folder")
            folder.mkdir(parents=True, exist_ok=True)
            stores.append(simulate_store(data, camera, setup, folder, say))
    return {
        "what": "a store learning from its own reviews, simulated on PoseLift: one camera is "
        "the store, its sessions fed in time order in batches; after each batch every alert "
        "is reviewed from the labels (and missed thefts marked), kept as the server keeps "
        "episodes, and the 'after' model retrained on the base data plus them; 'before' is "
        "the base model, never retrained",
        "setup": {
            "batches": setup.batches,
            "split": f"consecutive sessions holding about equal shares of the store's "
            f"{'episodes' if setup.split == 'episodes' else 'video'}",
            "budget_alerts_per_hour_of_video": setup.budget_per_hour,
            "budget_as_alerts_per_day_scored_around_the_clock": 24 * setup.budget_per_hour,
            "threshold_before_history": "the model's own (PoseLift out-of-fold, 1 false alert "
            "per hour with people) until "
            f"{setup.min_history_s:g} s of the store's video were scored",
            "threshold_floor_share_of_models": FLOOR_SHARE,
            "dedup_window_s": setup.merge_gap_s,
            "mark_missed_thefts": setup.mark_missed,
            "confirmed_alert_labels": "the alert's whole span, as the server keeps it"
            if setup.confirmed_span == "alert"
            else "only its overlap with the thefts it caught (a reviewer narrowing the "
            "label; the server has no such step)",
            "margin_s": setup.margin_s,
            "store_weight": setup.store_weight,
            "learner": "XGBoost alone, default settings (the ensemble is not simulated)",
            "base_folds": setup.folds,
        },
        "stores": stores,
        "total": _total([b for s in stores for b in s["batches"]]),
        "total_after_first_batch": _total(
            [b for s in stores for b in s["batches"] if b["batch"] > 1]
        ),
        "notes": [
            "small numbers: a PoseLift camera has a handful of episodes, so one episode "
            "caught more or less is a large share; no interval is given",
            "the first batch is the same for both arms (nothing is reviewed yet)",
            "the budget is per hour of video, fed to the server's budget functions as days "
            "(x24): PoseLift's cameras show an episode every few minutes",
            "the budget's history is each earlier batch's track peaks as the model live in it "
            "scored them (the server would start a promoted model's history afresh, from its "
            "shadow run); a retrained model goes live at once, without a shadow period",
            "a confirmed alert labels its whole span (merged within the dedup window) as "
            "theft, as the server's episode does; a marked missed theft labels everyone in "
            "view during the labelled frames",
        ],
    }


def write_plot(report: dict[str, Any], out_dir: Path) -> Path:
    """`store-adaptation.png`: per batch (summed over stores), episodes and those caught
    before and after, and the false alerts of each arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    count = report["setup"]["batches"]
    sums = {
        key: np.zeros(count)
        for key in ("episodes", "before_caught", "after_caught", "before_false", "after_false")
    }
    for store in report["stores"]:
        for batch in store["batches"]:
            k = batch["batch"] - 1
            sums["episodes"][k] += batch["episodes"]
            for arm in ARMS:
                sums[f"{arm}_caught"][k] += batch[arm]["episodes_caught"]
                sums[f"{arm}_false"][k] += batch[arm]["false_alerts"]
    x = np.arange(1, count + 1)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(6.5, 6), dpi=120, sharex=True)
    top.bar(x - 0.27, sums["episodes"], 0.27, color="lightgrey", label="episodes")
    top.bar(x, sums["before_caught"], 0.27, color="tab:blue", label="caught, base model")
    top.bar(x + 0.27, sums["after_caught"], 0.27, color="tab:orange", label="caught, retrained")
    top.set(ylabel="episodes")
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(x - 0.15, sums["before_false"], 0.3, color="tab:blue", label="base model")
    bottom.bar(x + 0.15, sums["after_false"], 0.3, color="tab:orange", label="retrained")
    bottom.set(xlabel="batch (time order)", ylabel="false alerts", xticks=x)
    bottom.legend(loc="upper left", fontsize=8)
    for axes in (top, bottom):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    cameras = [str(s["store_camera"]) for s in report["stores"]]
    budget = report["setup"]["budget_alerts_per_hour_of_video"]
    total = report["total"]
    who = (
        f"PoseLift camera {cameras[0]} as the store"
        if len(cameras) == 1
        else f"PoseLift cameras {', '.join(cameras)}, each as the store (summed)"
    )
    top.set_title(
        f"{who}; budget {budget:g} alerts/h of video\n"
        f"caught {total['before']['episodes_caught']} (base) vs "
        f"{total['after']['episodes_caught']} (retrained) of {total['episodes']} episodes",
        fontsize=9,
    )
    figure.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "store-adaptation.png"
    figure.savefig(path)
    plt.close(figure)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.store_simulation", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="PoseLift folder")
    parser.add_argument(
        "--camera", default=None, help="the store camera; 'all': each eligible one in turn"
    )
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument(
        "--split",
        choices=("episodes", "time"),
        default="episodes",
        help="batches of equal shares of the episodes (default) or of the video",
    )
    parser.add_argument("--budget-per-hour", type=float, default=BUDGET_PER_HOUR)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-mark-missed", action="store_true", help="no supervisor marks")
    parser.add_argument(
        "--confirmed-span",
        choices=("alert", "theft"),
        default="alert",
        help="what a confirmed alert labels theft: its whole span (as the server) or only "
        "the labelled theft frames within it",
    )
    parser.add_argument(
        "--store-weight",
        type=float,
        default=1.0,
        help="the retrained model's store rows weigh this many times PoseLift's of their class",
    )
    parser.add_argument("--episodes", type=Path, default=None, help="keep episode files here")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    parser.add_argument("--plots", type=Path, default=None, help="folder for the PNG")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(f"[store] {line}", file=sys.stderr, flush=True)  # noqa: T201

    every = args.camera == "all"
    setup = StoreSetup(
        camera=None if every or args.camera is None else int(args.camera),
        batches=args.batches,
        split=args.split,
        budget_per_hour=args.budget_per_hour,
        mark_missed=not args.no_mark_missed,
        confirmed_span=args.confirmed_span,
        folds=args.folds,
        store_weight=args.store_weight,
    )
    videos, training, scoring = load(args.data, ("Train", "Test"), say)
    report = run(
        videos, training, scoring, setup, say, all_cameras=every, episodes_dir=args.episodes
    )
    if args.plots is not None:
        report["plot"] = str(write_plot(report, args.plots))
    emit(report, args.out, indent=2)
    return 0


def _keep(
    arm: Arm,
    data: EvalData,
    store: Store,
    session: int,
    span: tuple[float, float],
    tracks: Sequence[int] | None,
    theft: bool,
    alert_id: int | None,
    labelled_at: float,
    setup: StoreSetup,
) -> bool:
    """Keep a labelled span as the arm's next episode; False when no poses are kept."""
    found = kept_episode(
        data,
        store,
        session,
        span,
        tracks,
        theft=theft,
        alert_id=alert_id,
        episode_id=len(arm.episodes) + 1,
        labelled_at=labelled_at,
        margin_s=setup.margin_s,
    )
    if found is not None:
        arm.episodes.append(found)
    return found is not None


def _hours(lines: Sequence[Timeline]) -> dict[str, float]:
    return {
        "video_hours": round(sum(len(t) / t.fps for t in lines) / 3600, 4),
        "people_hours": round(sum(int(t.people.sum()) / t.fps for t in lines) / 3600, 4),
    }


def _total(batches: Sequence[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {
        "batches": len(batches),
        "episodes": sum(b["episodes"] for b in batches),
        "video_hours": round(sum(b["video_hours"] for b in batches), 4),
        "people_hours": round(sum(b["people_hours"] for b in batches), 4),
    }
    for arm in ARMS:
        total[arm] = {
            key: sum(b[arm][key] for b in batches)
            for key in ("episodes_caught", "false_alerts", "band_alerts")
        }
    return total


def _cameras(data: EvalData, videos: Mask) -> list[int]:
    return sorted({data.videos[i].camera for i in np.flatnonzero(videos).tolist()})


def _prefixed(say: Say, prefix: str) -> Say:
    return lambda line: say(prefix + line)


if __name__ == "__main__":
    raise SystemExit(main())
