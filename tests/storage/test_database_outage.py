"""A lost database answers 503 with a clear error; dropped connections heal by themselves."""

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from server.config import Settings
from tests.conftest import PG_ADMIN_DSN
from tests.helpers import error_of


def _database_name(settings: Settings) -> str:
    name = make_url(settings.resolved_database_url).database
    assert name is not None
    return name


POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@POSTGRES_ONLY
async def test_terminated_connections_are_replaced(
    settings: Settings, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/stores", headers=admin_headers)).status_code == 200
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            _database_name(settings),
        )
    finally:
        await admin.close()
    assert killed >= 1
    response = await client.get("/api/v1/stores", headers=admin_headers)
    assert response.status_code == 200


@POSTGRES_ONLY
async def test_database_gone_gives_503_and_not_ready(
    settings: Settings, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE "{_database_name(settings)}" WITH (FORCE)')
    finally:
        await admin.close()
    ready = await client.get("/api/v1/ready")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}
    response = await client.get("/api/v1/stores", headers=admin_headers)
    assert response.status_code == 503
    assert error_of(response)["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "5"
    assert (await client.get("/api/v1/health")).status_code == 200
