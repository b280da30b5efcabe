"""A PoseLift camera as a store: its recording sessions on a clock, in time-ordered batches,
and the labelled episodes the server would keep of its reviews (`server/posetracks`), for the
store simulation (`training/store_simulation.py`).

The clock: sessions (`training/sessions.py`) in video-number order, `SESSION_GAP_S` apart
(what lay between them is unknown: no alert or track spans the gap). A store track's id is
its video number x `TRACK_ID_STRIDE` + its PoseLift person id, unique within the camera as
the tracker's are. An episode is what the server keeps for a labelled span: the people's
poses over the span +- the margins, every analysed frame, with its `EpisodeMeta`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from server.posetracks.episodes import EpisodeMeta, episode_bytes
from server.posetracks.rows import PoseRows
from server.posetracks.store import episode_key
from shared.schemas.episodes import EpisodeLabel, EpisodeSource
from training.events import Alert
from training.protocol import EvalData
from training.sessions import video_number
from training.timeline import Timeline

F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Split = Literal["episodes", "time"]
ConfirmedSpan = Literal["alert", "theft"]
Kept = tuple[EpisodeMeta, PoseRows]

STORE_ID = 1
EPOCH = 1_767_225_600.0  # 2026-01-01 UTC: the store's first session starts then
SESSION_GAP_S = 3600.0  # between two sessions on the store's clock
TRACK_ID_STRIDE = 1000  # a store track's id: video number x this + its PoseLift person id
FRAME_WH = (1920, 1080)  # PoseLift's frames


@dataclass(frozen=True, slots=True)
class Store:
    """The store camera's sessions (indices into the data's sessions), batches and clock."""

    camera: int
    batches: tuple[tuple[int, ...], ...]  # each batch's sessions, in time order
    start: dict[int, float]  # each session's first frame, Unix seconds
    rows: Mask  # (N scoring rows,) the rows of the store's videos

    @property
    def sessions(self) -> tuple[int, ...]:
        return tuple(s for batch in self.batches for s in batch)


def choose_camera(data: EvalData, batches: int) -> int:
    """The camera with the most episodes among those with at least 2 sessions per batch
    (fewer: the lowest number, on ties)."""
    eligible = eligible_cameras(data, batches)
    if not eligible:
        raise ValueError(f"no camera has {2 * batches} sessions and 2 episodes: use fewer batches")
    return max(eligible, key=lambda c: (_episodes_of(data, c), -c))


def eligible_cameras(data: EvalData, batches: int) -> list[int]:
    """Cameras with at least 2 sessions per batch and 2 episodes."""
    cameras = sorted({s.camera for s in data.sessions.items})
    return [
        c
        for c in cameras
        if sum(s.camera == c for s in data.sessions.items) >= 2 * batches
        and _episodes_of(data, c) >= 2
    ]


def store_of(data: EvalData, camera: int, batches: int, split: Split = "episodes") -> Store:
    """The camera's sessions in time order, in `batches` runs of consecutive sessions
    holding about equal shares of its episodes (`split` "episodes") or of its video
    ("time"), on the store's clock."""
    mine = [i for i, s in enumerate(data.sessions.items) if s.camera == camera]
    mine.sort(key=lambda i: data.sessions.items[i].numbers[0])
    if len(mine) < batches:
        raise ValueError(f"camera {camera}: {len(mine)} sessions for {batches} batches")
    if split == "episodes":
        weight = np.asarray([len(data.timelines[i].episodes) for i in mine], np.float64)
    else:
        weight = np.asarray([data.sessions.items[i].n_frames for i in mine], np.float64)
    middle = np.cumsum(weight) - weight / 2
    batch = np.minimum((middle / max(weight.sum(), 1) * batches).astype(int), batches - 1)
    if len(np.unique(batch)) < batches:  # a batch came out empty: equal counts of sessions
        batch = np.concatenate(
            [np.full(len(part), k) for k, part in enumerate(np.array_split(mine, batches))]
        )
    start, now = {}, EPOCH
    for index in mine:
        session = data.sessions.items[index]
        start[index] = now
        now += session.n_frames / data.timelines[index].fps + SESSION_GAP_S
    groups = tuple(tuple(int(mine[i]) for i in np.flatnonzero(batch == k)) for k in range(batches))
    cameras = np.asarray([v.camera for v in data.videos])
    return Store(camera, groups, start, np.asarray(cameras[data.scoring.video] == camera, bool))


@dataclass(frozen=True, slots=True)
class RowPlaces:
    """Where each store row is: its session, timeline frame, clock time and store track."""

    session: npt.NDArray[np.int32]
    frame: npt.NDArray[np.int64]
    ts: F64
    track: npt.NDArray[np.int64]

    @classmethod
    def of(cls, data: EvalData, store: Store) -> RowPlaces:
        rows = data.scoring.take(store.rows)
        session = data.sessions.video_session[rows.video]
        frame = data.sessions.video_offset[rows.video] + rows.frame
        fps = np.asarray([data.timelines[s].fps for s in session.tolist()], np.float64)
        start = np.asarray([store.start[s] for s in session.tolist()], np.float64)
        numbers = np.asarray([video_number(v) for v in data.videos], np.int64)
        track = numbers[rows.video] * TRACK_ID_STRIDE + rows.track
        return cls(session, frame, start + frame / fps, track)


