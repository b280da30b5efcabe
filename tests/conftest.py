"""Fixtures: a real database (SQLite file, and PostgreSQL when reachable), the real app with
its lifespan, and HTTP clients through ASGI or uvicorn on 127.0.0.1."""

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr

from server.app import create_app
from server.config import AuthConfig, PipelineConfig, Settings
from server.runtime import Runtime
from tests.helpers import ADMIN_PASSWORD, LIFESPAN_S, LiveServer, World, login, make_world

pytest_plugins = ["tests.exit_watchdog"]

PG_ADMIN_DSN = os.environ.get(
    "SHOPGUARD_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
TEST_DATA = Path(__file__).parent / "data"
REQUIRE_POSTGRES = os.environ.get("SHOPGUARD_TEST_REQUIRE_POSTGRES") == "1"


async def _postgres_reachable() -> bool:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database for one test, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'shopguard.db'}"
        return
    if not await _postgres_reachable():
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but not reachable at {PG_ADMIN_DSN}")
        pytest.skip("PostgreSQL not reachable")
    name = f"sg_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        # a commit need not wait for the disk: the test box's fsyncs (every test's DROP
        # DATABASE checkpoints) stalled commits for seconds; no test crashes PostgreSQL
        await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def make_settings(
    data_dir: Path, database_url: str, pipeline: PipelineConfig | None = None, **auth: Any
) -> Settings:
    """Test settings: a known admin password and a lighter (still Argon2id) hash cost.

    The video pipeline is off unless `pipeline` is given: the API tests' cameras have made-up
    RTSP addresses, and no test may send traffic beyond 127.0.0.1.
    """
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        pipeline=pipeline or PipelineConfig(enabled=False),
        media_dirs=[data_dir.parent, TEST_DATA],  # the clips: the test's own, and committed
        auth=AuthConfig(
            initial_admin_password=SecretStr(ADMIN_PASSWORD),
            password_hash_memory_kib=8192,
            **auth,
        ),
    )


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S):
        yield app


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shopguard.test") as client:
        yield client


@pytest.fixture
async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return await login(client, "admin", ADMIN_PASSWORD)


@pytest.fixture
async def world(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> World:
    """Two stores with a camera each, and a supervisor and a viewer for each store."""
    return await make_world(client, admin_headers)


@pytest.fixture
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """The app under uvicorn on 127.0.0.1, for WebSocket tests."""
    async with LiveServer.run(create_app(settings)) as server:
        yield server
