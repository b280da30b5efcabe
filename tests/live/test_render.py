"""What a live viewer sees in one picture: the frame at the configured width, each person's
box (green, or red when in an open alert or over the threshold), and the camera and time."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from server.annotate.draw import ALERT_COLOUR, PERSON_COLOUR, PeopleOverlay
from server.live.frames import LiveFrame
from server.live.render import live_size, render
from server.records.people import NUM_KEYPOINTS, Tracks


def share_of(image: npt.NDArray[np.uint8], colour: tuple[int, int, int]) -> float:
    near = np.abs(image.astype(np.int16) - np.array(colour, np.int16)).max(axis=2) < 10
    return float(near.mean())


def two_people() -> Tracks:
    return Tracks(
        ts=10.0,
        track_id=np.array([1, 2], np.int64),
        xyxy=np.array([[64, 72, 192, 320], [448, 72, 576, 320]], np.float32),
        keypoints=np.zeros((2, NUM_KEYPOINTS, 2), np.float32),
        keypoint_conf=np.zeros((2, NUM_KEYPOINTS), np.float32),
        score=np.ones(2, np.float32),
    )


def test_people_are_drawn_scaled_and_the_alerts_person_is_red() -> None:
    image = np.full((360, 640, 3), 128, np.uint8)  # BGR grey
    overlay = PeopleOverlay(10.0, (640, 360), two_people(), {1: 0.2, 2: 0.3}, threshold=0.6)
    frame = LiveFrame(3, 10.0, image, overlay, highlight=frozenset({2}))
    picture = np.asarray(render(frame, width=320, label="Aisle 4"))
    assert picture.shape == (180, 320, 3)
    left_edge = picture[50:150, 32:33]  # person 1's box, x = 64 halved
    right_edge = picture[50:150, 224:225]  # person 2's, x = 448 halved
    assert share_of(left_edge, PERSON_COLOUR) > 0.9
    assert share_of(right_edge, ALERT_COLOUR) > 0.9
    caption = picture[-14:, :120]  # camera and time on a dark strip, bottom left
    assert (caption.mean(axis=2) < 60).mean() > 0.5
    assert share_of(picture[100:120, 120:200], (128, 128, 128)) == 1.0  # between: untouched


def test_anyone_over_the_threshold_is_red_and_no_analysis_draws_no_one() -> None:
    image = np.full((360, 640, 3), 128, np.uint8)
    over = PeopleOverlay(10.0, (640, 360), two_people(), {1: 0.9}, threshold=0.6)
    picture = np.asarray(render(LiveFrame(3, 10.0, image, over, frozenset()), width=640, label="x"))
    assert share_of(picture[150:250, 64:66], ALERT_COLOUR) > 0.9
    bare = np.asarray(render(LiveFrame(3, 10.0, image, None, frozenset()), width=640, label="x"))
    assert share_of(bare[:300], (128, 128, 128)) == 1.0


def test_sizes_keep_the_aspect_and_are_even() -> None:
    assert live_size((640, 360), 1280) == (1280, 720)
    assert live_size((768, 576), 500) == (500, 374)
    assert live_size((1920, 1080), 481) == (480, 270)
