"""Our pipeline under load: N cameras, each a main stream into its ring and a sub-stream
analysed, through the real `Runtime` (SQLite in a temporary folder) as `shopguard serve` runs
them; measured over a window after a warm-up.

A camera keeps up when every frame it takes is dealt with in time. With the presence gate
on (`pipeline.presence_gate`), a frame is dealt with either by analysis (pose, tracks,
scores) or by the gate, which holds it back because nobody is in view and nothing moved
(`frames_gated`); a held-back frame that led up to motion is analysed after all and counts
once, as analysed. So a camera is sustained when, over the window:

- frames analysed + frames gated per second >= `Criteria.min_fps` (the slowest camera);
- frames dropped (its source queue or the pose queue full) <= `max_drop_share` of the
  frames sent to pose (analysed + dropped + failed);
- the p95 latency (capture to tracks ready) of the frames analysed as they came is
  <= `max_latency_p95_ms`. The frames of a wake-up's lead-up are analysed up to
  `presence_lead_s` late by design (they matter only once motion shows someone): their
  latency is reported apart (`lead_latency_p95_ms_max`), not held against the camera. The
  frames that arrive while a lead-up is analysed wait for it, and they do count.

Without the gate, frames gated and lead-up frames are none: the same test as before it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from pydantic import SecretStr

from server.bench.media import ChannelClips
from server.bench.thread_cpu import cores_used, thread_cpu_s
from server.config import AuthConfig, PipelineConfig, Settings
from server.records.analysis import FrameAnalysis
from server.records.video import Frame
from server.runtime import Runtime
from server.storage import cameras, stores
from shared.schemas.cameras import CameraCreate, SourceKind
from shared.schemas.pipeline import CameraPipelineStats
from shared.schemas.settings import DetectionSettings
from shared.schemas.stores import StoreCreate

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Criteria:
    """What "sustained" means: per camera, over the measuring window."""

    min_fps: float = 4.75
    max_drop_share: float = 0.05
    max_latency_p95_ms: float = 500.0


@dataclass(frozen=True, slots=True)
class OursResult:
    cameras: int
    seconds: float
    fps_min: float  # the slowest camera's frames dealt with per second (analysed + gated)
    fps_mean: float
    analysed_fps_mean: float  # frames through pose per camera per second
    gated_share: float  # of all cameras' frames dealt with, the share the gate held back
    occupied_share: float  # of all cameras' frames dealt with, those analysed with someone
    wakeups: int  # all cameras' gate wake-ups in the window
    drop_share_max: float  # the worst camera's share of frames sent to pose that dropped
    latency_p50_ms: float  # frames analysed as they came (median of camera medians)
    latency_p95_ms_max: float  # the worst camera's p95, same frames
    lead_latency_p95_ms_max: float | None  # lead-up frames analysed on a wake-up (None: none)
    pose_p50_ms: float
    cpu_share: float  # process CPU time / (wall time x cores), 0..1
    people_per_frame: float
    sustained: bool
    cores_by_thread: dict[str, float]  # pose, camera (readers), tracking, event loop

    def row(self) -> dict[str, float | int | bool | None]:
        return asdict(self)


@dataclass(slots=True)
class LatencyProbe:
    """Capture-to-analysis latency of each camera's frames, in seconds, from the records the
    pipeline publishes: a frame first published as gated (a `Frame` record) and analysed
    later is a wake-up's lead-up, kept apart. Also how many analysed frames showed someone
    (how occupied the window really was: a short one may miss the mix's people)."""

    measuring: bool = False
    live: dict[int, list[float]] = field(default_factory=dict)
    lead: dict[int, list[float]] = field(default_factory=dict)
    with_people: dict[int, int] = field(default_factory=dict)  # analysed, someone tracked
    _held: dict[int, set[int]] = field(default_factory=dict)  # camera -> gated seqs

    def gated(self, frame: Frame) -> None:
        self._held.setdefault(frame.camera_id, set()).add(frame.seq)

    def analysed(self, analysis: FrameAnalysis) -> None:
        frame = analysis.frame
        held = self._held.get(frame.camera_id, set())
        was_held = frame.seq in held
        if was_held:
            held.discard(frame.seq)
        else:  # frames arrive in order: those held before it will never be analysed
            held.clear()
        if self.measuring:
            latencies = self.lead if was_held else self.live
            latencies.setdefault(frame.camera_id, []).append(time.time() - frame.captured_at)
            if len(analysis.tracks) > 0:
                self.with_people[frame.camera_id] = self.with_people.get(frame.camera_id, 0) + 1


async def run_ours(
    channels: list[ChannelClips],
    *,
    fps: float,
    warmup_s: float,
    measure_s: float,
    pipeline: PipelineConfig,
    criteria: Criteria,
) -> OursResult:
    """Run a camera per channel for `warmup_s`, then measure for `measure_s` seconds."""
    count = len(channels)
    probe = LatencyProbe()
    with tempfile.TemporaryDirectory(prefix="shopguard-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=None,  # SQLite in `tmp`, whatever the environment says
            demo_video=None,
            auth=AuthConfig(initial_admin_password=SecretStr(secrets.token_urlsafe(24))),
            detection=DetectionSettings(analysis_fps=fps),
            pipeline=pipeline.model_copy(update={"enabled": True}),
            log_level="WARNING",
        )
        runtime = await Runtime.start(settings)
        runtime.records.subscribe(Frame, probe.gated)
        runtime.records.subscribe(FrameAnalysis, probe.analysed)
        try:
            async with runtime.sessionmaker() as session:
                store = await stores.create_store(
                    session=session, store_in=StoreCreate(name="Bench store")
                )
                for index, clips in enumerate(channels):
                    camera_in = CameraCreate(
                        store_id=store.id,
                        name=f"Channel {index + 1}",
                        source_kind=SourceKind.file,
                        source_url=str(clips.main),
                        substream_url=str(clips.sub),
                    )
                    await cameras.create_camera(session=session, camera_in=camera_in)
                await session.commit()
            await runtime.pipeline.reconcile()
            await asyncio.sleep(warmup_s)
            before = {s.camera_id: s for s in runtime.pipeline.stats(None)}
            cpu0, wall0, threads0 = _cpu_s(), time.monotonic(), thread_cpu_s()
            probe.measuring = True
            await asyncio.sleep(measure_s)
            probe.measuring = False
            cpu1, wall1, threads1 = _cpu_s(), time.monotonic(), thread_cpu_s()
            after = {s.camera_id: s for s in runtime.pipeline.stats(None)}
        finally:
            await runtime.stop()
    result = summarise(before, after, probe, wall1 - wall0, cpu1 - cpu0, count, criteria)
    by_thread = cores_used(threads0, threads1, wall1 - wall0)
    return OursResult(**{**asdict(result), "cores_by_thread": by_thread})


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def _delta(
    end: CameraPipelineStats,
    start: CameraPipelineStats | None,
    read: Callable[[CameraPipelineStats], int],
) -> int:
    """A counter's growth over the window (from 0 for a camera that started within it)."""
    return read(end) - (read(start) if start is not None else 0)


def _ms(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000.0, 1) if values else float("inf")


def summarise(
    before: dict[int, CameraPipelineStats],
    after: dict[int, CameraPipelineStats],
    probe: LatencyProbe,
    wall_s: float,
    cpu_s: float,
    count: int,
    criteria: Criteria,
) -> OursResult:
    fps: list[float] = []  # frames dealt with per second, per camera
    analysed_fps: list[float] = []
    drops: list[float] = []
    p50s: list[float] = []
    p95s: list[float] = []
    lead_p95s: list[float] = []
    pose: list[float] = []
    people: list[float] = []
    gated_total = handled_total = wakeups = 0
    for camera_id, end in after.items():
        start = before.get(camera_id)
        analysed = _delta(end, start, lambda s: s.frames_analysed)
        gated = _delta(end, start, lambda s: s.frames_gated)
        dropped = _delta(end, start, lambda s: s.frames_dropped)
        failed = _delta(end, start, lambda s: s.frames_failed)
        fps.append((analysed + gated) / wall_s)
        analysed_fps.append(analysed / wall_s)
        drops.append(dropped / max(analysed + dropped + failed, 1))
        gated_total, handled_total = gated_total + gated, handled_total + analysed + gated
        wakeups += _delta(end, start, lambda s: s.wakeups)
        p50s.append(_ms(probe.live.get(camera_id, []), 50))
        p95s.append(_ms(probe.live.get(camera_id, []), 95))
        if probe.lead.get(camera_id):
            lead_p95s.append(_ms(probe.lead[camera_id], 95))
        pose.append(end.pose.p50_ms or float("nan"))
        people.append(float(end.people))
    missing = count - len(after)  # a camera that never started counts as failed
    fps += [0.0] * missing
    drops += [1.0] * missing
    p95s += [float("inf")] * missing
    result = OursResult(
        cameras=count,
        seconds=round(wall_s, 1),
        fps_min=round(min(fps), 2),
        fps_mean=round(float(np.mean(fps)), 2),
        analysed_fps_mean=round(float(np.mean(analysed_fps)), 2) if analysed_fps else 0.0,
        gated_share=round(gated_total / max(handled_total, 1), 3),
        occupied_share=round(sum(probe.with_people.values()) / max(handled_total, 1), 3),
        wakeups=wakeups,
        drop_share_max=round(max(drops), 4),
        latency_p50_ms=round(float(np.median(p50s)), 1) if p50s else float("inf"),
        latency_p95_ms_max=round(max(p95s), 1),
        lead_latency_p95_ms_max=max(lead_p95s) if lead_p95s else None,
        pose_p50_ms=round(float(np.nanmedian(pose)), 1) if pose else float("nan"),
        cpu_share=round(cpu_s / (wall_s * (os.cpu_count() or 1)), 3),
        people_per_frame=round(float(np.mean(people)), 2) if people else 0.0,
        sustained=False,
        cores_by_thread={},
    )
    sustained = (
        result.fps_min >= criteria.min_fps
        and result.drop_share_max <= criteria.max_drop_share
        and result.latency_p95_ms_max <= criteria.max_latency_p95_ms
    )
    return OursResult(**{**asdict(result), "sustained": sustained})
