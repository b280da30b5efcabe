"""The database's clock and upserts: the only dialect-specific SQL of the cluster package.

Leases and heartbeats use the database's clock, so workers' clocks may disagree.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.storage.models import UTCDateTime


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def database_now(dialect: str) -> ColumnElement[datetime]:
    """The current time as the database sees it: PostgreSQL's `now()` (the transaction's
    start), or SQLite's clock to the millisecond in the text form SQLite datetimes take."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M:%f", "now", type_=UTCDateTime())
    return func.now(type_=UTCDateTime())


async def read_database_now(session: AsyncSession) -> datetime:
    """The database's current time (UTC)."""
    now: datetime | None = await session.scalar(select(database_now(dialect_of(session))))
    assert now is not None
    return now


def upsert(dialect: str) -> Callable[..., Any]:
    """The `insert` whose statements take `on_conflict_do_*` (PostgreSQL or SQLite)."""
    if dialect == "sqlite":
        return sqlite.insert
    if dialect == "postgresql":
        return postgresql.insert
    raise NotImplementedError(f"camera leases need PostgreSQL or SQLite, not {dialect}")
