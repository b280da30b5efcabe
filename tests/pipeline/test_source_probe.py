"""Testing a camera's source before saving it (`POST /cameras/source-test`), against a real
RTSP server, a port where nothing listens, and files on the server."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.pipeline.source_probe import probe_source
from tests.pipeline.app_helpers import add_store
from tests.pipeline.live_servers import REQUIRE_RTSP, RtspServer, rtsp_unavailable
from tests.s3_server import free_port

PROBE = "/api/v1/cameras/source-test"


@pytest.fixture
def rtsp(clip: Path) -> Iterator[RtspServer]:
    reason = rtsp_unavailable()
    if reason is not None:
        if REQUIRE_RTSP:
            pytest.fail(f"SHOPGUARD_TEST_REQUIRE_RTSP=1 but {reason}")
        pytest.skip(reason)
    with RtspServer(clip, name="cam") as server:
        yield server


async def probe(api: httpx.AsyncClient, kind: str, url: str, path: str = PROBE) -> dict[str, Any]:
    response = await api.post(path, json={"source_kind": kind, "source_url": url})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_working_rtsp_camera_shows_its_picture_size(
    api: httpx.AsyncClient, rtsp: RtspServer
) -> None:
    found = await probe(api, "rtsp", rtsp.url("admin:Secret-1"))
    assert found["ok"] is True, found
    assert (found["codec"], found["width"], found["height"]) == ("h264", 320, 240)
    assert found["message"].startswith("h264 320x240")
    assert found["source_url"] == rtsp.url("admin:***")  # the password never comes back


async def test_wrong_path_and_wrong_port_say_what_is_wrong(
    api: httpx.AsyncClient, rtsp: RtspServer
) -> None:
    wrong_path = await probe(api, "rtsp", rtsp.url().replace("/cam", "/ch9"))
    assert wrong_path["ok"] is False
    assert "no stream at this path" in wrong_path["message"]
    nobody = await probe(api, "rtsp", f"rtsp://127.0.0.1:{free_port()}/cam")
    assert nobody["ok"] is False
    assert "nothing answers on that port" in nobody["message"]


async def test_files_on_the_server(api: httpx.AsyncClient, clip: Path, tmp_path: Path) -> None:
    assert (await probe(api, "file", str(clip)))["ok"] is True
    missing = await probe(api, "file", str(tmp_path / "nope.mp4"))
    assert (missing["ok"], missing["message"]) == (
        False,
        "no such file on the server (No such file or directory)",
    )
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    broken = await probe(api, "file", str(junk))
    assert broken["ok"] is False
    assert "not a video stream" in broken["message"]


async def test_files_outside_the_media_folders_and_ffmpeg_pseudo_protocols_are_refused(
    api: httpx.AsyncClient, clip: Path
) -> None:
    """A file source is a plain file in a media folder: not any path on the server, and
    never one of FFmpeg's protocols that read other things (`concat:` of files, `subfile:`,
    inline `data:`, `pipe:` of a descriptor)."""
    camera = {"store_id": await add_store(api), "name": "Back door", "source_kind": "file"}
    for path in ("/etc/hosts", "/proc/self/environ", "../../etc/passwd"):
        refused = await api.post(PROBE, json={"source_kind": "file", "source_url": path})
        assert refused.status_code == 422, refused.text
        assert "media folder" in refused.text
        created = await api.post("/api/v1/cameras", json=camera | {"source_url": path})
        assert created.status_code == 422, created.text
    tricks = [
        f"concat:{clip}|{clip}",
        f"subfile:,,start,0,end,0,,:{clip}",
        "data:video/mp4;base64,"
        + base64.b64encode(await asyncio.to_thread(clip.read_bytes)).decode(),
        "pipe:0",
    ]
    for trick in tricks:
        answer = await api.post(PROBE, json={"source_kind": "file", "source_url": trick})
        assert answer.status_code == 422 or answer.json()["ok"] is False, trick[:40]
        # and where a path check would let one by, FFmpeg itself is held to plain files
        assert probe_source(trick, timeout_s=5).ok is False, trick[:40]
    assert probe_source(str(clip), timeout_s=5).ok is True


async def test_a_saved_camera_is_tested_with_its_stored_password(
    api: httpx.AsyncClient, rtsp: RtspServer
) -> None:
    store = await add_store(api)
    created = await api.post(
        "/api/v1/cameras",
        json={
            "store_id": store,
            "name": "Till",
            "source_kind": "rtsp",
            "source_url": rtsp.url("admin:Secret-1"),
            "enabled": False,
        },
    )
    assert created.status_code == 201, created.text
    camera = created.json()
    as_saved = await api.post(f"/api/v1/cameras/{camera['id']}/source-test")
    assert as_saved.status_code == 200 and as_saved.json()["ok"] is True, as_saved.text
    as_shown = await probe(
        api, "rtsp", camera["source_url"], f"/api/v1/cameras/{camera['id']}/source-test"
    )
    assert as_shown["ok"] is True and as_shown["source_url"] == camera["source_url"]
    audit = (await api.get("/api/v1/audit", params={"limit": 50})).text
    assert "camera.source_test" in audit and "Secret-1" not in audit


async def test_only_valid_sources_and_admins(api: httpx.AsyncClient) -> None:
    refused = await api.post(PROBE, json={"source_kind": "rtsp", "source_url": "http://x/"})
    assert refused.status_code == 422
    assert "must start with rtsp://" in refused.text
    anonymous = await api.post(
        PROBE,
        json={"source_kind": "file", "source_url": "/etc/hosts"},
        headers={"Authorization": ""},
    )
    assert anonymous.status_code == 401
