"""PoseLift (Rashvand et al., WACV 2025 Workshops): its pose pickles and frame labels as the
per-track `TrackHistory` records that the live pipeline builds from YOLO pose.

A split folder holds `Train/<cam>_<video>.pkl`, `Test/<cam>_<video>.pkl` and, for Test,
`GT/<cam>_<video>.npy`. Each pickle is `dict[frame] -> dict[person_id] -> [bbox, keypoints]`,
where `bbox` is x1, y1, x2, y2 pixels and `keypoints` is float16 (17, 3) in **(y, x, conf)**
column order. The quirks handled here (measured; see `../shared/data/poselift/SOURCE.md`):

- y and x are swapped back to the pipeline's (x, y);
- 2.7% of poses have NaN confidence for every joint, most likely the authors' interpolated
  poses: none starts or ends a track, and every gap left in a track is 10 frames or longer.
  Their confidence becomes `UNKNOWN_CONF`, so feature code that masks joints below a
  threshold under it keeps them, like any pose of moderate confidence;
- 4 Test videos have GT longer than their poses, with the extra labels after the last pose
  frame: those labels are dropped, and `PoseLiftVideo.gt_frames_dropped` says how many.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from server.records.people import NUM_KEYPOINTS, TrackHistory
from training.unpickle import load_numpy_pickle

logger = logging.getLogger(__name__)

POSELIFT_FPS = 15.0  # every PoseLift camera; a frame's time is frame / fps
UNKNOWN_CONF = 0.5  # confidence given to the joints of a pose whose confidence is NaN

Split = Literal["Train", "Test"]
_NAME = re.compile(r"(\d+)_(\d+)")


class PoseLiftFormatError(ValueError):
    """A PoseLift file is missing or is not what the release holds; the message names it."""


@dataclass(frozen=True, slots=True)
class PoseLiftVideo:
    """One PoseLift video: its people's tracks and, for Test videos, its frame labels.

    `tracks` are in person-id order; a track's `ts` is frame / `fps`, with gaps where the
    person is not in the frame. `labels` is (n_frames,) int8, 1 for shoplifting, or None
    for Train videos. `gt_frames_dropped` counts the GT labels past the last pose frame
    that were trimmed off.
    """

    name: str  # "<camera>_<video>", e.g. "1_257"
    camera: int  # 1..6
    fps: float
    n_frames: int
    tracks: tuple[TrackHistory, ...]
    labels: npt.NDArray[np.int8] | None  # (n_frames,)
    gt_frames_dropped: int = 0

    def __post_init__(self) -> None:
        if not (self.fps > 0 and math.isfinite(self.fps)):
            raise ValueError(f"fps: must be positive, got {self.fps}")
        if self.n_frames < 0:
            raise ValueError(f"n_frames: must be >= 0, got {self.n_frames}")
        if self.labels is not None:
            if self.labels.dtype != np.int8 or self.labels.shape != (self.n_frames,):
                raise ValueError(
                    f"labels: must be int8 of shape ({self.n_frames},), "
                    f"got {self.labels.dtype} {self.labels.shape}"
                )
            if not np.isin(self.labels, (0, 1)).all():
                raise ValueError("labels: must be 0 or 1")
        last_ts = (self.n_frames - 1) / self.fps
        for track in self.tracks:
            if len(track) and not (track.ts[0] >= 0 and track.ts[-1] <= last_ts + 1e-9):
                raise ValueError(f"tracks: track {track.track_id} lies outside the video")

    def frames(self, track: TrackHistory) -> npt.NDArray[np.int64]:
        """The frame index of each of `track`'s poses, shape (T,)."""
        return np.rint(track.ts * self.fps).astype(np.int64)


def load_video(pkl: Path, gt: Path | None = None, *, fps: float = POSELIFT_FPS) -> PoseLiftVideo:
    """Load one video's poses (and its GT labels when `gt` is given).

    Raises:
        PoseLiftFormatError: a file is missing, is not a numpy-only pickle, or holds
            something of the wrong type or shape; the message names the file.
    """
    camera = _video_key(pkl)[0]
    try:
        raw = load_numpy_pickle(pkl)
    except FileNotFoundError:
        raise PoseLiftFormatError(f"{pkl}: no such file") from None
    except Exception as exc:  # pickle raises many kinds on a bad stream
        raise PoseLiftFormatError(f"{pkl}: not a readable PoseLift pickle: {exc}") from exc
    n_frames, tracks = _tracks(raw, pkl, fps)
    labels, dropped = (None, 0) if gt is None else _labels(gt, n_frames)
    return PoseLiftVideo(pkl.stem, camera, fps, n_frames, tracks, labels, dropped)


def split_files(root: Path, split: Split) -> list[tuple[Path, Path | None]]:
    """The split's (pickle, GT) paths in (camera, video) order; GT is None for Train.

    Raises:
        PoseLiftFormatError: the split folder is missing, or a Test video has no GT file.
    """
    folder = root / split
    if not folder.is_dir():
        raise PoseLiftFormatError(f"{folder}: no such folder")
    pkls = sorted(folder.glob("*.pkl"), key=_video_key)
    pairs: list[tuple[Path, Path | None]] = []
    for pkl in pkls:
        gt = None if split == "Train" else root / "GT" / f"{pkl.stem}.npy"
        if gt is not None and not gt.is_file():
            raise PoseLiftFormatError(f"{gt}: missing GT labels for {pkl}")
        pairs.append((pkl, gt))
    return pairs


