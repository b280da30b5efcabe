"""`/metrics` on the real app: who may read it (a table of readers and settings), HTTP latency
under route templates, and, on a real uvicorn, an alert's decision → WebSocket delivery time
(replays not counted) and the push outcomes the dispatcher records."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from websockets.asyncio.client import connect

from server.app import create_app
from server.config import MetricsConfig, Settings
from server.runtime import Runtime
from server.storage.models import utcnow
from shared.schemas.events import EventEnvelope, Hello, Welcome
from tests.conftest import make_settings
from tests.helpers import (
    ADMIN_PASSWORD,
    LIFESPAN_S,
    LiveServer,
    World,
    add_alert,
    error_of,
    login,
    make_world,
)
from tests.prometheus_text import samples, value

SCRAPER_TOKEN = "scraper-token-0123456789abcdef-0123456789"
LAN = ("192.168.1.50", 50000)  # another machine on the store's network
LOOPBACK = ("127.0.0.1", 50000)
IPV6_LOOPBACK = ("::1", 50000)
MAPPED_LOOPBACK = ("::ffff:127.0.0.1", 50000)  # a dual-stack socket's view of 127.0.0.1
HTTP = "shopguard_http_request_duration_seconds"
TIMEOUT = 5.0


def with_metrics(settings: Settings, **fields: object) -> Settings:
    return settings.model_copy(update={"metrics": MetricsConfig.model_validate(fields)})


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S):
        yield app


@contextlib.asynccontextmanager
async def client_at(app: FastAPI, address: tuple[str, int]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` calling from `address`."""
    transport = httpx.ASGITransport(app=app, client=address)
    async with httpx.AsyncClient(transport=transport, base_url="http://shopguard.test") as c:
        yield c


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return with_metrics(make_settings(tmp_path / "data", database_url), token=SCRAPER_TOKEN)


def authorization(world: World, who: str) -> dict[str, str]:
    """The Authorization header `who` sends: a user's token, the scraper's, or none."""
    if who in world.headers:
        return world.headers[who]
    tokens = {"scraper": SCRAPER_TOKEN, "wrong token": "not-the-scraper-token", "nobody": None}
    token = tokens[who]
    return {} if token is None else {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("address", "who", "headers", "status"),
    [
        (LOOPBACK, "nobody", {}, 200),  # Prometheus on the same machine
        (IPV6_LOOPBACK, "nobody", {}, 200),
        (MAPPED_LOOPBACK, "nobody", {}, 200),
        # a reverse proxy on this machine relaying someone else: not local
        (LOOPBACK, "nobody", {"X-Forwarded-For": "192.168.1.50"}, 401),
        (LOOPBACK, "nobody", {"Forwarded": "for=192.168.1.50"}, 401),
        (LAN, "nobody", {}, 401),  # the default answers nobody else on the network
        (LAN, "wrong token", {}, 401),
        (LAN, "scraper", {}, 200),  # a Prometheus elsewhere, with metrics.token
        (LAN, "admin", {}, 200),
        (LAN, "supervisor_a", {}, 403),  # signed in, but not an admin
        (LAN, "viewer_b", {}, 403),
    ],
)
async def test_who_may_read_the_metrics(
    app: FastAPI,
    world: World,
    address: tuple[str, int],
    who: str,
    headers: dict[str, str],
    status: int,
) -> None:
    async with client_at(app, address) as reader:
        response = await reader.get("/metrics", headers=authorization(world, who) | headers)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert samples(response.text, "shopguard_ws_clients")
        return
    error = error_of(response)
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        assert error["code"] == "unauthorized"
    else:
        assert error == {
            "code": "forbidden",
            "message": f"metrics are for admins; you are {who.split('_')[0]}",
            "fields": [],
        }


@pytest.mark.parametrize(
    ("metrics", "address", "who", "status"),
    [
        ({"allow_loopback": False}, LOOPBACK, "nobody", 401),
        ({"allow_loopback": False}, LOOPBACK, "admin", 200),
        ({"allow_admins": False, "token": SCRAPER_TOKEN}, LAN, "admin", 401),
        ({"allow_admins": False, "token": SCRAPER_TOKEN}, LAN, "scraper", 200),
        ({}, LAN, "scraper", 401),  # no token set: none is accepted
        ({"enabled": False}, LOOPBACK, "nobody", 404),
        ({"enabled": False}, LAN, "admin", 404),
    ],
)
async def test_the_settings_choose_who_may_read(
    tmp_path: Path,
    database_url: str,
    metrics: dict[str, object],
    address: tuple[str, int],
    who: str,
    status: int,
) -> None:
    settings = with_metrics(make_settings(tmp_path / "data", database_url), **metrics)
    async with running(settings) as app, client_at(app, LAN) as client:
        world = World(
            stores=[], cameras=[], headers={"admin": await login(client, "admin", ADMIN_PASSWORD)}
        )
        async with client_at(app, address) as reader:
            response = await reader.get("/metrics", headers=authorization(world, who))
    assert response.status_code == status, response.text


