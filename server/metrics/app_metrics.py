"""One app's metrics registry: its own, never prometheus_client's global one, so tests (and a
process) can build several apps side by side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder

from server.metrics.collector import RuntimeCollector

if TYPE_CHECKING:
    from server.runtime import Runtime

HTTP_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DELIVERY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True, slots=True)
class AppMetrics:
    """The registry `/metrics` renders, and the histograms the middleware observes into.

    Example:
        metrics = AppMetrics.create(lambda: runtime_or_none)
        metrics.http_latency.labels("GET", "/api/v1/cameras", "200").observe(0.004)
    """

    registry: CollectorRegistry
    http_latency: Histogram  # labels: method, route (the template), status
    alert_delivery: Histogram

    @classmethod
    def create(cls, runtime_of: Callable[[], Runtime | None]) -> AppMetrics:
        """`runtime_of` gives the running server's runtime, None before start-up."""
        registry = CollectorRegistry()
        ProcessCollector(registry=registry)  # process_cpu_seconds_total, resident memory...
        registry.register(RuntimeCollector(runtime_of))
        http_latency = Histogram(
            "shopguard_http_request_duration_seconds",
            "HTTP requests by method, route template and status: time to the last byte.",
            ("method", "route", "status"),
            registry=registry,
            buckets=HTTP_BUCKETS_S,
        )
        alert_delivery = Histogram(
            "shopguard_alert_delivery_seconds",
            "From an alert being decided (its alert.created event written with it) to that "
            "event leaving on a live WebSocket, per client; replays after a reconnect excluded.",
            registry=registry,
            buckets=DELIVERY_BUCKETS_S,
        )
        return cls(registry, http_latency, alert_delivery)

    def render(self, accept: str) -> tuple[bytes, str]:
        """Everything registered, in the format the scraper's Accept header asks for (the
        Prometheus text format, or OpenMetrics); the body and its content type."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type
