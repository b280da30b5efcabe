"""CPU time per kind of thread of this process, from /proc (Linux): where a run's time goes.

Threads are grouped by their name without its number (`pose-0` → `pose`, `camera-12` →
`camera`, `tracking_0` → `tracking`); threads that ended between two readings are missed.
"""

from __future__ import annotations

import os
import re
import threading

_NUMBER = re.compile(r"[-_]?\d+")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def thread_cpu_s() -> dict[str, float]:
    """Seconds of CPU (user + system) each kind of live thread has used so far."""
    used: dict[str, float] = {}
    for thread in threading.enumerate():
        if thread.native_id is None:
            continue
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # not Linux, or the thread just ended
            continue
        name = thread.name if thread is not threading.main_thread() else "event loop"
        kind = _NUMBER.sub("", name)
        used[kind] = used.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / _TICKS
    return used


def cores_used(
    before: dict[str, float], after: dict[str, float], wall_s: float
) -> dict[str, float]:
    """Cores each kind of thread kept busy between two `thread_cpu_s()` readings."""
    return {
        kind: round((after[kind] - before.get(kind, 0.0)) / wall_s, 3)
        for kind in sorted(after)
        if after[kind] - before.get(kind, 0.0) > 0
    }
