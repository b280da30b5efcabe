"""Rolling counters for the pipeline's stats: recent durations (p50/p95) and event rates."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

RATE_WINDOW_S = 5.0
SAMPLES_KEPT = 256


@dataclass(slots=True)
class Durations:
    """The last `SAMPLES_KEPT` durations of one stage, in seconds; totals since start."""

    count: int = 0
    total_s: float = 0.0
    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES_KEPT))

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total_s += seconds
        self._recent.append(seconds)

    def percentile_ms(self, q: float) -> float | None:
        """The `q`-th percentile (0 to 100) of the recent durations in ms; None before any."""
        if not self._recent:
            return None
        return round(float(np.percentile(np.fromiter(self._recent, float), q)) * 1000.0, 2)


@dataclass(slots=True)
class Rate:
    """Events per second over the last `RATE_WINDOW_S` seconds (monotonic clock)."""

    count: int = 0
    started: float = field(default_factory=time.monotonic)
    _recent: deque[float] = field(default_factory=deque)

    def mark(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.count += 1
        self._recent.append(now)
        self._forget(now)

    def per_s(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        self._forget(now)
        span = min(RATE_WINDOW_S, now - self.started)
        return len(self._recent) / span if span > 0 else 0.0

    def _forget(self, now: float) -> None:
        while self._recent and now - self._recent[0] > RATE_WINDOW_S:
            self._recent.popleft()
