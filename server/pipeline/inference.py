"""③ pose for every camera: a few inference threads shared by all cameras.

Cameras submit their newest analysis frame and await its poses. Pending frames wait in one
bounded queue; a worker takes the oldest, plus up to `max_batch - 1` more of the same model
input size (frames of other cameras) when its estimator runs batches. When the queue is
full the oldest pending frame is dropped and counted, so a slow model sheds load instead of
building up latency. Each worker owns its estimator (ONNX Runtime sessions are not shared
across threads here); with one intra-op thread each, N workers use N cores.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from server.metrics.timings import Durations, Rate
from server.pipeline.pose import PoseEstimator
from server.records.people import Poses
from server.records.video import Frame

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PoseResult:
    """The poses of one frame and what they cost."""

    frame: Frame
    poses: Poses
    queued_s: float  # submitted → taken by a worker
    inference_s: float  # the model call's share for this frame (a batch's time / its size)
    batch: int  # frames in the model call


class FrameDropped(Exception):
    """A newer frame pushed this one out of the full queue before a worker took it."""


@dataclass(slots=True)
class _Job:
    frame: Frame
    input_hw: tuple[int, int]
    submitted: float
    future: concurrent.futures.Future[PoseResult]


@dataclass(slots=True)
class PoolStats:
    submitted: int = 0
    dropped: int = 0
    batches: int = 0
    inference: Durations = field(default_factory=Durations)  # per frame
    queued: Durations = field(default_factory=Durations)
    rate: Rate = field(default_factory=Rate)  # frames done per second
    busy_s: float = 0.0  # summed over workers


class PosePool:
    """Runs pose estimation for all cameras on `workers` threads.

    Example:
        pool = PosePool(lambda: OnnxPose(path, threads=1), workers=2)
        pool.start()
        result = await pool.estimate(frame, (384, 640))
        pool.close()
    """

    def __init__(
        self,
        make_estimator: Callable[[], PoseEstimator],
        *,
        workers: int = 2,
        max_batch: int = 1,
        max_pending: int = 16,
    ) -> None:
        if workers < 1 or max_batch < 1 or max_pending < 1:
            raise ValueError("workers, max_batch and max_pending must be at least 1")
        self.workers, self.max_batch, self.max_pending = workers, max_batch, max_pending
        self.stats = PoolStats()
        self._make_estimator = make_estimator
        self._pending: list[_Job] = []
        self._ready = threading.Condition()
        self._closed = False
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self.started = time.monotonic()

    def start(self) -> None:
        """Load one estimator per worker (raising `ModelError` now), run each once on a blank
        frame (ONNX Runtime's first call is several times slower), start the threads."""
        estimators = [self._make_estimator() for _ in range(self.workers)]
        for estimator in estimators:
            height, width = estimator.input_hw
            estimator.estimate(np.full((height, width, 3), 114, np.uint8))
        self.default_input_hw = estimators[0].input_hw
        self.sizes_fixed = estimators[0].sizes_fixed
        for index, estimator in enumerate(estimators):
            thread = threading.Thread(
                target=self._work, args=(estimator,), name=f"pose-{index}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    @property
    def depth(self) -> int:
        """Frames waiting for a worker."""
        return len(self._pending)

    @property
    def busy(self) -> int:
        """Workers running the model right now."""
        return self._busy

    async def estimate(self, frame: Frame, input_hw: tuple[int, int]) -> PoseResult:
        """The poses in `frame`; raises `FrameDropped` when a newer frame pushed it out."""
        future: concurrent.futures.Future[PoseResult] = concurrent.futures.Future()
        job = _Job(frame, input_hw, time.monotonic(), future)
        with self._ready:
            if self._closed:
                raise RuntimeError("the pose pool is closed")
            if len(self._pending) >= self.max_pending:
                oldest = self._pending.pop(0)
                oldest.future.set_exception(FrameDropped())
                self.stats.dropped += 1
            self._pending.append(job)
            self.stats.submitted += 1
            self._ready.notify()
        return await asyncio.wrap_future(future)

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the workers after their current call; pending frames are dropped."""
        with self._ready:
            self._closed = True
            for job in self._pending:
                job.future.cancel()
            self._pending.clear()
            self._ready.notify_all()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _take(self) -> list[_Job] | None:
        with self._ready:
            while not self._pending and not self._closed:
                self._ready.wait()
            if self._closed:
                return None
            first = self._pending.pop(0)
            jobs = [first]
            for job in list(self._pending):
                if len(jobs) >= self.max_batch:
                    break
                if job.input_hw == first.input_hw:
                    self._pending.remove(job)
                    jobs.append(job)
            self._busy += 1
            return jobs

    def _work(self, estimator: PoseEstimator) -> None:
        while (jobs := self._take()) is not None:
            try:
                self._run(
                    estimator, [job for job in jobs if job.future.set_running_or_notify_cancel()]
                )
            finally:
                with self._ready:
                    self._busy -= 1

    def _run(self, estimator: PoseEstimator, jobs: list[_Job]) -> None:
        if not jobs:
            return
        started = time.monotonic()
        try:
            found = estimator.estimate_batch([job.frame.image for job in jobs], jobs[0].input_hw)
        except Exception as exc:  # a model failure fails these frames, not the worker
            logger.exception("pose estimation failed")
            for job in jobs:
                job.future.set_exception(exc)
            return
        done = time.monotonic()
        share = (done - started) / len(jobs)
        with self._ready:  # workers share these counters
            self.stats.batches += 1
            self.stats.busy_s += done - started
        for job, poses in zip(jobs, found, strict=True):
            queued = started - job.submitted
            self.stats.inference.add(share)
            self.stats.queued.add(queued)
            self.stats.rate.mark(done)
            job.future.set_result(PoseResult(job.frame, poses, queued, share, len(jobs)))
