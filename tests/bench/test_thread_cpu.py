"""The benchmark's CPU split by kind of thread, read from /proc."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from server.bench.thread_cpu import cores_used, thread_cpu_s

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/task")


def test_a_busy_kind_of_thread_shows_its_cores_and_an_idle_one_none() -> None:
    stop = threading.Event()

    def burn() -> None:
        while not stop.is_set():
            sum(range(1000))

    busy = [threading.Thread(target=burn, name=f"burner-{i}") for i in range(2)]
    idle = threading.Thread(target=stop.wait, name="sleeper_7")
    for thread in (*busy, idle):
        thread.start()
    try:
        before, started = thread_cpu_s(), time.monotonic()
        time.sleep(0.5)
        after = thread_cpu_s()
        cores = cores_used(before, after, time.monotonic() - started)
    finally:
        stop.set()
        for thread in (*busy, idle):
            thread.join()
    assert {"burner", "sleeper"} <= after.keys()  # numbers dropped: one entry per kind
    assert cores["burner"] > 0.2  # two spinning threads (they share the GIL)
    assert "sleeper" not in cores  # waited the whole time: no CPU used
