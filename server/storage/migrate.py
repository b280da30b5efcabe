"""Bring the database schema to the newest Alembic revision."""

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


MIGRATION_LOCK = 0x5347_4D49  # "SGMI": PostgreSQL advisory lock key of schema upgrades


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every pending migration in one transaction.

    Servers or commands starting together take turns, so one migrates and the others then
    find nothing to do: an advisory lock on PostgreSQL, a lock file beside a SQLite file.
    """
    async with _sqlite_file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(lambda sync_conn: command.upgrade(alembic_config(sync_conn), "head"))


@contextlib.asynccontextmanager
async def _sqlite_file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    path = f"{database}.migrate-lock"
    lock = await asyncio.to_thread(os.open, path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)  # closing releases the lock


async def revision(engine: AsyncEngine, message: str) -> None:
    """Autogenerate a new migration from the models (for developers)."""
    async with engine.begin() as conn:
        await conn.run_sync(
            lambda sync_conn: command.revision(
                alembic_config(sync_conn), message=message, autogenerate=True
            )
        )
