"""The event bus: events are written to the event log inside the caller's transaction, then
announced to live subscribers once that transaction has committed.

`EventBus` is the seam for a multi-instance deployment: a Redis implementation announces
across processes while the event log in the shared database serves replays.
"""

import asyncio
import logging
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from server.storage import events as event_log
from shared.schemas.events import EventEnvelope, ServerEvent

logger = logging.getLogger(__name__)


class Subscription:
    """A live client's bounded queue; `None` arrives when the client fell too far behind."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[EventEnvelope | None] = asyncio.Queue(maxsize=maxsize)
        self.overflowed = False

    def offer(self, envelope: EventEnvelope) -> bool:
        """Queue the envelope; on overflow empty the queue, leave `None` and return False."""
        try:
            self.queue.put_nowait(envelope)
            return True
        except asyncio.QueueFull:
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)
            return False

    async def get(self) -> EventEnvelope | None:
        return await self.queue.get()


class EventBus(Protocol):
    async def stage(
        self, session: AsyncSession, event: ServerEvent, *, store_id: int
    ) -> EventEnvelope: ...

    def announce(self, envelope: EventEnvelope) -> None: ...

    def subscribe(self) -> Subscription: ...

    def unsubscribe(self, subscription: Subscription) -> None: ...


class LocalEventBus:
    """One-process bus: the event log in the database plus in-memory fan-out."""

    def __init__(self, *, subscriber_queue: int) -> None:
        self._subscriber_queue = subscriber_queue
        self._subscribers: set[Subscription] = set()
        self.dropped_subscribers = 0

    async def stage(
        self, session: AsyncSession, event: ServerEvent, *, store_id: int
    ) -> EventEnvelope:
        """Add the event to the log in `session`; announce it after the commit."""
        return await event_log.append_event(session=session, event=event, store_id=store_id)

    def announce(self, envelope: EventEnvelope) -> None:
        for subscription in list(self._subscribers):
            if not subscription.offer(envelope):
                self._subscribers.discard(subscription)
                self.dropped_subscribers += 1
                logger.warning("dropped a live client that fell behind at seq %d", envelope.seq)

    def subscribe(self) -> Subscription:
        subscription = Subscription(self._subscriber_queue)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
