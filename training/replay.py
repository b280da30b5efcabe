"""PoseLift replayed through the live scorer, and checked against the offline scores.

The server analyses a camera at `analysis_fps` (5), follows people with a `Tracker` and
scores its tracks with a `BehaviourScorer` every `behaviour_every_s` (0.4 s); training
scores every pose of PoseLift's 15 fps tracks (`dataset.video_scores`). Here each video's
poses are played into those live objects as a camera would deliver them: every 3rd frame,
as `Poses`, through a real `Tracker` (ByteTrack gives its own ids; PoseLift has no detection
score, so every pose gets `PERSON_SCORE`), then `BehaviourScorer.score` when it is due.
Each scored frame's top alerting score is compared with the offline score of that frame:
correlation, absolute differences, frame AUC-ROC, and which episodes alert.

`identities="poselift"` replays with PoseLift's own ids instead (`KnownIdTracker`: the
tracker's history keeping, without ByteTrack), to tell what tracking changes from what
scoring does.

    python -m training.replay --data ../shared/data/poselift --out docs/bench/replay.json
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

from server.behaviour.classifier import MODEL_NAME
from server.behaviour.features import FeatureSpec, batch_features
from server.behaviour.models import AnyModel, load_behaviour_model
from server.behaviour.scorer import BehaviourScorer
from server.behaviour.scoring import joined
from server.config import PipelineConfig
from server.pipeline.tracking import Tracker
from server.records.people import NUM_KEYPOINTS, Poses, TrackHistory, Tracks
from server.weights import DEFAULT_WEIGHTS_DIR
from shared.schemas.settings import DetectionSettings
from training.dataset import PersonRows, person_rows, recordings, row_histories, video_scores
from training.metrics import MERGE_GAP_S, runs
from training.model_scores import row_scores, xgboost_of
from training.poselift import PoseLiftVideo, load_split
from training.report_out import emit
from training.sessions import timeline_length

Say = Callable[[str], None]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Identities = Literal["tracker", "poselift"]

PERSON_SCORE = 0.9  # PoseLift's poses are confirmed detections without a score
ANALYSIS_FPS: float = DetectionSettings.model_fields["analysis_fps"].default
ID_SPACE = 1_000_000  # known ids: video k of a recording uses k * ID_SPACE + its own
THRESHOLDS = (0.1, 0.2, 0.3)  # besides the model's own: where episodes are caught at all


@dataclass(frozen=True, slots=True)
class LiveSetup:
    """How the server analyses a camera: its defaults, as `PipelineManager` sets them up."""

    analysis_fps: float = ANALYSIS_FPS
    every_s: float = PipelineConfig.model_fields["behaviour_every_s"].default
    track_history_s: float = PipelineConfig.model_fields["track_history_s"].default
    lost_timeout_s: float = PipelineConfig.model_fields["track_lost_timeout_s"].default
    identities: Identities = "tracker"

    def history_s(self, model: AnyModel) -> float:
        """Seconds each track keeps, as `PipelineManager.history_s`: the model's window and
        a frame's slack when that is longer than the configured history."""
        return max(self.track_history_s, model.history_s + 0.5)


class KnownIdTracker(Tracker):
    """The live `Tracker`'s history keeping (its window, timeout, `history` and `live_ids`)
    with each person's id taken from the recording instead of from ByteTrack."""

    def follow(self, poses: Poses, ids: I64, ts: float) -> Tracks:
        """The frame's poses as tracks with the given ids (every pose belongs to one)."""
        order = np.argsort(ids, kind="stable")
        tracks = Tracks(
            ts=ts,
            track_id=ids[order].astype(np.int64),
            xyxy=poses.xyxy[order],
            keypoints=poses.keypoints[order],
            keypoint_conf=poses.keypoint_conf[order],
            score=poses.score[order],
        )
        self._remember(tracks)
        return tracks


