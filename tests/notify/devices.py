"""Registering a user's device through the API, as the app does."""

from __future__ import annotations

import httpx

from tests.helpers import World


async def register(
    client: httpx.AsyncClient,
    world: World,
    user: str,
    platform: str,
    token: str,
    keys: dict[str, str] | None = None,
) -> int:
    """The new device's id."""
    body = {"platform": platform, "token": token, "keys": keys}
    response = await client.post("/api/v1/devices", headers=world.headers[user], json=body)
    assert response.status_code == 201, response.text
    device_id: int = response.json()["id"]
    return device_id
