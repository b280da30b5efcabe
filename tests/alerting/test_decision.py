"""Zones, the alert decision and dedup episodes on literal people and scores."""

from __future__ import annotations

import numpy as np
import pytest

from server.alerting.decision import CONCEALMENT, decide
from server.alerting.dedup import Dedup, Extension, Opening, severity
from server.alerting.zones import CameraZones
from server.records.alerts import Detection
from server.records.people import Tracks, Verdicts
from shared.schemas.cameras import Zone, ZoneKind

W, H = 1000, 500
LEFT = Zone(name="Left shelf", kind=ZoneKind.shelf, polygon=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)])
EXIT = Zone(name="Exit", kind=ZoneKind.exit, polygon=[(0.5, 0.8), (1, 0.8), (1, 1), (0.5, 1)])
STAFF = Zone(name="Staff", kind=ZoneKind.ignore, polygon=[(0.9, 0), (1, 0), (1, 0.3)])


def person(hands: tuple[float, float], feet: tuple[float, float]) -> np.ndarray:
    """COCO-17 keypoints (pixels) with both wrists at `hands` and both ankles at `feet`."""
    kp = np.full((17, 2), 500.0, np.float32)
    kp[[9, 10]] = hands
    kp[[15, 16]] = feet
    return kp


def frame_of(
    people: list[np.ndarray], scores: list[float], ts: float = 100.0
) -> tuple[Tracks, Verdicts]:
    n = len(people)
    ids = np.arange(1, n + 1, dtype=np.int64)
    tracks = Tracks(
        ts=ts,
        track_id=ids,
        xyxy=np.tile(np.asarray([10, 10, 50, 100], np.float32), (n, 1)),
        keypoints=np.stack(people).astype(np.float32),
        keypoint_conf=np.full((n, 17), 0.9, np.float32),
        score=np.full(n, 0.9, np.float32),
    )
    s = np.asarray(scores, np.float32)
    return tracks, Verdicts(ts, ids, s, s, 0.6)


def test_hands_count_before_feet_and_ignore_suppresses() -> None:
    zones = CameraZones.of([LEFT, EXIT, STAFF])
    conf = np.full(17, 0.9, np.float32)
    at_shelf_near_exit = zones.locate(person((100, 100), (800, 450)), conf, width=W, height=H)
    assert at_shelf_near_exit.zone == LEFT and not at_shelf_near_exit.ignored
    only_feet = zones.locate(person((700, 100), (800, 450)), conf, width=W, height=H)
    assert only_feet.name == "Exit"
    nowhere = zones.locate(person((700, 100), (700, 300)), conf, width=W, height=H)
    assert nowhere.zone is None and nowhere.name == ""
    staff = zones.locate(person((980, 20), (100, 450)), conf, width=W, height=H)
    assert staff.ignored
    unsure = conf.copy()
    unsure[[9, 10]] = 0.1  # hands not seen: the feet decide
    assert zones.locate(person((100, 100), (800, 450)), unsure, width=W, height=H).name == "Exit"
    assert CameraZones.of([]).locate(person((1, 1), (1, 1)), conf, width=W, height=H).name == ""


def test_decide_keeps_people_over_the_threshold_outside_ignore_zones() -> None:
    zones = CameraZones.of([LEFT, STAFF])
    tracks, verdicts = frame_of(
        [
            person((100, 100), (100, 450)),
            person((980, 20), (990, 100)),
            person((700, 100), (700, 450)),
        ],
        [0.9, 0.95, 0.3],
    )
    found = decide(7, tracks, verdicts, zones, 0.6, (W, H))
    assert [(d.track_id, d.zone, d.event_type) for d in found] == [(1, "Left shelf", CONCEALMENT)]
    assert found[0].key == (7, "Left shelf", CONCEALMENT) and found[0].score == pytest.approx(0.9)
    assert len(decide(7, tracks, verdicts, zones, 0.2, (W, H))) == 2  # the staff one never
    with pytest.raises(ValueError, match="same frame"):
        decide(7, tracks, frame_of([person((1, 1), (1, 1))], [0.9])[1], zones, 0.6, (W, H))


def detection(ts: float, score: float, track_id: int = 1, zone: str = "A") -> Detection:
    tracks, _ = frame_of([person((1, 1), (1, 1))], [score], ts)
    return Detection(
        camera_id=3,
        ts=ts,
        track_id=track_id,
        score=score,
        threshold=0.6,
        zone=zone,
        event_type=CONCEALMENT,
        xyxy=tracks.xyxy[0],
        keypoints=tracks.keypoints[0],
        keypoint_conf=tracks.keypoint_conf[0],
        frame_size=(W, H),
    )


def test_one_episode_per_key_within_the_window() -> None:
    dedup = Dedup(window_s=300.0, refresh_s=5.0)
    first = dedup.offer(detection(0.0, 0.7))
    assert isinstance(first, Opening)
    assert dedup.offer(detection(1.0, 0.65)) is None  # nothing new to report
    higher = dedup.offer(detection(2.0, 0.75))
    assert isinstance(higher, Extension) and not higher.severity_raised
    other = dedup.offer(detection(3.0, 0.7, track_id=2))
    assert isinstance(other, Extension) and other.episode.track_ids == {1, 2}
    assert isinstance(dedup.offer(detection(9.0, 0.7)), Extension)  # last seen refreshed
    raised = dedup.offer(detection(10.0, 0.95))
    assert isinstance(raised, Extension) and raised.severity_raised  # may push once more
    assert isinstance(dedup.offer(detection(10.0, 0.7, zone="B")), Opening)  # another key
    episode = dedup.episodes[(3, "A", CONCEALMENT)]
    assert (episode.started_ts, episode.last_ts) == (0.0, 10.0)
    assert episode.peak == pytest.approx(0.95)
    assert isinstance(dedup.offer(detection(310.5, 0.7)), Opening)  # window passed: new one
    dedup.expire(now_ts=700.0)
    assert dedup.episodes == {}


def test_severity_bands() -> None:
    assert severity(0.6, 0.6) == 1 and severity(0.79, 0.6) == 1 and severity(0.8, 0.6) == 2
    with pytest.raises(ValueError, match="window_s"):
        Dedup(window_s=0)