@dataclass(frozen=True, slots=True)
class Replayed:
    """One video as the live scorer saw it: its scored frames, and who was tracked."""

    frames: I64  # (S,) the scored frames (PoseLift frame numbers)
    live: F64  # (S,) each scored frame's top alerting score, 0 with nobody tracked
    track_people: dict[int, set[int]]  # track id -> the PoseLift people it carried
    untracked: int  # poses of analysed frames that no track carried

    def held(self, n_frames: int) -> F64:
        """The live score of every frame: each scoring's, until the next one."""
        return hold(self.frames, self.live, n_frames)


def hold(frames: I64, values: F64, n_frames: int) -> F64:
    """(n_frames,) each of `values` from its frame until the next one's (0 before the first)."""
    out = np.zeros(n_frames, np.float64)
    bounds = np.append(frames, n_frames)
    for start, end, value in zip(bounds[:-1], bounds[1:], values, strict=True):
        out[start:end] = value
    return out


def frames_of(video: PoseLiftVideo) -> dict[int, tuple[Poses, I64]]:
    """Each frame's poses (and PoseLift person ids) that has any."""
    if not video.tracks:
        return {}
    frame = np.concatenate([video.frames(t) for t in video.tracks])
    ids = np.concatenate([np.full(len(t), t.track_id, np.int64) for t in video.tracks])
    xyxy = np.concatenate([t.xyxy for t in video.tracks])
    keypoints = np.concatenate([t.keypoints for t in video.tracks])
    conf = np.concatenate([t.keypoint_conf for t in video.tracks])
    order = np.lexsort((ids, frame))
    cuts = np.flatnonzero(np.diff(frame[order])) + 1
    out = {}
    for rows in np.split(order, cuts):
        poses = Poses(
            xyxy=xyxy[rows],
            keypoints=keypoints[rows].reshape(-1, NUM_KEYPOINTS, 2),
            keypoint_conf=conf[rows],
            score=np.full(len(rows), PERSON_SCORE, np.float32),
        )
        out[int(frame[rows[0]])] = (poses, ids[rows])
    return out


@dataclass(frozen=True, slots=True)
class LiveView:
    """Rows as the live scorer sees them: their features and their tracks' ages."""

    rows: PersonRows
    ages: F64  # (N,) seconds since the row's person was first seen
    people: tuple[TrackHistory, ...]  # the joined tracks the rows' windows are cut from
    ends: tuple[F64, ...]  # per person, its rows' times (their windows' ends)
    where: tuple[I64, ...]  # per person, its rows' indices

    def scores(self, model: AnyModel) -> list[F64]:
        """Per video, each frame's alerting score (`dataset.video_scores`), the raw scores
        made as the live scorer makes them (`raw_scores_at` on the joined tracks)."""
        raw = np.zeros(len(self.rows), np.float64)
        if self.people:
            raw[np.concatenate(self.where)] = model.raw_scores_at(self.people, self.ends)
        return video_scores(self.rows, raw, model.policy, ages=self.ages)


def as_live(
    rows: PersonRows,
    spec: FeatureSpec,
    analysis_fps: float = ANALYSIS_FPS,
    *,
    across_cuts: bool = True,
) -> LiveView:
    """The same rows as the live scorer sees them. A camera analysed at 5 fps keeps every
    3rd frame of a 15 fps recording: each row's features and age come from the frames on
    its own lattice (its frame, and those 3, 6, ... before it), where tracks are joined
    across id switches (`scoring.joined`, which decides on those frames as the scorer
    does), over each recording's cuts end to end when `across_cuts` (`dataset.recordings`:
    a camera saw what came before the cut)."""
    by_video: dict[int, list[TrackHistory]] = {}
    for (index, _), history in sorted(row_histories(rows).items()):
        by_video.setdefault(index, []).append(history)
    ages = np.empty(len(rows), np.float64)
    pieces, ends, where = [], [], []
    for recording in recordings(rows.videos, across_cuts=across_cuts):
        offset = {i: o for i, o in recording if i in by_video}
        if not offset:
            continue
        fps = rows.videos[next(iter(offset))].fps
        step = round(fps / analysis_fps)
        tracks = [(i, replace(h, ts=h.ts + offset[i] / fps)) for i in offset for h in by_video[i]]
        mine = [np.flatnonzero((rows.video == i) & (rows.track == h.track_id)) for i, h in tracks]
        frames = [np.rint(h.ts * fps).astype(np.int64) % step for _, h in tracks]
        for phase in range(step):
            on = [f == phase for f in frames]
            kept = [k for k, keep in enumerate(on) if keep.any()]
            people = joined([_frames(tracks[k][1], on[k]) for k in kept])
            for k, person in zip(kept, people, strict=True):
                at = tracks[k][1].ts[on[k]]  # the rows' times on the recording
                pieces.append(person)
                ends.append(at)
                where.append(mine[k][on[k]])
                ages[mine[k][on[k]]] = at - person.ts[0]
    features = np.empty_like(rows.features)
    if pieces:
        features[np.concatenate(where)] = batch_features(pieces, ends, spec)
    return LiveView(
        replace(rows, features=features), ages, tuple(pieces), tuple(ends), tuple(where)
    )


