"""Cases schemathesis found over the whole schema (`infra/scripts/check_api_schema.sh`, in
CI): every status an operation answers is one that its OpenAPI entry declares, with the
error shape, and no request makes a server error."""

import asyncio
from typing import Any

import httpx
import pytest

from server.runtime import Runtime
from shared.api_paths import API_V1
from shared.schemas.errors import ErrorResponse
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD, USER_PASSWORD, error_of


async def declared(client: httpx.AsyncClient, method: str, path: str) -> set[int]:
    """The statuses /openapi.json declares for `method path` (path under /api/v1)."""
    spec: dict[str, Any] = (await client.get("/openapi.json")).json()
    return {int(status) for status in spec["paths"][f"{API_V1}{path}"][method.lower()]["responses"]}


def assert_declared(response: httpx.Response, statuses: set[int], status: int) -> None:
    assert response.status_code == status, response.text
    assert status in statuses, f"{status} is not declared; declared: {sorted(statuses)}"
    ErrorResponse.model_validate_json(response.content)


BODY_ROUTES = [
    ("POST", "/auth/login"),
    ("POST", "/stores"),
    ("POST", "/users"),
    ("PATCH", "/settings"),
    ("PUT", "/devices/preferences"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_body_that_is_not_json_gets_a_declared_400(
    client: httpx.AsyncClient, admin_headers: dict[str, str], method: str, path: str
) -> None:
    response = await client.request(
        method,
        f"{API_V1}{path}",
        headers={**admin_headers, "Content-Type": "application/json"},
        content=b"\x00",  # schemathesis' case
    )
    assert_declared(response, await declared(client, method, path), 400)


async def test_a_body_over_the_limit_gets_a_declared_413(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        f"{API_V1}/stores",
        headers={**admin_headers, "Content-Type": "application/json"},
        content=b" " * 1_048_577,  # server.max_body_bytes + 1
    )
    assert_declared(response, await declared(client, "POST", "/stores"), 413)


async def test_sign_ins_throttled_get_a_declared_429(client: httpx.AsyncClient) -> None:
    body = {"username": "0", "password": "wrong-password-0"}  # schemathesis' case
    for _ in range(5):  # auth.lockout_threshold
        response = await client.post(f"{API_V1}/auth/login", json=body)
        assert response.status_code == 401, response.text
    response = await client.post(f"{API_V1}/auth/login", json=body)
    assert_declared(response, await declared(client, "POST", "/auth/login"), 429)


async def test_password_changes_throttled_get_a_declared_429(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = {"current_password": "wrong-password-0", "new_password": ADMIN_PASSWORD + "x"}
    for _ in range(6):  # auth.lockout_threshold, then the one that locks
        response = await client.post(f"{API_V1}/auth/password", headers=admin_headers, json=body)
        if response.status_code != 401:
            break
    assert_declared(response, await declared(client, "POST", "/auth/password"), 429)


@pytest.mark.parametrize(
    "path",
    [
        "~no-such-user/clip.mp4",  # expanduser: "Could not determine home directory"
        "clip\x00.mp4",  # resolve: "embedded null byte"
    ],
)
async def test_a_file_source_that_is_no_path_is_refused_not_a_server_error(
    client: httpx.AsyncClient, admin_headers: dict[str, str], path: str
) -> None:
    store = await client.post(f"{API_V1}/stores", headers=admin_headers, json={"name": "Kiosk"})
    camera = {"store_id": store.json()["id"], "name": "Till", "source_kind": "file"}
    created = await client.post(
        f"{API_V1}/cameras",
        headers=admin_headers,
        json=camera | {"source_kind": "rtsp", "source_url": "rtsp://127.0.0.1:9/x"},
    )
    camera_id = created.json()["id"]
    source = {"source_kind": "file", "source_url": path}
    for method, route, body in [
        ("POST", "/cameras", camera | {"source_url": path}),
        ("PATCH", f"/cameras/{camera_id}", source),
        ("POST", "/cameras/source-test", source),
        ("POST", f"/cameras/{camera_id}/source-test", source),
    ]:
        response = await client.request(
            method, f"{API_V1}{route}", headers=admin_headers, json=body
        )
        assert response.status_code == 422, f"{method} {route}: {response.text}"
        assert error_of(response)["code"] == "invalid_request"


async def test_a_user_changed_while_its_store_is_deleted_is_no_server_error(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """schemathesis' two workers: PATCH /users/{id} (a password and `store_ids`) read the
    user's stores, and DELETE /stores/{id} removed one (and its user_stores row) while the
    password was hashed; the PATCH's flush then found the row gone (StaleDataError: 500)."""
    store = await client.post(f"{API_V1}/stores", headers=admin_headers, json={"name": "Kiosk"})
    user = await client.post(
        f"{API_V1}/users",
        headers=admin_headers,
        json={"username": "clerk", "password": USER_PASSWORD, "store_ids": [store.json()["id"]]},
    )
    hashing, go_on = asyncio.Event(), asyncio.Event()
    hash_async = runtime.passwords.hash_async

    async def held_hash(password: str) -> str:
        hashing.set()
        await go_on.wait()
        return await hash_async(password)

    monkeypatch.setattr(runtime.passwords, "hash_async", held_hash)
    change = asyncio.create_task(
        client.patch(
            f"{API_V1}/users/{user.json()['id']}",
            headers=admin_headers,
            json={"password": NEW_PASSWORD, "store_ids": []},
        )
    )
    await hashing.wait()
    deleted = await client.delete(f"{API_V1}/stores/{store.json()['id']}", headers=admin_headers)
    assert deleted.status_code == 204, deleted.text
    go_on.set()
    response = await change
    # SQLite counts the rows each DELETE matched (409: read again); asyncpg does not (done)
    assert response.status_code in (200, 409), response.text
    if response.status_code == 409:
        assert error_of(response)["code"] == "conflict"
