"""Where pushes may go and how long they may take: any signed-in user chooses a Web Push
endpoint, so the server sends only over https to public hosts (unless
`push.allow_private_endpoints`), and an endpoint that answers one byte at a time holds up
neither sign-in nor anyone else's push, and is cut off at the send deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from server.config import PushConfig, Settings
from server.runtime import Runtime
from server.storage import devices
from server.storage.models import PushDevice, PushOutbox, User
from shared.schemas.devices import DeviceRegister, PushPlatform
from tests.conftest import make_settings
from tests.fakes.trickle import TricklingEndpoint
from tests.fakes.webpush import WebPushService
from tests.helpers import ADMIN_PASSWORD, World, db_snapshot, error_of, login
from tests.notify.test_webpush_delivery import raise_alert, subscribe, until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pywebpush

DEVICES = "/api/v1/devices"
SLOW_ENDPOINTS = 8  # more than asyncio's default pool holds on a 2-core server (6)

REFUSED = {  # endpoint -> why
    "http://push.example.com/send/abc": "must be an https URL, not http",
    "ftp://push.example.com/send/abc": "must be an https URL, not ftp",
    "/send/abc": "must be an https URL, not relative",
    "https://127.0.0.1/send/abc": "127.0.0.1 is not a public address",
    "https://localhost:8443/send/abc": "localhost (at 127.0.0.1) is not a public address",
    "https://2130706433/send/abc": "2130706433 (at 127.0.0.1) is not a public address",
    "https://10.1.2.3/send/abc": "10.1.2.3 is not a public address",
    "https://172.16.5.4/send/abc": "172.16.5.4 is not a public address",
    "https://192.168.0.10:8080/send/abc": "192.168.0.10 is not a public address",
    "https://169.254.169.254/latest/meta-data/": "169.254.169.254 is not a public address",
    "https://100.64.0.1/send/abc": "100.64.0.1 is not a public address",  # shared (CGNAT)
    "https://0.0.0.0/send/abc": "0.0.0.0 is not a public address",
    "https://240.0.0.1/send/abc": "240.0.0.1 is not a public address",  # reserved
    "https://224.0.0.1/send/abc": "224.0.0.1 is not a public address",  # multicast
    "https://[::1]/send/abc": "::1 is not a public address",
    "https://[fe80::1]/send/abc": "fe80::1 is not a public address",
    "https://[fd00::5]/send/abc": "fd00::5 is not a public address",
    "https://[::ffff:127.0.0.1]/send/abc": "::ffff:127.0.0.1 is not a public address",
    "https://[2002:a00:1::]/send/abc": "2002:a00:1:: is not a public address",  # 6to4 of 10/8
    "https://[64:ff9b::7f00:1]/send/abc": "64:ff9b::7f00:1 is not a public address",  # NAT64
}


@pytest.fixture
def allow_private() -> bool:
    return False


@pytest.fixture
def send_timeout_s() -> float:
    return PushConfig().send_timeout_s


@pytest.fixture
def settings(
    tmp_path: Path, database_url: str, allow_private: bool, send_timeout_s: float
) -> Settings:
    push = PushConfig(
        allow_private_endpoints=allow_private,
        send_timeout_s=send_timeout_s,
        retry_base_s=30.0,  # one try per push within a test
    )
    return make_settings(tmp_path / "data", database_url).model_copy(update={"push": push})


@pytest.fixture
async def service() -> AsyncIterator[WebPushService]:
    push = WebPushService()
    async with push.running():
        yield push


@pytest.fixture
async def trickle() -> AsyncIterator[TricklingEndpoint]:
    endpoint = TricklingEndpoint()
    async with endpoint.running():
        yield endpoint


@pytest.fixture
async def two_core_pool() -> AsyncIterator[None]:
    """asyncio's default thread pool as a 2-core server has it (min(32, cores + 4) = 6
    threads), so that the slow sends would fill it on any machine were they put there."""
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(6)
    loop.set_default_executor(pool)
    yield
    loop.set_default_executor(ThreadPoolExecutor())  # a fresh one for the tests after
    pool.shutdown(wait=False)


async def register_webpush(
    client: httpx.AsyncClient, world: World, user: str, endpoint: str
) -> httpx.Response:
    keys = WebPushService().subscribe(user).keys
    body = {"platform": "webpush", "token": endpoint, "keys": keys}
    return await client.post(DEVICES, headers=world.headers[user], json=body)


async def test_endpoints_that_are_not_https_to_a_public_host_are_refused(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    before = await db_snapshot(runtime)
    answers = {}
    for endpoint in REFUSED:
        response = await register_webpush(client, world, "viewer_a", endpoint)
        error = error_of(response)
        answers[endpoint] = (response.status_code, error["code"], error["message"])
    assert answers == {
        endpoint: (422, "invalid_request", f"Web Push endpoint {why}")
        for endpoint, why in REFUSED.items()
    }
    assert await db_snapshot(runtime) == before  # no device, no audit entry


async def test_an_https_endpoint_on_a_public_host_is_taken(
    client: httpx.AsyncClient, world: World
) -> None:
    """As browsers' push services hand out (that this machine cannot resolve is fine:
    each send looks again)."""
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://8.8.8.8/send/abc",
    ):
        response = await register_webpush(client, world, "viewer_a", endpoint)
        assert response.status_code == 201, (endpoint, response.text)


@pytest.mark.parametrize("allow_private", [True])
async def test_the_setting_lets_http_and_private_endpoints_through(
    client: httpx.AsyncClient, world: World
) -> None:
    for endpoint in (
        "http://127.0.0.1:8080/push/abc",
        "https://localhost/push/abc",
        "http://10.1.2.3/push/abc",
        "https://[fd00::5]/push/abc",
    ):
        response = await register_webpush(client, world, "viewer_a", endpoint)
        assert response.status_code == 201, (endpoint, response.text)
    response = await register_webpush(client, world, "viewer_a", "ftp://10.1.2.3/push")
    assert response.status_code == 422, response.text


async def test_stored_endpoints_are_checked_again_when_sending(
    world: World, runtime: Runtime, service: WebPushService
) -> None:
    """Devices stored before these rules, or whose name resolves elsewhere by now: nothing
    is sent to them. One that can never be sent to (http) is removed; one whose name now
    resolves to a private address is kept (it may resolve elsewhere again)."""
    keys = service.subscribe("viewer_a").keys
    endpoints = {
        "http": service.endpoint("viewer_a"),
        "resolves": f"https://localhost:{service.port}/push/viewer_a",
    }
    async with runtime.sessionmaker() as session:
        viewer = await session.scalar(select(User.id).where(User.username == "viewer_a"))
        assert viewer is not None
        stored = {
            name: (
                await devices.register_device(  # as stored before the rules, bypassing them
                    session=session,
                    user_id=viewer,
                    device_in=DeviceRegister(
                        platform=PushPlatform.webpush, token=endpoint, keys=keys
                    ),
                )
            ).id
            for name, endpoint in endpoints.items()
        }
        await session.commit()
    await raise_alert(runtime, world.cameras[0])
    stats = runtime.pushes.stats
    await until(lambda: stats.removed_devices == 1 and stats.failed == 1)
    assert service.received == []
    async with runtime.sessionmaker() as session:
        left = set((await session.scalars(select(PushDevice.id))).all())
        rows = {r.device_id: r for r in (await session.scalars(select(PushOutbox))).all()}
    assert stored["http"] not in left and stored["resolves"] in left
    kept = rows[stored["resolves"]]
    assert kept.status == "failed"
    assert kept.last_error == "Web Push endpoint localhost (at 127.0.0.1) is not a public address"


@pytest.mark.parametrize("allow_private", [True])
async def test_slow_endpoints_hold_up_neither_sign_in_nor_other_pushes(
    two_core_pool: None,
    client: httpx.AsyncClient,
    world: World,
    runtime: Runtime,
    service: WebPushService,
    trickle: TricklingEndpoint,
) -> None:
    """A viewer registers endpoints that answer a byte at a time; an alert pushes to them
    and to a supervisor's browser. The supervisor's push arrives at once, and the admin
    signs in as fast as ever, while the slow ones are still trickling."""
    for index in range(SLOW_ENDPOINTS):
        response = await register_webpush(client, world, "viewer_a", trickle.endpoint(f"{index}"))
        assert response.status_code == 201, response.text
    await subscribe(client, world, service, "supervisor_a")  # registered last: sent last
    await raise_alert(runtime, world.cameras[0])
    await until(lambda: trickle.open >= 6)  # the slow sends have begun
    started = time.monotonic()
    try:
        async with asyncio.timeout(10):
            await login(client, "admin", ADMIN_PASSWORD)
    except TimeoutError:
        pytest.fail("signing in took over 10 s while pushes were slow")
    signed_in_s = time.monotonic() - started
    await until(lambda: len(service.received) == 1, within_s=3.0)
    assert signed_in_s < 2.0, signed_in_s
    assert trickle.open == SLOW_ENDPOINTS  # all still trickling: the push did not wait
    assert [name for name, _ in service.received] == ["supervisor_a"]


@pytest.mark.parametrize("send_timeout_s", [1.0])
@pytest.mark.parametrize("allow_private", [True])
async def test_a_trickling_endpoint_is_cut_off_at_the_deadline_and_retried(
    client: httpx.AsyncClient, world: World, runtime: Runtime, trickle: TricklingEndpoint
) -> None:
    response = await register_webpush(client, world, "viewer_a", trickle.endpoint("slow"))
    assert response.status_code == 201, response.text
    await raise_alert(runtime, world.cameras[0])
    await until(lambda: trickle.requests == 1)
    await until(lambda: runtime.pushes.stats.retried == 1, within_s=4.0)
    await until(lambda: len(trickle.hung_up_after_s) == 1, within_s=1.0)
    assert 0.5 < trickle.hung_up_after_s[0] < 2.0, trickle.hung_up_after_s  # ~1 s deadline
    async with runtime.sessionmaker() as session:
        row = (await session.scalars(select(PushOutbox))).one()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "webpush: no answer within 1s, cut off"
