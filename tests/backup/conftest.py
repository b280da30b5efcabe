"""Backup fixtures: a served data folder with users, cameras, an alert with its clip and
snapshot; a second, empty database to restore into; the `shopguard` command."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import numpy as np
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner, Result

from server.app import create_app
from server.cli import app as shopguard_app
from server.config import Settings
from server.evidence.media import snapshot_jpeg
from server.evidence.store import evidence_key
from server.runtime import Runtime
from server.storage.db import make_engine, make_sessionmaker
from server.storage.models import Alert, Base
from tests.conftest import PG_ADMIN_DSN, make_settings
from tests.evidence.test_downloads import alert_with_clip
from tests.helpers import ADMIN_PASSWORD, LIFESPAN_S, World, login, make_world

Rows = dict[str, list[tuple[object, ...]]]
PROGRAM = [sys.executable, "-m", "server"]


def cli_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The environment of a `shopguard` command run on this data folder and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUARD_")}
    env.update(SHOPGUARD_DATA_DIR=str(data_dir), SHOPGUARD_AUTH__PASSWORD_HASH_MEMORY_KIB="8192")
    if database_url is not None:
        env["SHOPGUARD_DATABASE_URL"] = database_url
    return env


async def shopguard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `shopguard ARGS` in its own process without holding up the event loop."""
    return await asyncio.to_thread(
        subprocess.run,
        [*PROGRAM, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


async def invoke(
    data_dir: Path, database_url: str | None, *args: str, env: dict[str, str] | None = None
) -> Result:
    """Run `shopguard ARGS` in this process (typer's runner, in a thread: the command runs
    its own event loop), on this data folder and database, with more settings in `env`."""
    variables: dict[str, str | None] = {
        "SHOPGUARD_DATA_DIR": str(data_dir),
        "SHOPGUARD_DATABASE_URL": database_url,
        "SHOPGUARD_AUTH__PASSWORD_HASH_MEMORY_KIB": "8192",
        "SHOPGUARD_CONFIG_FILE": None,
        **(env or {}),
    }
    return await asyncio.to_thread(CliRunner().invoke, shopguard_app, list(args), env=variables)


def tree(root: Path) -> dict[str, str]:
    """sha256 of every file under `root` but the logs, by relative path."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).parts[0] != "logs"
    }


async def rows(database_url: str) -> Rows:
    """Every row of every table of a database."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return {
                table.name: sorted(
                    (tuple(r) for r in (await session.execute(select(table))).all()), key=repr
                )
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


@dataclass
class Source:
    """A running server's data: its settings, app, signed-in client and what it holds."""

    settings: Settings
    app: FastAPI
    client: httpx.AsyncClient
    world: World
    alert_id: int
    clip: bytes
    snapshot: bytes

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime


async def add_snapshot(runtime: Runtime, alert_id: int, tmp_path: Path) -> bytes:
    """A real snapshot (noise, so it has some size) stored for the alert; its bytes."""
    image = np.random.default_rng(7).integers(0, 255, (360, 640, 3), dtype=np.uint8)
    made = tmp_path / "snapshot.jpg"
    snapshot_jpeg(image, made)
    async with runtime.sessionmaker() as session:
        alert = await session.get(Alert, alert_id)
        assert alert is not None
        key = evidence_key(alert.store_id, alert.camera_id, alert.id, "snapshot.jpg")
        runtime.clips.store.put(key, made)
        alert.snapshot_ref = key
        await session.commit()
    return made.read_bytes()


@pytest.fixture
async def source(tmp_path: Path, database_url: str) -> AsyncIterator[Source]:
    """The server running on `database_url` with two stores, their cameras, five users, and
    an alert with its clip and snapshot in the local evidence store."""
    settings = make_settings(tmp_path / "data", database_url)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with (
        LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S),
        httpx.AsyncClient(transport=transport, base_url="http://shopguard.test") as client,
    ):
        world = await make_world(client, await login(client, "admin", ADMIN_PASSWORD))
        runtime: Runtime = app.state.runtime
        made = tmp_path / "made"
        made.mkdir()
        alert_id, clip = await alert_with_clip(runtime, world.cameras[0], made)
        snapshot = await add_snapshot(runtime, alert_id, made)
        yield Source(settings, app, client, world, alert_id, clip, snapshot)


@pytest.fixture
async def empty_database(database_url: str, tmp_path: Path) -> AsyncIterator[str | None]:
    """A second, empty database on the same backend to restore into: a new PostgreSQL
    database, or None for SQLite (the file in the target data folder, the default)."""
    if not database_url.startswith("postgresql"):
        yield None
        return
    name = f"sg_restore_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
