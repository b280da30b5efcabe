"""The database goes away while the analytics writer stores a camera's minutes: it waits,
retries, and stores them all once the database is back (PostgreSQL: connections refused
and the open ones cut)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from server.config import Settings
from server.runtime import Runtime
from tests.analytics.synthetic import walk
from tests.analytics.test_analytics_api import FPS, Paths, get, lay_out, minutes_of
from tests.conftest import PG_ADMIN_DSN
from tests.helpers import World
from tests.storage.test_database_outage import _database_name

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def allow_connections(settings: Settings, allowed: bool) -> None:
    name = _database_name(settings)
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                name,
            )
    finally:
        await admin.close()


async def test_minutes_written_while_the_database_is_away_are_stored_when_it_returns(
    settings: Settings, client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    admin = world.headers["admin"]
    camera_id = world.cameras[0]
    layout = await lay_out(client, admin, camera_id)
    t = (datetime.now(UTC) - timedelta(hours=2)).replace(minute=0, second=0).timestamp()
    paths: Paths = {
        i: walk((0.1 + 0.1 * i, 0.1), (0.1 + 0.1 * i, 0.9), t + 70 * i, t + 70 * i + 4, FPS)
        for i in range(5)
    }
    minutes = minutes_of(camera_id, layout, paths)
    assert len(minutes) >= 5
    writer = runtime.analytics_writer
    await allow_connections(settings, False)
    try:
        for minute in minutes:
            runtime.records.publish(minute)
        for _ in range(300):  # the writer has tried and is waiting to try again
            if writer.stats.retries >= 1:
                break
            await asyncio.sleep(0.1)
        assert writer.stats.retries >= 1 and writer.stats.written == 0
    finally:
        await allow_connections(settings, True)
    await asyncio.wait_for(writer.drain(), timeout=60)
    assert writer.stats.dropped == 0 and writer.stats.written == len(minutes)
    since = datetime.fromtimestamp(t, UTC) - timedelta(minutes=1)
    footfall = await get(client, admin, "footfall", since=since, camera_id=camera_id)
    assert (footfall["entered"], footfall["left"]) == (5, 0)
