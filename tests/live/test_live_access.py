"""Who may watch: a live link is for one camera, one signed-in session, a few minutes; a
viewer of another store, a missing, forged, expired or other camera's token, and a signed
out session are refused with the reason. The player page itself is public (it holds no
secret) and is served with the headers an embedding, cross-origin isolated page needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from server.runtime import Runtime
from tests.helpers import World, error_of
from tests.live.client import offer


async def refused(client: httpx.AsyncClient, camera_id: int, token: str) -> tuple[int, str]:
    pc, response = await offer(client, f"/api/v1/cameras/{camera_id}/webrtc", token)
    await pc.close()
    return response.status_code, error_of(response)["message"]


def bearer(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def link_token(client: httpx.AsyncClient, world: World, user: str, camera_id: int) -> str:
    response = await client.post(
        f"/api/v1/cameras/{camera_id}/live-link", headers=world.headers[user]
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def test_only_the_cameras_store_may_watch(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    camera_a, camera_b = world.cameras
    other_store = await client.post(
        f"/api/v1/cameras/{camera_a}/live-link", headers=world.headers["viewer_b"]
    )
    assert other_store.status_code == 404  # store A's camera does not exist for them
    token_b = await link_token(client, world, "viewer_b", camera_b)
    assert await refused(client, camera_a, token_b) == (401, "this live link is for another camera")
    status, message = await refused(client, camera_a, bearer(world.headers["viewer_b"]))
    assert (status, message) == (404, f"camera {camera_a} not found")
    token_a = await link_token(client, world, "viewer_a", camera_a)
    status, message = await refused(client, camera_a, token_a)  # allowed, but not running
    assert status == 409 and "not running on this server" in message
    config = await client.get(
        f"/api/v1/cameras/{camera_a}/live-config", headers={"Authorization": f"Bearer {token_a}"}
    )
    assert config.status_code == 200 and config.json()["camera_id"] == camera_a
    assert config.json()["ice_servers"] == [] and config.json()["width"] == 640


async def test_missing_forged_and_expired_tokens_are_refused(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    camera = world.cameras[0]
    pc, nothing = await offer(client, f"/api/v1/cameras/{camera}/webrtc", "")
    await pc.close()
    assert nothing.status_code == 401 and "live link" in error_of(nothing)["message"]
    assert await refused(client, camera, "not-a-token") == (401, "invalid live link")
    me = (await client.get("/api/v1/auth/me", headers=world.headers["viewer_a"])).json()
    expired = runtime.auth.signer.issue(
        user_id=me["id"],
        session_id="any",
        now=datetime.now(UTC) - timedelta(hours=1),
        ttl=timedelta(minutes=5),
        camera_id=camera,
    )
    assert await refused(client, camera, expired) == (
        401,
        "live link expired; open the live view again",
    )
    mjpeg = await client.get(f"/api/v1/cameras/{camera}/live.mjpeg", params={"token": expired})
    assert mjpeg.status_code == 401


async def test_a_signed_out_session_cannot_start_a_view(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    camera = world.cameras[0]
    token = await link_token(client, world, "supervisor_a", camera)
    out = await client.post("/api/v1/auth/logout", headers=world.headers["supervisor_a"])
    assert out.status_code == 204
    assert await refused(client, camera, token) == (401, "this session has ended; sign in again")


async def test_the_player_page_is_public_and_embeddable(client: httpx.AsyncClient) -> None:
    page = await client.get("/live/7")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "RTCPeerConnection" not in page.text and '<script src="/live/player.js">' in page.text
    script = await client.get("/live/player.js")
    assert script.status_code == 200 and "RTCPeerConnection" in script.text
    for response in (page, script):
        assert response.headers["cross-origin-embedder-policy"] == "require-corp"
        assert response.headers["cross-origin-resource-policy"] == "cross-origin"
        assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert (await client.get("/live/not-a-camera")).status_code == 422