def _frames(history: TrackHistory, keep: npt.NDArray[np.bool_]) -> TrackHistory:
    return TrackHistory(
        history.track_id,
        history.ts[keep],
        history.xyxy[keep],
        history.keypoints[keep],
        history.keypoint_conf[keep],
    )


def replay(recording: Sequence[PoseLiftVideo], model: AnyModel, setup: LiveSetup) -> list[Replayed]:
    """Play a recording's videos, end to end, into one live tracker and scorer as a camera
    analysed at `setup.analysis_fps` would; what each video's frames got."""
    fps = recording[0].fps
    step = round(fps / setup.analysis_fps)
    if step < 1 or abs(fps / step - setup.analysis_fps) > 1e-6:
        raise ValueError(f"analysis_fps: must divide the videos' {fps} fps")
    if any(v.fps != fps for v in recording):
        raise ValueError("recording: its videos must share one frame rate")
    settings = {"fps": setup.analysis_fps, "lost_timeout_s": setup.lost_timeout_s}
    if setup.identities == "poselift":
        tracker: Tracker = KnownIdTracker(history_s=setup.history_s(model), **settings)
    else:
        tracker = Tracker(history_s=setup.history_s(model), **settings)
    scorer = BehaviourScorer(model, setup.every_s)
    nobody = (Poses.empty(), np.zeros(0, np.int64))
    out, start = [], 0
    for number, video in enumerate(recording):
        people = frames_of(video)
        scored, live = [], []
        carried: dict[int, set[int]] = {}
        untracked = 0
        for frame in range(-start % step, timeline_length(video), step):
            poses, ids = people.get(frame, nobody)
            ts = (start + frame) / fps
            if isinstance(tracker, KnownIdTracker):  # a video's ids are its own
                tracks = tracker.follow(poses, ids + number * ID_SPACE, ts)
            else:
                tracks = tracker.update(poses, ts)
            untracked += len(poses) - len(tracks)
            for row in range(len(tracks)):  # whose pose each track carries: its box is theirs
                same = (poses.xyxy == tracks.xyxy[row]).all(axis=1)
                carried.setdefault(int(tracks.track_id[row]), set()).update(ids[same].tolist())
            if scorer.due(ts) and frame < video.n_frames:
                scored.append(frame)
                live.append(scorer.score(tracks, tracker).top)
        out.append(Replayed(np.asarray(scored, np.int64), np.asarray(live), carried, untracked))
        start += timeline_length(video)
    return out


@dataclass(frozen=True, slots=True)
class Agreement:
    """Live against offline scores of the same frames (those with someone in view)."""

    frames: int
    correlation: float
    max_abs_diff: float
    p95_abs_diff: float
    mean_abs_diff: float

    @classmethod
    def of(cls, live: F64, offline: F64) -> Agreement:
        diff = np.abs(live - offline)
        same = bool(np.std(live) > 0 and np.std(offline) > 0)
        return cls(
            frames=len(diff),
            correlation=round(float(np.corrcoef(live, offline)[0, 1]), 4) if same else 1.0,
            max_abs_diff=round(float(diff.max(initial=0.0)), 4),
            p95_abs_diff=round(float(np.percentile(diff, 95)) if len(diff) else 0.0, 4),
            mean_abs_diff=round(float(diff.mean()) if len(diff) else 0.0, 4),
        )


