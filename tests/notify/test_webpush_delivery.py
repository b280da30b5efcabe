"""Pushes from the outbox to a Web Push service on 127.0.0.1 through the real pywebpush:
who gets one, what it says, a service that is down and comes back (every push arrives,
once), a subscription the service says is gone (the device is removed), and the cooldown."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from server.config import PushConfig, Settings
from server.runtime import VAPID_KEY_FILE, Runtime
from server.services.alerts import record_alert
from server.storage import cameras
from server.storage.models import Alert, PushDevice, PushOutbox, utcnow
from tests.conftest import make_settings
from tests.fakes.webpush import WebPushService
from tests.helpers import World
from tests.notify.devices import register

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    fast = PushConfig(
        retry_base_s=0.05, retry_cap_s=0.2, cooldown_s=60.0, allow_private_endpoints=True
    )
    return make_settings(tmp_path / "data", database_url).model_copy(update={"push": fast})


@pytest.fixture
async def service() -> AsyncIterator[WebPushService]:
    push = WebPushService()
    async with push.running():
        yield push


async def subscribe(
    client: httpx.AsyncClient, world: World, service: WebPushService, user: str
) -> int:
    keys = service.subscribe(user).keys
    return await register(client, world, user, "webpush", service.endpoint(user), keys)


async def raise_alert(runtime: Runtime, camera_id: int, score: float = 0.91) -> Alert:
    """An alert stored with its pushes, as the recorder does, then the dispatcher woken."""
    pushes = runtime.alerts.pushes
    assert pushes is not None
    async with runtime.sessionmaker() as session:
        camera = await cameras.get_camera(session=session, camera_id=camera_id, store_ids=None)

        async def with_pushes(session: object, alert: Alert) -> None:
            await pushes.add(session, alert, camera, "opened")  # type: ignore[arg-type]

        alert = await record_alert(
            session=session,
            bus=runtime.bus,
            camera=camera,
            zone="Shelf 2",
            event_type="concealment",
            score=score,
            started_at=utcnow(),
            before_commit=with_pushes,
        )
    pushes.committed()
    return alert


async def until(check: object, within_s: float = 10.0) -> None:
    for _ in range(int(within_s * 20)):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"not within {within_s}s")


async def test_the_stores_users_get_one_push_each_saying_what_happened(
    client: httpx.AsyncClient, world: World, runtime: Runtime, service: WebPushService
) -> None:
    for user in ("admin", "supervisor_a", "viewer_a", "viewer_b"):
        await subscribe(client, world, service, user)
    alert = await raise_alert(runtime, world.cameras[0])
    await until(lambda: len(service.received) == 3)
    await asyncio.sleep(0.3)  # and no more
    assert sorted(name for name, _ in service.received) == ["admin", "supervisor_a", "viewer_a"]
    payload = service.received[0][1]
    assert payload["alert_id"] == alert.id and payload["camera_id"] == world.cameras[0]
    assert payload["title"].startswith("Possible concealment at ")
    assert payload["body"] == "zone Shelf 2 · score 0.91" and payload["score"] == 0.91
    assert payload["thumbnail_url"] == f"/api/v1/alerts/{alert.id}/snapshot.jpg"
    assert payload["deep_link"] == f"shopguard://alerts/{alert.id}"
    async with runtime.sessionmaker() as session:
        rows = (await session.scalars(select(PushOutbox))).all()
    assert [r.status for r in rows] == ["sent"] * 3 and all(r.attempts == 1 for r in rows)


async def test_a_service_that_is_down_gets_every_push_once_it_is_back(
    client: httpx.AsyncClient, world: World, runtime: Runtime, tmp_path: Path
) -> None:
    service = WebPushService()
    async with service.running():  # learn a free port, then go down
        pass
    await subscribe(client, world, service, "supervisor_a")
    first = await raise_alert(runtime, world.cameras[0])
    second = await raise_alert(runtime, world.cameras[1], score=0.95)  # another camera
    await until(lambda: runtime.pushes.stats.retried >= 4)  # refused connections, retried
    assert service.received == []
    async with service.running(port=service.port):
        await until(lambda: len(service.received) == 1)
        await asyncio.sleep(0.5)
    assert [p["alert_id"] for _, p in service.received] == [first.id]  # store B's: not hers
    assert second.id not in [p["alert_id"] for _, p in service.received]
    async with runtime.sessionmaker() as session:
        rows = (await session.scalars(select(PushOutbox))).all()
    assert len(rows) == 1 and rows[0].status == "sent" and rows[0].attempts >= 3


async def test_a_subscription_the_service_calls_gone_is_removed(
    client: httpx.AsyncClient, world: World, runtime: Runtime, service: WebPushService
) -> None:
    gone = await subscribe(client, world, service, "viewer_a")
    kept = await subscribe(client, world, service, "supervisor_a")
    service.answers["viewer_a"] = 410
    await raise_alert(runtime, world.cameras[0])
    await until(lambda: runtime.pushes.stats.removed_devices == 1)
    await until(lambda: len(service.received) == 1)
    async with runtime.sessionmaker() as session:
        devices = {d.id for d in (await session.scalars(select(PushDevice))).all()}
        waiting = (
            await session.scalars(select(PushOutbox).where(PushOutbox.device_id == gone))
        ).all()
    assert gone not in devices and kept in devices and waiting == []


async def test_a_camera_in_cooldown_pushes_no_new_opening(
    client: httpx.AsyncClient, world: World, runtime: Runtime, service: WebPushService
) -> None:
    await subscribe(client, world, service, "admin")
    await raise_alert(runtime, world.cameras[0])
    await raise_alert(runtime, world.cameras[0])  # within the 60 s cooldown
    await raise_alert(runtime, world.cameras[1])  # another camera: its own cooldown
    await until(lambda: len(service.received) == 2)
    await asyncio.sleep(0.3)
    assert sorted(p["camera_id"] for _, p in service.received) == sorted(world.cameras)


async def test_browsers_get_the_key_they_subscribe_with(
    client: httpx.AsyncClient, world: World, runtime: Runtime, settings: Settings
) -> None:
    answer = await client.get("/api/v1/devices/webpush-key", headers=world.headers["viewer_b"])
    assert answer.status_code == 200, answer.text
    key = answer.json()["public_key"]
    point = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(point) == 65 and point[0] == 4  # an uncompressed P-256 point
    stored = (settings.data_dir / VAPID_KEY_FILE).read_bytes()
    assert b"PRIVATE KEY" in stored  # made on first start, kept for the next
    assert oct((settings.data_dir / VAPID_KEY_FILE).stat().st_mode & 0o777) == "0o600"


async def test_an_admins_test_alert_is_pushed_even_in_cooldown(
    client: httpx.AsyncClient, world: World, runtime: Runtime, service: WebPushService
) -> None:
    """The test alert checks that alerts reach people: it goes through the outbox like a
    real one, to the store's users, and a camera's cooldown does not swallow it."""
    for user in ("admin", "viewer_a", "viewer_b"):
        await subscribe(client, world, service, user)
    await raise_alert(runtime, world.cameras[0])  # a real opening: the camera is in cooldown
    await until(lambda: len(service.received) == 2)
    url = f"/api/v1/cameras/{world.cameras[0]}/test-alert"
    response = await client.post(url, headers=world.headers["admin"])
    assert response.status_code == 201, response.text
    test_id = response.json()["id"]
    await until(lambda: len(service.received) == 4)
    await asyncio.sleep(0.3)  # and no more
    tested = [(name, p) for name, p in service.received if p["alert_id"] == test_id]
    assert sorted(name for name, _ in tested) == ["admin", "viewer_a"]  # not store B's
    assert all(p["reason"] == "test" for _, p in tested)
