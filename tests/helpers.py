"""Real objects for tests: signed-in users, a small chain of stores, a uvicorn server."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from server.config import Settings
from server.runtime import Runtime
from server.services.alerts import record_alert
from server.serving import uvicorn_config
from server.storage import cameras
from server.storage.models import Alert, Base

LIFESPAN_S = 60.0  # an app's start or stop on a loaded CI box (asgi-lifespan waits 5 s)
ADMIN_PASSWORD = "admin-test-password-1"
USER_PASSWORD = "user-test-password-1"
NEW_PASSWORD = "changed-password-2"


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    """Sign in and return the Authorization header."""
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def create_user(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    username: str,
    role: str,
    store_ids: list[int],
) -> dict[str, str]:
    """Create a user through the API, replace its one-time password, return its header."""
    response = await client.post(
        "/api/v1/users",
        headers=admin,
        json={
            "username": username,
            "password": USER_PASSWORD,
            "role": role,
            "store_ids": store_ids,
        },
    )
    assert response.status_code == 201, response.text
    headers = await login(client, username, USER_PASSWORD)
    response = await client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": USER_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204, response.text
    return headers


@dataclass
class World:
    """Two stores, a camera in each, and users per role; headers keyed by user name."""

    stores: list[int]
    cameras: list[int]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


async def make_world(client: httpx.AsyncClient, admin: dict[str, str]) -> World:
    world = World(stores=[], cameras=[], headers={"admin": admin})
    for index, name in enumerate(("Downtown", "Mall")):
        store = await client.post("/api/v1/stores", headers=admin, json={"name": name})
        assert store.status_code == 201, store.text
        store_id = store.json()["id"]
        camera = await client.post(
            "/api/v1/cameras",
            headers=admin,
            json={
                "store_id": store_id,
                "name": f"Aisle {index + 1}",
                "source_kind": "rtsp",
                "source_url": f"rtsp://user:secret{index}@10.0.0.{index + 2}/ch1",
            },
        )
        assert camera.status_code == 201, camera.text
        world.stores.append(store_id)
        world.cameras.append(camera.json()["id"])
    for store_index, suffix in ((0, "a"), (1, "b")):
        for role in ("supervisor", "viewer"):
            username = f"{role}_{suffix}"
            world.headers[username] = await create_user(
                client, admin, username, role, [world.stores[store_index]]
            )
    return world


async def add_alert(
    runtime: Runtime,
    camera_id: int,
    *,
    started_at: datetime,
    score: float = 0.9,
    zone: str = "shelf-1",
    track_ids: list[int] | None = None,
) -> Alert:
    """An alert as the pipeline records it: stored, then announced."""
    async with runtime.sessionmaker() as session:
        camera = await cameras.get_camera(session=session, camera_id=camera_id, store_ids=None)
        return await record_alert(
            session=session,
            bus=runtime.bus,
            camera=camera,
            zone=zone,
            event_type="concealment",
            score=score,
            started_at=started_at,
            track_ids=track_ids or [1],
        )


@dataclass
class LiveServer:
    """uvicorn serving an app on a free port of 127.0.0.1."""

    app: FastAPI
    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws"

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @classmethod
    @contextlib.asynccontextmanager
    async def run(cls, app: FastAPI) -> AsyncIterator["LiveServer"]:
        settings: Settings = app.state.settings
        config = uvicorn_config(
            app, settings.server, host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped during start-up")
            await asyncio.sleep(0.02)
        port: int = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield cls(app=app, port=port)
        finally:
            server.should_exit = True
            await task


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The `error` object of an API error response."""
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


Snapshot = dict[str, list[tuple[Any, ...]]]


async def db_snapshot(runtime: Runtime) -> Snapshot:
    """Every row of every table, to prove that a refused request changed nothing."""
    snapshot: Snapshot = {}
    async with runtime.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            snapshot[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return snapshot
