"""Our pipeline under load: N cameras, each a main stream into its ring and a sub-stream
analysed, through the real `Runtime` (SQLite in a temporary folder) as `shopguard serve` runs
them; measured over a window after a warm-up."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from pydantic import SecretStr

from server.bench.media import ChannelClips
from server.bench.thread_cpu import cores_used, thread_cpu_s
from server.config import AuthConfig, PipelineConfig, Settings
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
    fps_min: float  # the slowest camera's analysed fps
    fps_mean: float
    drop_share_max: float  # the worst camera's share of analysis frames dropped
    latency_p50_ms: float  # over all cameras' recent frames (median of camera medians)
    latency_p95_ms_max: float  # the worst camera's p95
    pose_p50_ms: float
    cpu_share: float  # process CPU time / (wall time x cores), 0..1
    people_per_frame: float
    sustained: bool
    cores_by_thread: dict[str, float]  # pose, camera (readers), tracking, event loop

    def row(self) -> dict[str, float | int | bool]:
        return asdict(self)


async def run_ours(
    clips: ChannelClips,
    count: int,
    *,
    fps: float,
    warmup_s: float,
    measure_s: float,
    pipeline: PipelineConfig,
    criteria: Criteria,
) -> OursResult:
    """Run `count` cameras for `warmup_s` then measure for `measure_s` seconds."""
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
        try:
            async with runtime.sessionmaker() as session:
                store = await stores.create_store(
                    session=session, store_in=StoreCreate(name="Bench store")
                )
                for index in range(count):
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
            await asyncio.sleep(measure_s)
            cpu1, wall1, threads1 = _cpu_s(), time.monotonic(), thread_cpu_s()
            after = {s.camera_id: s for s in runtime.pipeline.stats(None)}
        finally:
            await runtime.stop()
    result = _summarise(before, after, wall1 - wall0, cpu1 - cpu0, count, criteria)
    by_thread = cores_used(threads0, threads1, wall1 - wall0)
    return OursResult(**{**asdict(result), "cores_by_thread": by_thread})


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def _summarise(
    before: dict[int, CameraPipelineStats],
    after: dict[int, CameraPipelineStats],
    wall_s: float,
    cpu_s: float,
    count: int,
    criteria: Criteria,
) -> OursResult:
    fps, drops, p50s, p95s, pose, people = [], [], [], [], [], []
    for camera_id, end in after.items():
        start = before.get(camera_id)
        analysed = end.frames_analysed - (start.frames_analysed if start else 0)
        dropped = end.frames_dropped - (start.frames_dropped if start else 0)
        failed = end.frames_failed - (start.frames_failed if start else 0)
        fps.append(analysed / wall_s)
        drops.append(dropped / max(analysed + dropped + failed, 1))
        p50s.append(end.latency.p50_ms or float("inf"))
        p95s.append(end.latency.p95_ms or float("inf"))
        pose.append(end.pose.p50_ms or float("nan"))
        people.append(end.people)
    missing = count - len(after)  # a camera that never started counts as failed
    fps += [0.0] * missing
    drops += [1.0] * missing
    p95s += [float("inf")] * missing
    result = OursResult(
        cameras=count,
        seconds=round(wall_s, 1),
        fps_min=round(min(fps), 2),
        fps_mean=round(float(np.mean(fps)), 2),
        drop_share_max=round(max(drops), 4),
        latency_p50_ms=round(float(np.median(p50s)), 1) if p50s else float("inf"),
        latency_p95_ms_max=round(max(p95s), 1),
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
