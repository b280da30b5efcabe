"""The publish buffer: records wait here, bounded and in order, until the backend has them.

While the backend is away the sender retries (see `retrying`) and new records queue up
behind the waiting ones; when `max_records` wait, `put` raises BusUnavailable rather than
grow without bound or drop silently. A batch whose answer was lost is written again, so
an entry may be stored twice (at least once).
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from server.bus.retrying import retrying
from server.bus.transport import BusUnavailable

logger = logging.getLogger(__name__)

WriteBatch = Callable[[list[tuple[str, bytes]]], Awaitable[list[str]]]
"""Writes (stream key, encoded record) pairs in order and returns their entry ids."""


@dataclass(slots=True)
class _Waiting:
    key: str
    data: bytes
    entry_id: asyncio.Future[str]


class PublishBuffer:
    """Bounded FIFO of records on their way to the backend, with one sender task."""

    def __init__(
        self,
        write: WriteBatch,
        *,
        errors: tuple[type[BaseException], ...],
        max_records: int,
        batch_size: int = 256,
        backend: str = "the bus backend",
    ) -> None:
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self._write, self._errors = write, errors
        self.max_records, self._batch_size, self._backend = max_records, batch_size, backend
        self._waiting: deque[_Waiting] = deque()
        self._wakeup = asyncio.Event()  # set: records wait
        self._drained = asyncio.Event()  # set: none wait
        self._sender: asyncio.Task[None] | None = None
        self._closed = False
        self._failing_since: float | None = None
        self._last_error = ""

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, key: str, data: bytes) -> asyncio.Future[str]:
        """Queue a record behind the others; the future gives its entry id once written."""
        if self._closed:
            raise BusUnavailable("the bus is closed")
        if len(self._waiting) >= self.max_records:
            raise BusUnavailable(self._full_message())
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(key, data, future))
        self._wakeup.set()
        self._drained.clear()
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_forever(), name="bus-publish")
            self._sender.add_done_callback(self._sender_ended)
        return future

    def _sender_ended(self, sender: asyncio.Task[None]) -> None:
        """A sender that crashed fails what waits (no caller waits forever); the next
        `put` starts another."""
        self._sender = None
        if sender.cancelled() or sender.exception() is None:
            return
        error = sender.exception()
        logger.error("bus: the publish sender crashed: %r", error)
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.entry_id.done():
                waiting.entry_id.set_exception(BusUnavailable(f"publish failed: {error!r}"))

    async def close(self, timeout_s: float) -> int:
        """Give the sender up to `timeout_s` to write what waits, then stop it. Returns how
        many records were never written (their futures are cancelled)."""
        if self._waiting and self._sender is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), timeout_s)
        self._closed = True
        if (sender := self._sender) is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        unsent = len(self._waiting)
        for waiting in self._waiting:
            waiting.entry_id.cancel()
        self._waiting.clear()
        if unsent:
            logger.error("bus: closed with %d records not written to %s", unsent, self._backend)
        return unsent

    def _full_message(self) -> str:
        if self._failing_since is None:
            why = f"{self._backend} does not keep up"
        else:
            away_s = time.monotonic() - self._failing_since
            why = f"{self._backend} has been unreachable for {away_s:.1f} s ({self._last_error})"
        return (
            f"bus unavailable: {len(self._waiting)} records already wait to be published, "
            f"the most this process buffers; {why}. This record was not published."
        )

    def _failed(self, error: BaseException) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
        self._last_error = f"{type(error).__name__}: {error}"

    async def _send_forever(self) -> None:
        policy = retrying(
            "publish", self._errors, closed=lambda: self._closed, on_retry=self._failed
        )
        while True:
            if not self._waiting:
                self._wakeup.clear()
                self._drained.set()
                await self._wakeup.wait()
                continue
            batch = [self._waiting[i] for i in range(min(self._batch_size, len(self._waiting)))]
            try:
                ids: list[str] = await policy(self._write, [(w.key, w.data) for w in batch])
            except Exception as error:  # refused, not unreachable: retrying would not help
                logger.exception("bus: %s refused %d records", self._backend, len(batch))
                for waiting in batch:
                    self._waiting.popleft()
                    if not waiting.entry_id.done():
                        waiting.entry_id.set_exception(error)
                continue
            if self._failing_since is not None:
                logger.warning("bus: %s is back, publishing again", self._backend)
                self._failing_since = None
            for waiting, entry_id in zip(batch, ids, strict=True):
                self._waiting.popleft()
                if not waiting.entry_id.done():
                    waiting.entry_id.set_result(entry_id)
