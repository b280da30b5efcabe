"""Pushes to iPhones through the real aioapns client (token-based, HTTP/2 over TLS) at a
local APNs: the provider token checked, a device Apple calls unregistered removed, an
outage outlived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from server.config import PushConfig, Settings
from server.errors import ConfigError
from server.notify.apns import ApnsNotifier
from server.notify.push import Delivery, Outcome, Target
from server.runtime import Runtime
from server.storage.models import PushDevice, PushOutbox
from tests.conftest import make_settings
from tests.fakes.apns import ApnsService
from tests.helpers import World
from tests.notify.devices import register
from tests.notify.test_webpush_delivery import raise_alert, until


@pytest.fixture
async def apns(tmp_path: Path) -> AsyncIterator[ApnsService]:
    service = ApnsService(tmp_path)
    async with service.running():
        yield service


@pytest.fixture
def settings(tmp_path: Path, database_url: str, apns: ApnsService) -> Settings:
    push = PushConfig(
        retry_base_s=0.05,
        retry_cap_s=0.2,
        allow_private_endpoints=True,  # the local fake
        apns_key_file=apns.key_file(),
        apns_key_id=apns.key_id,
        apns_team_id=apns.team_id,
        apns_topic=apns.topic,
        apns_endpoint=f"127.0.0.1:{apns.port}",
        apns_ca_file=tmp_path / "ca.pem",
    )
    return make_settings(tmp_path / "data", database_url).model_copy(update={"push": push})


async def test_an_iphone_gets_the_push_and_an_unregistered_one_is_removed(
    client: httpx.AsyncClient, world: World, runtime: Runtime, apns: ApnsService
) -> None:
    await register(client, world, "supervisor_a", "apns", "a1b2c3d4e5f6supervisor")
    gone = await register(client, world, "admin", "apns", "a1b2c3d4e5f6deleted-app")
    apns.answers["a1b2c3d4e5f6deleted-app"] = 410
    alert = await raise_alert(runtime, world.cameras[0])
    await until(lambda: len(apns.received) == 1 and runtime.pushes.stats.removed_devices == 1)
    device, message = apns.received[0]
    assert device == "a1b2c3d4e5f6supervisor"
    assert message["aps"]["alert"]["title"].startswith("Possible concealment at ")
    assert message["alert_id"] == alert.id and message["deep_link"].endswith(f"/{alert.id}")
    async with runtime.sessionmaker() as session:
        assert await session.get(PushDevice, gone) is None


async def test_an_apns_outage_delays_pushes_and_loses_none(
    client: httpx.AsyncClient, world: World, runtime: Runtime, apns: ApnsService
) -> None:
    await register(client, world, "viewer_a", "apns", "a1b2c3d4e5f6viewer")
    apns.answers["a1b2c3d4e5f6viewer"] = 503
    await raise_alert(runtime, world.cameras[0])
    await until(lambda: runtime.pushes.stats.retried >= 3)
    assert apns.received == []
    del apns.answers["a1b2c3d4e5f6viewer"]
    await until(lambda: len(apns.received) == 1)
    await asyncio.sleep(0.5)
    assert len(apns.received) == 1
    async with runtime.sessionmaker() as session:
        row = (await session.scalars(select(PushOutbox))).one()
    assert row.status == "sent" and row.attempts >= 4


def test_a_missing_signing_key_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"AuthKey\.p8"):
        ApnsNotifier(key_file=tmp_path / "AuthKey.p8", key_id="K", team_id="T", topic="app")


@pytest.mark.parametrize("host", ["127.0.0.1", "192.168.1.20", "::1"])
def test_an_apns_endpoint_at_a_private_address_is_refused(apns: ApnsService, host: str) -> None:
    with pytest.raises(ConfigError, match=r"push\.apns_endpoint .* is not a public address"):
        ApnsNotifier(
            key_file=apns.key_file(),
            key_id=apns.key_id,
            team_id=apns.team_id,
            topic=apns.topic,
            endpoint=(host, apns.port),
        )


async def test_an_apns_endpoint_named_for_a_private_address_gets_nothing(
    apns: ApnsService,
) -> None:
    """A name is checked at each send, since what it resolves to can change."""
    notifier = ApnsNotifier(
        key_file=apns.key_file(),
        key_id=apns.key_id,
        team_id=apns.team_id,
        topic=apns.topic,
        endpoint=("localhost", apns.port),
    )
    try:
        outcome = await notifier.send(Target(1, "apns", "a1b2c3d4e5f6phone", None), {})
    finally:
        await notifier.aclose()
    detail = "APNs endpoint localhost (at 127.0.0.1) is not a public address"
    assert outcome == Outcome(Delivery.refused, detail)
    assert apns.received == []
