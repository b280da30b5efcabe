"""Two API instances on one database and one Redis share the sign-in throttle: failures add
up across them, a delay set at one holds at the other, a pair known at one is known at the
other, an admin's reset at one ends the waits at both. With Redis away, people still sign in
and each instance throttles on its own, then the shared state is used again."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from server.app import create_app
from server.config import Settings
from server.security.sign_in_failover import RETRY_S
from tests.api.test_auth import assert_too_many, assert_unauthorized, client_for
from tests.api.test_sign_in_guard import HOME, STRANGER, try_password, user_record
from tests.conftest import make_settings
from tests.helpers import ADMIN_PASSWORD, LIFESPAN_S, NEW_PASSWORD, create_user, login
from tests.redis_server import RedisServer

FIRST_WAIT_S = 30  # lockout_first_delay_s's default


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer.running(tmp_path_factory.mktemp("redis")) as server:
        yield server


def throttled_settings(tmp_path: Path, database_url: str, redis: RedisServer) -> Settings:
    settings = make_settings(
        tmp_path / "data",
        database_url,
        lockout_threshold=3,
        client_max_failures=8,
        name_max_failures=8,
    )
    return redis.settings_for(settings)


@contextlib.asynccontextmanager
async def two_instances(settings: Settings) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    """Two apps as two API processes run them: same settings, database and Redis."""
    first, second = create_app(settings), create_app(settings)
    async with (
        LifespanManager(first, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S),
        LifespanManager(second, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S),
    ):
        yield first, second


@pytest.fixture
async def instances(
    tmp_path: Path, database_url: str, redis_server: RedisServer
) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    async with two_instances(throttled_settings(tmp_path, database_url, redis_server)) as apps:
        yield apps


async def add_clerk(app: FastAPI) -> dict[str, str]:
    """The clerk (password NEW_PASSWORD, signed in from HOME once); the admin's header."""
    async with client_for(app, HOME) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        await create_user(client, admin, "clerk", "viewer", [])
    return admin


async def test_failures_at_both_instances_add_up_to_one_delay(
    instances: tuple[FastAPI, FastAPI],
) -> None:
    first, second = instances
    await add_clerk(first)
    async with client_for(first, STRANGER) as one, client_for(second, STRANGER) as two:
        for client in (one, two, one):  # lockout_threshold = 3, spread over both
            assert_unauthorized(await try_password(client, "clerk", "wrong-password"))
        for client in (one, two):
            assert_too_many(await try_password(client, "clerk", NEW_PASSWORD), FIRST_WAIT_S)


async def test_a_delay_set_at_one_instance_holds_at_the_other(
    instances: tuple[FastAPI, FastAPI],
) -> None:
    first, second = instances
    async with client_for(first, STRANGER) as one, client_for(second, STRANGER) as two:
        for _ in range(3):
            assert_unauthorized(await try_password(one, "ghost", "guess"))
        waited = await try_password(two, "ghost", "guess")
        assert_too_many(waited, FIRST_WAIT_S)
        assert int(waited.headers["Retry-After"]) > FIRST_WAIT_S - 5  # the first one's wait


async def test_a_pair_known_at_one_instance_is_known_at_the_other(
    instances: tuple[FastAPI, FastAPI],
) -> None:
    first, second = instances
    await add_clerk(first)  # the clerk signs in from HOME at the first instance only
    async with client_for(first, HOME) as one, client_for(second, HOME) as two:
        for index in range(8):  # client_max_failures from HOME, half at each instance
            assert_unauthorized(await try_password((one, two)[index % 2], f"till-{index}", "x"))
        assert_too_many(await try_password(two, "till-9", "x"), max_retry_s=300)
        assert (await try_password(two, "clerk", NEW_PASSWORD)).status_code == 200
        assert_too_many(await try_password(two, "newbie", "x"), max_retry_s=300)


async def test_an_admin_reset_at_one_instance_ends_the_waits_at_both(
    instances: tuple[FastAPI, FastAPI],
) -> None:
    first, second = instances
    admin = await add_clerk(first)
    async with client_for(first, HOME) as one, client_for(second, STRANGER) as two:
        for client in (one, two):
            for _ in range(3):
                assert_unauthorized(await try_password(client, "clerk", "wrong-password"))
            assert_too_many(await try_password(client, "clerk", NEW_PASSWORD), FIRST_WAIT_S)
        clerk_id = (await user_record(two, admin, "clerk"))["id"]
        reset = await two.post(f"/api/v1/users/{clerk_id}/reset-password", headers=admin)
        assert reset.status_code == 200, reset.text
        password = reset.json()["password"]
        assert (await try_password(one, "clerk", password)).status_code == 200
        assert (await try_password(two, "clerk", password)).status_code == 200


async def sign_in_status(client: httpx.AsyncClient, name: str, password: str) -> int:
    return (await try_password(client, name, password)).status_code


async def test_with_redis_away_each_instance_throttles_alone_then_shares_again(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with RedisServer.running(tmp_path / "redis") as redis:
        settings = throttled_settings(tmp_path, database_url, redis)
        async with two_instances(settings) as (first, second):
            await add_clerk(first)
            async with client_for(first, HOME) as one, client_for(second, HOME) as two:
                redis.stop()
                with caplog.at_level(logging.WARNING, logger="server.security.sign_in_failover"):
                    # owners are not locked out by the outage
                    assert await sign_in_status(two, "admin", ADMIN_PASSWORD) == 200
                    assert await sign_in_status(one, "clerk", NEW_PASSWORD) == 200
                    # each instance still throttles, on its own
                    for _ in range(3):
                        assert_unauthorized(await try_password(one, "clerk", "wrong-password"))
                    assert_too_many(await try_password(one, "clerk", NEW_PASSWORD), FIRST_WAIT_S)
                    assert await sign_in_status(two, "clerk", NEW_PASSWORD) == 200
                    await asyncio.sleep(RETRY_S + 0.5)  # the next sign-in asks Redis again
                    assert await sign_in_status(one, "admin", ADMIN_PASSWORD) == 200
                away = [r for r in caplog.records if "does not answer" in r.getMessage()]
                assert len(away) == 2  # one warning per instance, not one per try

                redis.start()  # back, and empty
                await asyncio.sleep(RETRY_S + 0.5)
                for client in (one, two, one):
                    assert_unauthorized(await try_password(client, "ghost", "guess"))
                for client in (one, two):
                    assert_too_many(await try_password(client, "ghost", "guess"), FIRST_WAIT_S)
