"""Sharing evidence, through real HTTP (uvicorn on 127.0.0.1) and the app's own client: the
link downloads, without sign-in, the very bytes whose sha256 the answer gave; it stops at its
expiry (410) and refuses any change (401); the audit log names who shared what; viewers may
not share, and an alert without a clip says why."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from mobile.api.client import ApiClient
from mobile.api.errors import NotAllowed, Rejected
from mobile.api.evidence import share_evidence
from server.evidence.annotated import write_annotated_mp4
from server.evidence.derived import digest_key, read_whole
from server.evidence.media import snapshot_jpeg, write_mp4
from server.evidence.store import evidence_key
from server.runtime import Runtime
from server.storage.models import Alert, utcnow
from tests.conftest import TEST_DATA
from tests.evidence.test_media import ring_like
from tests.helpers import (
    ADMIN_PASSWORD,
    NEW_PASSWORD,
    add_alert,
    error_of,
)
from tests.served import Served, served

__all__ = ["Served", "served"]  # the server fixture, for the evidence tests beside

PEOPLE = TEST_DATA / "vtest_people.mp4"  # 6 s of a real overhead camera, 640x360 H.264


@pytest.fixture
async def signed_in(served: Served) -> AsyncIterator[dict[str, ApiClient]]:
    """The app's client, signed in, per user name."""
    clients: dict[str, ApiClient] = {}
    try:
        for name in ("admin", "supervisor_a", "supervisor_b", "viewer_a"):
            clients[name] = ApiClient(served.address)
            await clients[name].login(name, ADMIN_PASSWORD if name == "admin" else NEW_PASSWORD)
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


@dataclass
class Evidence:
    """A real alert's stored evidence files, by name."""

    alert_id: int
    files: dict[str, bytes] = field(default_factory=dict)


def evidence_files(folder: Path, *, snapshot: bool, clip: bool, annotated: bool) -> dict[str, Path]:
    """Evidence made as the clip worker makes it from a real camera's video: the clip
    remuxed from its packets, the annotated clip drawn over it, the snapshot a frame with
    the person's box drawn."""
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    if clip or annotated:
        packets, info = ring_like(PEOPLE)
        write_mp4(packets, info, folder / "clip.mp4")
        made["clip.mp4"] = folder / "clip.mp4"
    if annotated:
        write_annotated_mp4(
            made["clip.mp4"], folder / "annotated.mp4", start_ts=time.time(), overlays=()
        )
        made["annotated.mp4"] = folder / "annotated.mp4"
    if snapshot:
        with av.open(str(PEOPLE)) as video:
            frame = next(video.decode(video=0)).to_ndarray(format="bgr24")
        box = np.array([300, 80, 360, 250], np.float32)
        snapshot_jpeg(np.asarray(frame, np.uint8), folder / "snapshot.jpg", xyxy=box)
        made["snapshot.jpg"] = folder / "snapshot.jpg"
    return made


async def alert_with_evidence(
    runtime: Runtime,
    camera_id: int,
    folder: Path,
    *,
    snapshot: bool = True,
    clip: bool = True,
    annotated: bool = False,
) -> Evidence:
    """An alert with real evidence files (`evidence_files`), stored, then referenced."""
    alert = await add_alert(runtime, camera_id, started_at=utcnow())
    made = evidence_files(folder, snapshot=snapshot, clip=clip, annotated=annotated)
    evidence = Evidence(alert.id)
    refs: dict[str, str] = {}
    for name, path in made.items():
        refs[name] = evidence_key(alert.store_id, camera_id, alert.id, name)
        runtime.clips.store.put(refs[name], path)
        evidence.files[name] = path.read_bytes()
    async with runtime.sessionmaker() as session:
        row = await session.get(Alert, alert.id)
        assert row is not None
        row.snapshot_ref = refs.get("snapshot.jpg")
        row.clip_ref = refs.get("clip.mp4")
        row.annotated_ref = refs.get("annotated.mp4")
        row.clip_status = "done" if clip else None
        await session.commit()
    return evidence


