"""The event bus of one instance among several (roles api and worker, `bus.backend: redis`).

The event log in the shared database stays the truth: an event is in it, with its `seq`,
before anyone hears of it, and appends commit in `seq` order (storage/events.py). Each
instance announces what it commits on the record bus (topic `events`); every instance
follows that topic and hands the events to its own live clients in `seq` order. An event
whose announcement is late or lost (a worker killed between commit and publish, a bus
outage) shows as a gap, filled from the log at once, and the log is also read every
`catch_up_s` seconds in any case: a client never misses an event for long, and never gets
one twice. Access changes (sign-outs, role changes) travel on the topic `access`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.bus.topics import Topic
from server.bus.transport import BusUnavailable, RecordBus
from server.notify.bus import AccessChanged, LocalEventBus, Subscription
from server.storage import events as event_log
from shared.schemas.events import EventEnvelope, ServerEvent

logger = logging.getLogger(__name__)

CATCH_UP_PAGE = 500


class AccessChangedRecord(BaseModel):
    """`AccessChanged` as it travels between instances."""

    user_id: int | None


EVENTS: Topic[EventEnvelope] = Topic("events", EventEnvelope)
ACCESS: Topic[AccessChangedRecord] = Topic("access", AccessChangedRecord)


class SharedEventBus:
    """`EventBus` over the record bus and the shared event log; live clients subscribe to
    this instance's `LocalEventBus` as on a single box."""

    def __init__(
        self,
        records: RecordBus,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        subscriber_queue: int,
        catch_up_s: float = 2.0,
    ) -> None:
        self.local = LocalEventBus(subscriber_queue=subscriber_queue)
        self._records, self._sessionmaker = records, sessionmaker
        self.catch_up_s = catch_up_s
        self.delivered = 0  # events handed to this instance's clients
        self.filled = 0  # ... of which read from the log (announcement late or lost)
        self._watermark: int | None = None  # the newest seq handed on
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    # -- EventBus --------------------------------------------------------------------------

    async def stage(
        self, session: AsyncSession, event: ServerEvent, *, store_id: int
    ) -> EventEnvelope:
        return await event_log.append_event(session=session, event=event, store_id=store_id)

    def announce(self, envelope: EventEnvelope) -> None:
        """Publish a committed event; every instance (this one too) hands it on."""
        try:
            self._records.publish_nowait(EVENTS, envelope)
        except BusUnavailable as exc:  # the log still has it: the catch-up delivers it
            logger.warning("event %s not announced on the bus: %s", envelope.seq, exc)

    def announce_access(self, change: AccessChanged) -> None:
        self.local.announce_access(change)  # here at once; the others through the bus
        try:
            self._records.publish_nowait(ACCESS, AccessChangedRecord(user_id=change.user_id))
        except BusUnavailable as exc:  # the others recheck access at each ping anyway
            logger.warning("access change not announced on the bus: %s", exc)

    def subscribe(self, *, user_id: int | None = None, events: bool = True) -> Subscription:
        return self.local.subscribe(user_id=user_id, events=events)

    def unsubscribe(self, subscription: Subscription) -> None:
        self.local.unsubscribe(subscription)

    @property
    def subscriber_count(self) -> int:
        return self.local.subscriber_count

    @property
    def dropped_subscribers(self) -> int:
        return self.local.dropped_subscribers

    # -- following the others --------------------------------------------------------------

    async def start(self) -> None:
        """Hand on every event committed from now on (an instance that starts has no
        clients yet; a client that connects replays what it missed from the log)."""
        async with self._sessionmaker() as session:
            _, newest = await event_log.seq_bounds(session=session)
        self._watermark = newest
        self._tasks = [
            asyncio.create_task(self._follow_events(), name="events-follow"),
            asyncio.create_task(self._follow_access(), name="access-follow"),
            asyncio.create_task(self._catch_up_forever(), name="events-catch-up"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow_events(self) -> None:
        async for _, envelope in self._records.tail(EVENTS):
            try:
                await self._hand_on(envelope)
            except Exception:  # the database away: the catch-up loop fills in later
                logger.exception("handing on event %s failed", envelope.seq)

    async def _follow_access(self) -> None:
        async for _, record in self._records.tail(ACCESS):
            self.local.announce_access(AccessChanged(record.user_id))

    async def _catch_up_forever(self) -> None:
        while True:
            await asyncio.sleep(self.catch_up_s)
            try:
                async with self._lock:
                    await self._read_log(upto=None)
            except Exception:  # the database may be down for a while
                logger.exception("reading the event log failed")

    async def _hand_on(self, envelope: EventEnvelope) -> None:
        async with self._lock:
            assert self._watermark is not None
            if envelope.seq <= self._watermark:
                return  # seen already (read from the log, or delivered twice)
            if envelope.seq > self._watermark + 1:  # earlier ones committed first
                await self._read_log(upto=envelope.seq - 1)
            self._deliver(envelope)

    async def _read_log(self, upto: int | None) -> None:
        """Hand on what the log holds after the watermark (up to `upto`)."""
        assert self._watermark is not None
        while True:
            async with self._sessionmaker() as session:
                page = await event_log.events_since(
                    session=session, since=self._watermark, store_ids=None, limit=CATCH_UP_PAGE
                )
            page = [e for e in page if upto is None or e.seq <= upto]
            for envelope in page:
                self.filled += 1
                self._deliver(envelope)
            if len(page) < CATCH_UP_PAGE:
                return

    def _deliver(self, envelope: EventEnvelope) -> None:
        self.local.announce(envelope)
        self._watermark = envelope.seq
        self.delivered += 1
