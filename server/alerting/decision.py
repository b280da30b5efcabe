"""⑦ alert decision: which tracked people of a scored frame are detections.

A person is a detection when their alerting score (the model's smoothed, calibrated score:
one noisy frame does not lift it) reaches the camera's threshold and no hand or foot is in
an `ignore` zone. The detection names the camera, the zone, the event type and the score,
and keeps the person's box and pose for the evidence snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from server.alerting.zones import CameraZones
from server.records.people import Tracks, Verdicts

CONCEALMENT = "concealment"  # the event type the behaviour model scores

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


def decide(
    camera_id: int,
    tracks: Tracks,
    verdicts: Verdicts,
    zones: CameraZones,
    threshold: float,
    frame_size: tuple[int, int],
    event_type: str = CONCEALMENT,
) -> list[Detection]:
    """The detections among `tracks` (scored by `verdicts`, same rows) at `threshold`."""
    if len(verdicts) != len(tracks) or not np.array_equal(verdicts.track_id, tracks.track_id):
        raise ValueError("verdicts and tracks must be of the same frame, row for row")
    width, height = frame_size
    found = []
    for row in np.flatnonzero(verdicts.score >= threshold).tolist():
        place = zones.locate(
            tracks.keypoints[row], tracks.keypoint_conf[row], width=width, height=height
        )
        if place.ignored:
            continue
        found.append(
            Detection(
                camera_id=camera_id,
                ts=tracks.ts,
                track_id=int(tracks.track_id[row]),
                score=float(verdicts.score[row]),
                threshold=threshold,
                zone=place.name,
                event_type=event_type,
                xyxy=tracks.xyxy[row].copy(),
                keypoints=tracks.keypoints[row].copy(),
                keypoint_conf=tracks.keypoint_conf[row].copy(),
                frame_size=frame_size,
            )
        )
    return found