def test_a_weak_metrics_token_is_refused_in_production(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"metrics\.token must be at least 32 characters"):
        Settings(
            data_dir=tmp_path, mode="production", metrics=MetricsConfig(token=SecretStr("short"))
        )


async def test_http_latency_is_kept_per_route_template(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    admin = world.headers["admin"]
    for camera_id in world.cameras:
        response = await client.get(f"/api/v1/cameras/{camera_id}", headers=admin)
        assert response.status_code == 200, response.text
    assert (await client.get("/api/v1/cameras/999999", headers=admin)).status_code == 404
    assert (await client.get("/no/such/page")).status_code == 404
    assert (await client.put("/api/v1/health")).status_code == 405
    async with client_at(app, LOOPBACK) as reader:
        text = (await reader.get("/metrics")).text
    route = "/api/v1/cameras/{camera_id}"
    assert value(text, f"{HTTP}_count", method="GET", route=route, status="200") == 2
    assert value(text, f"{HTTP}_count", method="GET", route=route, status="404") == 1
    assert value(text, f"{HTTP}_count", method="GET", route="unmatched", status="404") == 1
    assert value(text, f"{HTTP}_count", method="PUT", route="/api/v1/health", status="405") == 1
    assert (
        value(text, f"{HTTP}_count", method="POST", route="/api/v1/auth/login", status="200") >= 1
    )
    assert value(text, f"{HTTP}_sum", method="GET", route=route, status="200") > 0
    routes = {sample.labels["route"] for sample in samples(text, f"{HTTP}_count")}
    assert all(not any(c.isdigit() for c in r.removeprefix("/api/v1")) for r in routes), routes


async def test_alert_delivery_and_push_outcomes_are_timed_and_counted(settings: Settings) -> None:
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        runtime: Runtime = server.runtime
        world = await make_world(http, await login(http, "admin", ADMIN_PASSWORD))
        admin = world.headers["admin"]
        camera_id = world.cameras[0]
        device = {"platform": "fcm", "token": "fcm-token-of-the-admin-phone"}
        response = await http.post("/api/v1/devices", headers=admin, json=device)
        assert response.status_code == 201, response.text
        # an alert from before the client connects reaches it as a replay: not timed
        await add_alert(runtime, camera_id, started_at=utcnow() - timedelta(minutes=5))
        token = admin["Authorization"].removeprefix("Bearer ")
        async with connect(server.ws_url, open_timeout=TIMEOUT) as ws:
            await ws.send(Hello(token=token, since=0).model_dump_json())
            welcome = Welcome.model_validate_json(await asyncio.wait_for(ws.recv(), TIMEOUT))
            replayed = EventEnvelope.model_validate_json(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert replayed.event.type == "alert.created" and replayed.seq <= welcome.last_seq
            response = await http.post(f"/api/v1/cameras/{camera_id}/test-alert", headers=admin)
            assert response.status_code == 201, response.text
            while True:  # camera status events may come first
                message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                if message.get("kind") == "event" and message["event"]["type"] == "alert.created":
                    break
        # the dispatcher pushes in the background: the (fcm, refused) outcome arrives soon
        # (no FCM service account is configured on this server)
        outcome = {"channel": "fcm", "outcome": "refused"}
        for _ in range(100):
            text = (await http.get("/metrics")).text
            if samples(text, "shopguard_push_outcomes_total", **outcome):
                break
            await asyncio.sleep(0.1)
        assert value(text, "shopguard_push_outcomes_total", **outcome) == 1
        assert runtime.pushes.stats.failed == 1
        for delivery in ("sent", "retry", "gone", "refused"):  # the configured channel
            assert (
                value(text, "shopguard_push_outcomes_total", channel="webpush", outcome=delivery)
                == 0
            )
        assert value(text, "shopguard_alert_delivery_seconds_count") == 1  # the live one only
        assert 0 <= value(text, "shopguard_alert_delivery_seconds_sum") < TIMEOUT
        assert value(text, "shopguard_alert_delivery_seconds_bucket", le="+Inf") == 1
