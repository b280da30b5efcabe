"""The files made from an alert's evidence (its thumbnail, its clips' sha256) belong to the
alert: retention keeps them while it keeps the alert's evidence (they are no orphans) and
removes them with it; the feed then shows no thumbnail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from server.evidence.derived import derived_keys
from server.evidence.retention import ORPHAN_AGE_S, sweep
from server.runtime import Runtime
from server.storage.models import Alert, utcnow
from shared.schemas.settings import RetentionSettings
from tests.evidence.test_share import alert_with_evidence
from tests.helpers import World


async def alert_row(runtime: Runtime, alert_id: int) -> Alert:
    async with runtime.sessionmaker() as session:
        row = await session.get(Alert, alert_id)
        assert row is not None
        return row


async def test_thumbnails_and_sha256s_stay_with_their_alert_and_go_with_its_evidence(
    client: httpx.AsyncClient, world: World, runtime: Runtime, tmp_path: Path
) -> None:
    admin = world.headers["admin"]
    recent = await alert_with_evidence(runtime, world.cameras[0], tmp_path / "recent")
    old = await alert_with_evidence(runtime, world.cameras[0], tmp_path / "old")
    async with runtime.sessionmaker() as session:
        row = await session.get(Alert, old.alert_id)
        assert row is not None
        row.started_at = row.last_seen_at = utcnow() - timedelta(days=40)
        await session.commit()
    listed = (await client.get("/api/v1/alerts", headers=admin)).json()["data"]
    thumbnails = {a["id"]: a["thumbnail_url"] for a in listed}
    for made in (recent, old):  # make each alert's thumbnail and clip sha256
        shown = await client.get(thumbnails[made.alert_id])
        assert shown.status_code == 200, shown.text
        shared = await client.post(f"/api/v1/alerts/{made.alert_id}/share", headers=admin)
        assert shared.status_code == 200, shared.text
    store = runtime.clips.store
    derived = {
        a: derived_keys(await alert_row(runtime, a)) for a in (recent.alert_id, old.alert_id)
    }
    for keys in derived.values():
        assert [k.rpartition("/")[2] for k in keys] == ["thumbnail.jpg", "clip.mp4.sha256"]
        assert all(store.local_path(k) is not None for k in keys)

    result = await sweep(
        sessionmaker=runtime.sessionmaker,
        store=store,
        retention=RetentionSettings(unreviewed_days=30),
        now=utcnow() + timedelta(seconds=ORPHAN_AGE_S + 60),  # every file old enough to judge
    )
    assert (result.expired_alerts, result.orphans) == (1, 0)  # made files are no orphans
    assert all(store.local_path(k) is not None for k in derived[recent.alert_id])
    assert all(store.local_path(k) is None for k in derived[old.alert_id])
    assert (await alert_row(runtime, old.alert_id)).evidence_refs == []
    listed = (await client.get("/api/v1/alerts", headers=admin)).json()["data"]
    assert {a["id"]: a["thumbnail_url"] is not None for a in listed} == {
        recent.alert_id: True,
        old.alert_id: False,
    }
    gone = await client.get(thumbnails[old.alert_id])  # a link given before: nothing left
    assert gone.status_code == 404
    assert (await client.get(thumbnails[recent.alert_id])).status_code == 200