async def audit_entries(served: Served, action: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=served.address, timeout=30) as http:
        answer = await http.get(
            "/api/v1/audit", params={"action": action}, headers=served.world.headers["admin"]
        )
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, object]] = answer.json()["data"]
    return entries


async def test_a_shared_clip_downloads_without_sign_in_as_the_bytes_of_its_sha256(
    served: Served, signed_in: dict[str, ApiClient], tmp_path: Path
) -> None:
    made = await alert_with_evidence(
        served.runtime, served.world.cameras[0], tmp_path, annotated=True
    )
    before = datetime.now(UTC)
    shared = await share_evidence(signed_in["supervisor_a"], made.alert_id, annotated=True)
    assert shared.alert_id == made.alert_id and shared.shared_by == "supervisor_a"
    default_expiry = before + timedelta(hours=72)
    assert abs((shared.expires_at - default_expiry).total_seconds()) < 5
    assert shared.annotated is not None
    async with httpx.AsyncClient() as browser:  # no Authorization header: the link is enough
        for sent, name in ((shared.clip, "clip.mp4"), (shared.annotated, "annotated.mp4")):
            assert sent.url == served.address + sent.path
            assert sent.sha256 == hashlib.sha256(made.files[name]).hexdigest()
            assert sent.size_bytes == len(made.files[name])
            download = await browser.get(sent.url)
            assert download.status_code == 200, download.text
            assert hashlib.sha256(download.content).hexdigest() == sent.sha256
            assert download.headers["content-type"] == "video/mp4"
            expected = f"shopguard-alert-{made.alert_id}-{name}"
            assert sent.filename == expected
            disposition = download.headers["content-disposition"]
            assert disposition == f'attachment; filename="{expected}"'
    (tmp_path / "received.mp4").write_bytes(download.content)
    with av.open(str(tmp_path / "received.mp4")) as container:  # a video that plays
        assert len(list(container.decode(video=0))) == 60

    entries = await audit_entries(served, "evidence.share")
    assert [(e["username"], e["target_type"], e["target_id"]) for e in entries] == [
        ("supervisor_a", "alert", str(made.alert_id))
    ]
    details = entries[0]["details"]
    assert details == {
        "files": {
            "clip.mp4": {"sha256": shared.clip.sha256, "bytes": shared.clip.size_bytes},
            "annotated.mp4": {
                "sha256": shared.annotated.sha256,
                "bytes": shared.annotated.size_bytes,
            },
        },
        "expires_at": shared.expires_at.isoformat(),
    }

    # the sha256 is kept beside the clip, and the next share reads it from there
    store = served.runtime.clips.store
    async with served.runtime.sessionmaker() as session:
        alert = await session.get(Alert, made.alert_id)
        assert alert is not None and alert.clip_ref is not None
    kept = read_whole(store, digest_key(alert.clip_ref))
    assert kept is not None and kept.decode().split()[0] == shared.clip.sha256
    again = await share_evidence(signed_in["admin"], made.alert_id, expires_in_s=3600)
    assert again.clip.sha256 == shared.clip.sha256 and again.annotated is None
    assert abs((again.expires_at - datetime.now(UTC)).total_seconds() - 3600) < 5
    entries = await audit_entries(served, "evidence.share")
    assert [e["username"] for e in entries] == ["admin", "supervisor_a"]  # newest first


