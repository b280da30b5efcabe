"""Sign-in delays as people meet them: a name that keeps failing at one address waits, growing;
the answers never tell whether a user exists; strangers cannot lock the owner out; a store
behind one NAT keeps signing in while a broken device there guesses."""

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.test_auth import (
    LOGIN,
    assert_too_many,
    assert_unauthorized,
    audit_rows,
    client_for,
    serve,
)
from tests.conftest import make_settings
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD, create_user, error_of, login
from tests.redis_server import RedisServer

HOME = ("203.0.113.7", 50000)  # where the store's people sign in
STRANGER = ("198.51.100.23", 50000)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer.running(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["local", "redis"])
async def guarded(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> AsyncIterator[FastAPI]:
    """The app, its guard in this process or shared through a Redis of the test's own."""
    settings = make_settings(
        tmp_path / "data",
        database_url,
        lockout_threshold=3,
        client_max_failures=8,
        name_max_failures=8,
    )
    if request.param == "redis":
        settings = request.getfixturevalue("redis_server").settings_for(settings)
    async with serve(settings, HOME) as (app, _):
        yield app


async def try_password(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


async def user_record(client: httpx.AsyncClient, admin: dict[str, str], name: str) -> Any:
    listing = (await client.get("/api/v1/users", headers=admin)).json()["data"]
    [record] = [user for user in listing if user["username"] == name]
    return record


async def test_failures_in_a_row_make_that_name_wait_there_until_an_admin_resets_it(
    guarded: FastAPI,
) -> None:
    async with client_for(guarded, HOME) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        await create_user(client, admin, "clerk", "viewer", [])
        for _ in range(2):  # failures must be in a row: a success starts the count again
            assert_unauthorized(await try_password(client, "clerk", "wrong-password"))
        assert (await try_password(client, "clerk", NEW_PASSWORD)).status_code == 200

        for name in ("clerk", "ghost"):  # a real user and a made-up name fail alike
            for _ in range(3):
                assert_unauthorized(await try_password(client, name, "wrong-password"))
        waits = [await try_password(client, name, NEW_PASSWORD) for name in ("clerk", "ghost")]
        for wait in waits:
            assert_too_many(wait, max_retry_s=30)
        assert error_of(waits[0]) == error_of(waits[1])
        assert waits[0].headers["Retry-After"] == waits[1].headers["Retry-After"]
        assert (await user_record(client, admin, "clerk"))["locked_until"] is not None
        failed = await audit_rows(client, admin, "auth.login_failed", "clerk")
        assert len(failed) == 5  # the tries that had to wait were not checked
        assert failed[0]["details"]["wait_s"] == 30  # newest first: the one that began the wait

        # the same name from elsewhere is not held up by what happened here
        async with client_for(guarded, STRANGER) as elsewhere:
            assert (await try_password(elsewhere, "clerk", NEW_PASSWORD)).status_code == 200

        [clerk_id] = [(await user_record(client, admin, "clerk"))["id"]]
        reset = await client.post(f"/api/v1/users/{clerk_id}/reset-password", headers=admin)
        assert reset.status_code == 200, reset.text
        assert (await try_password(client, "clerk", reset.json()["password"])).status_code == 200


async def test_a_burst_of_parallel_guesses_is_counted_before_it_is_checked(
    guarded: FastAPI,
) -> None:
    async with client_for(guarded, HOME) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        await create_user(client, admin, "clerk", "viewer", [])
    async with client_for(guarded, STRANGER) as client:
        burst = await asyncio.gather(
            *(try_password(client, "clerk", f"guess-{i}") for i in range(12))
        )
        codes = sorted(response.status_code for response in burst)
        assert codes == [401] * 3 + [429] * 9  # only lockout_threshold were checked
        assert_too_many(await try_password(client, "clerk", NEW_PASSWORD), max_retry_s=30)


async def test_every_refused_password_takes_as_long_real_user_or_not(guarded: FastAPI) -> None:
    """A locked-out, a disabled and a made-up name cost one password check, like a wrong
    password: timing does not tell which names exist."""
    async with client_for(guarded, HOME) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        for name in ("clerk", "gone"):
            await create_user(client, admin, name, "viewer", [])
        gone_id = (await user_record(client, admin, "gone"))["id"]
        disabled = await client.patch(
            f"/api/v1/users/{gone_id}", headers=admin, json={"is_active": False}
        )
        assert disabled.status_code == 200

    async def refusal_s(name: str, network: int) -> float:
        """Five refusals, each from its own address (below every threshold)."""
        seconds = []
        for host in range(5):
            async with client_for(guarded, (f"192.0.{network}.{host}", 1)) as client:
                started = time.perf_counter()
                assert_unauthorized(await try_password(client, name, "wrong"))
                seconds.append(time.perf_counter() - started)
        return statistics.median(seconds)

    real, disabled_user, made_up = [
        await refusal_s(name, network)
        for network, name in enumerate(("clerk", "gone", "nobody-here"), start=1)
    ]
    for other in (disabled_user, made_up):  # wide bounds: a loaded machine is noisy
        assert 0.2 < other / real < 5.0, (real, disabled_user, made_up)


async def test_strangers_guessing_a_name_do_not_lock_its_owner_out(guarded: FastAPI) -> None:
    async with client_for(guarded, HOME) as home:
        await login(home, "admin", ADMIN_PASSWORD)  # the admin's usual address
    for index in range(8):  # name_max_failures, from many machines, two each
        async with client_for(guarded, (f"198.51.100.{100 + index}", 1)) as stranger:
            assert_unauthorized(await try_password(stranger, "admin", "guess"))
    async with client_for(guarded, ("198.51.100.99", 1)) as stranger:
        assert_too_many(await try_password(stranger, "admin", ADMIN_PASSWORD), max_retry_s=300)
    async with client_for(guarded, HOME) as home:
        assert (await try_password(home, "admin", ADMIN_PASSWORD)).status_code == 200


async def test_a_store_behind_one_address_signs_in_while_a_device_there_guesses(
    guarded: FastAPI,
) -> None:
    async with client_for(guarded, HOME) as store:
        admin = await login(store, "admin", ADMIN_PASSWORD)
        await create_user(store, admin, "clerk", "viewer", [])
        assert (await try_password(store, "clerk", NEW_PASSWORD)).status_code == 200
        for index in range(8):  # client_max_failures: a broken device tries many names
            assert_unauthorized(await try_password(store, f"till-{index}", "x"))
        assert_too_many(await try_password(store, "till-9", "x"), max_retry_s=300)
        # people who signed in here before still can; a name new to this address waits
        assert (await try_password(store, "clerk", NEW_PASSWORD)).status_code == 200
        assert (await try_password(store, "admin", ADMIN_PASSWORD)).status_code == 200
        created = await store.post(
            "/api/v1/users",
            headers=admin,
            json={"username": "newbie", "password": NEW_PASSWORD, "role": "viewer"},
        )
        assert created.status_code == 201, created.text
        assert_too_many(await try_password(store, "newbie", NEW_PASSWORD), max_retry_s=300)
