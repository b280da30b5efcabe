"""Real tracked people for the pose-track tests: the poses recorded from vtest (ReplayPose)
through the real `Tracker`, as analysed frames of a camera at chosen times."""

from __future__ import annotations

import numpy as np

from server.pipeline.tracking import Tracker
from server.posetracks.recorder import PoseTrackRecorder
from server.posetracks.rows import PoseRows
from server.records.analysis import FrameAnalysis
from server.records.people import Tracks
from server.records.video import Frame
from tests.pipeline.replay import VTEST_POSES, ReplayPose

VTEST_WH = (768, 576)  # the frame size the poses were recorded in
IMAGE = np.zeros((VTEST_WH[1], VTEST_WH[0], 3), np.uint8)  # shared: frames never copy it


def tracked_frames(
    camera_id: int, start: float, seconds: float, fps: float = 5.0, *, nobody: bool = False
) -> list[tuple[Frame, Tracks]]:
    """`seconds` of analysed frames from Unix time `start`, `fps` a second, with the people
    of vtest tracked (the recording loops); `nobody`: frames with no one tracked."""
    pose = ReplayPose(VTEST_POSES, loop=True)
    tracker = Tracker(fps=fps)
    out = []
    for seq in range(round(seconds * fps)):
        ts = start + seq / fps
        frame = Frame(camera_id, IMAGE, ts, seq)
        tracks = Tracks.empty(ts) if nobody else tracker.update(pose.estimate(IMAGE), ts)
        out.append((frame, tracks))
    return out


def feed(recorder: PoseTrackRecorder, frames: list[tuple[Frame, Tracks]]) -> None:
    """Hand the frames to the recorder as the pipeline does (no verdicts)."""
    for frame, tracks in frames:
        recorder.take(FrameAnalysis(frame, tracks, None))


def expected_rows(camera_id: int, frames: list[tuple[Frame, Tracks]]) -> PoseRows:
    """What the recorder should give back for exactly these frames."""
    return PoseRows.from_tracks(camera_id, [t for _, t in frames], [VTEST_WH] * len(frames))


def assert_rows_equal(got: PoseRows, want: PoseRows) -> None:
    """Every array equal, bit for bit (no rounding on the way through the files)."""
    assert got.camera_id == want.camera_id
    for name in (
        "frame_ts",
        "frame_wh",
        "ts",
        "track_id",
        "xyxy",
        "keypoints",
        "keypoint_conf",
        "score",
    ):
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
