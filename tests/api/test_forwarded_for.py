"""X-Forwarded-For is believed only from configured proxies (real uvicorn on 127.0.0.1): with
none, a caller cannot dodge the sign-in throttle or write another address into the audit log;
behind a configured proxy, the address the proxy saw is the one throttled and audited."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.config import ServerConfig, Settings
from tests.conftest import make_settings
from tests.helpers import ADMIN_PASSWORD, LiveServer, login

LOGIN = "/api/v1/auth/login"


def with_proxies(settings: Settings, *proxies: str) -> Settings:
    server = ServerConfig(trusted_proxies=list(proxies))
    return settings.model_copy(update={"server": server})


async def failed_sign_in(client: httpx.AsyncClient, forged: str) -> httpx.Response:
    return await client.post(
        LOGIN,
        json={"username": "nobody", "password": "wrong-password"},
        headers={"X-Forwarded-For": forged},
    )


async def audited_clients(client: httpx.AsyncClient, admin: dict[str, str]) -> list[str]:
    response = await client.get(
        "/api/v1/audit", headers=admin, params={"action": "auth.login_failed"}
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return [row["client"] for row in rows]


@pytest.fixture
def throttled(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url, client_max_failures=3)


async def test_a_forged_forwarded_for_neither_dodges_the_throttle_nor_enters_the_audit_log(
    throttled: Settings,
) -> None:
    async with (
        LiveServer.run(create_app(throttled)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as client,
    ):
        admin = await login(client, "admin", ADMIN_PASSWORD)
        answers = [await failed_sign_in(client, f"198.51.100.{i}") for i in range(1, 5)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        clients = await audited_clients(client, admin)
    assert len(clients) == 3
    assert all(c.startswith("127.0.0.1 ") for c in clients), clients


async def test_behind_a_configured_proxy_the_forwarded_address_counts(
    throttled: Settings,
) -> None:
    settings = with_proxies(throttled, "127.0.0.1")
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as client,
    ):
        admin = await login(client, "admin", ADMIN_PASSWORD)
        answers = [await failed_sign_in(client, f"198.51.100.{i}") for i in range(1, 5)]
        assert [a.status_code for a in answers] == [401] * 4  # four callers, one failure each
        clients = await audited_clients(client, admin)
    assert sorted(c.split()[0] for c in clients) == [f"198.51.100.{i}" for i in range(1, 5)]