async def test_a_share_link_ends_at_its_expiry_and_refuses_any_change(
    served: Served, signed_in: dict[str, ApiClient], tmp_path: Path
) -> None:
    made = await alert_with_evidence(
        served.runtime, served.world.cameras[0], tmp_path, snapshot=False
    )
    other = await alert_with_evidence(
        served.runtime, served.world.cameras[0], tmp_path / "other", snapshot=False
    )
    shared = await share_evidence(signed_in["supervisor_a"], made.alert_id, expires_in_s=2)
    link = shared.clip.url
    async with httpx.AsyncClient() as browser:
        first = await browser.get(link, headers={"Range": "bytes=0-99"})  # players seek too
        assert first.status_code == 206 and first.content == made.files["clip.mp4"][:100]

        changed = {
            "a forged signature": link[:-4] + ("0000" if not link.endswith("0000") else "1111"),
            "another file": link.replace("/clip.mp4?", "/annotated.mp4?"),
            "another alert": link.replace(f"/{made.alert_id}/", f"/{other.alert_id}/"),
            "a later expiry": link.replace(
                f"exp={int(shared.expires_at.timestamp())}",
                f"exp={int(shared.expires_at.timestamp()) + 86400}",
            ),
        }
        for why, forged in changed.items():
            assert forged != link, why
            refused = await browser.get(forged)
            assert refused.status_code == 401, why
            assert error_of(refused)["code"] == "share_link_invalid", why
        # an app media link's signature opens its own route only
        media = await signed_in["supervisor_a"].media_links(made.alert_id)
        assert media.clip_url is not None
        moved = served.address + media.clip_url.replace("/media/", "/media/shared/")
        assert (await browser.get(moved)).status_code == 401

        expired: httpx.Response | None = None
        for _ in range(100):  # the link lasts 2 s: wait for its end, 5 s at most
            expired = await browser.get(link)
            if expired.status_code != 200:
                break
            await asyncio.sleep(0.05)
        assert expired is not None and expired.status_code == 410, expired
        assert time.time() >= shared.expires_at.timestamp()
        assert error_of(expired)["code"] == "share_link_expired"
        assert "expired" in error_of(expired)["message"]


async def test_viewers_may_not_share_and_a_missing_clip_says_why(
    served: Served, signed_in: dict[str, ApiClient], tmp_path: Path
) -> None:
    camera = served.world.cameras[0]
    made = await alert_with_evidence(served.runtime, camera, tmp_path)
    with pytest.raises(NotAllowed) as viewer:
        await share_evidence(signed_in["viewer_a"], made.alert_id)
    assert (viewer.value.status, viewer.value.code) == (403, "forbidden")
    with pytest.raises(Rejected) as other_store:  # not theirs: as if it did not exist
        await share_evidence(signed_in["supervisor_b"], made.alert_id)
    assert (other_store.value.status, other_store.value.code) == (404, "not_found")

    no_clip = await alert_with_evidence(served.runtime, camera, tmp_path / "snap", clip=False)
    recording = await add_alert(served.runtime, camera, started_at=utcnow())
    async with served.runtime.sessionmaker() as session:
        row = await session.get(Alert, recording.id)
        assert row is not None
        row.clip_status = "running"
        await session.commit()
    cases = [
        # (alert, annotated asked, status, code, words in the message)
        (no_clip.alert_id, False, 409, "no_clip", "has no clip"),
        (recording.id, False, 409, "no_clip", "still being recorded"),
        (made.alert_id, True, 409, "no_annotated_clip", "has no annotated clip"),
        (made.alert_id + 1000, False, 404, "not_found", "not found"),
    ]
    for alert_id, annotated, status, code, words in cases:
        with pytest.raises(Rejected) as refused:
            await share_evidence(signed_in["supervisor_a"], alert_id, annotated=annotated)
        assert (refused.value.status, refused.value.code) == (status, code), alert_id
        assert words in refused.value.message, refused.value.message
    async with httpx.AsyncClient(base_url=served.address, timeout=30) as http:
        too_long = await http.post(
            f"/api/v1/alerts/{made.alert_id}/share",
            json={"expires_in_s": 7 * 24 * 3600 + 1},
            headers=served.world.headers["supervisor_a"],
        )
        assert (too_long.status_code, error_of(too_long)["code"]) == (422, "validation_error")
        no_body = await http.post(  # every field has a default: a plain POST shares the clip
            f"/api/v1/alerts/{made.alert_id}/share", headers=served.world.headers["admin"]
        )
        assert no_body.status_code == 200, no_body.text
    assert [e["username"] for e in await audit_entries(served, "evidence.share")] == ["admin"]
