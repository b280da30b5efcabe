"""`PoseRows`: a camera's tracked poses over a stretch of time, keypoints only (no pixels),
and their compressed file form (`.npz`) used by the chunks and the labelled episodes."""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from server.records.people import NUM_KEYPOINTS, TrackHistory, Tracks

FORMAT = "shopguard.pose-rows/1"  # written into every file; a reader refuses other formats


class PoseDataError(ValueError):
    """A pose file that is not one of ours, or is damaged; the message says which part."""


@dataclass(frozen=True, slots=True)
class PoseRows:
    """One camera's analysed frames (F) and the tracked poses in them (R rows, one per
    person per frame), in time order. Times are Unix seconds (the frames' capture times, as
    the tracker and the alerts use them). Frames with nobody tracked have no rows: `frame_ts`
    says which moments were analysed at all.
    """

    camera_id: int
    frame_ts: npt.NDArray[np.float64]  # (F,) non-decreasing
    frame_wh: npt.NDArray[np.int32]  # (F, 2) width, height of each analysed frame, pixels
    ts: npt.NDArray[np.float64]  # (R,) the row's frame time
    track_id: npt.NDArray[np.int64]  # (R,)
    xyxy: npt.NDArray[np.float32]  # (R, 4) box corners, pixels
    keypoints: npt.NDArray[np.float32]  # (R, K, 2) x, y, pixels
    keypoint_conf: npt.NDArray[np.float32]  # (R, K) 0..1
    score: npt.NDArray[np.float32]  # (R,) person confidence 0..1

    def __post_init__(self) -> None:
        f = self.frame_ts.shape[0] if self.frame_ts.ndim == 1 else -1
        r = self.ts.shape[0] if self.ts.ndim == 1 else -1
        expected: dict[str, tuple[tuple[int, ...], type]] = {
            "frame_ts": ((f,), np.float64),
            "frame_wh": ((f, 2), np.int32),
            "ts": ((r,), np.float64),
            "track_id": ((r,), np.int64),
            "xyxy": ((r, 4), np.float32),
            "keypoints": ((r, NUM_KEYPOINTS, 2), np.float32),
            "keypoint_conf": ((r, NUM_KEYPOINTS), np.float32),
            "score": ((r,), np.float32),
        }
        for name, (shape, dtype) in expected.items():
            value = getattr(self, name)
            if value.dtype != dtype:
                raise ValueError(f"{name}: dtype must be {np.dtype(dtype)}, got {value.dtype}")
            if value.shape != shape:
                raise ValueError(f"{name}: shape must be {shape}, got {value.shape}")
        if f > 1 and not (np.diff(self.frame_ts) >= 0).all():
            raise ValueError("frame_ts: must not decrease")
        if r > 1 and not (np.diff(self.ts) >= 0).all():
            raise ValueError("ts: must not decrease")

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def frames(self) -> int:
        return int(self.frame_ts.shape[0])

    @property
    def track_ids(self) -> list[int]:
        """The tracks that have rows, ascending."""
        return [int(t) for t in np.unique(self.track_id)]

    @classmethod
    def empty(cls, camera_id: int) -> PoseRows:
        return cls(
            camera_id,
            np.zeros(0, np.float64),
            np.zeros((0, 2), np.int32),
            np.zeros(0, np.float64),
            np.zeros(0, np.int64),
            np.zeros((0, 4), np.float32),
            np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
            np.zeros((0, NUM_KEYPOINTS), np.float32),
            np.zeros(0, np.float32),
        )

    @classmethod
    def from_tracks(
        cls, camera_id: int, frames: Sequence[Tracks], sizes: Sequence[tuple[int, int]]
    ) -> PoseRows:
        """The rows of consecutive analysed frames; `sizes[i]` is frame i's (width, height)."""
        if len(frames) != len(sizes):
            raise ValueError(f"sizes: {len(sizes)} for {len(frames)} frames")
        if not frames:
            return cls.empty(camera_id)
        return cls(
            camera_id,
            np.asarray([t.ts for t in frames], np.float64),
            np.asarray(sizes, np.int32).reshape(-1, 2),
            np.repeat(np.asarray([t.ts for t in frames], np.float64), [len(t) for t in frames]),
            np.concatenate([t.track_id for t in frames]),
            np.concatenate([t.xyxy for t in frames]),
            np.concatenate([t.keypoints for t in frames]),
            np.concatenate([t.keypoint_conf for t in frames]),
            np.concatenate([t.score for t in frames]),
        )

    @classmethod
    def concat(cls, camera_id: int, parts: Iterable[PoseRows]) -> PoseRows:
        """Parts of one camera joined in time order (frames and rows sorted by time, stably:
        parts that overlap in time, after a clock step back, interleave)."""
        chosen = [p for p in parts if p.frames]
        if any(p.camera_id != camera_id for p in chosen):
            raise ValueError(f"concat: parts of another camera than {camera_id}")
        if not chosen:
            return cls.empty(camera_id)
        joined = {name: np.concatenate([getattr(p, name) for p in chosen]) for name in _ARRAYS}
        frames = np.argsort(joined["frame_ts"], kind="stable")
        rows = np.argsort(joined["ts"], kind="stable")
        return cls(
            camera_id,
            *(joined[name][frames if name.startswith("frame_") else rows] for name in _ARRAYS),
        )

    def between(self, start: float, end: float) -> PoseRows:
        """The frames (and their rows) with `start <= ts <= end`."""
        frames = (self.frame_ts >= start) & (self.frame_ts <= end)
        rows = (self.ts >= start) & (self.ts <= end)
        return self._pick(frames, rows)

    def of_tracks(self, track_ids: Iterable[int]) -> PoseRows:
        """Only the rows of `track_ids`; every frame stays (it was analysed all the same)."""
        rows = np.isin(self.track_id, np.fromiter(track_ids, np.int64))
        return self._pick(np.ones(self.frames, bool), rows)

    def histories(self) -> tuple[TrackHistory, ...]:
        """Each track's poses as a `TrackHistory`, in track id order (for a track seen twice
        at one time, the later row)."""
        out = []
        for track_id in self.track_ids:
            rows = np.flatnonzero(self.track_id == track_id)
            keep = np.r_[np.diff(self.ts[rows]) > 0, True]  # the last of equal times
            rows = rows[keep]
            out.append(
                TrackHistory(
                    track_id=track_id,
                    ts=self.ts[rows],
                    xyxy=self.xyxy[rows],
                    keypoints=self.keypoints[rows],
                    keypoint_conf=self.keypoint_conf[rows],
                )
            )
        return tuple(out)

    def to_bytes(self, meta: dict[str, Any] | None = None) -> bytes:
        """The rows as a compressed `.npz`, with `meta` (JSON) beside them."""
        header = {"format": FORMAT, "camera_id": self.camera_id, "meta": meta or {}}
        out = io.BytesIO()
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        np.savez_compressed(out, header=np.asarray(json.dumps(header)), **arrays)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> tuple[PoseRows, dict[str, Any]]:
        """Rows and meta read back from `to_bytes`' output.

        Raises:
            PoseDataError: not such a file, or a part of it is missing or malformed.
        """
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                header = json.loads(str(npz["header"]))
                arrays = {name: npz[name] for name in _ARRAYS}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
            raise PoseDataError(f"not a readable pose file: {exc}") from exc
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise PoseDataError(f"not a pose file of format {FORMAT}")
        try:
            rows = cls(int(header["camera_id"]), **arrays)
        except (ValueError, TypeError, KeyError) as exc:
            raise PoseDataError(f"malformed pose file: {exc}") from exc
        meta = header.get("meta")
        return rows, meta if isinstance(meta, dict) else {}

    def _pick(self, frames: npt.NDArray[np.bool_], rows: npt.NDArray[np.bool_]) -> PoseRows:
        return PoseRows(
            self.camera_id,
            self.frame_ts[frames],
            self.frame_wh[frames],
            self.ts[rows],
            self.track_id[rows],
            self.xyxy[rows],
            self.keypoints[rows],
            self.keypoint_conf[rows],
            self.score[rows],
        )


_ARRAYS = (
    "frame_ts",
    "frame_wh",
    "ts",
    "track_id",
    "xyxy",
    "keypoints",
    "keypoint_conf",
    "score",
)


def span_ms(rows: PoseRows) -> tuple[int, int]:
    """The first and last frame times in whole milliseconds, widened to cover both."""
    return math.floor(float(rows.frame_ts[0]) * 1000), math.ceil(float(rows.frame_ts[-1]) * 1000)
