"""Pushes to Android phones through the real pyfcm (HTTP v1, service-account sign-in) at a
local FCM: sign-in and send checked, an unregistered token removed, an outage outlived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from server.config import PushConfig, Settings
from server.errors import ConfigError
from server.notify.fcm import FcmNotifier
from server.runtime import Runtime
from server.storage.models import PushDevice, PushOutbox
from tests.conftest import make_settings
from tests.fakes.fcm import FcmService
from tests.helpers import World
from tests.notify.devices import register
from tests.notify.test_webpush_delivery import raise_alert, until


@pytest.fixture
async def fcm() -> AsyncIterator[FcmService]:
    service = FcmService()
    async with service.running():
        yield service


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fcm: FcmService) -> Settings:
    push = PushConfig(
        retry_base_s=0.05,
        retry_cap_s=0.2,
        allow_private_endpoints=True,  # the local fake
        fcm_service_account=fcm.service_account(tmp_path / "firebase.json"),
        fcm_endpoint=fcm.endpoint_base,
    )
    return make_settings(tmp_path / "data", database_url).model_copy(update={"push": push})


async def test_a_phone_gets_the_push_and_a_dead_token_is_removed(
    client: httpx.AsyncClient, world: World, runtime: Runtime, fcm: FcmService
) -> None:
    await register(client, world, "supervisor_a", "fcm", "fcm-token-supervisor-phone")
    dead = await register(client, world, "admin", "fcm", "fcm-token-uninstalled-app")
    fcm.answers["fcm-token-uninstalled-app"] = 404
    alert = await raise_alert(runtime, world.cameras[0])
    await until(lambda: len(fcm.received) == 1 and runtime.pushes.stats.removed_devices == 1)
    message = fcm.received[0]
    assert message["token"] == "fcm-token-supervisor-phone"
    assert message["notification"]["title"].startswith("Possible concealment at ")
    assert message["data"]["alert_id"] == str(alert.id)
    assert message["data"]["deep_link"] == f"shopguard://alerts/{alert.id}"
    assert message["android"] == {"priority": "high"}
    async with runtime.sessionmaker() as session:
        assert await session.get(PushDevice, dead) is None


async def test_an_fcm_outage_delays_pushes_and_loses_none(
    client: httpx.AsyncClient, world: World, runtime: Runtime, fcm: FcmService
) -> None:
    await register(client, world, "viewer_a", "fcm", "fcm-token-viewer")
    fcm.answers["fcm-token-viewer"] = 503
    await raise_alert(runtime, world.cameras[0])
    await until(lambda: runtime.pushes.stats.retried >= 3)
    assert fcm.received == []
    del fcm.answers["fcm-token-viewer"]  # FCM is back
    await until(lambda: len(fcm.received) == 1)
    await asyncio.sleep(0.5)
    assert len(fcm.received) == 1  # once
    async with runtime.sessionmaker() as session:
        row = (await session.scalars(select(PushOutbox))).one()
    assert row.status == "sent" and row.attempts >= 4


def test_a_bad_service_account_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"firebase\.json"):
        FcmNotifier(tmp_path / "firebase.json")
    (tmp_path / "other.json").write_text('{"type": "authorized_user"}')
    with pytest.raises(ConfigError, match="not a service account"):
        FcmNotifier(tmp_path / "other.json")


@pytest.mark.parametrize(
    "endpoint",
    ["http://fcm.googleapis.com/v1/projects", "https://127.0.0.1/v1", "https://10.0.0.2/v1"],
)
def test_an_fcm_endpoint_that_is_not_https_to_a_public_host_is_refused(
    tmp_path: Path, fcm: FcmService, endpoint: str
) -> None:
    account = fcm.service_account(tmp_path / "firebase.json")
    with pytest.raises(ConfigError, match=r"push\.fcm_endpoint .*(https|not a public address)"):
        FcmNotifier(account, endpoint_base=endpoint)
