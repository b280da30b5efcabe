"""Downloading evidence: authorised like its alert, byte ranges for seeking, signed links
for players, and clear answers for files not made yet or removed."""

from __future__ import annotations

from pathlib import Path

import av
import httpx

from server.evidence.media import write_mp4
from server.evidence.store import evidence_key
from server.runtime import Runtime
from server.storage.models import Alert, utcnow
from tests.evidence.test_media import ring_like
from tests.helpers import World, add_alert, error_of
from tests.pipeline.media import synthetic_video


def refused(response: httpx.Response) -> tuple[int, str, str]:
    """Status, error code and message of an API error."""
    error = error_of(response)
    return response.status_code, error["code"], error["message"]


async def alert_with_clip(runtime: Runtime, camera_id: int, tmp_path: Path) -> tuple[int, bytes]:
    """An alert whose clip (a real MP4) is stored; its id and the clip's bytes."""
    alert = await add_alert(runtime, camera_id, started_at=utcnow())
    packets, info = ring_like(synthetic_video(tmp_path / "cam.mp4", frames=75, fps=25))
    made = tmp_path / "clip.mp4"
    write_mp4(packets, info, made)
    data = made.read_bytes()
    key = evidence_key(alert.store_id, camera_id, alert.id, "clip.mp4")
    runtime.clips.store.put(key, made)
    async with runtime.sessionmaker() as session:
        stored = await session.get(Alert, alert.id)
        assert stored is not None
        stored.clip_ref, stored.clip_status = key, "done"
        await session.commit()
    return alert.id, data


async def test_a_clip_downloads_whole_and_by_range_for_its_stores_users_only(
    client: httpx.AsyncClient, world: World, runtime: Runtime, tmp_path: Path
) -> None:
    alert_id, data = await alert_with_clip(runtime, world.cameras[0], tmp_path)
    url = f"/api/v1/alerts/{alert_id}/clip.mp4"
    whole = await client.get(url, headers=world.headers["viewer_a"])
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    part = await client.get(url, headers=world.headers["viewer_a"] | {"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = await client.get(url, headers=world.headers["viewer_a"] | {"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    other_store = await client.get(url, headers=world.headers["viewer_b"])
    assert other_store.status_code == 404  # the alert does not exist for them
    (tmp_path / "fetched.mp4").write_bytes(whole.content)
    with av.open(str(tmp_path / "fetched.mp4")) as container:
        assert len(list(container.decode(video=0))) == 75


async def test_signed_links_open_one_file_until_they_expire(
    client: httpx.AsyncClient, world: World, runtime: Runtime, tmp_path: Path
) -> None:
    alert_id, data = await alert_with_clip(runtime, world.cameras[0], tmp_path)
    links = await client.post(
        f"/api/v1/alerts/{alert_id}/media-links", headers=world.headers["viewer_a"]
    )
    assert links.status_code == 200, links.text
    body = links.json()
    assert body["snapshot_url"] is None  # no snapshot made for this alert
    played = await client.get(body["clip_url"], headers={"Range": "bytes=0-9"})  # no token
    assert played.status_code == 206 and played.content == data[:10]
    tampered = body["clip_url"].replace("clip.mp4", "snapshot.jpg")
    assert refused(await client.get(tampered))[:2] == (401, "unauthorized")
    other = body["clip_url"].replace(f"/media/{alert_id}/", f"/media/{alert_id + 1}/")
    assert refused(await client.get(other))[:2] == (401, "unauthorized")
    for bad in ("%C3%A9", "%00", "x" * 500):  # non-ASCII, NUL, long: refused, never a 500
        forged = await client.get(f"/api/v1/media/{alert_id}/snapshot.jpg?exp=1&sig={bad}")
        assert refused(forged)[:2] == (401, "unauthorized"), forged.text
    query, _ = runtime.media_links.link(alert_id, "clip.mp4", ttl_s=-1)  # already expired
    expired = await client.get(f"/api/v1/media/{alert_id}/clip.mp4?{query}")
    status, code, message = refused(expired)
    assert (status, code) == (401, "unauthorized") and "expired" in message


async def test_missing_evidence_says_why(
    client: httpx.AsyncClient, world: World, runtime: Runtime, tmp_path: Path
) -> None:
    fresh = await add_alert(runtime, world.cameras[0], started_at=utcnow())
    none_yet = await client.get(
        f"/api/v1/alerts/{fresh.id}/clip.mp4", headers=world.headers["admin"]
    )
    status, code, message = refused(none_yet)
    assert (status, code) == (404, "not_found") and "no clip" in message
    alert_id, _ = await alert_with_clip(runtime, world.cameras[0], tmp_path)
    async with runtime.sessionmaker() as session:
        stored = await session.get(Alert, alert_id)
        assert stored is not None and stored.clip_ref is not None
        runtime.clips.store.delete(stored.clip_ref)
    gone = await client.get(f"/api/v1/alerts/{alert_id}/clip.mp4", headers=world.headers["admin"])
    status, code, message = refused(gone)
    assert (status, code) == (404, "not_found") and "removed" in message
    unknown = await client.get(
        f"/api/v1/alerts/{alert_id}/notes.txt", headers=world.headers["admin"]
    )
    assert unknown.status_code == 422