def episode_alerts(
    videos: Sequence[PoseLiftVideo], scores: Sequence[F64], threshold: float
) -> tuple[set[tuple[str, int]], int]:
    """The episodes (video, first frame) an alert overlaps, and the alerts overlapping no
    episode; an alert is a run of frames at or over `threshold`, runs closer than the
    server's dedup window one alert (video by video: these figures compare two scorings of
    the same frames, the session figures are `training/events.py`'s)."""
    caught: set[tuple[str, int]] = set()
    false_alerts = 0
    for video, score in zip(videos, scores, strict=True):
        labels = video.labels if video.labels is not None else np.zeros(video.n_frames, np.int8)
        truth = runs(labels == 1)
        for start, end in runs(score >= threshold, round(MERGE_GAP_S * video.fps)):
            hit = [ep for ep in truth if ep[0] < end and start < ep[1]]
            caught.update((video.name, ep[0]) for ep in hit)
            false_alerts += not hit
    return caught, false_alerts


def compare(
    videos: Sequence[PoseLiftVideo],
    replayed: Sequence[Replayed],
    offline: Sequence[F64],
    threshold: float,
) -> dict[str, Any]:
    """Agreement of live and offline scores at the scored frames, frame AUC-ROC of both over
    the labelled videos' scored frames, and the episodes each catches at thresholds."""
    live_at, offline_at, labels = [], [], []
    for video, seen, score in zip(videos, replayed, offline, strict=True):
        someone = np.zeros(video.n_frames, bool)
        for track in video.tracks:
            someone[video.frames(track)] = True
        mine = someone[seen.frames] | (seen.live > 0)
        live_at.append(seen.live[mine])
        offline_at.append(score[seen.frames][mine])
        if video.labels is not None:
            labels.append((video.labels[seen.frames], seen.live, score[seen.frames]))
    y = np.concatenate([lab for lab, _, _ in labels])
    agreement = Agreement.of(np.concatenate(live_at), np.concatenate(offline_at))
    out: dict[str, Any] = {
        "agreement": asdict(agreement),
        "frame_auc_roc": {
            "offline": round(
                float(roc_auc_score(y, np.concatenate([o for *_, o in labels]))) * 100, 2
            ),
            "replayed": round(
                float(roc_auc_score(y, np.concatenate([r for _, r, _ in labels]))) * 100, 2
            ),
        },
        "alerts": [],
    }
    held_live = [r.held(v.n_frames) for v, r in zip(videos, replayed, strict=True)]
    held_offline = [
        hold(r.frames, s[r.frames], v.n_frames)
        for v, r, s in zip(videos, replayed, offline, strict=True)
    ]
    for t in sorted({round(threshold, 4), *THRESHOLDS}):
        caught_live, false_live = episode_alerts(videos, held_live, t)
        caught_offline, false_offline = episode_alerts(videos, held_offline, t)
        caught_every, false_every = episode_alerts(videos, offline, t)
        out["alerts"].append(
            {
                "threshold": t,
                "episodes_caught": {
                    "offline_every_frame": len(caught_every),
                    "offline_scored_frames": len(caught_offline),
                    "replayed": len(caught_live),
                    "both": len(caught_live & caught_offline),
                    "only_offline": sorted(f"{v}@{f}" for v, f in caught_offline - caught_live),
                    "only_replayed": sorted(f"{v}@{f}" for v, f in caught_live - caught_offline),
                },
                "false_alerts": {
                    "offline_every_frame": false_every,
                    "offline_scored_frames": false_offline,
                    "replayed": false_live,
                },
            }
        )
    return out


