"""Rolling counters for the pipeline's stats: recent durations (p50/p95) and event rates.

Durations also count into fixed buckets since start, which `/metrics` exposes as Prometheus
histograms (`server/metrics/collector.py`). Thread-safe: pose workers write them while the
API reads them."""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

RATE_WINDOW_S = 5.0
SAMPLES_KEPT = 256
# upper bounds (seconds, inclusive) of the histogram buckets: a millisecond of tracking up to
# seconds of capture-to-tracks latency on an overloaded box
BUCKETS_S: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
)  # fmt: skip


class Buckets(NamedTuple):
    """Durations since start as a Prometheus histogram holds them."""

    cumulative: list[int]  # at or below each of BUCKETS_S, then all of them (+Inf)
    sum_s: float


@dataclass(slots=True)
class Durations:
    """The last `SAMPLES_KEPT` durations of one stage, in seconds; totals since start."""

    count: int = 0
    total_s: float = 0.0
    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES_KEPT))
    _counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_S) + 1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float) -> None:
        with self._lock:
            self.count += 1
            self.total_s += seconds
            self._recent.append(seconds)
            self._counts[bisect.bisect_left(BUCKETS_S, seconds)] += 1

    def buckets(self) -> Buckets:
        """Every duration since start, counted at or below each bucket bound."""
        with self._lock:
            counts, total = list(self._counts), self.total_s
        return Buckets(list(itertools.accumulate(counts)), total)

    def percentile_ms(self, q: float) -> float | None:
        """The `q`-th percentile (0 to 100) of the recent durations in ms; None before any."""
        with self._lock:
            recent = list(self._recent)
        if not recent:
            return None
        return round(float(np.percentile(recent, q)) * 1000.0, 2)


@dataclass(slots=True)
class Rate:
    """Events per second over the last `RATE_WINDOW_S` seconds (monotonic clock)."""

    count: int = 0
    started: float = field(default_factory=time.monotonic)
    _recent: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self.count += 1
            self._recent.append(now)
            self._forget(now)

    def per_s(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._forget(now)
            recent = len(self._recent)
        span = min(RATE_WINDOW_S, now - self.started)
        return recent / span if span > 0 else 0.0

    def _forget(self, now: float) -> None:
        while self._recent and now - self._recent[0] > RATE_WINDOW_S:
            self._recent.popleft()
