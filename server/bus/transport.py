"""What every bus backend offers: `RecordBus`, its `Delivery`, entry ids and `BusUnavailable`.

Delivery is **at least once**, everywhere:
- `publish` retries a write whose answer was lost, so an entry may be stored twice;
- a group consumer that dies (or takes longer than `claim_idle_s`) before `ack` has its
  entries handed to another consumer of the group, so an entry may be processed twice;
- a broadcast reader that resumes from an older id than it processed sees entries again.

Consumers are therefore idempotent: they key their effects on ids carried in the records
(an alert's id, a camera and a timestamp), never on the number of deliveries.

Entry ids are Redis stream ids, "<milliseconds>-<sequence>", on every backend; compare them
with `entry_order`, not as strings ("9-0" < "10-0").
"""

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Generic, Protocol

from server.bus.topics import T, Topic
from server.errors import ShopGuardError

FIRST_ID = "0-0"  # before every entry: `tail(topic, after=FIRST_ID)` reads from the start


class BusUnavailable(ShopGuardError):
    """The bus cannot take a record now: its backend is away and the publish buffer is full."""

    code = "bus_unavailable"


@dataclass(frozen=True, slots=True)
class Delivery(Generic[T]):
    """One entry handed to one consumer of a group; `ack` it once its effect is stored.

    `attempts` counts deliveries to the group: 1 the first time, more after a consumer died
    holding it (the work may have been half done: be idempotent). Redis also counts a
    delivery its consumer read ahead in a batch but stopped before handing on.
    """

    id: str
    record: T
    attempts: int
    topic: str
    group: str


def entry_order(entry_id: str) -> tuple[int, int]:
    """An entry id as a sortable key: `entry_order("1700000000000-3") == (1700000000000, 3)`."""
    ms, _, seq = entry_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        raise ValueError(f"not a bus entry id: {entry_id!r}") from None


class RecordBus(Protocol):
    """Typed records between stages and processes: a work queue per group, and a broadcast.

    - `publish` / `publish_nowait` append a record to its topic; ids grow in publish order.
    - `consume` hands each entry of a topic to one consumer of `group` (a work queue);
      an entry not acked for `claim_idle_s` goes to another live consumer of the group.
    - `tail` hands every entry after `after` to every reader (e.g. every API instance);
      `read_range` returns stored entries for replay.
    """

    def publish_nowait(self, topic: Topic[T], record: T) -> asyncio.Future[str]:
        """Queue the record in order without waiting; the future gives its entry id once
        written. Raises BusUnavailable when the backend is away and the buffer is full."""
        ...

    async def publish(self, topic: Topic[T], record: T) -> str:
        """Append the record and return its entry id (waits while the backend is away)."""
        ...

    def consume(
        self, topic: Topic[T], *, group: str, consumer: str
    ) -> AsyncGenerator[Delivery[T], None]:
        """Entries of `topic` for `consumer`, one of the consumers of `group`, until closed:
        first those it took before and did not ack, then idle ones of dead consumers, then
        new ones. A new group starts at the first stored entry. An entry held unacked for
        claim_idle_s is handed out again, maybe to this same consumer: keep the work on one
        entry shorter than that."""
        ...

    async def ack(self, delivery: Delivery[Any]) -> None:
        """Mark the delivery done for its group: it is never handed out again."""
        ...

    def tail(
        self, topic: Topic[T], after: str | None = None
    ) -> AsyncGenerator[tuple[str, T], None]:
        """Every entry after id `after` (None: after the newest when the first read starts),
        as (id, record), until the bus closes. Resume with the last id seen."""
        ...

    async def read_range(self, topic: Topic[T], after: str, limit: int) -> list[tuple[str, T]]:
        """Up to `limit` stored entries after id `after`, oldest first."""
        ...

    async def last_id(self, topic: Topic[Any]) -> str:
        """The newest stored entry's id, or FIRST_ID when there is none."""
        ...

    async def close(self) -> None:
        """Write what is buffered (briefly), then stop every reader and free connections."""
        ...
