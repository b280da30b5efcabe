"""One camera's analysis chain, top to bottom (G1).

Today the chain ends after ① and ②: the reader thread fills the camera's `PacketRing` and
hands analysis frames here, where they are only counted. ③ pose and ④ tracks are wired into
`run_camera` with their own pieces of issue 3.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from server.pipeline.records import Frame

FPS_WINDOW_S = 5.0


@dataclass(slots=True)
class WorkerStats:
    """Frames taken by one camera's worker; `fps` is measured over the last few seconds."""

    frames: int = 0
    started: float = field(default_factory=time.monotonic)
    _recent: deque[float] = field(default_factory=deque)

    def count(self, now: float) -> None:
        self.frames += 1
        self._recent.append(now)
        self._forget(now)

    def fps(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        self._forget(now)
        span = min(FPS_WINDOW_S, now - self.started)
        return len(self._recent) / span if span > 0 else 0.0

    def _forget(self, now: float) -> None:
        while self._recent and now - self._recent[0] > FPS_WINDOW_S:
            self._recent.popleft()


async def run_camera(frames: AsyncIterator[Frame], stats: WorkerStats) -> None:
    """Consume one camera's analysis frames until its supervisor stops."""
    async for _frame in frames:  # ① camera → Frame (② the ring is filled by the reader)
        stats.count(time.monotonic())
        # ③ pose, ④ tracks, ⑤ features … are chained here as they arrive.
