"""`shopguard backup` while the server runs, `shopguard restore` into a fresh data folder and
an empty database, and the restored server holds the same users, cameras, alerts and clips."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tarfile
from pathlib import Path

import httpx
from alembic.script import ScriptDirectory
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.config import async_database_url
from server.storage.migrate import alembic_config
from server.storage.models import utcnow
from tests.backup.conftest import Source, cli_env, invoke, rows, shopguard, tree
from tests.conftest import make_settings
from tests.helpers import ADMIN_PASSWORD, LIFESPAN_S, NEW_PASSWORD, add_alert, login

API_READS = ("/api/v1/users", "/api/v1/stores", "/api/v1/cameras", "/api/v1/alerts")


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def test_a_backup_taken_while_serving_restores_into_a_fresh_folder_and_database(
    source: Source, empty_database: str | None, database_url: str, tmp_path: Path
) -> None:
    admin = source.world.headers["admin"]
    before = {path: (await source.client.get(path, headers=admin)).json() for path in API_READS}
    assert len(before["/api/v1/alerts"]["data"]) == 1
    rows_before = await rows(database_url)
    archive = tmp_path / "nightly.tar"

    backed_up = await shopguard(
        cli_env(source.settings.data_dir, database_url), "backup", "-o", str(archive)
    )  # the server is still running: its lifespan is open

    assert backed_up.returncode == 0, backed_up.stderr
    assert f"wrote {archive}" in backed_up.stdout
    assert "5 users, 2 stores, 2 cameras, 1 alerts" in backed_up.stdout
    assert "2 evidence files (1 clips, 1 snapshots" in backed_up.stdout
    assert await rows(database_url) == rows_before  # a backup changes nothing
    stored = source.runtime.clips.store.files()
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest_file = tar.extractfile("manifest.json")
        assert manifest_file is not None
        manifest = json.loads(manifest_file.read())
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    assert names[-1] == "manifest.json"
    assert (manifest["format"], manifest["version"]) == ("shopguard-backup", 1)
    assert manifest["database"]["kind"] == kind
    assert manifest["database"]["schema_revision"] == head_revision()
    counts = manifest["database"]["counts"]
    assert (counts["users"], counts["cameras"], counts["alerts"]) == (5, 2, 1)
    assert manifest["evidence"] | {"bytes": 0} == {
        "backend": "local",
        "files": 2,
        "bytes": 0,
        "clips": 1,
        "snapshots": 1,
        "s3": None,
    }
    hashes = {f["path"]: f["sha256"] for f in manifest["files"]}
    clip_path = next(f"data/evidence/{f.key}" for f in stored if f.key.endswith("clip.mp4"))
    assert hashes[clip_path] == hashlib.sha256(source.clip).hexdigest()
    assert {"data/jwt_secret.key", "data/vapid_private.pem"} <= set(hashes)
    assert not any("/logs/" in name or name.endswith(".db-wal") for name in names)

    target = tmp_path / "restored"
    target_env = cli_env(target, empty_database)
    restored = await shopguard(target_env, "restore", str(archive))

    assert restored.returncode == 0, restored.stderr
    assert f"restored {archive}" in restored.stdout
    target_url = async_database_url(empty_database or f"sqlite:///{target / 'shopguard.db'}")
    assert await rows(target_url) == rows_before
    restored_files = tree(target)
    if empty_database is None:  # SQLite: the database file lands in the data folder
        assert restored_files.pop("shopguard.db")
    assert restored_files == tree(source.settings.data_dir)  # keys, evidence: byte for byte

    settings = make_settings(target, target_url)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
    async with (
        LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S),
        httpx.AsyncClient(transport=transport, base_url="http://restored.test") as client,
    ):
        for path in API_READS:  # the old server's token works: same signing key and sessions
            assert (await client.get(path, headers=admin)).json() == before[path], path
        supervisor = await login(client, "supervisor_a", NEW_PASSWORD)
        assert await login(client, "admin", ADMIN_PASSWORD)
        url = f"/api/v1/alerts/{source.alert_id}"
        clip = await client.get(f"{url}/clip.mp4", headers=supervisor)
        assert clip.status_code == 200 and clip.content == source.clip
        snapshot = await client.get(f"{url}/snapshot.jpg", headers=supervisor)
        assert snapshot.status_code == 200 and snapshot.content == source.snapshot
        added = await client.post(
            "/api/v1/cameras",
            headers=admin,
            json={
                "store_id": source.world.stores[0],
                "name": "Back door",
                "source_kind": "rtsp",
                "source_url": "rtsp://user:door@10.0.0.9/ch1",
            },
        )
        assert added.status_code == 201, added.text  # the id sequences came back too
        assert added.json()["id"] > max(source.world.cameras)

    again = await shopguard(target_env, "restore", str(archive))
    assert again.returncode == 1
    assert "refusing to restore over existing data" in again.stderr
    assert "pass --force to replace them" in again.stderr
    assert "Traceback" not in again.stderr

    forced = await shopguard(target_env, "restore", "--force", str(archive))
    assert forced.returncode == 0, forced.stderr
    assert await rows(target_url) == rows_before  # the camera added since is gone


async def test_a_backup_taken_while_alerts_arrive_holds_what_it_counted(
    source: Source, empty_database: str | None, database_url: str, tmp_path: Path
) -> None:
    """The dump and its counts come from one snapshot (SQLite's backup step, pg_dump
    --snapshot), so the restore, which compares them, succeeds whatever lands meanwhile."""
    stop, arriving = asyncio.Event(), asyncio.Event()
    recorded = 0

    async def alerts_arrive() -> None:
        nonlocal recorded
        while not stop.is_set():
            await add_alert(
                source.runtime, source.world.cameras[1], started_at=utcnow(), zone=f"z{recorded}"
            )
            recorded += 1
            if recorded == 3:
                arriving.set()
            await asyncio.sleep(0.02)

    writer = asyncio.create_task(alerts_arrive())
    archive = tmp_path / "busy.tar"
    try:
        await arriving.wait()
        backed_up = await shopguard(
            cli_env(source.settings.data_dir, database_url), "backup", "-o", str(archive)
        )
        while_backing_up = recorded
    finally:
        stop.set()
        await writer
    assert backed_up.returncode == 0, backed_up.stderr

    target = tmp_path / "restored"
    restored = await shopguard(cli_env(target, empty_database), "restore", str(archive))

    assert restored.returncode == 0, restored.stderr  # the restore compared rows to counts
    with tarfile.open(archive) as tar:
        manifest_file = tar.extractfile("manifest.json")
        assert manifest_file is not None
        counted = json.loads(manifest_file.read())["database"]["counts"]["alerts"]
    assert 1 + 3 <= counted < 1 + while_backing_up  # alerts kept arriving after the snapshot
    target_url = async_database_url(empty_database or f"sqlite:///{target / 'shopguard.db'}")
    assert len((await rows(target_url))["alerts"]) == counted


async def test_evidence_in_s3_is_named_in_the_manifest_not_copied(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    s3 = {
        "SHOPGUARD_EVIDENCE__BACKEND": "s3",
        "SHOPGUARD_EVIDENCE__S3__ENDPOINT": "minio.store.invalid:9000",
        "SHOPGUARD_EVIDENCE__S3__BUCKET": "store-evidence",
        "SHOPGUARD_EVIDENCE__S3__PREFIX": "site-1/",
    }
    assert (await invoke(data_dir, None, "user", "create", "maria", env=s3)).exit_code == 0
    archive = tmp_path / "b.tar.gz"

    backed_up = await invoke(data_dir, None, "backup", "-o", str(archive), env=s3)

    assert backed_up.exit_code == 0, backed_up.output
    assert (
        "evidence is kept in S3 bucket 'store-evidence' at minio.store.invalid:9000 "
        "(prefix 'site-1/'): it is NOT in this archive"
    ) in backed_up.stdout
    with tarfile.open(archive, "r:gz") as tar:  # gzipped, as its name asks
        manifest_file = tar.extractfile("manifest.json")
        assert manifest_file is not None
        evidence = json.loads(manifest_file.read())["evidence"]
    assert evidence == {
        "backend": "s3",
        "files": 0,
        "bytes": 0,
        "clips": 0,
        "snapshots": 0,
        "s3": {
            "endpoint": "minio.store.invalid:9000",
            "bucket": "store-evidence",
            "prefix": "site-1/",
        },
    }
