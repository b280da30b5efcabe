"""People records: the `Poses` found in a frame, the `Tracks` (with each track's
`TrackHistory`) made of those, and the behaviour model's `Verdicts` on the tracks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NUM_KEYPOINTS = 17  # COCO: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles


@dataclass(frozen=True, slots=True)
class Poses:
    """People detected in one frame. N people, K = 17 COCO keypoints, original-frame pixels."""

    xyxy: npt.NDArray[np.float32]  # (N, 4) box corners
    keypoints: npt.NDArray[np.float32]  # (N, K, 2) x, y
    keypoint_conf: npt.NDArray[np.float32]  # (N, K) 0..1
    score: npt.NDArray[np.float32]  # (N,) person confidence 0..1

    def __post_init__(self) -> None:
        n = self.score.shape[0] if self.score.ndim == 1 else -1
        expected = {
            "xyxy": (n, 4),
            "keypoints": (n, NUM_KEYPOINTS, 2),
            "keypoint_conf": (n, NUM_KEYPOINTS),
            "score": (n,),
        }
        for name, shape in expected.items():
            value = getattr(self, name)
            if value.dtype != np.float32:
                raise ValueError(f"{name}: dtype must be float32, got {value.dtype}")
            if value.shape != shape:
                raise ValueError(f"{name}: shape must be {shape}, got {value.shape}")

    def __len__(self) -> int:
        return int(self.score.shape[0])

    @classmethod
    def empty(cls) -> Poses:
        """No people."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            keypoints=np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
            keypoint_conf=np.zeros((0, NUM_KEYPOINTS), np.float32),
            score=np.zeros((0,), np.float32),
        )


def _check_arrays(record: object, expected: dict[str, tuple[tuple[int, ...], type]]) -> None:
    """Raise ValueError naming the first field of `record` whose dtype or shape is wrong."""
    for name, (shape, dtype) in expected.items():
        value = getattr(record, name)
        if value.dtype != dtype:
            raise ValueError(f"{name}: dtype must be {np.dtype(dtype)}, got {value.dtype}")
        if value.shape != shape:
            raise ValueError(f"{name}: shape must be {shape}, got {value.shape}")


@dataclass(frozen=True, slots=True)
class Tracks:
    """People tracked in one frame: the frame's `Poses` that carry a track, each with its id.

    `ts` is the frame's time (seconds, as passed to the tracker); `track_id` is stable for
    as long as the tracker follows the person and never reused. Rows are in id order.
    """

    ts: float
    track_id: npt.NDArray[np.int64]  # (N,)
    xyxy: npt.NDArray[np.float32]  # (N, 4) box corners, pixels
    keypoints: npt.NDArray[np.float32]  # (N, K, 2) x, y, pixels
    keypoint_conf: npt.NDArray[np.float32]  # (N, K) 0..1
    score: npt.NDArray[np.float32]  # (N,) person confidence 0..1

    def __post_init__(self) -> None:
        if not math.isfinite(self.ts):
            raise ValueError(f"ts: must be finite, got {self.ts}")
        n = self.track_id.shape[0] if self.track_id.ndim == 1 else -1
        _check_arrays(
            self,
            {
                "track_id": ((n,), np.int64),
                "xyxy": ((n, 4), np.float32),
                "keypoints": ((n, NUM_KEYPOINTS, 2), np.float32),
                "keypoint_conf": ((n, NUM_KEYPOINTS), np.float32),
                "score": ((n,), np.float32),
            },
        )

    def __len__(self) -> int:
        return int(self.track_id.shape[0])

    @classmethod
    def empty(cls, ts: float) -> Tracks:
        """No one tracked at `ts`."""
        poses = Poses.empty()
        return cls(
            ts=ts,
            track_id=np.zeros((0,), np.int64),
            xyxy=poses.xyxy,
            keypoints=poses.keypoints,
            keypoint_conf=poses.keypoint_conf,
            score=poses.score,
        )


@dataclass(frozen=True, slots=True)
class TrackHistory:
    """One track's recent past, oldest first: T frames in which it was seen.

    Frames in which the person was not matched are absent, so `ts` may have gaps; it is
    strictly increasing, in seconds.
    """

    track_id: int
    ts: npt.NDArray[np.float64]  # (T,) seconds
    xyxy: npt.NDArray[np.float32]  # (T, 4) box corners, pixels
    keypoints: npt.NDArray[np.float32]  # (T, K, 2) x, y, pixels
    keypoint_conf: npt.NDArray[np.float32]  # (T, K) 0..1

    def __post_init__(self) -> None:
        t = self.ts.shape[0] if self.ts.ndim == 1 else -1
        _check_arrays(
            self,
            {
                "ts": ((t,), np.float64),
                "xyxy": ((t, 4), np.float32),
                "keypoints": ((t, NUM_KEYPOINTS, 2), np.float32),
                "keypoint_conf": ((t, NUM_KEYPOINTS), np.float32),
            },
        )
        if t > 1 and not (np.diff(self.ts) > 0).all():
            raise ValueError("ts: must be strictly increasing")

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def span_s(self) -> float:
        """Seconds from the first to the last frame (0 for fewer than two)."""
        return float(self.ts[-1] - self.ts[0]) if len(self) > 1 else 0.0


@dataclass(frozen=True, slots=True)
class Verdicts:
    """The behaviour model's verdicts on one frame's tracks (rows as in its `Tracks`).

    `raw` is the model's own probability for the moment; `score` is the track's raw scores
    smoothed over the model's smoothing window and calibrated: the alerting score, compared
    with `threshold` (the model's operating threshold unless the store sets its own).
    """

    ts: float
    track_id: npt.NDArray[np.int64]  # (N,)
    raw: npt.NDArray[np.float32]  # (N,) 0..1
    score: npt.NDArray[np.float32]  # (N,) 0..1
    threshold: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.ts):
            raise ValueError(f"ts: must be finite, got {self.ts}")
        n = self.track_id.shape[0] if self.track_id.ndim == 1 else -1
        _check_arrays(
            self,
            {
                "track_id": ((n,), np.int64),
                "raw": ((n,), np.float32),
                "score": ((n,), np.float32),
            },
        )
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold: must be within 0..1, got {self.threshold}")

    def __len__(self) -> int:
        return int(self.track_id.shape[0])

    @property
    def top(self) -> float:
        """The most suspicious track's score; 0 with nobody tracked."""
        return float(self.score.max()) if len(self) else 0.0

    @classmethod
    def empty(cls, ts: float, threshold: float) -> Verdicts:
        """Nobody tracked at `ts`."""
        none = np.zeros((0,), np.float32)
        return cls(ts, np.zeros((0,), np.int64), none, none, threshold)
