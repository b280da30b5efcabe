"""The download tests again with the evidence in an S3-compatible store (a real S3 API
server on 127.0.0.1): the API streams files and byte ranges out of it; a store that is
down answers 503 with the reason, and serves again once it is back."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server.config import EvidenceConfig, S3Config, Settings
from server.evidence.s3_store import S3EvidenceStore
from server.runtime import Runtime
from tests.conftest import make_settings
from tests.evidence.s3 import s3_config, s3_server
from tests.evidence.test_downloads import (
    alert_with_clip,
    refused,
    test_a_clip_downloads_whole_and_by_range_for_its_stores_users_only,
    test_missing_evidence_says_why,
    test_signed_links_open_one_file_until_they_expire,
)
from tests.helpers import World
from tests.s3_server import S3Server

__all__ = [
    "s3_config",
    "s3_server",
    "test_a_clip_downloads_whole_and_by_range_for_its_stores_users_only",
    "test_missing_evidence_says_why",
    "test_signed_links_open_one_file_until_they_expire",
]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, s3_config: S3Config) -> Settings:
    base = make_settings(tmp_path / "data", database_url)
    return base.model_copy(update={"evidence": EvidenceConfig(backend="s3", s3=s3_config)})


async def test_the_server_uses_the_s3_store_and_no_local_evidence(
    runtime: Runtime, settings: Settings
) -> None:
    assert isinstance(runtime.clips.store, S3EvidenceStore)
    assert runtime.clips.store.bucket == settings.evidence.s3.bucket


async def test_a_store_that_is_down_answers_503_then_serves_again(
    client: httpx.AsyncClient,
    world: World,
    runtime: Runtime,
    tmp_path: Path,
    s3_server: S3Server,
    s3_config: S3Config,
) -> None:
    alert_id, data = await alert_with_clip(runtime, world.cameras[0], tmp_path)
    url = f"/api/v1/alerts/{alert_id}/clip.mp4"
    admin = world.headers["admin"]
    s3_server.stop()
    try:
        down = await client.get(url, headers=admin)
        status, code, message = refused(down)
        assert (status, code) == (503, "unavailable")
        assert "evidence store" in message and s3_config.endpoint in message
        alerts = await client.get("/api/v1/alerts", headers=admin)  # the rest of the API works
        assert alerts.status_code == 200
    finally:
        s3_server.start()  # moto keeps nothing across restarts (MinIO would): start afresh
    assert isinstance(runtime.clips.store, S3EvidenceStore)
    runtime.clips.store.ensure_bucket()
    await alert_with_clip(runtime, world.cameras[0], tmp_path)
    later = await client.get(f"/api/v1/alerts/{alert_id + 1}/clip.mp4", headers=admin)
    assert later.status_code == 200 and later.content == data
    gone = await client.get(url, headers=admin)  # its object went with the old server
    assert refused(gone)[:2] == (404, "not_found")
