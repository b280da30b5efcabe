"""`LocalBus`: the record bus inside one process (one box, `--role all`).

Same semantics as the Redis backend, without serialisation: records are handed over as the
objects published (treat them as read-only). Delivery is at least once: an entry a consumer
took and did not ack within `claim_idle_s` goes to another consumer of its group (or back
to the same one). Nothing survives the process.
"""

import asyncio
import bisect
import contextlib
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import BaseModel

from server.bus.topics import T, Topic
from server.bus.transport import FIRST_ID, BusUnavailable, Delivery, entry_order

BATCH = 256  # entries a reader takes before it lets others run


@dataclass(slots=True)
class _Entry:
    id: str
    order: tuple[int, int]
    record: BaseModel


@dataclass(slots=True)
class _Pending:
    entry: _Entry
    consumer: str
    delivered_at: float
    attempts: int


@dataclass(slots=True)
class _Group:
    last: tuple[int, int] = (0, 0)  # the newest entry handed out
    pending: dict[str, _Pending] = field(default_factory=dict)


@dataclass(slots=True)
class _Stream:
    entries: list[_Entry] = field(default_factory=list)
    groups: dict[str, _Group] = field(default_factory=dict)
    last: tuple[int, int] = (0, 0)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def append(self, record: BaseModel) -> str:
        ms = int(time.time() * 1000)
        self.last = (ms, 0) if ms > self.last[0] else (self.last[0], self.last[1] + 1)
        entry_id = f"{self.last[0]}-{self.last[1]}"
        self.entries.append(_Entry(entry_id, self.last, record))
        self.changed.set()
        self.changed = asyncio.Event()
        return entry_id

    def trim(self, max_len: int) -> None:
        """Keep about the newest `max_len` entries (like MAXLEN ~: in steps, not each time)."""
        if len(self.entries) > max_len + max(1, max_len // 10):
            del self.entries[: len(self.entries) - max_len]

    def after(self, order: tuple[int, int], limit: int) -> list[_Entry]:
        start = bisect.bisect_right(self.entries, order, key=lambda e: e.order)
        return self.entries[start : start + limit]


class LocalBus:
    """In-process `RecordBus`; see the module docstring."""

    def __init__(self, *, stream_max_len: int = 100_000, claim_idle_s: float = 30.0) -> None:
        self.stream_max_len, self.claim_idle_s = stream_max_len, claim_idle_s
        self._streams: dict[str, _Stream] = {}
        self._closed = False
        self._poll_s = min(1.0, claim_idle_s / 4)

    def _stream(self, topic: Topic[Any]) -> _Stream:
        return self._streams.setdefault(topic.name, _Stream())

    def publish_nowait(self, topic: Topic[T], record: T) -> asyncio.Future[str]:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        future.set_result(self._append(topic, record))
        return future

    async def publish(self, topic: Topic[T], record: T) -> str:
        return self._append(topic, record)

    def _append(self, topic: Topic[T], record: T) -> str:
        if self._closed:
            raise BusUnavailable("the bus is closed")
        if not isinstance(record, topic.model):
            raise TypeError(f"topic {topic.name!r} carries {topic.model.__name__}")
        stream = self._stream(topic)
        entry_id = stream.append(record)
        stream.trim(self.stream_max_len)
        return entry_id

    async def consume(
        self, topic: Topic[T], *, group: str, consumer: str
    ) -> AsyncGenerator[Delivery[T], None]:
        stream = self._stream(topic)
        state = stream.groups.setdefault(group, _Group())
        own = sorted(
            (p for p in state.pending.values() if p.consumer == consumer),
            key=lambda p: p.entry.order,
        )
        for pending in own:  # taken by an earlier run of this consumer, never acked
            if state.pending.get(pending.entry.id) is pending:
                yield self._hand_out(topic, group, pending)
        next_claim, handed = 0.0, 0
        while not self._closed:
            pending_or_none = None
            if time.monotonic() >= next_claim:
                pending_or_none = self._claim_idle(state, consumer)
                if pending_or_none is None:
                    next_claim = time.monotonic() + self._poll_s
            if pending_or_none is None:
                pending_or_none = self._take_new(stream, state, consumer)
            if pending_or_none is not None:
                yield self._hand_out(topic, group, pending_or_none)
                handed += 1
                if handed % BATCH == 0:
                    await asyncio.sleep(0)  # a long backlog must not hold the event loop
                continue
            await self._wait(stream.changed)

    def _claim_idle(self, state: _Group, consumer: str) -> _Pending | None:
        """The oldest entry not acked for claim_idle_s, now this consumer's (XAUTOCLAIM)."""
        now = time.monotonic()
        idle = [p for p in state.pending.values() if now - p.delivered_at >= self.claim_idle_s]
        if not idle:
            return None
        pending = min(idle, key=lambda p: p.entry.order)
        pending.consumer = consumer
        return pending

    def _take_new(self, stream: _Stream, state: _Group, consumer: str) -> _Pending | None:
        new = stream.after(state.last, 1)
        if not new:
            return None
        state.last = new[0].order
        pending = _Pending(new[0], consumer, 0.0, 0)
        state.pending[new[0].id] = pending
        return pending

    def _hand_out(self, topic: Topic[T], group: str, pending: _Pending) -> Delivery[T]:
        pending.attempts += 1
        pending.delivered_at = time.monotonic()
        record = cast(T, pending.entry.record)
        return Delivery(pending.entry.id, record, pending.attempts, topic.name, group)

    async def ack(self, delivery: Delivery[Any]) -> None:
        stream = self._streams.get(delivery.topic)
        state = stream.groups.get(delivery.group) if stream is not None else None
        if state is not None:
            state.pending.pop(delivery.id, None)

    async def tail(
        self, topic: Topic[T], after: str | None = None
    ) -> AsyncGenerator[tuple[str, T], None]:
        stream = self._stream(topic)
        last = stream.last if after is None else entry_order(after)
        while not self._closed:
            entries = stream.after(last, BATCH)
            if not entries:
                await self._wait(stream.changed)
                continue
            for entry in entries:
                yield entry.id, cast(T, entry.record)
                last = entry.order
            await asyncio.sleep(0)  # a long backlog must not hold the event loop

    async def read_range(self, topic: Topic[T], after: str, limit: int) -> list[tuple[str, T]]:
        entries = self._stream(topic).after(entry_order(after), limit)
        return [(e.id, cast(T, e.record)) for e in entries]

    async def last_id(self, topic: Topic[Any]) -> str:
        entries = self._stream(topic).entries
        return entries[-1].id if entries else FIRST_ID

    async def close(self) -> None:
        self._closed = True
        for stream in self._streams.values():
            stream.changed.set()

    async def _wait(self, changed: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), self._poll_s)
