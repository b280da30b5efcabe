"""PoseLift videos → training rows: one feature row per pose (a person in a frame), with the
frame it belongs to and that frame's label, and back from row scores to frame scores.

Labels are per frame, not per person: a person seen in a shoplifting frame is labelled 1
even when someone else in the frame is the one stealing. Frame scores take the most
suspicious person of each frame (frames with nobody score 0), as alerting does live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from server.behaviour.classifier import ScoringPolicy
from server.behaviour.features import DEFAULT_SPEC, FeatureSpec, batch_features
from server.behaviour.scoring import SCORE_EVERY_S, alerting_scores, first_seen, track_scores
from server.records.people import TrackHistory
from training.poselift import PoseLiftVideo
from training.sessions import stitch

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PersonRows:
    """N feature rows of M videos: `video` indexes `videos`, `frame` its frames."""

    features: npt.NDArray[np.float32]  # (N, F): F the spec's feature names
    video: npt.NDArray[np.int32]  # (N,)
    frame: npt.NDArray[np.int32]  # (N,)
    track: npt.NDArray[np.int64]  # (N,) the person's id within the video
    label: npt.NDArray[np.int8]  # (N,) the frame's label; 0 in normal-only (Train) videos
    videos: tuple[PoseLiftVideo, ...]
    piece_s: float | None = None  # normal-only tracks were cut into pieces this long (`cut`)

    def __post_init__(self) -> None:
        n = self.features.shape[0]
        if self.features.ndim != 2:
            raise ValueError("features: must be 2-D (N, F)")
        for name in ("video", "frame", "track", "label"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name}: shape must be ({n},)")

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def take(self, rows: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> PersonRows:
        """The chosen rows (same `videos`)."""
        return PersonRows(
            self.features[rows],
            self.video[rows],
            self.frame[rows],
            self.track[rows],
            self.label[rows],
            self.videos,
            self.piece_s,
        )


def cut(history: TrackHistory, piece_s: float) -> list[TrackHistory]:
    """The track in pieces of `piece_s` seconds from its start, each a track of its own
    (id: the track's x 1000 + the piece's number)."""
    piece = np.floor((history.ts - history.ts[0]) / piece_s).astype(np.int64)
    out = []
    for number in np.unique(piece).tolist():
        rows = piece == number
        out.append(
            TrackHistory(
                track_id=history.track_id * 1000 + number,
                ts=history.ts[rows],
                xyxy=history.xyxy[rows],
                keypoints=history.keypoints[rows],
                keypoint_conf=history.keypoint_conf[rows],
            )
        )
    return out


def person_rows(
    videos: Sequence[PoseLiftVideo],
    spec: FeatureSpec = DEFAULT_SPEC,
    *,
    normal_piece_s: float | None = None,
) -> PersonRows:
    """A feature row for every pose of every track of `videos`.

    `normal_piece_s` cuts the tracks of normal-only videos into pieces of that many seconds,
    so that their windows, like those of the short labelled clips, often begin with the
    track: otherwise "little history" alone would tell the two kinds of video apart.
    """
    features, video, frame, track, label = [], [], [], [], []
    for index, clip in enumerate(videos):
        if not clip.tracks:
            continue
        tracks = clip.tracks
        if normal_piece_s is not None and clip.labels is None:
            tracks = tuple(piece for history in tracks for piece in cut(history, normal_piece_s))
        features.append(batch_features(tracks, None, spec))
        for history in tracks:
            frames = clip.frames(history).astype(np.int32)
            frame.append(frames)
            video.append(np.full(len(frames), index, np.int32))
            track.append(np.full(len(frames), history.track_id, np.int64))
            labels = clip.labels[frames] if clip.labels is not None else np.zeros(len(frames))
            label.append(labels.astype(np.int8))
    if not features:
        empty = np.zeros(0, np.int32)
        return PersonRows(
            np.zeros((0, len(spec.feature_names)), np.float32),
            empty,
            empty,
            empty.astype(np.int64),
            empty.astype(np.int8),
            tuple(videos),
            normal_piece_s,
        )
    return PersonRows(
        np.concatenate(features),
        np.concatenate(video),
        np.concatenate(frame),
        np.concatenate(track),
        np.concatenate(label),
        tuple(videos),
        normal_piece_s,
    )


def row_histories(rows: PersonRows) -> dict[tuple[int, int], TrackHistory]:
    """The track each row's (video, track) names, as its rows were made: normal-only
    videos' tracks cut into `rows.piece_s` pieces when the rows were (for a learner that
    rebuilds its own inputs, e.g. keypoint sequences, from the rows)."""
    out: dict[tuple[int, int], TrackHistory] = {}
    for index in np.unique(rows.video).tolist():
        clip = rows.videos[index]
        tracks = clip.tracks
        if rows.piece_s is not None and clip.labels is None:
            tracks = tuple(piece for history in tracks for piece in cut(history, rows.piece_s))
        out.update({(index, history.track_id): history for history in tracks})
    return out


def frame_scores(rows: PersonRows, scores: F64) -> list[F64]:
    """Per video of `rows.videos`, each frame's score: its most suspicious person's, 0 when
    nobody is in it. Shape (n_frames,) each."""
    out = [np.zeros(clip.n_frames, np.float64) for clip in rows.videos]
    for index in np.unique(rows.video):
        mine = rows.video == index
        np.maximum.at(out[index], rows.frame[mine], scores[mine])
    return out


def smoothed_scores(
    rows: PersonRows,
    raw: npt.NDArray[np.float64],
    smoothing_s: float,
    *,
    every_s: float = SCORE_EVERY_S,
    min_age_s: float = 0.0,
    ages: F64 | None = None,
) -> F64:
    """Each row's track score, as the live scorer smooths each track: its track's raw scores
    averaged over the last `smoothing_s` seconds, at the moments a scorer running every
    `every_s` seconds would have scored (0: every row), counting only moments at which the
    track was at least `min_age_s` old (`ages`: each row's track age, by default
    `track_ages`); NaN where none counts. Rows of one track are consecutive and in time
    order, as `person_rows` makes them."""
    out = np.empty(len(rows), np.float64)
    if len(rows) == 0:
        return out
    if min_age_s > 0 and ages is None:
        ages = track_ages(rows)
    key = rows.video.astype(np.int64) * (1 << 32) + rows.track
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    ends = np.concatenate([starts[1:], [len(rows)]])
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        video = rows.videos[int(rows.video[start])]
        ts = rows.frame[start:end] / video.fps
        counted = None if ages is None else ages[start:end] >= min_age_s - 1e-6
        out[start:end] = track_scores(
            ts, raw[start:end], smoothing_s, every_s=every_s, counted=counted
        )
    return out


def recordings(
    videos: Sequence[PoseLiftVideo], *, across_cuts: bool = True
) -> list[list[tuple[int, int]]]:
    """The recordings the videos are cut from, each as its (video index, first frame on the
    recording) in time order: the sessions of `sessions.stitch` with `across_cuts`, else
    (or where names give no camera and number) each video alone."""
    try:
        sessions = stitch(videos).items if across_cuts else ()
    except ValueError:
        sessions = ()
    if not sessions:
        return [[(index, 0)] for index in range(len(videos))]
    return [list(zip(s.videos, s.offsets, strict=True)) for s in sessions]


def track_ages(rows: PersonRows, *, across_cuts: bool = True) -> F64:
    """Each row's seconds since its person was first seen, as the live scorer measures it:
    from the first frame of its track, or of the track it continues (`scoring.first_seen`
    over the tracks as the rows were made, `row_histories`), over each recording's cuts
    end to end (`recordings`): a person whose box goes on across a cut was seen before it.
    Without `across_cuts` the first frame of a video is everyone's first sight in it."""
    out = np.empty(len(rows), np.float64)
    by_video: dict[int, list[TrackHistory]] = {}
    for (index, _), history in sorted(row_histories(rows).items()):
        by_video.setdefault(index, []).append(history)
    for recording in recordings(rows.videos, across_cuts=across_cuts):
        shift = {i: offset / rows.videos[i].fps for i, offset in recording if i in by_video}
        tracks = [(i, h) for i in shift for h in by_video[i]]
        seen = first_seen([replace(h, ts=h.ts + shift[i]) for i, h in tracks])
        for (i, history), first in zip(tracks, seen.tolist(), strict=True):
            mine = np.flatnonzero((rows.video == i) & (rows.track == history.track_id))
            out[mine] = rows.frame[mine] / rows.videos[i].fps - (first - shift[i])
    return out


