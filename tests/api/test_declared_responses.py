"""Every status an operation answers is one that its OpenAPI entry declares, with the error
shape: what schemathesis checks over the whole schema in CI
(`infra/scripts/check_api_schema.sh`). Each test is a case it found."""

from typing import Any

import httpx
import pytest

from shared.api_paths import API_V1
from shared.schemas.errors import ErrorResponse
from tests.helpers import ADMIN_PASSWORD


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
