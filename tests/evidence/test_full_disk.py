"""A full evidence disk: writing the clip fails with the reason on its job, nothing half
written is left, the alert keeps its row, and the server goes on detecting and recording.

The disk is a real small file system (tmpfs, mounted for the test: needs root, as in CI);
the database lives elsewhere, as it would on a box with a separate evidence disk."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from server.app import create_app
from server.bench.counter import counted_video
from server.runtime import EVIDENCE_DIR, Runtime
from server.storage.models import ClipJob
from shared.schemas.settings import ClipSettings
from tests.conftest import make_settings
from tests.evidence.test_clips_live import alert_json
from tests.helpers import ADMIN_PASSWORD, LiveServer, error_of, login
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually

DISK_BYTES = 4 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB file system at `<tmp>/data/evidence`, all but ~20 KB of it taken by a file."""
    where = tmp_path / "data" / EVIDENCE_DIR
    where.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        filler = where / "other-data.bin"
        with filler.open("wb") as out:
            out.write(b"\0" * (DISK_BYTES - 20 * 1024))
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_full_disk_fails_the_clip_cleanly_and_detection_goes_on(
    tmp_path: Path, database_url: str, model_path: Path, small_disk: Path
) -> None:
    video = counted_video(tmp_path / "people.mp4")
    settings = make_settings(tmp_path / "data", database_url, pipeline=FAST).model_copy(
        update={"clips": ClipSettings(pre_roll_s=1.0, post_roll_s=1.0, max_event_s=1.0)}
    )
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        http.headers.update(await login(http, "admin", ADMIN_PASSWORD))
        runtime: Runtime = server.runtime
        runtime.clips.min_free_bytes = 0  # the floor would free the disk: see test_retention
        camera_id = await add_camera(
            http, await add_store(http), "Aisle 4", video, threshold=0.0, zones=[]
        )

        async def an_alert() -> bool:
            return runtime.alerts.stats.opened >= 1

        await eventually(an_alert, within_s=30)
        alert_id = (await http.get("/api/v1/alerts")).json()["data"][-1]["id"]

        async def clip_settled() -> bool:
            return (await alert_json(http, alert_id))["clip_status"] in ("done", "failed")

        await eventually(clip_settled, within_s=30)
        alert = await alert_json(http, alert_id)
        assert alert["clip_status"] == "failed" and not alert["has_clip"]
        async with runtime.sessionmaker() as session:
            job = (await session.scalars(select(ClipJob))).one()
        assert job.error is not None and "No space left on device" in job.error
        clip = await http.get(f"/api/v1/alerts/{alert_id}/clip.mp4")
        assert clip.status_code == 404 and "failed" in error_of(clip)["message"]
        left = await asyncio.to_thread(lambda: list(small_disk.rglob("*.partial")))
        assert not left  # nothing half written left behind

        def analysed() -> int:
            (camera,) = runtime.pipeline.stats(None)
            assert camera.camera_id == camera_id
            return camera.frames_analysed

        before = analysed()

        async def still_analysing() -> bool:
            return analysed() > before + 10

        await eventually(still_analysing, within_s=20)
        health = await http.get("/api/v1/health")
        assert health.status_code == 200
