"""The event bus: events are written to the event log inside the caller's transaction, then
announced to live subscribers once that transaction has committed.

`EventBus` is the seam for a multi-instance deployment: a Redis implementation announces
across processes while the event log in the shared database serves replays.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from server.storage import events as event_log
from shared.schemas.events import EventEnvelope, ServerEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccessChanged:
    """A user's sessions, role or stores changed (`None`: anyone's may have, e.g. a store or
    a camera moved): live clients check their access again at once, not at the next ping."""

    user_id: int | None


Item = EventEnvelope | AccessChanged | None


class Subscription:
    """A live client's bounded queue of events and access changes; `None` arrives when the
    client fell too far behind. `user_id` picks the access changes it gets (None: all);
    `events=False` subscribes to access changes only."""

    def __init__(self, maxsize: int, *, user_id: int | None = None, events: bool = True) -> None:
        self.queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=maxsize)
        self.overflowed = False
        self.user_id, self.events = user_id, events

    def offer(self, item: EventEnvelope | AccessChanged) -> bool:
        """Queue the item; on overflow empty the queue, leave `None` and return False."""
        try:
            self.queue.put_nowait(item)
            return True
        except asyncio.QueueFull:
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)
            return False

    def wants(self, change: AccessChanged) -> bool:
        return self.user_id is None or change.user_id in (None, self.user_id)

    async def get(self) -> Item:
        return await self.queue.get()


class EventBus(Protocol):
    async def stage(
        self, session: AsyncSession, event: ServerEvent, *, store_id: int
    ) -> EventEnvelope: ...

    def announce(self, envelope: EventEnvelope) -> None: ...

    def announce_access(self, change: AccessChanged) -> None:
        """Tell live clients (after the commit that made the change)."""

    def subscribe(self, *, user_id: int | None = None, events: bool = True) -> Subscription: ...

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
            if subscription.events:
                self._offer(subscription, envelope)

    def announce_access(self, change: AccessChanged) -> None:
        for subscription in list(self._subscribers):
            if subscription.wants(change):
                self._offer(subscription, change)

    def _offer(self, subscription: Subscription, item: EventEnvelope | AccessChanged) -> None:
        if not subscription.offer(item):
            self._subscribers.discard(subscription)
            self.dropped_subscribers += 1
            logger.warning("dropped a live client that fell behind (at %r)", item)

    def subscribe(self, *, user_id: int | None = None, events: bool = True) -> Subscription:
        subscription = Subscription(self._subscriber_queue, user_id=user_id, events=events)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        """Live clients of events (not the server's own watchers of access changes)."""
        return sum(1 for subscription in self._subscribers if subscription.events)
