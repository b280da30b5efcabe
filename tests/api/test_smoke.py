"""The path a new admin takes: health, sign-in, a store and a camera; a viewer is refused."""

import httpx

from tests.helpers import World, error_of


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    health = await client.get("/api/v1/health")
    assert health.status_code == 200
    assert health.json() == {"service": "shopguard", "status": "ok", "version": "0.1.0"}
    ready = await client.get("/api/v1/ready")
    assert ready.json() == {"status": "ready", "database": "ok"}


async def test_admin_creates_store_and_camera_viewer_cannot(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world.headers["admin"]
    cams = await client.get("/api/v1/cameras", headers=admin)
    assert cams.status_code == 200
    assert [c["name"] for c in cams.json()["data"]] == ["Aisle 1", "Aisle 2"]
    assert cams.json()["data"][0]["source_url"] == "rtsp://user:***@10.0.0.2/ch1"

    refused = await client.post(
        "/api/v1/stores", headers=world.headers["viewer_a"], json={"name": "Sneaky"}
    )
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "forbidden"
    stores = await client.get("/api/v1/stores", headers=admin)
    assert [s["name"] for s in stores.json()["data"]] == ["Downtown", "Mall"]
