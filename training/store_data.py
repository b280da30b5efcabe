"""The store's labelled episodes as training videos: the files the server keeps under
`<data dir>/pose-tracks/episodes` (a reviewed alert's people, or a marked missed theft's
span, with margins) read back as `PoseLiftVideo`s with frame labels.

A store camera is analysed at about 5 fps with some jitter and dropped frames; its poses
are put on a regular grid at the episode's own rate (the median step between analysed
frames), so a video's frame i is `i / fps` seconds after its first analysed frame, as in
PoseLift. Labels: a theft episode's frames within its labelled span are 1, the rest 0; a
false alarm's frames are all 0. `StoreVideo.care` marks the frames whose label is known:
the margins around a theft are kept as context for the windows, but whether the theft had
begun or was over there is unknown, so rows of those frames should not be trained on.

Example:
    >>> videos = load_store_videos(Path("data"))  # the server's data directory
    >>> rows = person_rows([v.video for v in videos])  # training.dataset
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from server.posetracks.episodes import EpisodeMeta, read_episode
from server.posetracks.rows import PoseDataError, PoseRows
from server.records.people import TrackHistory
from shared.schemas.episodes import EpisodeLabel
from training.poselift import PoseLiftVideo

DEFAULT_FPS = 5.0  # the server's default analysis rate, for episodes of a single frame
_EPS_S = 1e-6  # a frame this close to the span's edge is inside it, despite float sums
EPISODES_DIRS = ("pose-tracks/episodes", "episodes")  # under a data dir, or a pose-tracks dir


STORE_VIDEO_PREFIX = "store-"  # the names of store episodes' videos, beside PoseLift's


def is_store_video(video: PoseLiftVideo) -> bool:
    """Whether the video is one of the store's episodes (not PoseLift's)."""
    return video.name.startswith(STORE_VIDEO_PREFIX)


@dataclass(frozen=True, slots=True)
class StoreVideo:
    """One labelled episode as a training video.

    `video.name` is `store-c<camera>-e<episode>` (never a PoseLift `<camera>_<video>` name,
    so session grouping cannot mix the two); `video.camera` is the store's camera id.
    """

    video: PoseLiftVideo  # labels always set: (n_frames,) int8
    care: npt.NDArray[np.bool_]  # (n_frames,) frames whose label is known
    meta: EpisodeMeta

    @property
    def label(self) -> EpisodeLabel:
        return self.meta.label


def episode_files(root: Path) -> list[Path]:
    """The episode files under `root`: a server data dir, its `pose-tracks` folder, or a
    folder of episode files (e.g. copied off the server)."""
    folder = next((root / d for d in EPISODES_DIRS if (root / d).is_dir()), root)
    if not folder.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    return sorted(folder.rglob("*.npz"))


def load_store_videos(root: Path, *, fps: float | None = None) -> list[StoreVideo]:
    """Every labelled episode under `root` (see `episode_files`), in (camera, start) order;
    of several files of one episode (relabelled by a later review), the latest label's.

    Raises:
        PoseDataError: a file is not an episode file or is damaged; the message names it.
    """
    latest: dict[int, tuple[EpisodeMeta, PoseRows]] = {}
    for path in episode_files(root):
        try:
            meta, rows = read_episode(path.read_bytes())
        except PoseDataError as exc:
            raise PoseDataError(f"{path}: {exc}") from exc
        known = latest.get(meta.episode_id)
        if known is None or meta.labelled_at > known[0].labelled_at:
            latest[meta.episode_id] = (meta, rows)
    ordered = sorted(latest.values(), key=lambda item: (item[0].camera_id, item[0].start))
    return [store_video(meta, rows, fps=fps) for meta, rows in ordered]


def episode_fps(frame_ts: npt.NDArray[np.float64]) -> float:
    """The analysis rate of an episode: 1 / the median step between its frames, to the
    nearest 0.5 fps (the live rate wobbles by tens of milliseconds a frame)."""
    steps = np.diff(frame_ts)
    steps = steps[steps > 0]
    if not len(steps):
        return DEFAULT_FPS
    return max(round(2.0 / float(np.median(steps))) / 2, 0.5)


def store_video(meta: EpisodeMeta, rows: PoseRows, *, fps: float | None = None) -> StoreVideo:
    """One episode's poses on a regular frame grid, with frame labels and `care`."""
    rate = fps or episode_fps(rows.frame_ts)
    t0 = float(rows.frame_ts[0]) if rows.frames else meta.kept_from
    last = float(rows.frame_ts[-1]) if rows.frames else meta.kept_to
    n_frames = int(np.rint((last - t0) * rate)) + 1
    grid = t0 + np.arange(n_frames) / rate  # each frame's time, Unix seconds
    inside = (grid >= meta.start - _EPS_S) & (grid <= meta.end + _EPS_S)
    theft = meta.label is EpisodeLabel.theft
    labels = (inside if theft else np.zeros(n_frames, bool)).astype(np.int8)
    care = inside if theft else np.ones(n_frames, bool)
    tracks = tuple(_on_grid(h, t0, rate) for h in rows.histories())
    video = PoseLiftVideo(
        name=f"{STORE_VIDEO_PREFIX}c{meta.camera_id}-e{meta.episode_id}",
        camera=meta.camera_id,
        fps=rate,
        n_frames=n_frames,
        tracks=tracks,
        labels=labels,
    )
    return StoreVideo(video, care, meta)


def _on_grid(history: TrackHistory, t0: float, fps: float) -> TrackHistory:
    """The track's poses at their nearest grid frame (of two on one frame, the later)."""
    frame = np.rint((history.ts - t0) * fps).astype(np.int64)
    keep = np.r_[np.diff(frame) > 0, True]
    return TrackHistory(
        track_id=history.track_id,
        ts=frame[keep] / fps,
        xyxy=history.xyxy[keep],
        keypoints=history.keypoints[keep],
        keypoint_conf=history.keypoint_conf[keep],
    )


def describe(videos: Sequence[StoreVideo]) -> dict[str, Any]:
    """Counts for a training report: episodes by label, people, hours of frames."""
    return {
        "episodes": len(videos),
        "theft": sum(v.label is EpisodeLabel.theft for v in videos),
        "normal": sum(v.label is EpisodeLabel.normal for v in videos),
        "cameras": sorted({v.meta.camera_id for v in videos}),
        "people": sum(len(v.video.tracks) for v in videos),
        "hours": round(sum(v.video.n_frames / v.video.fps for v in videos) / 3600, 4),
    }
