"""Evidence from the real pipeline into an S3-compatible store that is down when the alert
fires: the snapshot and clip wait and retry, and arrive once the store is back; the API
then serves them out of the store, byte ranges included."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import av
import httpx
import pytest

from server.app import create_app
from server.bench.counter import counted_video
from server.config import EvidenceConfig, S3Config
from server.evidence.s3_store import S3EvidenceStore
from server.runtime import Runtime
from shared.schemas.settings import ClipSettings
from tests.conftest import make_settings
from tests.evidence.s3 import s3_config, s3_server
from tests.evidence.test_clips_live import alert_json
from tests.helpers import ADMIN_PASSWORD, LiveServer, login
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually
from tests.s3_server import S3Server

__all__ = ["s3_config", "s3_server"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_evidence_waits_for_a_store_that_is_down_and_arrives_when_it_is_back(
    tmp_path: Path,
    database_url: str,
    model_path: Path,
    s3_server: S3Server,
    s3_config: S3Config,
    caplog: pytest.LogCaptureFixture,
) -> None:
    video = counted_video(tmp_path / "people.mp4", passes=5)  # 30 s: no file restart
    settings = make_settings(tmp_path / "data", database_url, pipeline=FAST).model_copy(
        update={
            "clips": ClipSettings(pre_roll_s=1.0, post_roll_s=1.0, max_event_s=1.0),
            "evidence": EvidenceConfig(backend="s3", s3=s3_config),
        }
    )
    caplog.set_level(logging.WARNING, logger="server.evidence.worker")
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        http.headers.update(await login(http, "admin", ADMIN_PASSWORD))
        runtime: Runtime = server.runtime
        store = runtime.clips.store
        assert isinstance(store, S3EvidenceStore)
        s3_server.stop()
        try:
            camera_id = await add_camera(
                http, await add_store(http), "Aisle 4", video, threshold=0.0, zones=[]
            )

            async def an_alert() -> bool:
                return runtime.alerts.stats.opened >= 1

            await eventually(an_alert, within_s=30)
            alert_id = (await http.get("/api/v1/alerts")).json()["data"][-1]["id"]
            await asyncio.sleep(4.0)  # the clip is written meanwhile, and cannot be stored
            alert = await alert_json(http, alert_id)
            assert not alert["has_snapshot"] and not alert["has_clip"]
            assert alert["clip_status"] in ("queued", "running")
        finally:
            s3_server.start()
        await asyncio.to_thread(store.ensure_bucket)  # moto forgets buckets (MinIO would not)

        async def evidence_stored() -> bool:
            alert = await alert_json(http, alert_id)
            return bool(alert["has_snapshot"] and alert["has_clip"] and alert["has_annotated_clip"])

        await eventually(evidence_stored, within_s=60)
        assert (await alert_json(http, alert_id))["clip_status"] == "done"
        assert any("retrying" in r.getMessage() for r in caplog.records)
        base = f"/api/v1/alerts/{alert_id}"
        clip = await http.get(f"{base}/clip.mp4")
        assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
        part = await http.get(f"{base}/clip.mp4", headers={"Range": "bytes=0-1023"})
        assert part.status_code == 206 and part.content == clip.content[:1024]
        snapshot = await http.get(f"{base}/snapshot.jpg")
        assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"
        prefix = f"{alert['store_id']}/{camera_id}/{alert_id}/"
        assert {f.key for f in store.files()} >= {prefix + "clip.mp4", prefix + "snapshot.jpg"}
        assert not (settings.data_dir / "evidence").exists()  # nothing kept on local disk
    (tmp_path / "clip.mp4").write_bytes(clip.content)
    with av.open(str(tmp_path / "clip.mp4")) as container:
        # a playable clip; its exact window is test_clips_live's (here the alert fires as the
        # camera starts, so the pre-roll is whatever the ring holds by then)
        assert len(list(container.decode(video=0))) >= 5
