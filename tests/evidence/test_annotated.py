"""The annotated clip: the clip's own frames, with the analysis nearest before each drawn on
it (scaled from the analysis frame's size), the alert's people in red, nothing drawn once
the analysis is stale."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from server.annotate.draw import ALERT_COLOUR, PERSON_COLOUR, PeopleOverlay
from server.evidence.annotated import STALE_S, write_annotated_mp4
from server.evidence.media import ClipError
from server.records.people import NUM_KEYPOINTS, Tracks
from tests.pipeline.media import frame_index, synthetic_video

START = 1_700_000_000.0  # the clip's first frame, Unix seconds
FPS = 25


def person(track_id: int, box: tuple[float, float, float, float]) -> Tracks:
    """One tracked person with a box (analysis-frame pixels) and no confident joints."""
    return Tracks(
        ts=0.0,
        track_id=np.array([track_id], np.int64),
        xyxy=np.array([box], np.float32),
        keypoints=np.zeros((1, NUM_KEYPOINTS, 2), np.float32),
        keypoint_conf=np.zeros((1, NUM_KEYPOINTS), np.float32),
        score=np.ones(1, np.float32),
    )


def frames_of(path: Path) -> list[npt.NDArray[np.uint8]]:
    with av.open(str(path)) as container:
        return [np.asarray(f.to_ndarray(format="rgb24"), np.uint8) for f in container.decode(0)]


def share_of(image: npt.NDArray[np.uint8], colour: tuple[int, int, int]) -> float:
    """How much of `image` (RGB) is within a coding error of `colour`."""
    near = np.abs(image.astype(np.int16) - np.array(colour, np.int16)).max(axis=2) < 40
    return float(near.mean())


def test_the_analysis_is_drawn_where_and_when_it_was_seen(tmp_path: Path) -> None:
    clip = synthetic_video(tmp_path / "clip.mp4", frames=100, fps=FPS, width=640, height=480)
    # analysed at 320x240 from 1.0 s to 2.0 s: box on the right half, track 7 over threshold
    overlays = [
        PeopleOverlay(
            ts=START + t,
            frame_size=(320, 240),
            tracks=person(7, (200.0, 60.0, 300.0, 220.0)),
            scores={7: 0.9},
            threshold=0.5,
        )
        for t in np.arange(1.0, 2.01, 0.2)
    ]
    out = tmp_path / "annotated.mp4"
    duration = write_annotated_mp4(
        clip, out, start_ts=START, overlays=overlays, label="Aisle 4", max_width=640
    )
    assert duration == pytest.approx(4.0, abs=0.05)
    frames = frames_of(out)
    assert len(frames) == 100
    assert frames[0].shape == (480, 640, 3)
    assert [frame_index(f[..., ::-1]) for f in frames] == list(range(100))  # same frames
    box_edge = (slice(124, 436), slice(400, 402))  # the box's left side, scaled 2x: x = 400
    for index, image in enumerate(frames):
        seen = share_of(image[box_edge], ALERT_COLOUR)
        t = index / FPS
        if 1.0 <= t <= 2.0 + STALE_S - 0.05:
            assert seen > 0.5, (index, seen)  # over the threshold: red
        elif t < 1.0 or t > 2.0 + STALE_S + 0.05:
            assert seen < 0.05, (index, seen)  # nothing seen yet, or no longer
    caption = frames[10][-30:, :200]  # the camera and time, bottom left, on a dark strip
    assert (caption.mean(axis=2) < 40).mean() > 0.5


def test_the_alerts_people_are_red_others_green_and_size_is_capped(tmp_path: Path) -> None:
    clip = synthetic_video(tmp_path / "clip.mp4", frames=25, fps=FPS, width=640, height=480)
    both = Tracks(
        ts=0.0,
        track_id=np.array([1, 2], np.int64),
        xyxy=np.array([[40, 100, 200, 400], [400, 100, 560, 400]], np.float32),
        keypoints=np.zeros((2, NUM_KEYPOINTS, 2), np.float32),
        keypoint_conf=np.zeros((2, NUM_KEYPOINTS), np.float32),
        score=np.ones(2, np.float32),
    )
    overlay = PeopleOverlay(START, (640, 480), both, scores={1: 0.1, 2: 0.1}, threshold=0.5)
    out = tmp_path / "annotated.mp4"
    write_annotated_mp4(clip, out, start_ts=START, overlays=[overlay], highlight={2})
    write_annotated_mp4(clip, out, start_ts=START, overlays=[overlay], highlight={2}, max_width=320)
    image = frames_of(out)[5]
    assert image.shape == (240, 320, 3)  # halved
    left, right = image[60:190, 20:22], image[60:190, 200:202]  # x = 40 and 400, halved
    assert share_of(left, PERSON_COLOUR) > 0.5 and share_of(left, ALERT_COLOUR) < 0.05
    assert share_of(right, ALERT_COLOUR) > 0.5  # track 2 is the alert's


def test_a_broken_clip_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "clip.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    out = tmp_path / "annotated.mp4"
    with pytest.raises(ClipError, match="annotated clip"):
        write_annotated_mp4(broken, out, start_ts=START, overlays=[])
    assert not list(tmp_path.glob("annotated.mp4*"))
