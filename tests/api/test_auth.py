"""Signing in and out through the API: tokens, rotation, sessions, passwords, the first admin,
the signing key, lockout, client throttling, disabled accounts and expired tokens."""

import asyncio
import contextlib
import os
import stat
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select

from server.app import create_app
from server.config import Settings
from server.runtime import ADMIN_PASSWORD_FILE, Runtime
from server.security.keys import KEY_FILE
from server.security.tokens import TokenSigner
from server.services.auth import SIGN_IN_REFUSED
from server.storage.models import AuthSession, User, utcnow
from tests.conftest import make_settings
from tests.helpers import (
    ADMIN_PASSWORD,
    LIFESPAN_S,
    NEW_PASSWORD,
    create_user,
    error_of,
    login,
)

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
PASSWORD = "/api/v1/auth/password"
CLIENT = ("203.0.113.7", 50000)
OTHER_CLIENT = ("198.51.100.23", 50000)


# --- helpers ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve(
    settings: Settings, client: tuple[str, int] = CLIENT
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The real app with its lifespan and an ASGI client, like conftest's `app` and `client`."""
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S):
        async with client_for(app, client) as http:
            yield app, http


def client_for(app: FastAPI, client: tuple[str, int]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://shopguard.test")


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    """The whole token pair of a successful login."""
    response = await client.post(LOGIN, json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def me_status(client: httpx.AsyncClient, pair: dict[str, Any]) -> int:
    return (await client.get(ME, headers=bearer(pair))).status_code


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": refresh_token})


async def audit_rows(
    client: httpx.AsyncClient, admin: dict[str, str], action: str, username: str | None = None
) -> list[dict[str, Any]]:
    params = {"action": action, "limit": "500"}
    if username is not None:
        params["username"] = username
    response = await client.get("/api/v1/audit", headers=admin, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["data"])
    rows: list[dict[str, Any]] = body["data"]
    return rows


async def session_rows(runtime: Runtime, username: str) -> list[AuthSession]:
    async with runtime.sessionmaker() as db:
        query = (
            select(AuthSession)
            .join(User, User.id == AuthSession.user_id)
            .where(User.username == username)
            .order_by(AuthSession.created_at, AuthSession.id)
        )
        return list((await db.scalars(query)).all())


async def session_count(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(AuthSession)) or 0)


def session_id(runtime: Runtime, pair: dict[str, Any]) -> str:
    return runtime.auth.signer.verify(pair["access_token"]).session_id


def file_mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    error = error_of(response)
    assert error["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    return error


def assert_too_many(response: httpx.Response, max_retry_s: int) -> None:
    assert response.status_code == 429, response.text
    assert error_of(response)["code"] == "too_many_attempts"
    assert 1 <= int(response.headers["Retry-After"]) <= max_retry_s


# --- login -----------------------------------------------------------------------------------


async def test_login_returns_tokens_with_lifetimes_from_settings(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pair = await sign_in(client, "admin", ADMIN_PASSWORD)
    assert set(pair) == {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "refresh_expires_in",
        "must_change_password",
    }
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == runtime.settings.auth.access_token_ttl_s
    assert pair["refresh_expires_in"] == runtime.settings.auth.refresh_token_ttl_s
    assert pair["must_change_password"] is False
    assert pair["access_token"] != pair["refresh_token"]
    claims = runtime.auth.signer.verify(pair["access_token"])
    ttl = (claims.expires_at - utcnow()).total_seconds()
    assert runtime.settings.auth.access_token_ttl_s - 60 < ttl <= pair["expires_in"]

    me = await client.get(ME, headers=bearer(pair))
    assert me.status_code == 200
    assert me.json()["username"] == "admin"
    assert me.json()["role"] == "admin"
    assert me.json()["must_change_password"] is False
    assert me.json()["last_login_at"] is not None
    # a configured first password is not written anywhere
    assert not (runtime.settings.data_dir / ADMIN_PASSWORD_FILE).exists()


async def test_token_lifetimes_follow_the_settings(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path / "data", database_url, access_token_ttl_s=120, refresh_token_ttl_s=7200
    )
    async with serve(settings) as (app, client):
        pair = await sign_in(client, "admin", ADMIN_PASSWORD)
        assert (pair["expires_in"], pair["refresh_expires_in"]) == (120, 7200)
        runtime: Runtime = app.state.runtime
        claims = runtime.auth.signer.verify(pair["access_token"])
        assert 60 < (claims.expires_at - utcnow()).total_seconds() <= 120
        rotated = await refresh(client, pair["refresh_token"])
        assert (rotated.json()["expires_in"], rotated.json()["refresh_expires_in"]) == (120, 7200)


async def test_wrong_password_and_unknown_user_look_the_same(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    sessions_before = await session_count(runtime)
    wrong = await client.post(LOGIN, json={"username": "admin", "password": "not-the-password"})
    unknown = await client.post(LOGIN, json={"username": "nobody", "password": ADMIN_PASSWORD})
    wrong_error, unknown_error = assert_unauthorized(wrong), assert_unauthorized(unknown)
    assert wrong_error == unknown_error
    assert wrong_error["message"] == SIGN_IN_REFUSED
    # no session was opened, and both attempts are in the audit log
    assert await session_count(runtime) == sessions_before
    failed = await audit_rows(client, admin_headers, "auth.login_failed")
    assert sorted(row["username"] for row in failed) == ["admin", "nobody"]
    assert all(row["client"].startswith("203.0.113.7") for row in failed)


# --- refresh ---------------------------------------------------------------------------------


async def test_refresh_rotates_and_reuse_ends_the_whole_session(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    first = await sign_in(client, "admin", ADMIN_PASSWORD)
    sid = session_id(runtime, first)

    second_response = await refresh(client, first["refresh_token"])
    assert second_response.status_code == 200, second_response.text
    second = second_response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["expires_in"] == runtime.settings.auth.access_token_ttl_s
    assert session_id(runtime, second) == sid  # same session, new tokens
    assert await me_status(client, second) == 200

    third_response = await refresh(client, second["refresh_token"])
    assert third_response.status_code == 200, third_response.text
    third = third_response.json()
    assert await me_status(client, third) == 200

    # the first refresh token, used again: someone copied it; the session ends
    reuse = await refresh(client, first["refresh_token"])
    assert "already used" in assert_unauthorized(reuse)["message"]
    assert_unauthorized(await client.get(ME, headers=bearer(third)))
    assert_unauthorized(await refresh(client, third["refresh_token"]))
    assert_unauthorized(await client.get(ME, headers=bearer(first)))

    [row] = [s for s in await session_rows(runtime, "admin") if s.id == sid]
    assert row.revoked_at is not None
    assert row.revoke_reason == "refresh_reuse"
    # another session of the same user is not affected
    assert (await client.get(ME, headers=admin_headers)).status_code == 200
    reuse_rows = await audit_rows(client, admin_headers, "auth.refresh_reuse")
    assert [(r["target_type"], r["target_id"]) for r in reuse_rows] == [("session", sid)]


async def test_two_refreshes_with_one_token_at_once_give_one_pair(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pair = await sign_in(client, "admin", ADMIN_PASSWORD)
    responses = await asyncio.gather(
        refresh(client, pair["refresh_token"]), refresh(client, pair["refresh_token"])
    )
    statuses = sorted(response.status_code for response in responses)
    # one wins; the other is a reuse, so the session ends and the winner's tokens too
    assert statuses == [200, 401]
    [winner] = [r.json() for r in responses if r.status_code == 200]
    assert_unauthorized(await client.get(ME, headers=bearer(winner)))


@pytest.mark.parametrize(
    "token",
    [
        "x" * 43,  # never issued
        "",  # too short for the schema
    ],
)
async def test_refresh_with_unknown_token_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, token: str
) -> None:
    sessions_before = await session_count(runtime)
    response = await refresh(client, token)
    if token:
        assert_unauthorized(response)
    else:
        assert response.status_code == 422
        assert error_of(response)["code"] == "validation_error"
    assert await session_count(runtime) == sessions_before


# --- logout ----------------------------------------------------------------------------------


async def test_logout_ends_only_that_session(client: httpx.AsyncClient, runtime: Runtime) -> None:
    leaving = await sign_in(client, "admin", ADMIN_PASSWORD)
    staying = await sign_in(client, "admin", ADMIN_PASSWORD)

    response = await client.post(LOGOUT, headers=bearer(leaving))
    assert response.status_code == 204
    assert response.content == b""

    assert_unauthorized(await client.get(ME, headers=bearer(leaving)))
    assert_unauthorized(await refresh(client, leaving["refresh_token"]))
    assert_unauthorized(await client.post(LOGOUT, headers=bearer(leaving)))

    assert await me_status(client, staying) == 200
    rotated = await refresh(client, staying["refresh_token"])
    assert rotated.status_code == 200
    assert await me_status(client, rotated.json()) == 200

    by_id = {s.id: s for s in await session_rows(runtime, "admin")}
    assert by_id[session_id(runtime, leaving)].revoke_reason == "logout"
    assert by_id[session_id(runtime, staying)].revoked_at is None


async def test_logout_needs_a_token(client: httpx.AsyncClient) -> None:
    assert_unauthorized(await client.post(LOGOUT))


# --- password change -------------------------------------------------------------------------


async def test_password_change_ends_other_sessions_and_keeps_this_one(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    first_headers = await create_user(client, admin_headers, "clerk", "viewer", [])
    current = await sign_in(client, "clerk", NEW_PASSWORD)
    other = await sign_in(client, "clerk", NEW_PASSWORD)
    third_password = "third-password-3"

    # wrong current password: refused, nothing changes
    wrong = await client.post(
        PASSWORD,
        headers=bearer(current),
        json={"current_password": "not-my-password", "new_password": third_password},
    )
    assert assert_unauthorized(wrong)["message"] == "current password is wrong"
    too_short = await client.post(
        PASSWORD,
        headers=bearer(current),
        json={"current_password": NEW_PASSWORD, "new_password": "short"},
    )
    assert too_short.status_code == 422
    assert error_of(too_short)["code"] == "validation_error"
    assert await me_status(client, other) == 200
    assert (await client.get(ME, headers=first_headers)).status_code == 200
    assert all(s.revoked_at is None for s in await session_rows(runtime, "clerk"))

    changed = await client.post(
        PASSWORD,
        headers=bearer(current),
        json={"current_password": NEW_PASSWORD, "new_password": third_password},
    )
    assert changed.status_code == 204

    # this session lives on, with its refresh token
    assert await me_status(client, current) == 200
    rotated = await refresh(client, current["refresh_token"])
    assert rotated.status_code == 200
    # the others have ended
    assert_unauthorized(await client.get(ME, headers=bearer(other)))
    assert_unauthorized(await refresh(client, other["refresh_token"]))
    assert_unauthorized(await client.get(ME, headers=first_headers))
    reasons = {s.id: s.revoke_reason for s in await session_rows(runtime, "clerk")}
    assert reasons.pop(session_id(runtime, current)) is None
    assert set(reasons.values()) == {"password_changed"}

    # the new password works, the old one does not
    await sign_in(client, "clerk", third_password)
    assert_unauthorized(
        await client.post(LOGIN, json={"username": "clerk", "password": NEW_PASSWORD})
    )
    rows = await audit_rows(client, admin_headers, "auth.password_changed", "clerk")
    assert len(rows) == 2  # the helper's first change, then ours


async def test_an_admin_setting_their_own_password_keeps_this_session(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    """`PATCH /users/{own id}` with a password acts as `/auth/password` does: the session it
    came from lives on, the admin's other sessions end, no change is forced at next sign-in."""
    other = await sign_in(client, "admin", ADMIN_PASSWORD)
    admin_id = (await client.get(ME, headers=admin_headers)).json()["id"]
    response = await client.patch(
        f"/api/v1/users/{admin_id}", headers=admin_headers, json={"password": NEW_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert (await client.get(ME, headers=admin_headers)).status_code == 200
    assert_unauthorized(await client.get(ME, headers=bearer(other)))
    again = await sign_in(client, "admin", NEW_PASSWORD)
    assert again["must_change_password"] is False


# --- the first admin -------------------------------------------------------------------------


async def test_first_admin_gets_a_one_time_password_in_a_private_file(
    tmp_path: Path, database_url: str
) -> None:
    base = make_settings(tmp_path / "data", database_url)
    settings = base.model_copy(
        update={"auth": base.auth.model_copy(update={"initial_admin_password": None})}
    )
    password_file = settings.data_dir / ADMIN_PASSWORD_FILE
    final_password = "my-own-admin-password"

    async with serve(settings) as (_, client):
        assert password_file.is_file()
        assert file_mode(password_file) == 0o600
        one_time = password_file.read_text().strip()
        assert len(one_time) >= 16

        pair = await sign_in(client, "admin", one_time)
        assert pair["must_change_password"] is True
        refused = await client.get("/api/v1/stores", headers=bearer(pair))
        assert refused.status_code == 403
        assert error_of(refused)["code"] == "forbidden"
        me = await client.get(ME, headers=bearer(pair))
        assert me.status_code == 200
        assert me.json()["must_change_password"] is True
        assert me.json()["role"] == "admin"

        changed = await client.post(
            PASSWORD,
            headers=bearer(pair),
            json={"current_password": one_time, "new_password": final_password},
        )
        assert changed.status_code == 204
        assert not password_file.exists()
        stores = await client.get("/api/v1/stores", headers=bearer(pair))
        assert stores.status_code == 200
        me = await client.get(ME, headers=bearer(pair))
        assert me.json()["must_change_password"] is False

    # a restart does not make another admin or another password file
    async with serve(settings) as (app, client):
        assert not password_file.exists()
        await sign_in(client, "admin", final_password)
        assert_unauthorized(
            await client.post(LOGIN, json={"username": "admin", "password": one_time})
        )
        runtime: Runtime = app.state.runtime
        async with runtime.sessionmaker() as db:
            assert await db.scalar(select(func.count()).select_from(User)) == 1


# --- the signing key -------------------------------------------------------------------------


async def test_signing_key_is_private_and_survives_a_restart(
    settings: Settings, tmp_path: Path
) -> None:
    key_file = settings.data_dir / KEY_FILE
    async with serve(settings) as (_, client):
        assert key_file.is_file()
        assert file_mode(key_file) == 0o600
        key = key_file.read_text()
        assert len(key.strip()) >= 32
        pair = await sign_in(client, "admin", ADMIN_PASSWORD)

    async with serve(settings) as (_, client):
        assert key_file.read_text() == key
        assert await me_status(client, pair) == 200
        rotated = await refresh(client, pair["refresh_token"])
        assert rotated.status_code == 200
        assert await me_status(client, rotated.json()) == 200

    # the same database with another data directory has another key: the token is worthless
    elsewhere = settings.model_copy(update={"data_dir": tmp_path / "elsewhere"})
    async with serve(elsewhere) as (_, client):
        assert (elsewhere.data_dir / KEY_FILE).read_text() != key
        error = assert_unauthorized(await client.get(ME, headers=bearer(pair)))
        assert error["message"] == "invalid access token"


# --- lockout ---------------------------------------------------------------------------------


@pytest.fixture
async def locking_client(tmp_path: Path, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(tmp_path / "data", database_url, lockout_threshold=3)
    async with serve(settings) as (_, client):
        yield client


async def test_wrong_current_passwords_lock_the_password_change(
    locking_client: httpx.AsyncClient,
) -> None:
    client = locking_client
    admin = await login(client, "admin", ADMIN_PASSWORD)
    headers = await create_user(client, admin, "clerk", "viewer", [])

    async def change(current: str) -> httpx.Response:
        return await client.post(
            "/api/v1/auth/password",
            headers=headers,
            json={"current_password": current, "new_password": "another-password-3"},
        )

    for _ in range(3):  # lockout_threshold
        assert "current password is wrong" in assert_unauthorized(await change("guess"))["message"]
    assert_too_many(await change(NEW_PASSWORD), max_retry_s=900)  # even the right one waits
    # a session that guesses does not lock its owner out of signing in
    assert (
        await client.post(LOGIN, json={"username": "clerk", "password": NEW_PASSWORD})
    ).status_code == 200


# --- client throttle -------------------------------------------------------------------------


async def test_guessing_usernames_throttles_that_client_only(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    budget = runtime.settings.auth.client_max_failures
    for index in range(budget):
        assert_unauthorized(
            await client.post(LOGIN, json={"username": f"guess{index}", "password": "nope"})
        )
    throttled = await client.post(LOGIN, json={"username": "guess-more", "password": "nope"})
    assert_too_many(throttled, max_retry_s=runtime.settings.auth.client_window_s)
    # from this address even the right credentials wait
    right = await client.post(LOGIN, json={"username": "admin", "password": ADMIN_PASSWORD})
    assert_too_many(right, max_retry_s=runtime.settings.auth.client_window_s)
    # a new user agent from the same address does not start a new budget
    other_agent = await client.post(
        LOGIN,
        json={"username": "admin", "password": ADMIN_PASSWORD},
        headers={"User-Agent": "another-browser/1.0"},
    )
    assert_too_many(other_agent, max_retry_s=runtime.settings.auth.client_window_s)

    async with client_for(app, OTHER_CLIENT) as other:
        assert_unauthorized(
            await other.post(LOGIN, json={"username": "guess-other", "password": "nope"})
        )
        admin = await login(other, "admin", ADMIN_PASSWORD)
        failed = await audit_rows(other, admin, "auth.login_failed")
    # throttled attempts are refused before they are checked or counted
    assert len(failed) == budget + 1
    assert sum(row["client"].startswith("198.51.100.23") for row in failed) == 1


async def test_a_success_does_not_wipe_earlier_failures_of_an_address(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    budget = runtime.settings.auth.client_max_failures
    failures = 0
    while failures < budget:  # an own sign-in after every few guesses does not reset the count
        for _ in range(min(3, budget - failures)):
            guess = {"username": f"g{failures}", "password": "x"}
            assert_unauthorized(await client.post(LOGIN, json=guess))
            failures += 1
        if failures < budget:
            await login(client, "admin", ADMIN_PASSWORD)
    throttled = await client.post(LOGIN, json={"username": "one-more", "password": "x"})
    assert_too_many(throttled, max_retry_s=runtime.settings.auth.client_window_s)


# --- disabled users --------------------------------------------------------------------------


async def test_disabling_a_user_ends_its_sessions_and_sign_ins(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    await create_user(client, admin_headers, "clerk", "viewer", [])
    pair = await sign_in(client, "clerk", NEW_PASSWORD)
    users = (await client.get("/api/v1/users", headers=admin_headers)).json()["data"]
    [clerk_id] = [u["id"] for u in users if u["username"] == "clerk"]

    disabled = await client.patch(
        f"/api/v1/users/{clerk_id}", headers=admin_headers, json={"is_active": False}
    )
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["is_active"] is False

    assert_unauthorized(await client.get(ME, headers=bearer(pair)))
    assert_unauthorized(await refresh(client, pair["refresh_token"]))
    refused = await client.post(LOGIN, json={"username": "clerk", "password": NEW_PASSWORD})
    assert "disabled" in assert_unauthorized(refused)["message"]
    assert all(s.revoked_at is not None for s in await session_rows(runtime, "clerk"))

    # enabled again: signing in works, the old session stays ended
    enabled = await client.patch(
        f"/api/v1/users/{clerk_id}", headers=admin_headers, json={"is_active": True}
    )
    assert enabled.status_code == 200
    fresh = await sign_in(client, "clerk", NEW_PASSWORD)
    assert await me_status(client, fresh) == 200
    assert_unauthorized(await client.get(ME, headers=bearer(pair)))


@pytest.mark.parametrize(
    "change",
    [
        {"is_active": False},  # disable oneself
        {"role": "viewer"},  # demote oneself
        {"role": "supervisor", "store_ids": []},  # demote oneself, with other changes
    ],
)
async def test_admin_cannot_disable_or_demote_itself(
    client: httpx.AsyncClient, admin_headers: dict[str, str], change: dict[str, Any]
) -> None:
    admin_id = (await client.get(ME, headers=admin_headers)).json()["id"]
    before = (await client.get(f"/api/v1/users/{admin_id}", headers=admin_headers)).json()

    response = await client.patch(f"/api/v1/users/{admin_id}", headers=admin_headers, json=change)
    assert response.status_code == 409, response.text
    assert error_of(response)["code"] == "conflict"

    after = await client.get(f"/api/v1/users/{admin_id}", headers=admin_headers)
    assert after.status_code == 200
    assert after.json() == before
    assert await audit_rows(client, admin_headers, "user.update") == []


# --- bad access tokens -----------------------------------------------------------------------


async def test_expired_access_token_is_refused_as_expired(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pair = await sign_in(client, "admin", ADMIN_PASSWORD)
    claims = runtime.auth.signer.verify(pair["access_token"])
    expired = runtime.auth.signer.issue(
        user_id=claims.user_id,
        session_id=claims.session_id,
        now=utcnow() - timedelta(hours=1),
        ttl=timedelta(seconds=runtime.settings.auth.access_token_ttl_s),
    )
    response = await client.get(ME, headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in assert_unauthorized(response)["message"]
    # the session itself is fine: a fresh token from the same session works
    assert await me_status(client, pair) == 200


@pytest.mark.parametrize(
    ("make_header", "message"),
    [
        # signed with another key
        (
            lambda uid, sid: (
                "Bearer "
                + TokenSigner("another-key-" + "k" * 40).issue(
                    user_id=uid, session_id=sid, now=utcnow(), ttl=timedelta(minutes=5)
                )
            ),
            "invalid access token",
        ),
        # not a JWT at all
        (lambda uid, sid: "Bearer not-a-token", "invalid access token"),
        # no credentials
        (lambda uid, sid: "", "sign in first"),
        # another scheme
        (lambda uid, sid: f"Basic {sid}", "sign in first"),
    ],
)
async def test_bad_access_tokens_are_refused(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_header: Callable[[int, str], str],
    message: str,
) -> None:
    pair = await sign_in(client, "admin", ADMIN_PASSWORD)
    claims = runtime.auth.signer.verify(pair["access_token"])
    header = make_header(claims.user_id, claims.session_id)
    headers = {"Authorization": header} if header else {}
    response = await client.get(ME, headers=headers)
    assert message in assert_unauthorized(response)["message"]