def video_scores(
    rows: PersonRows,
    raw: npt.NDArray[np.float64],
    policy: ScoringPolicy,
    *,
    every_s: float = SCORE_EVERY_S,
    ages: F64 | None = None,
) -> list[F64]:
    """Per video, each frame's alerting score as the live scorer gives it: the most
    suspicious person's smoothed (`smoothed_scores`, with the policy's track-age rule) and
    calibrated score; 0 for frames with nobody, or with only people too recently seen."""
    smoothed = smoothed_scores(
        rows,
        raw,
        policy.smoothing_s,
        every_s=every_s,
        min_age_s=policy.min_track_age_s,
        ages=ages,
    )
    return frame_scores(rows, alerting_scores(smoothed, policy.calibration))


def one_per_frame(rows: PersonRows, raw: F64) -> npt.NDArray[np.bool_]:
    """Rows to train on when labels are per frame: in a shoplifting frame only its most
    suspicious person (by `raw`, out-of-fold scores) stays a positive; the others, who may
    just be standing by, are left out rather than taught as shoplifters."""
    keep = np.asarray(rows.label == 0, bool)
    positive = np.flatnonzero(rows.label == 1)
    if positive.size == 0:
        return keep
    key = rows.video[positive].astype(np.int64) * (1 << 32) + rows.frame[positive]
    order = np.lexsort((-raw[positive], key))
    first = np.concatenate([[True], key[order][1:] != key[order][:-1]])
    keep[positive[order[first]]] = True
    return keep
