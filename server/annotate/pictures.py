"""Pictures drawn and encoded off the event loop, on a few threads of their own.

Drawing people on a frame and encoding it (a live view's video frame or JPEG, a camera
list's snapshot, an alert's snapshot) takes milliseconds of CPU each. On asyncio's default
executor a burst of snapshot requests would queue ahead of the file, store and model work
that waits there too; here pictures queue only behind pictures. A request that can simply
ask again (a snapshot) is refused while `max_waiting` pictures already wait, so a burst
cannot pile up seconds of work ahead of the live views; live frames and evidence wait their
turn. The runtime owns one `PictureThreads` and closes it at shutdown.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from server.errors import Unavailable

P = ParamSpec("P")
T = TypeVar("T")
MAX_WAITING = 32  # pictures queued or drawing before a snapshot request is refused


class PictureThreads:
    """Runs picture work on `threads` threads (default: one per core, at most 4)."""

    def __init__(self, threads: int | None = None, max_waiting: int = MAX_WAITING) -> None:
        self._threads = ThreadPoolExecutor(
            threads or min(4, os.cpu_count() or 1), thread_name_prefix="picture"
        )
        self.max_waiting = max_waiting
        self._waiting = 0  # submitted and not finished (a cancelled caller's work included)
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return self._waiting

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`work(*args, **kwargs)` on these threads."""
        future = self._threads.submit(functools.partial(work, *args, **kwargs))
        with self._lock:
            self._waiting += 1
        future.add_done_callback(self._finished)
        return await asyncio.wrap_future(future)

    async def run_or_refuse(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`run`, or Unavailable (503) while `max_waiting` pictures already wait."""
        if self._waiting >= self.max_waiting:
            raise Unavailable("the server is busy drawing pictures; try again in a moment")
        return await self.run(work, *args, **kwargs)

    def close(self) -> None:
        """Let the threads go, dropping queued work (at shutdown)."""
        self._threads.shutdown(wait=False, cancel_futures=True)

    def _finished(self, _: Future[Any]) -> None:
        with self._lock:
            self._waiting -= 1
