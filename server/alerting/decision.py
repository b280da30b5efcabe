"""⑦ alert decision: which tracked people of a scored frame are detections.

A person is a detection when their alerting score (the model's smoothed, calibrated score:
one noisy frame does not lift it) reaches the camera's threshold and no hand or foot is in
an `ignore` zone. The detection names the camera, the zone, the event type and the score,
and keeps the person's box and pose for the evidence snapshot.
"""

from __future__ import annotations

import numpy as np

from server.alerting.zones import CameraZones
from server.records.alerts import Detection
from server.records.people import Tracks, Verdicts

CONCEALMENT = "concealment"  # the event type the behaviour model scores


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
