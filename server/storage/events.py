"""The event log: every live event with its sequence number, for replay after a reconnect."""

from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.storage.models import EventLogEntry, utcnow
from shared.schemas.events import EventEnvelope, ServerEvent, server_event_adapter

EVENT_LOG_LOCK = 0x5347_4556  # "SGEV": PostgreSQL advisory lock key of the event log


async def append_event(
    *, session: AsyncSession, event: ServerEvent, store_id: int
) -> EventEnvelope:
    """Add the event to the log in the caller's transaction.

    Transactions that append events commit in the order of their sequence numbers, so a
    client resuming from `seq` never skips one: SQLite has one writer at a time anyway, and
    on PostgreSQL a transaction-scoped advisory lock serialises appends until commit.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_LOG_LOCK})
    row = EventLogEntry(
        at=utcnow(), store_id=store_id, type=event.type, payload=event.model_dump(mode="json")
    )
    session.add(row)
    await session.flush()
    return EventEnvelope(seq=row.seq, at=row.at, store_id=store_id, event=event)


async def events_since(
    *, session: AsyncSession, since: int, store_ids: list[int] | None, limit: int
) -> list[EventEnvelope]:
    """Events after `since`, oldest first; `store_ids=None` means all stores."""
    query = select(EventLogEntry).where(EventLogEntry.seq > since)
    if store_ids is not None:
        query = query.where(EventLogEntry.store_id.in_(store_ids))
    rows = (await session.scalars(query.order_by(EventLogEntry.seq).limit(limit))).all()
    return [
        EventEnvelope(
            seq=row.seq,
            at=row.at,
            store_id=row.store_id,
            event=server_event_adapter.validate_python(row.payload),
        )
        for row in rows
    ]


async def seq_bounds(*, session: AsyncSession) -> tuple[int, int]:
    """(oldest, newest) sequence numbers still in the log; (0, 0) when empty."""
    oldest, newest = (
        await session.execute(select(func.min(EventLogEntry.seq), func.max(EventLogEntry.seq)))
    ).one()
    return int(oldest or 0), int(newest or 0)


async def prune_events(*, session: AsyncSession, before: datetime) -> int:
    """Delete events older than `before`, keeping the newest so sequence numbers never reset."""
    newest = (await seq_bounds(session=session))[1]
    result = await session.execute(
        delete(EventLogEntry).where(EventLogEntry.at < before, EventLogEntry.seq < newest)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
