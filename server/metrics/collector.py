"""The running server's own counters as Prometheus metrics, read at each scrape.

Nothing is counted twice: cameras' rates, drops, reconnects and stage durations come from
the pipeline (`CameraRunner.stats()`, `WorkerStats`, `metrics/timings.py`), the pose
workers' from `PosePool`, alerts' from the `AlertRecorder`, live clients' from the event bus
and push outcomes from the `PushDispatcher`. Cameras are labelled by id (`camera`, `store`),
so the series stay as many as the cameras.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from server.metrics.timings import BUCKETS_S, Durations
from server.notify.push import Delivery
from shared.schemas.cameras import CameraStatus

if TYPE_CHECKING:
    from server.alerting.recorder import AlertRecorder
    from server.notify.bus import LocalEventBus
    from server.notify.dispatcher import PushDispatcher
    from server.notify.shared_bus import SharedEventBus
    from server.pipeline.manager import CameraRunner, PipelineManager
    from server.runtime import Runtime

CAMERA = ("camera", "store")
BOUNDS = [str(bound) for bound in BUCKETS_S] + ["+Inf"]  # "0.0025", as Prometheus writes
# (metric suffix, WorkerStats field, what one observation is)
CAMERA_STAGES = (
    ("pose", "pose", "Pose model time per analysed frame."),
    ("pose_wait", "queued", "Time a frame waited for a pose worker."),
    ("tracking", "tracking", "Tracking time per analysed frame."),
    ("scoring", "scoring", "Behaviour scoring (features, model, smoothing) per scored frame."),
    ("latency", "latency", "Capture to tracks, wall clock, per analysed frame."),
)


class RuntimeCollector:
    """A prometheus_client collector over a runtime that may not be started yet."""

    def __init__(self, runtime_of: Callable[[], Runtime | None]) -> None:
        self._runtime_of = runtime_of

    def collect(self) -> Iterator[Metric]:
        runtime = self._runtime_of()
        if runtime is None:
            return
        yield from camera_metrics(runtime.pipeline)
        yield from pose_pool_metrics(runtime.pipeline)
        yield from alert_metrics(runtime.alerts, runtime.bus)
        yield from push_metrics(runtime.pushes)
        yield from server_metrics(runtime)


def histogram(name: str, documentation: str, labels: tuple[str, ...]) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, documentation, labels=labels)


def add_durations(family: HistogramMetricFamily, labels: list[str], durations: Durations) -> None:
    cumulative, sum_s = durations.buckets()
    family.add_metric(labels, list(zip(BOUNDS, map(float, cumulative), strict=True)), sum_s)


def camera_metrics(pipeline: PipelineManager) -> Iterator[Metric]:
    """Per camera: rates, counters, queue depth and the stage histograms."""
    gauges = {
        "fps": GaugeMetricFamily(
            "shopguard_camera_fps", "Frames analysed per second (last 5 s).", labels=CAMERA
        ),
        "input_fps": GaugeMetricFamily(
            "shopguard_camera_input_fps",
            "Frames taken from the source per second (last 5 s).",
            labels=CAMERA,
        ),
        "target_fps": GaugeMetricFamily(
            "shopguard_camera_target_fps", "The camera's analysis rate.", labels=CAMERA
        ),
        "online": GaugeMetricFamily(
            "shopguard_camera_online", "1 while the camera is online, else 0.", labels=CAMERA
        ),
        "people": GaugeMetricFamily(
            "shopguard_camera_people", "People tracked in the last analysed frame.", labels=CAMERA
        ),
        "queue": GaugeMetricFamily(
            "shopguard_camera_queue_depth",
            "Decoded frames waiting for the camera's analysis (the oldest drops when full).",
            labels=CAMERA,
        ),
    }
    counters = {
        "analysed": CounterMetricFamily(
            "shopguard_camera_frames_analysed", "Frames analysed (pose and tracks).", labels=CAMERA
        ),
        "dropped": CounterMetricFamily(
            "shopguard_camera_frames_dropped",
            "Frames dropped: pushed out of the camera's queue or of the pose queue.",
            labels=CAMERA,
        ),
        "failed": CounterMetricFamily(
            "shopguard_camera_frames_failed", "Frames whose pose or tracking raised.", labels=CAMERA
        ),
        "gated": CounterMetricFamily(
            "shopguard_camera_frames_gated",
            "Frames never analysed: the presence gate saw nobody in view and nothing move "
            "(those held for a possible wake-up are counted once given up).",
            labels=CAMERA,
        ),
        "wakeups": CounterMetricFamily(
            "shopguard_camera_wakeups",
            "Times the presence gate resumed analysis of a camera showing nobody.",
            labels=CAMERA,
        ),
        "reconnects": CounterMetricFamily(
            "shopguard_camera_reconnects",
            "Times the camera's source was reopened after a failure, stall or end.",
            labels=CAMERA,
        ),
        "errors": CounterMetricFamily(
            "shopguard_camera_source_errors", "Source failures (open, read, stall).", labels=CAMERA
        ),
    }
    stages = {
        field: histogram(f"shopguard_camera_{suffix}_seconds", documentation, CAMERA)
        for suffix, field, documentation in CAMERA_STAGES
    }
    for runner in pipeline.runners.values():
        add_camera(runner, gauges, counters, stages)
    yield from gauges.values()
    yield from counters.values()
    yield from stages.values()


def add_camera(
    runner: CameraRunner,
    gauges: dict[str, GaugeMetricFamily],
    counters: dict[str, CounterMetricFamily],
    stages: dict[str, HistogramMetricFamily],
) -> None:
    stats = runner.stats()
    labels = [str(stats.camera_id), str(stats.store_id)]
    gauges["fps"].add_metric(labels, stats.fps)
    gauges["input_fps"].add_metric(labels, stats.input_fps)
    gauges["target_fps"].add_metric(labels, stats.target_fps)
    gauges["online"].add_metric(labels, float(stats.status is CameraStatus.online))
    gauges["people"].add_metric(labels, stats.people)
    gauges["queue"].add_metric(labels, runner.queue_depth)
    counters["analysed"].add_metric(labels, stats.frames_analysed)
    counters["dropped"].add_metric(labels, stats.frames_dropped)
    counters["failed"].add_metric(labels, stats.frames_failed)
    # frames held for a possible wake-up may still be analysed: counted once given up
    waiting = runner.gate.waiting if runner.gate is not None else 0
    counters["gated"].add_metric(labels, max(stats.frames_gated - waiting, 0))
    counters["wakeups"].add_metric(labels, stats.wakeups)
    counters["reconnects"].add_metric(labels, max(stats.attempts - 1, 0))
    counters["errors"].add_metric(labels, stats.errors)
    for field, family in stages.items():
        add_durations(family, labels, getattr(runner.worker, field))


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def pose_pool_metrics(pipeline: PipelineManager) -> Iterator[Metric]:
    """The pose workers all cameras share (nothing while cameras are not analysed)."""
    if pipeline.analysis is None:
        return
    pool = pipeline.analysis.pool
    yield gauge("shopguard_pose_queue_depth", "Frames waiting for a pose worker.", pool.depth)
    yield gauge("shopguard_pose_queue_size", "Pose queue capacity (oldest drop).", pool.max_pending)
    yield gauge("shopguard_pose_workers", "Pose worker threads.", pool.workers)
    yield gauge("shopguard_pose_workers_busy", "Pose workers running the model now.", pool.busy)
    yield counter(
        "shopguard_pose_frames", "Frames the pose workers analysed.", pool.stats.rate.count
    )
    yield counter(
        "shopguard_pose_frames_dropped", "Frames pushed out of the pose queue.", pool.stats.dropped
    )
    yield counter(
        "shopguard_pose_busy_seconds", "Seconds workers spent in the model.", pool.stats.busy_s
    )
    inference = histogram(
        "shopguard_pose_inference_seconds", "Pose model time per frame, all cameras.", ()
    )
    add_durations(inference, [], pool.stats.inference)
    yield inference


def alert_metrics(recorder: AlertRecorder, bus: LocalEventBus | SharedEventBus) -> Iterator[Metric]:
    """The alert recorder's queue and outcomes, and the live WebSocket clients."""
    stats = recorder.stats
    yield gauge(
        "shopguard_alert_queue_depth",
        "Scored frames waiting for the alert recorder (the database).",
        recorder.queue_depth,
    )
    yield counter(
        "shopguard_alert_frames_dropped", "Scored frames refused: queue full.", stats.dropped
    )
    yield counter("shopguard_alerts_opened", "Alerts opened (new episodes).", stats.opened)
    yield counter("shopguard_alerts_extended", "Alert episodes extended.", stats.extended)
    yield counter("shopguard_alert_write_retries", "Alert writes retried.", stats.retries)
    yield gauge("shopguard_ws_clients", "Live event WebSocket clients.", bus.subscriber_count)
    yield counter(
        "shopguard_ws_clients_dropped",
        "Live clients dropped: fell behind.",
        bus.dropped_subscribers,
    )


def server_metrics(runtime: Runtime) -> Iterator[Metric]:
    """Live viewers, and the event loop's tasks: a count that only grows is a leak."""
    yield gauge(
        "shopguard_live_viewers", "Live video viewers (WebRTC and MJPEG).", runtime.live.count()
    )
    try:
        tasks = len(asyncio.all_tasks())
    except RuntimeError:  # scraped off the event loop (a test): nothing to count
        return
    yield gauge("shopguard_event_loop_tasks", "Tasks on the server's event loop.", tasks)


def push_metrics(dispatcher: PushDispatcher) -> Iterator[Metric]:
    """What the push providers answered, per channel; zero series for each configured one."""
    outcomes = dict.fromkeys(
        ((channel, delivery.value) for channel in dispatcher.notifiers for delivery in Delivery), 0
    )
    outcomes.update(dispatcher.stats.outcomes)
    family = CounterMetricFamily(
        "shopguard_push_outcomes",
        "Push attempts by channel (webpush, fcm, apns) and outcome (sent, retry, gone, refused).",
        labels=("channel", "outcome"),
    )
    for (channel, outcome), count in sorted(outcomes.items()):
        family.add_metric([channel, outcome], count)
    yield family
