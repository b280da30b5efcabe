"""⑧ What alerting decides: `Detection`s of people over the threshold, and `AlertRaised` once
an alert is stored (opened, or grown by a later detection)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DedupKey = tuple[int, str, str]  # (camera id, zone name, event type)


@dataclass(frozen=True, slots=True)
class Detection:
    """One person over the threshold in one scored frame."""

    camera_id: int
    ts: float  # the frame's capture time, Unix seconds
    track_id: int
    score: float  # 0..1, the alerting score
    threshold: float  # the threshold it was held against
    zone: str  # "" when the person is in no zone
    event_type: str
    xyxy: npt.NDArray[np.float32]  # (4,) pixels of the analysed frame
    keypoints: npt.NDArray[np.float32]  # (17, 2)
    keypoint_conf: npt.NDArray[np.float32]  # (17,)
    frame_size: tuple[int, int]  # (width, height) of the analysed frame

    @property
    def key(self) -> DedupKey:
        return (self.camera_id, self.zone, self.event_type)


@dataclass(frozen=True, slots=True)
class AlertRaised:
    """An alert stored and announced: `opened` by `detection`, or grown by it.

    `track_ids` are everyone in the alert so far; it takes further detections until
    `open_until` (Unix seconds: its last one plus the dedup window). `image` is the deciding
    frame (read-only, shared), for the snapshot; it never leaves the process.
    """

    alert_id: int
    store_id: int
    opened: bool
    detection: Detection
    track_ids: frozenset[int]
    last_ts: float
    open_until: float
    image: npt.NDArray[np.uint8] | None = None

    @property
    def camera_id(self) -> int:
        return self.detection.camera_id


@dataclass(frozen=True, slots=True)
class AlertsDecided:
    """Every analysed frame of `camera_id` captured up to `through_ts` has been weighed for
    alerts: whatever opening or growth they brought is already published as `AlertRaised`.
    A clip waits for this before it closes, so a late growth still lengthens it."""

    camera_id: int
    through_ts: float