def alert_tracks(places: RowPlaces, scores: F64, alert: Alert, threshold: float) -> list[int]:
    """The store tracks whose alerting score (`scores`, per store row) reached the threshold
    within the alert: its people."""
    mine = (
        (places.session == alert.session)
        & (places.frame >= alert.start)
        & (places.frame < alert.end)
        & (scores >= threshold)
    )
    return sorted(set(places.track[mine].tolist()))


def episode_poses(
    data: EvalData,
    store: Store,
    session: int,
    span: tuple[float, float],
    tracks: Sequence[int] | None,
    margin_s: float,
) -> PoseRows:
    """What the server keeps for a labelled span of a session: the poses of `tracks` (None:
    everyone seen inside the span) over the span +- `margin_s`, every analysed frame."""
    line = data.timelines[session]
    t0, fps = store.start[session], line.fps
    kept_from, kept_to = span[0] - margin_s, span[1] + margin_s
    every = t0 + np.arange(len(line)) / fps  # as the rows' times below: the same sums
    frame_ts = every[(every >= kept_from) & (every <= kept_to)]
    parts = []
    for index, offset in zip(line.session.videos, line.session.offsets, strict=True):
        video = data.videos[index]
        for history in video.tracks:
            ts = t0 + (offset + video.frames(history)) / fps
            keep = (ts >= kept_from) & (ts <= kept_to)
            track = video_number(video) * TRACK_ID_STRIDE + history.track_id
            if keep.any():
                parts.append((track, ts[keep], history, keep))
    if tracks is None:  # everyone seen inside the span, as a marked missed theft keeps
        tracks = [t for t, ts, _, _ in parts if ((ts >= span[0]) & (ts <= span[1])).any()]
    wanted = set(tracks)
    chosen = [p for p in parts if p[0] in wanted]
    if not chosen:
        return PoseRows.empty(store.camera)
    ts = np.concatenate([p[1] for p in chosen])
    track_id = np.concatenate([np.full(len(p[1]), p[0], np.int64) for p in chosen])
    order = np.lexsort((track_id, ts))
    return PoseRows(
        store.camera,
        frame_ts,
        np.tile(np.asarray(FRAME_WH, np.int32), (len(frame_ts), 1)),
        ts[order],
        track_id[order],
        np.concatenate([p[2].xyxy[p[3]] for p in chosen])[order],
        np.concatenate([p[2].keypoints[p[3]] for p in chosen])[order],
        np.concatenate([p[2].keypoint_conf[p[3]] for p in chosen])[order],
        np.ones(len(ts), np.float32),
    )


def kept_episode(
    data: EvalData,
    store: Store,
    session: int,
    span: tuple[float, float],
    tracks: Sequence[int] | None,
    *,
    theft: bool,
    alert_id: int | None,
    episode_id: int,
    labelled_at: float,
    margin_s: float,
) -> Kept | None:
    """A labelled span's episode as the server keeps it: the poses of `tracks` (None:
    everyone seen in the span, as for a marked missed theft) and their meta; None when
    nobody's poses are there (the server keeps nothing then)."""
    rows = episode_poses(data, store, session, span, tracks, margin_s)
    if not len(rows):
        return None
    meta = EpisodeMeta(
        episode_id=episode_id,
        store_id=STORE_ID,
        camera_id=store.camera,
        source=EpisodeSource.alert_review if alert_id is not None else EpisodeSource.missed_theft,
        label=EpisodeLabel.theft if theft else EpisodeLabel.normal,
        alert_id=alert_id,
        start=span[0],
        end=span[1],
        kept_from=span[0] - margin_s,
        kept_to=span[1] + margin_s,
        track_ids=tuple(rows.track_ids),
        labelled_at=labelled_at,
    )
    return meta, rows


def labelled_spans(
    alert: Alert, line: Timeline, theft: bool, confirmed_span: ConfirmedSpan
) -> list[tuple[int, int]]:
    """The frames [start, end) a reviewed alert's episode labels: the alert's span, as the
    server keeps it; with `confirmed_span` "theft", a confirmed alert's overlap with each
    theft it caught instead (a reviewer narrowing the label: not a server feature)."""
    if not theft or confirmed_span == "alert":
        return [(alert.start, alert.end)]
    return [
        (max(e.start, alert.start), min(e.end, alert.end))
        for e in line.episodes
        if e.start < alert.end and e.end > alert.start
    ]


def clock(store: Store, line: Timeline, session: int, start: int, end: int) -> tuple[float, float]:
    """Frames [start, end) of a session's timeline as Unix seconds, first and last frame."""
    t0 = store.start[session]
    return t0 + start / line.fps, t0 + (end - 1) / line.fps


def write_episodes(episodes: Sequence[Kept], folder: Path) -> list[Path]:
    """Episodes as the server stores them, under its keys (`server/posetracks/store.py`)."""
    written = []
    for meta, rows in episodes:
        path = folder / episode_key(
            meta.store_id, meta.camera_id, meta.episode_id, round(meta.labelled_at * 1000)
        )
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(episode_bytes(meta, rows))
        written.append(path)
    return written


def _episodes_of(data: EvalData, camera: int) -> int:
    return sum(
        len(t.episodes)
        for s, t in zip(data.sessions.items, data.timelines, strict=True)
        if s.camera == camera
    )
