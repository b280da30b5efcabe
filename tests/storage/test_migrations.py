"""Alembic owns the schema: it matches the models on both backends and upgrades are repeatable."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from server.storage import migrate
from server.storage.db import make_engine
from server.storage.models import Base

HEAD = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


async def test_migrations_match_models_and_rerun_cleanly(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        await migrate.upgrade(engine)  # a second start changes nothing

        def differences(conn: Connection) -> list[object]:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))

        def tables(conn: Connection) -> set[str]:
            return set(inspect(conn).get_table_names())

        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
            assert await conn.run_sync(tables) == set(Base.metadata.tables) | {"alembic_version"}
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            assert (
                version == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
            )
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/wal.db")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_servers_starting_together_migrate_once(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate.upgrade(engine) for engine in engines))
        async with engines[0].connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            assert [tuple(row) for row in versions] == [(HEAD,)]
    finally:
        for engine in engines:
            await engine.dispose()
