"""One camera's analysis chain, top to bottom (G1).

① the reader thread (`source.py`) fills the camera's `PacketRing` and hands the newest
analysis frame to the supervisor, which yields it here; ③ the shared `PosePool` finds the
people in it; ④ the camera's `Tracker` (on the shared tracking thread) gives them ids and
history; ⑤⑥ the camera's `CameraDetector` (on the same thread) scores each tracked person
over their last seconds; ⑦ the chain publishes a `FrameAnalysis` record, which alerting,
evidence, the live view and the rest take from there.

With the presence gate (`presence.py`, on by default), a camera that shows nobody sends only
frames with motion (after those of the second before that already stirred) and a periodic
check to pose; the others are counted and published as plain `Frame` records (nothing is
analysed on them).

The chain awaits each stage, so a camera has at most one frame in analysis: frames that
arrive meanwhile wait in the source's small queue, which drops its oldest (and counts it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from server.logs import ids
from server.metrics.timings import Durations, Rate
from server.pipeline.detector import CameraDetector
from server.pipeline.inference import FrameDropped, PosePool
from server.pipeline.pose import input_hw_for
from server.pipeline.presence import PresenceGate
from server.pipeline.tracking import Tracker
from server.records.analysis import FrameAnalysis, ShadowVerdicts
from server.records.people import Tracks, Verdicts
from server.records.video import Frame

logger = logging.getLogger(__name__)


Publish = Callable[[FrameAnalysis], None]  # quick: it runs on the event loop


@dataclass(slots=True)
class WorkerStats:
    """One camera's analysis counters."""

    taken: Rate = field(default_factory=Rate)  # frames taken from the source
    analysed: Rate = field(default_factory=Rate)  # frames that reached the sink
    dropped: int = 0  # pushed out of the pose queue
    failed: int = 0  # pose or tracking raised
    pose: Durations = field(default_factory=Durations)
    queued: Durations = field(default_factory=Durations)
    tracking: Durations = field(default_factory=Durations)
    latency: Durations = field(default_factory=Durations)  # capture → tracks, wall clock
    scoring: Durations = field(default_factory=Durations)  # features + model + smoothing
    gated: int = 0  # taken and never analysed: nobody in view and nothing moved
    wakeups: int = 0  # the presence gate let a camera showing nobody be analysed again
    people: int = 0  # tracked in the last analysed frame
    last: Tracks | None = None
    verdicts: Verdicts | None = None  # the behaviour model's latest (scored every few frames)


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the cameras share: the pose pool and the tracking thread (None: count only)."""

    pool: PosePool
    tracking: Executor


@dataclass(frozen=True, slots=True)
class CameraAnalysis:
    """One camera's settings for its chain."""

    input_width: int  # pose model input width; the height follows the frame's aspect
    tracker: Tracker
    publish: Publish | None = None
    detector: CameraDetector | None = None  # None: tracks only (no behaviour model loaded)
    gate: PresenceGate | None = None  # None: every frame is analysed
    publish_gated: Callable[[Frame], None] | None = None  # frames the gate kept from pose


async def run_camera(
    frames: AsyncIterator[Frame],
    stats: WorkerStats,
    analysis: Analysis | None = None,
    camera: CameraAnalysis | None = None,
) -> None:
    """Consume one camera's analysis frames until its supervisor stops."""
    sizes: dict[tuple[int, int], tuple[int, int]] = {}
    async for frame in frames:  # ① camera → Frame (② the ring is filled by the reader)
        stats.taken.mark()
        if analysis is None or camera is None:
            continue
        gate = camera.gate
        if gate is None:
            await _analyse(frame, stats, analysis, camera, sizes)
            continue
        admitted = gate.admit(frame)  # nobody in view: pose only on motion or a check
        if not admitted.frames:
            stats.gated += 1
            if camera.publish_gated is not None:
                camera.publish_gated(frame)
            continue
        if admitted.reason == "motion":  # before the awaits: a scrape never sees it drop
            stats.gated -= len(admitted.frames) - 1  # the lead-up is analysed after all
        for item in admitted.frames:  # the lead-up first, oldest first
            found = await _analyse(item, stats, analysis, camera, sizes)
            if found is not None:
                gate.analysed(item, people=found > 0)
        if admitted.reason == "motion" or (admitted.reason == "check" and gate.awake):
            stats.wakeups += 1


async def _analyse(
    frame: Frame,
    stats: WorkerStats,
    analysis: Analysis,
    camera: CameraAnalysis,
    sizes: dict[tuple[int, int], tuple[int, int]],
) -> int | None:
    """③ to ⑦ for one frame; the people pose found in it (None: dropped or failed)."""
    loop = asyncio.get_running_loop()
    size = (frame.width, frame.height)
    input_hw = sizes.get(size) or sizes.setdefault(size, input_hw_for(size, camera.input_width))
    fresh: Verdicts | None = None
    shadow: ShadowVerdicts | None = None
    try:
        found = await analysis.pool.estimate(frame, input_hw)  # ③ pose
        started = time.monotonic()
        tracks = await loop.run_in_executor(  # ④ tracks
            analysis.tracking, camera.tracker.update, found.poses, frame.captured_at
        )
        tracked = time.monotonic()
        detector = camera.detector
        if detector is not None and detector.due(tracks.ts):  # ⑤ → ⑥
            fresh = stats.verdicts = await loop.run_in_executor(
                analysis.tracking, detector.score, tracks, camera.tracker
            )
            stats.scoring.add(time.monotonic() - tracked)
        if detector is not None:
            shadow = detector.shadow(tracks.ts)
    except FrameDropped:
        stats.dropped += 1
        return None
    except Exception:  # a bad frame or model call: count it, keep the camera going
        stats.failed += 1
        logger.exception(
            "camera %s: analysing frame %s failed",
            frame.camera_id,
            frame.seq,
            extra=ids(camera=frame.camera_id),
        )
        return None
    stats.tracking.add(tracked - started)
    stats.pose.add(found.inference_s)
    stats.queued.add(found.queued_s)
    stats.latency.add(max(0.0, time.time() - frame.captured_at))
    stats.analysed.mark()
    stats.people, stats.last = len(tracks), tracks
    if camera.publish is not None:  # ⑦ alerts, evidence, live view, ...
        camera.publish(FrameAnalysis(frame, tracks, fresh, shadow))
    return len(found.poses)
