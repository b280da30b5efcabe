"""`RedisStreamsBus`: the record bus between processes and machines, on Redis Streams.

One stream per topic, `{prefix}:{topic}`, trimmed with `XADD ... MAXLEN ~ stream_max_len`;
each entry holds the record as JSON in one field. Work queues are consumer groups
(`XREADGROUP`, `XACK`), created on first use at the start of the stream; entries a dead
consumer took and never acked are claimed by a live one after `claim_idle_s`
(`XAUTOCLAIM`). Broadcast readers use `XREAD` from the last id they saw.

Delivery is at least once. While Redis is away, `publish_nowait` queues records in a
bounded in-order buffer that a sender writes once Redis is back (a batch whose answer was
lost is written again: a duplicate), and readers retry with back-off and resume where they
were. Redis must persist (`appendonly yes`) for entries to outlive a Redis restart.
"""

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import pydantic
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.bus.buffer import PublishBuffer
from server.bus.retrying import retrying
from server.bus.topics import T, Topic
from server.bus.transport import FIRST_ID, Delivery

logger = logging.getLogger(__name__)

FIELD = b"r"  # the one field of an entry: the record's JSON
BATCH = 256  # entries per read, records per XADD pipeline
CALL_TIMEOUT_S = 10.0  # beyond a read's block time: Redis hangs (or is SIGSTOPped)
BACKEND_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,  # refused, reset, and LOADING after a restart
    RedisTimeoutError,
    TimeoutError,  # our CALL_TIMEOUT_S
    OSError,
)
R = TypeVar("R")

Entries = list[tuple[bytes, dict[bytes, bytes] | None]]


@dataclass(slots=True)
class _Place:
    """Where a group consumer is: its own unacked entries after `backlog` (None: all
    read), and when it next looks for idle entries to claim."""

    backlog: str | None = FIRST_ID
    next_claim: float = 0.0


