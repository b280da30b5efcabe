"""The cameras this process runs: one supervised task per enabled, assigned camera.

`PipelineManager` asks a `CameraCatalog` for the enabled cameras and a `CameraAssignment`
which of them this process runs (`LocalAssignment`: all of them; a worker of a multi-box
deployment: the ones it holds a lease on), and keeps one `CameraRunner` per camera: a
`Supervisor` over a `CameraSource` reading into the camera's `PacketRing`, feeding
`worker.run_camera`, which shares one `PosePool` (pose workers) and one tracking thread
among all cameras, scores with the `Detector` it is given and publishes each analysed frame
as a `FrameAnalysis` record. Every status change is published as a `StatusChange` record
(stored and announced by `services/camera_status.py`). A missing or broken pose model is
reported once (`analysis_error`); cameras then still fill their rings.

The camera list is reconciled on start, whenever the camera routes change it
(`request_reconcile`, after their commit) and every `reconcile_interval_s` (changes made by
another process or the command line). Nothing here blocks the API: sources open and read in
their own threads, and stopped cameras are joined in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from server.config import PipelineConfig
from server.errors import ModelError
from server.logs import ids
from server.metrics.timings import Durations
from server.pipeline.detector import Detector
from server.pipeline.inference import PosePool
from server.pipeline.pose import PoseEstimator
from server.pipeline.pose_backends import make_pose_estimator
from server.pipeline.presence import PresenceGate, PresenceSettings
from server.pipeline.ring_buffer import PacketRing
from server.pipeline.source import CameraSource, SourceStats
from server.pipeline.supervisor import Supervisor, SupervisorConfig
from server.pipeline.tracking import Tracker
from server.pipeline.worker import Analysis, CameraAnalysis, WorkerStats, run_camera
from server.records.cameras import CameraSpec, StatusChange
from server.security.redact import redact_url
from shared.schemas.cameras import CameraStatus, SourceKind
from shared.schemas.pipeline import CameraPipelineStats, PoseWorkersStats, StageTimes

logger = logging.getLogger(__name__)

STOPPED_ERROR = "the server's video pipeline stopped"


class CameraCatalog(Protocol):
    """The enabled cameras, wherever they are kept (`services/camera_catalog.py`: the
    database)."""

    async def enabled(self) -> list[CameraSpec]: ...


class CameraAssignment(Protocol):
    """Decides which of the enabled cameras this process runs."""

    def assigned(self, cameras: Sequence[CameraSpec]) -> Sequence[CameraSpec]: ...


class LocalAssignment:
    """A single server: it runs every enabled camera."""

    def assigned(self, cameras: Sequence[CameraSpec]) -> Sequence[CameraSpec]:
        return cameras


class CameraRunner:
    """One camera's task: supervisor → source → ring, frames → worker; and its counters.

    With a separate main stream, a second supervised reader keeps its packets in the ring
    (evidence) while the sub-stream is decoded for analysis.
    """

    def __init__(self, spec: CameraSpec, config: PipelineConfig, manager: PipelineManager) -> None:
        self.spec = spec
        self.config = config
        self.ring = PacketRing(config.ring_seconds, config.ring_max_bytes)
        self.stop = asyncio.Event()
        self.worker = WorkerStats()
        self.started = time.monotonic()
        supervisor_config = SupervisorConfig(
            open_timeout_s=config.open_timeout_s,
            stall_timeout_s=config.stall_timeout_s,
            degraded_after_s=config.degraded_after_s,
            backoff_base_s=config.backoff_base_s,
            backoff_cap_s=config.backoff_cap_s,
            jitter=config.backoff_jitter,
            offline_after=config.offline_after,
        )
        self.supervisor = Supervisor(
            spec.camera_id, self._open_source, self._on_status, supervisor_config
        )
        self.evidence = Supervisor(spec.camera_id, self._open_evidence, _ignore, supervisor_config)
        self.tracker = Tracker(
            fps=spec.analysis_fps,
            history_s=manager.history_s(),
            lost_timeout_s=config.track_lost_timeout_s,
        )
        detector = manager.detector
        self.detector = detector.for_camera(self.tracker) if detector is not None else None
        self.gate = (
            PresenceGate(PresenceSettings.from_config(config)) if config.presence_gate else None
        )
        self.task: asyncio.Task[None] | None = None
        self._manager = manager
        self._source: CameraSource | None = None
        self._earlier = SourceStats()  # counters of the sources before the current one
        self._evidence_source: CameraSource | None = None
        self._evidence_earlier = 0  # packets of the main-stream sources before the current one

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"camera-{self.spec.camera_id}")

    async def close(self) -> None:
        """Stop the task; a reader stuck in a network read is given up after its timeout."""
        self.stop.set()
        if self.task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self.task), self.config.read_timeout_s + 2.0)
        except TimeoutError:
            logger.warning(
                "camera %s did not stop in time",
                self.spec.camera_id,
                extra=ids(camera=self.spec.camera_id),
            )
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _run(self) -> None:
        evidence: asyncio.Task[None] | None = None
        if self.spec.evidence_url is not None:
            evidence = asyncio.create_task(
                self.evidence.keep_reading(self._open_evidence, self.stop)
            )
        try:
            frames = self.supervisor.frames(self.stop)
            publish = self._manager.publish
            camera = CameraAnalysis(
                self.spec.analysis_width, self.tracker, publish, self.detector, self.gate, publish
            )
            async with contextlib.aclosing(frames):
                await run_camera(frames, self.worker, self._manager.analysis, camera)
        except Exception as exc:  # a bug, not a camera failure: report it, reconcile restarts
            logger.exception(
                "camera %s: pipeline task crashed",
                self.spec.camera_id,
                extra=ids(camera=self.spec.camera_id),
            )
            error = f"camera {self.spec.camera_id}: pipeline task crashed ({type(exc).__name__})"
            await self._on_status(
                StatusChange(self.spec.camera_id, CameraStatus.offline, error, time.time())
            )
        finally:
            if evidence is not None:
                self.stop.set()
                await evidence

    def _open_evidence(self) -> CameraSource:
        assert self.spec.evidence_url is not None
        if self._evidence_source is not None:
            self._evidence_earlier += self._evidence_source.stats.packets
        self._evidence_source = CameraSource(
            self.spec.camera_id,
            self.spec.evidence_url,
            self.ring,
            decode=False,
            loop_file=self.spec.kind is SourceKind.file,
            open_timeout_s=self.config.open_timeout_s,
            read_timeout_s=self.config.read_timeout_s,
        )
        return self._evidence_source

    def _open_source(self) -> CameraSource:
        if self._source is not None:
            old, total = self._source.stats, self._earlier
            total.packets += old.packets
            total.frames_decoded += old.frames_decoded
            total.frames_dropped += old.frames_dropped
        self._source = CameraSource(
            self.spec.camera_id,
            self.spec.url,
            self.ring,
            keep_packets=self.spec.evidence_url is None,
            analysis_fps=self.spec.analysis_fps,
            max_width=self.spec.analysis_width,
            queue_size=self.config.queue_size,
            loop_file=self.spec.kind is SourceKind.file,
            open_timeout_s=self.config.open_timeout_s,
            read_timeout_s=self.config.read_timeout_s,
        )
        return self._source

    async def _on_status(self, change: StatusChange) -> None:
        if self.stop.is_set():  # retired: the camera was disabled, changed or deleted
            return
        self._manager.report(change)

    @property
    def queue_depth(self) -> int:
        """Analysis frames of the current source waiting for the chain."""
        return self._source.queue_depth if self._source is not None else 0

    def stats(self) -> CameraPipelineStats:
        current = self._source.stats if self._source is not None else SourceStats()
        evidence = self._evidence_source.stats if self._evidence_source else SourceStats()
        supervisor, worker = self.supervisor.stats, self.worker
        return CameraPipelineStats(
            camera_id=self.spec.camera_id,
            store_id=self.spec.store_id,
            status=self.supervisor.status,
            fps=round(worker.analysed.per_s(), 2),
            target_fps=self.spec.analysis_fps,
            input_fps=round(worker.taken.per_s(), 2),
            frames_analysed=worker.analysed.count,
            frames_dropped=self._earlier.frames_dropped + current.frames_dropped + worker.dropped,
            frames_failed=worker.failed,
            frames_decoded=self._earlier.frames_decoded + current.frames_decoded,
            frames_gated=worker.gated,
            wakeups=worker.wakeups,
            packets=self._earlier.packets
            + current.packets
            + self._evidence_earlier
            + evidence.packets,
            people=worker.people,
            live_tracks=len(self.tracker.live_ids()),
            top_score=round(worker.verdicts.top, 4) if worker.verdicts is not None else None,
            scoring=stage_times(worker.scoring),
            pose=stage_times(worker.pose),
            pose_wait=stage_times(worker.queued),
            tracking=stage_times(worker.tracking),
            latency=stage_times(worker.latency),
            analysis_width=self.spec.analysis_width,
            ring_seconds=round(self.ring.span_s, 3),
            ring_bytes=self.ring.nbytes,
            attempts=supervisor.attempts,
            errors=supervisor.errors,
            last_error=supervisor.last_error,
            evidence_stream=self.spec.evidence_url is not None,
            evidence_errors=self.evidence.stats.errors,
            evidence_last_error=self.evidence.stats.last_error,
            running_s=round(time.monotonic() - self.started, 3),
        )


class PipelineManager:
    """Runs the assigned cameras and follows changes to the camera list.

    Example:
        manager = PipelineManager(settings=settings, sessionmaker=sm, bus=bus)
        await manager.start(); manager.request_reconcile(); await manager.stop()
    """

    def __init__(
        self,
        *,
        config: PipelineConfig,
        catalog: CameraCatalog,
        assignment: CameraAssignment | None = None,
        estimator: Callable[[], PoseEstimator] | None = None,
        publish: Callable[[object], None] | None = None,
        detector: Detector | None = None,
    ) -> None:
        """`estimator` makes one pose estimator per worker (default: `OnnxPose` on the
        configured model); `publish` takes every camera's `FrameAnalysis` records;
        `detector` scores the tracked people (None: they are tracked only); `publish` also
        takes every camera's `StatusChange`s and, with `presence_gate` on, the `Frame`s the
        gate kept from pose (the live view shows them)."""
        self.config = config
        self._catalog = catalog
        self.assignment: CameraAssignment = assignment or LocalAssignment()
        self._estimator = estimator or self._make_pose
        self._runners: dict[int, CameraRunner] = {}
        self._retiring: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.publish = publish
        self.detector = detector
        self.analysis: Analysis | None = None
        self.analysis_error: str | None = None

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    @property
    def behaviour_error(self) -> str | None:
        """Why cameras that are analysed are not scored."""
        if self.analysis is None:
            return None
        error = "no detector is configured" if self.detector is None else self.detector.error
        return None if error is None else f"people are tracked but not scored: {error}"

    def history_s(self) -> float:
        """Seconds of keypoints each track keeps: the configured ones, or the detector's
        window when that is longer, so live rows are whole."""
        wanted = self.detector.history_s() if self.detector is not None else 0.0
        return max(self.config.track_history_s, wanted)

    @property
    def runners(self) -> dict[int, CameraRunner]:
        """Running cameras by id (read-only use)."""
        return dict(self._runners)

    def ring(self, camera_id: int) -> PacketRing | None:
        """The camera's ring buffer, when this process runs it."""
        runner = self._runners.get(camera_id)
        return runner.ring if runner is not None else None

    async def start(self) -> None:
        """Start following the camera list; returns at once (the first reconcile runs behind)."""
        if not self.config.enabled:
            logger.info("video pipeline disabled (pipeline.enabled = false)")
            return
        self.analysis = await asyncio.to_thread(self._start_analysis)
        self._task = asyncio.create_task(self._reconcile_forever(), name="pipeline-reconcile")

    def request_reconcile(self) -> None:
        """Ask for a reconcile soon; cheap and never fails (called by routes after commit)."""
        self._wake.set()

    async def reconcile(self) -> None:
        """Start, restart and stop camera tasks so they match the assigned enabled cameras."""
        async with self._lock:
            if self._closing or not self.config.enabled:
                return
            specs = await self._catalog.enabled()
            wanted = {spec.camera_id: spec for spec in self.assignment.assigned(specs)}
            for camera_id, runner in list(self._runners.items()):
                task_ended = runner.task is not None and runner.task.done()
                if wanted.get(camera_id) != runner.spec or task_ended:
                    self._retire(self._runners.pop(camera_id))
            for camera_id, spec in wanted.items():
                if camera_id not in self._runners:
                    runner = CameraRunner(spec, self.config, self)
                    self._runners[camera_id] = runner
                    runner.start()
                    logger.info(
                        "camera %s: started (%s)",
                        camera_id,
                        redact_url(spec.url),
                        extra=ids(camera=camera_id),
                    )

    async def stop(self) -> None:
        """Stop every camera, wait for them, and record them as offline."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        async with self._lock:
            runners = list(self._runners.values())
            self._runners.clear()
        await asyncio.gather(*(runner.close() for runner in runners), *self._retiring)
        if self.analysis is not None:
            await asyncio.to_thread(self.analysis.pool.close)
            self.analysis.tracking.shutdown(wait=False, cancel_futures=True)
            self.analysis = None
        for runner in runners:
            self.report(
                StatusChange(
                    runner.spec.camera_id, CameraStatus.offline, STOPPED_ERROR, time.time()
                )
            )

    def report(self, change: StatusChange) -> None:
        """Publish a camera's status change (stored and announced by its subscriber)."""
        if self.publish is not None:
            self.publish(change)

    def _make_pose(self) -> PoseEstimator:
        return make_pose_estimator(self.config)

    def _start_analysis(self) -> Analysis | None:
        """Load the pose model into the workers; on failure cameras still fill their rings."""
        pool = PosePool(
            self._estimator,
            workers=self.config.pose_workers,
            max_batch=self.config.pose_batch,
            max_pending=self.config.pose_queue,
        )
        try:
            pool.start()
        except ModelError as exc:
            self.analysis_error = f"cameras are not analysed: {exc.message}"
            logger.error("%s", self.analysis_error)
            return None
        tracking = ThreadPoolExecutor(1, thread_name_prefix="tracking")
        if self.detector is not None:
            self.detector.load()  # once: e.g. the active model and any candidate (shadow)
        return Analysis(pool, tracking)

    def pose_stats(self) -> PoseWorkersStats | None:
        """Counters of the shared pose workers; None when cameras are not analysed."""
        if self.analysis is None:
            return None
        pool = self.analysis.pool
        running = max(time.monotonic() - pool.started, 1e-9) * pool.workers
        return PoseWorkersStats(
            workers=pool.workers,
            busy=pool.busy,
            queue_depth=pool.depth,
            queue_size=pool.max_pending,
            max_batch=pool.max_batch,
            fps=round(pool.stats.rate.per_s(), 2),
            frames=pool.stats.rate.count,
            dropped=pool.stats.dropped,
            batches=pool.stats.batches,
            utilisation=round(min(1.0, pool.stats.busy_s / running), 3),
            inference=stage_times(pool.stats.inference),
            wait=stage_times(pool.stats.queued),
        )

    def stats(self, store_ids: list[int] | None) -> list[CameraPipelineStats]:
        """Counters of the running cameras, of `store_ids` only unless None."""
        return [
            runner.stats()
            for camera_id, runner in sorted(self._runners.items())
            if store_ids is None or runner.spec.store_id in store_ids
        ]

    def _retire(self, runner: CameraRunner) -> None:
        logger.info(
            "camera %s: stopping", runner.spec.camera_id, extra=ids(camera=runner.spec.camera_id)
        )
        task = asyncio.create_task(runner.close())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _reconcile_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.reconcile()
            except Exception:  # the database may be down for a while; try again later
                logger.exception("reconciling the camera list failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.reconcile_interval_s)


def stage_times(durations: Durations) -> StageTimes:
    return StageTimes(p50_ms=durations.percentile_ms(50), p95_ms=durations.percentile_ms(95))


async def _ignore(_change: StatusChange) -> None:
    """The main stream's reader publishes no status: the analysis stream's is the camera's."""
