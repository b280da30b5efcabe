"""What "sustained" means for our pipeline in the bench: frames the presence gate held back
count as kept up, drops count against the frames sent to pose, and the lead-up of a wake-up
(analysed late by design) is reported apart from the latency a camera is held to."""

from __future__ import annotations

import time

import numpy as np
import pytest

from server.bench.ours import Criteria, LatencyProbe, OursResult, summarise
from server.records.analysis import FrameAnalysis
from server.records.people import NUM_KEYPOINTS, Tracks
from server.records.video import Frame
from shared.schemas.cameras import CameraStatus
from shared.schemas.pipeline import CameraPipelineStats, StageTimes

WALL_S = 20.0  # the measuring window: 100 frames at 5 fps


def stats(
    camera_id: int, analysed: int = 0, gated: int = 0, dropped: int = 0, wakeups: int = 0
) -> CameraPipelineStats:
    times = StageTimes(p50_ms=40.0, p95_ms=60.0)
    return CameraPipelineStats(
        camera_id=camera_id,
        store_id=1,
        status=CameraStatus.online,
        fps=0.0,
        target_fps=5.0,
        input_fps=5.0,
        frames_analysed=analysed,
        frames_dropped=dropped,
        frames_failed=0,
        frames_decoded=0,
        frames_gated=gated,
        wakeups=wakeups,
        packets=0,
        people=0,
        live_tracks=0,
        top_score=None,
        scoring=times,
        pose=times,
        pose_wait=times,
        tracking=times,
        latency=times,
        analysis_width=640,
        ring_seconds=0.0,
        ring_bytes=0,
        attempts=1,
        errors=0,
        last_error=None,
        evidence_stream=False,
        evidence_errors=0,
        evidence_last_error=None,
        running_s=30.0,
    )


def tracks(ts: float, people: int = 0) -> Tracks:
    return Tracks(
        ts=ts,
        track_id=np.arange(people, dtype=np.int64),
        xyxy=np.tile(np.array([[10, 5, 20, 30]], np.float32), (people, 1)),
        keypoints=np.zeros((people, NUM_KEYPOINTS, 2), np.float32),
        keypoint_conf=np.zeros((people, NUM_KEYPOINTS), np.float32),
        score=np.ones(people, np.float32),
    )


def probe_of(late_s: dict[int, float], lead_late_s: float = 1.0, people: int = 0) -> LatencyProbe:
    """Per camera: 2 frames gated, then analysed on a wake-up `lead_late_s` late, then 3
    analysed as they came, `late_s` late, showing `people`."""
    probe = LatencyProbe(measuring=True)
    image = np.zeros((36, 64, 3), np.uint8)
    for camera_id, late in late_s.items():
        now = time.time()
        lead = [Frame(camera_id, image, now - lead_late_s, seq) for seq in (0, 1)]
        for frame in lead:
            probe.gated(frame)
        for frame in lead:
            probe.analysed(FrameAnalysis(frame, tracks(frame.captured_at), None))
        for seq in (2, 3, 4):
            frame = Frame(camera_id, image, now - late, seq)
            probe.analysed(FrameAnalysis(frame, tracks(frame.captured_at, people), None))
    return probe


def result_of(
    after: dict[int, CameraPipelineStats], probe: LatencyProbe, count: int = 1
) -> OursResult:
    before = {camera_id: stats(camera_id) for camera_id in after}
    return summarise(before, after, probe, WALL_S, 10.0, count, Criteria())


def test_a_camera_the_gate_holds_back_keeps_up() -> None:
    gated = result_of({1: stats(1, analysed=20, gated=80, wakeups=2)}, probe_of({1: 0.1}))
    assert gated.sustained and gated.fps_min == 5.0
    assert gated.analysed_fps_mean == 1.0 and gated.gated_share == 0.8 and gated.wakeups == 2
    assert gated.occupied_share == 0.0  # nobody tracked in the probe's frames
    # the frames it analysed only: what counting analysed frames alone would have said
    analysed_only = result_of({1: stats(1, analysed=20)}, probe_of({1: 0.1}))
    assert not analysed_only.sustained and analysed_only.fps_min == 1.0


@pytest.mark.parametrize(
    ("after", "late_s", "why"),
    [
        ({1: stats(1, analysed=20, gated=80, dropped=2)}, {1: 0.1}, "2 of 22 sent to pose"),
        ({1: stats(1, analysed=20, gated=70)}, {1: 0.1}, "4.5 frames a second"),
        ({1: stats(1, analysed=20, gated=80)}, {1: 0.6}, "frames analysed 600 ms late"),
    ],
)
def test_a_camera_that_drops_falls_behind_or_lags_is_not_sustained(
    after: dict[int, CameraPipelineStats], late_s: dict[int, float], why: str
) -> None:
    assert not result_of(after, probe_of(late_s)).sustained, why


def test_the_lead_up_of_a_wake_up_is_late_by_design_and_reported_apart() -> None:
    probe = probe_of({1: 0.1}, lead_late_s=1.2, people=2)
    result = result_of({1: stats(1, analysed=20, gated=80)}, probe)
    assert result.sustained and result.occupied_share == 0.03  # 3 frames of 100 showed people
    assert result.latency_p95_ms_max == pytest.approx(100, abs=20)
    assert result.lead_latency_p95_ms_max == pytest.approx(1200, abs=20)


def test_a_camera_that_never_started_fails_the_run() -> None:
    result = result_of({1: stats(1, analysed=20, gated=80)}, probe_of({1: 0.1}), count=2)
    assert not result.sustained and result.fps_min == 0.0