def identity(videos: Sequence[PoseLiftVideo], replayed: Sequence[Replayed]) -> dict[str, int]:
    """How the tracker's ids relate to PoseLift's: people followed by one id throughout,
    people split over several, ids that carried more than one person."""
    followed = split = mixed = tracked_people = untracked = 0
    for seen in replayed:
        per_person: dict[int, set[int]] = {}
        for track, people in seen.track_people.items():
            mixed += len(people) > 1
            for person in people:
                per_person.setdefault(person, set()).add(track)
        tracked_people += len(per_person)
        followed += sum(len(ids) == 1 for ids in per_person.values())
        split += sum(len(ids) > 1 for ids in per_person.values())
        untracked += seen.untracked
    return {
        "people": sum(len(v.tracks) for v in videos),
        "people_tracked": tracked_people,
        "people_with_one_id": followed,
        "people_split_over_ids": split,
        "ids_carrying_several_people": mixed,
        "poses_untracked": untracked,
    }


def replay_all(
    videos: Sequence[PoseLiftVideo], model: AnyModel, setup: LiveSetup, say: Say
) -> list[Replayed]:
    """Every video replayed, recording by recording (`dataset.recordings`), in their order."""
    out: dict[int, Replayed] = {}
    done = 0
    for recording in recordings(videos):
        indices = [index for index, _ in recording]
        seen_all = replay([videos[i] for i in indices], model, setup)
        for index, seen in zip(indices, seen_all, strict=True):
            out[index] = seen
        done += len(indices)
        if done // 20 > (done - len(indices)) // 20 or done == len(videos):
            say(f"{setup.identities} ids: replayed {done}/{len(videos)} videos")
    return [out[i] for i in range(len(videos))]


def run(
    data: Path, model_path: Path, say: Say, min_track_age_s: float | None = None
) -> dict[str, Any]:
    """Replay every video of `data` (Train and Test) both ways, and compare with offline
    scores as training computes them and as the live scorer would (`as_live`)."""
    model = load_behaviour_model(model_path)
    if min_track_age_s is not None:
        xgb = xgboost_of(model)
        xgb.policy = replace(xgb.policy, min_track_age_s=min_track_age_s)
    started = time.monotonic()
    videos = load_split(data, "Test") + load_split(data, "Train")
    spec = xgboost_of(model).spec
    rows = person_rows(videos, spec)
    raw = row_scores(model, rows)
    offline = {
        "as_trained": video_scores(rows, raw, model.policy),
        "as_trained_smoothed_every_frame": video_scores(rows, raw, model.policy, every_s=0.0),
        "as_live": as_live(rows, spec).scores(model),
    }
    say(
        f"{len(videos)} videos, {len(rows)} rows scored offline ({time.monotonic() - started:.0f}s)"
    )
    setup = LiveSetup()
    result: dict[str, Any] = {
        "model": str(model_path),
        "policy": {
            "smoothing_s": model.policy.smoothing_s,
            "threshold": round(model.policy.threshold, 4),
            "min_track_age_s": model.policy.min_track_age_s,
        },
        "setup": {
            **{k: v for k, v in asdict(setup).items() if k != "identities"},
            "history_s": setup.history_s(model),
        },
        "videos": len(videos),
        "recordings": len(recordings(videos)),
    }
    for identities in ("tracker", "poselift"):
        replayed = replay_all(videos, model, replace(setup, identities=identities), say)
        result[f"replayed_with_{identities}_ids"] = {
            "identity": identity(videos, replayed),
            **{
                f"vs_offline_{name}": compare(videos, replayed, scores, model.policy.threshold)
                for name, scores in offline.items()
            },
        }
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True, help="PoseLift folder")
    parser.add_argument("--model", type=Path, default=DEFAULT_WEIGHTS_DIR / MODEL_NAME)
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    parser.add_argument(
        "--min-age", type=float, help="the track-age rule to replay with (default: the model's)"
    )
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        sys.stderr.write(line + "\n")

    result = run(args.data, args.model, say, args.min_age)
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