def load_split(root: Path, split: Split, *, fps: float = POSELIFT_FPS) -> list[PoseLiftVideo]:
    """Load every video of `root/<split>` (with `root/GT` labels for Test)."""
    return [load_video(pkl, gt, fps=fps) for pkl, gt in split_files(root, split)]


def _video_key(path: Path) -> tuple[int, int]:
    """(camera, video number) from `<camera>_<video>.pkl`."""
    if (match := _NAME.fullmatch(path.stem)) is None:
        raise PoseLiftFormatError(f"{path}: name must be <camera>_<video>.pkl")
    return int(match[1]), int(match[2])


def _tracks(raw: object, path: Path, fps: float) -> tuple[int, tuple[TrackHistory, ...]]:
    """Validate the pickle's structure and regroup its poses by person."""
    if not isinstance(raw, dict) or list(raw) != list(range(len(raw))):
        raise PoseLiftFormatError(f"{path}: must be a dict with frame keys 0..N-1")
    frame: list[int] = []
    person: list[int] = []
    boxes: list[Sequence[object]] = []
    kps: list[npt.NDArray[np.floating]] = []
    for f, people in raw.items():
        if not isinstance(people, dict):
            raise PoseLiftFormatError(f"{path}: frame {f}: must be a dict of people")
        for pid, pose in people.items():
            where = f"{path}: frame {f}, person {pid}"
            if not isinstance(pid, int) or not isinstance(pose, list | tuple) or len(pose) != 2:
                raise PoseLiftFormatError(f"{where}: must be int -> [bbox, keypoints]")
            box, kp = pose
            if not isinstance(box, list | tuple) or len(box) != 4:
                raise PoseLiftFormatError(f"{where}: bbox must be 4 numbers, got {box!r}")
            if not (isinstance(kp, np.ndarray) and kp.dtype.kind == "f"):
                raise PoseLiftFormatError(f"{where}: keypoints must be a float array")
            if kp.shape != (NUM_KEYPOINTS, 3):
                raise PoseLiftFormatError(
                    f"{where}: keypoints shape must be ({NUM_KEYPOINTS}, 3), got {kp.shape}"
                )
            frame.append(f)
            person.append(pid)
            boxes.append(box)
            kps.append(kp)
    try:
        xyxy = np.asarray(boxes, np.float32).reshape(-1, 4)
    except (TypeError, ValueError) as exc:
        raise PoseLiftFormatError(f"{path}: a bbox is not 4 numbers: {exc}") from None
    yxc = np.stack(kps).astype(np.float32) if kps else np.zeros((0, NUM_KEYPOINTS, 3), np.float32)
    if not (np.isfinite(xyxy).all() and np.isfinite(yxc[..., :2]).all()):
        raise PoseLiftFormatError(f"{path}: a bbox or keypoint coordinate is not finite")
    keypoints = yxc[..., 1::-1]  # (y, x) -> (x, y)
    conf = np.where(np.isnan(yxc[..., 2]), np.float32(UNKNOWN_CONF), yxc[..., 2])
    frames, ids = np.asarray(frame, np.int64), np.asarray(person, np.int64)
    order = np.lexsort((frames, ids))  # by person, then frame
    starts = np.flatnonzero(np.r_[True, np.diff(ids[order]) != 0])
    tracks = tuple(
        TrackHistory(
            track_id=int(ids[rows[0]]),
            ts=frames[rows] / fps,
            xyxy=xyxy[rows],
            keypoints=np.ascontiguousarray(keypoints[rows]),
            keypoint_conf=conf[rows],
        )
        for rows in np.split(order, starts[1:])
        if len(rows)
    )
    return len(raw), tracks


def _labels(gt: Path, n_frames: int) -> tuple[npt.NDArray[np.int8], int]:
    """The GT labels of the first `n_frames` frames, and how many were trimmed after them."""
    try:
        labels = np.load(gt, allow_pickle=False)
    except FileNotFoundError:
        raise PoseLiftFormatError(f"{gt}: no such file") from None
    except ValueError as exc:
        raise PoseLiftFormatError(f"{gt}: not a plain .npy array: {exc}") from exc
    if labels.ndim != 1 or labels.dtype.kind not in "iub" or not np.isin(labels, (0, 1)).all():
        raise PoseLiftFormatError(
            f"{gt}: must be a 1-D array of 0/1 labels, got {labels.dtype} {labels.shape}"
        )
    if len(labels) < n_frames:
        raise PoseLiftFormatError(f"{gt}: {len(labels)} labels for {n_frames} pose frames")
    dropped = len(labels) - n_frames
    if dropped:
        logger.info("%s: dropped %d GT labels after the last pose frame", gt, dropped)
    return labels[:n_frames].astype(np.int8), dropped