class RedisStreamsBus:
    """`RecordBus` on Redis Streams; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "shopguard",
        stream_max_len: int = 100_000,
        claim_idle_s: float = 30.0,
        buffer_max: int = 10_000,
        block_s: float = 1.0,
        close_timeout_s: float = 5.0,
    ) -> None:
        self.prefix, self.stream_max_len, self.claim_idle_s = prefix, stream_max_len, claim_idle_s
        self._block_ms = int(1000 * min(block_s, claim_idle_s / 4))
        self._close_timeout_s = close_timeout_s
        self._call_timeout_s = block_s + CALL_TIMEOUT_S
        # Retries are ours (tenacity, forever with back-off), not redis-py's (3 then give up).
        # Timeouts are ours too (asyncio.timeout around each call): redis-py's use
        # asyncio.wait_for, which on Python 3.11 can swallow a task's cancellation
        # (CPython gh-86296), and a cancelled reader then kept reading.
        self._redis = Redis.from_url(
            url, retry=Retry(NoBackoff(), 0), socket_timeout=None, socket_connect_timeout=None
        )
        self._closed = False
        self._buffer = PublishBuffer(
            self._write, errors=BACKEND_ERRORS, max_records=buffer_max, backend="Redis"
        )

    def key(self, topic: Topic[Any]) -> str:
        return f"{self.prefix}:{topic.name}"

    # publishing

    def publish_nowait(self, topic: Topic[T], record: T) -> asyncio.Future[str]:
        return self._buffer.put(self.key(topic), topic.encode(record))

    async def publish(self, topic: Topic[T], record: T) -> str:
        return await self.publish_nowait(topic, record)

    async def _write(self, batch: list[tuple[str, bytes]]) -> list[str]:
        async with asyncio.timeout(self._call_timeout_s), self._redis.pipeline(False) as pipe:
            for key, data in batch:
                pipe.xadd(key, {FIELD: data}, maxlen=self.stream_max_len, approximate=True)
            ids = await pipe.execute()
        return [entry_id.decode() for entry_id in ids]

    # work queues

    async def consume(
        self, topic: Topic[T], *, group: str, consumer: str
    ) -> AsyncGenerator[Delivery[T], None]:
        key = self.key(topic)
        await self._retry("create group", self._create_group, key, group)
        place = _Place()
        while not self._closed:
            try:
                entries, attempts = await self._fetch(key, group, consumer, place)
            except BACKEND_ERRORS:
                if self._closed:
                    return  # closed while waiting for Redis: the end, not an error
                raise
            except ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                logger.warning("bus: group %s of %s vanished (Redis lost data?), again", group, key)
                await self._retry("create group", self._create_group, key, group)
                continue
            for raw_id, fields in entries:
                entry_id = raw_id.decode()
                record = self._decode(topic, entry_id, fields)
                if record is None:  # trimmed or malformed: nobody can ever handle it
                    await self._retry("ack", self._redis.xack, key, group, entry_id)
                    continue
                yield Delivery(entry_id, record, attempts.get(entry_id, 1), topic.name, group)

    async def _fetch(
        self, key: str, group: str, consumer: str, place: _Place
    ) -> tuple[Entries, dict[str, int]]:
        """The next entries for `consumer` and their delivery counts when above 1: first its
        own unacked ones (a restart), then, every claim_idle_s / 4, idle ones of any
        consumer (a dead one's), otherwise new ones (waiting up to the block time)."""
        if place.backlog is not None:
            entries = await self._retry(
                "read", self._read_group, key, group, consumer, place.backlog
            )
            place.backlog = entries[-1][0].decode() if entries else None
        elif time.monotonic() >= place.next_claim:
            entries = await self._retry("claim", self._claim, key, group, consumer)
            if len(entries) < BATCH:
                place.next_claim = time.monotonic() + self.claim_idle_s / 4
        else:
            return await self._retry("read", self._read_group, key, group, consumer, ">"), {}
        return entries, await self._attempts(key, group, consumer, entries)

    async def ack(self, delivery: Delivery[Any]) -> None:
        key = f"{self.prefix}:{delivery.topic}"
        await self._retry("ack", self._redis.xack, key, delivery.group, delivery.id)

    async def _create_group(self, key: str, group: str) -> None:
        try:
            await self._redis.xgroup_create(key, group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def _read_group(self, key: str, group: str, consumer: str, after: str) -> Entries:
        block = self._block_ms if after == ">" else None
        answer = await self._redis.xreadgroup(
            group, consumer, {key: after}, count=BATCH, block=block
        )
        return _entries(answer)

    async def _claim(self, key: str, group: str, consumer: str) -> Entries:
        idle_ms = int(1000 * self.claim_idle_s)
        answer = await self._redis.xautoclaim(
            key, group, consumer, min_idle_time=idle_ms, start_id=FIRST_ID, count=BATCH
        )
        return list(answer[1])

    async def _attempts(
        self, key: str, group: str, consumer: str, entries: Entries
    ) -> dict[str, int]:
        """Delivery counts of entries handed out again (XPENDING), by entry id."""
        if not entries:
            return {}
        first, last = entries[0][0], entries[-1][0]
        rows = await self._retry("pending", self._pending, key, group, consumer, first, last)
        return {row["message_id"].decode(): int(row["times_delivered"]) for row in rows}

    async def _pending(
        self, key: str, group: str, consumer: str, first: bytes, last: bytes
    ) -> list[dict[str, Any]]:
        rows = await self._redis.xpending_range(key, group, first, last, BATCH, consumer)
        return cast(list[dict[str, Any]], rows)

    # broadcast

    async def tail(
        self, topic: Topic[T], after: str | None = None
    ) -> AsyncGenerator[tuple[str, T], None]:
        key = self.key(topic)
        last = after if after is not None else await self.last_id(topic)
        while not self._closed:
            try:
                answer = await self._retry("tail", self._read, key, last)
            except BACKEND_ERRORS:
                if self._closed:
                    return
                raise
            for raw_id, fields in answer:
                last = raw_id.decode()
                record = self._decode(topic, last, fields)
                if record is not None:
                    yield last, record

    async def _read(self, key: str, after: str) -> Entries:
        return _entries(await self._redis.xread({key: after}, count=BATCH, block=self._block_ms))

    async def read_range(self, topic: Topic[T], after: str, limit: int) -> list[tuple[str, T]]:
        entries = await self._retry("range", self._range, self.key(topic), after, limit)
        decoded = [(raw.decode(), self._decode(topic, raw.decode(), f)) for raw, f in entries]
        return [(entry_id, record) for entry_id, record in decoded if record is not None]

    async def last_id(self, topic: Topic[Any]) -> str:
        newest = await self._retry("last id", self._newest, self.key(topic))
        return newest[0][0].decode() if newest else FIRST_ID

    async def _range(self, key: str, after: str, limit: int) -> Entries:
        return cast(Entries, await self._redis.xrange(key, f"({after}", "+", limit))

    async def _newest(self, key: str) -> Entries:
        return cast(Entries, await self._redis.xrevrange(key, "+", "-", 1))

    # plumbing

    async def close(self) -> None:
        await self._buffer.close(self._close_timeout_s)
        self._closed = True
        await self._redis.aclose()

    async def _retry(self, what: str, call: Callable[..., Awaitable[R]], *args: Any) -> R:
        async def attempt() -> R:  # a coroutine function: tenacity awaits only those
            async with asyncio.timeout(self._call_timeout_s):
                return await call(*args)

        policy = retrying(what, BACKEND_ERRORS, closed=lambda: self._closed)
        result: R = await policy(attempt)
        return result

    @staticmethod
    def _decode(topic: Topic[T], entry_id: str, fields: dict[bytes, bytes] | None) -> T | None:
        if not fields or FIELD not in fields:
            logger.error("bus: %s entry %s has no record (trimmed?), skipped", topic.name, entry_id)
            return None
        try:
            return topic.decode(fields[FIELD])
        except pydantic.ValidationError:
            logger.exception(
                "bus: %s entry %s is not a %s, skipped", topic.name, entry_id, topic.model.__name__
            )
            return None


def _entries(answer: Any) -> Entries:
    """The entries of a one-stream XREAD/XREADGROUP answer (RESP2 list or RESP3 dict)."""
    if not answer:
        return []
    if isinstance(answer, dict):
        return [entry for entries in answer.values() for entry in entries[0]]
    return list(answer[0][1])
