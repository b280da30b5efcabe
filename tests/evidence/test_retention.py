"""Retention on real files and a real database: expiry by review outcome, the disk cap
(oldest first, confirmed thefts last), orphans, and a full disk that stops nothing."""

from __future__ import annotations

import os
from datetime import timedelta

from server.evidence.retention import GB, ORPHAN_AGE_S, sweep
from server.evidence.store import evidence_key
from server.runtime import Runtime
from server.storage.models import Alert, utcnow
from shared.schemas.settings import RetentionSettings
from tests.helpers import World, add_alert

MB = 1024**2


async def alert_with_files(
    runtime: Runtime, camera_id: int, days_old: float, size: int, outcome: str | None = None
) -> int:
    """An alert `days_old` days old with a clip of `size` bytes and a small snapshot."""
    alert = await add_alert(runtime, camera_id, started_at=utcnow() - timedelta(days=days_old))
    refs = {}
    for name, length in (("clip.mp4", size), ("snapshot.jpg", 1000)):
        source = runtime.settings.data_dir / f"made-{alert.id}-{name}"
        source.write_bytes(os.urandom(length))
        key = evidence_key(alert.store_id, camera_id, alert.id, name)
        runtime.clips.store.put(key, source)
        refs[name] = key
    async with runtime.sessionmaker() as session:
        row = await session.get(Alert, alert.id)
        assert row is not None
        row.clip_ref, row.snapshot_ref = refs["clip.mp4"], refs["snapshot.jpg"]
        if outcome is not None:
            row.status, row.outcome = "reviewed", outcome
        await session.commit()
    return alert.id


async def refs_of(runtime: Runtime, alert_id: int) -> tuple[str | None, str | None]:
    async with runtime.sessionmaker() as session:
        row = await session.get(Alert, alert_id)
        assert row is not None
        return row.clip_ref, row.snapshot_ref


async def test_files_expire_by_outcome_and_alerts_keep_their_review(
    world: World, runtime: Runtime
) -> None:
    camera = world.cameras[0]
    old_unreviewed = await alert_with_files(runtime, camera, days_old=40, size=1000)
    old_false = await alert_with_files(runtime, camera, 40, 1000, outcome="false_alarm")
    old_theft = await alert_with_files(runtime, camera, 40, 1000, outcome="confirmed_theft")
    ancient_theft = await alert_with_files(runtime, camera, 400, 1000, outcome="confirmed_theft")
    recent = await alert_with_files(runtime, camera, days_old=1, size=1000)
    result = await sweep(
        sessionmaker=runtime.sessionmaker,
        store=runtime.clips.store,
        retention=RetentionSettings(unreviewed_days=30, confirmed_days=365),
        now=utcnow(),
    )
    assert result.expired_alerts == 3 and result.capped_alerts == 0
    for gone in (old_unreviewed, old_false, ancient_theft):
        assert await refs_of(runtime, gone) == (None, None)
    for kept in (old_theft, recent):
        clip, _ = await refs_of(runtime, kept)
        assert clip is not None and runtime.clips.store.local_path(clip) is not None
    assert result.freed_bytes == 3 * 2000
    async with runtime.sessionmaker() as session:
        row = await session.get(Alert, old_false)
        assert row is not None and row.outcome == "false_alarm"  # the review stays


async def test_the_disk_cap_removes_the_oldest_first_and_confirmed_thefts_last(
    world: World, runtime: Runtime
) -> None:
    camera = world.cameras[0]
    theft = await alert_with_files(runtime, camera, 5, 40 * MB, outcome="confirmed_theft")
    oldest = await alert_with_files(runtime, camera, days_old=4, size=40 * MB)
    middle = await alert_with_files(runtime, camera, days_old=3, size=40 * MB)
    newest = await alert_with_files(runtime, camera, days_old=2, size=40 * MB)
    result = await sweep(
        sessionmaker=runtime.sessionmaker,
        store=runtime.clips.store,
        retention=RetentionSettings(disk_cap_gb=0.1),  # 102 MB: room for two clips
        now=utcnow(),
    )
    assert result.capped_alerts == 2 and result.kept_bytes <= 0.1 * GB
    assert await refs_of(runtime, oldest) == (None, None)
    assert await refs_of(runtime, middle) == (None, None)
    assert (await refs_of(runtime, newest))[0] is not None
    assert (await refs_of(runtime, theft))[0] is not None  # older, but a confirmed theft


async def test_a_nearly_full_disk_frees_evidence_and_orphans_go(
    world: World, runtime: Runtime
) -> None:
    camera = world.cameras[0]
    first = await alert_with_files(runtime, camera, days_old=2, size=3 * MB)
    second = await alert_with_files(runtime, camera, days_old=1, size=3 * MB)
    orphan = runtime.settings.data_dir / "orphan.bin"
    orphan.write_bytes(b"x" * 100)
    stored = runtime.clips.store.put("9/9/9/clip.mp4", orphan)
    young = runtime.settings.data_dir / "young.bin"
    young.write_bytes(b"y")
    runtime.clips.store.put("9/9/10/clip.mp4", young)
    path = runtime.clips.store.local_path(stored.key)
    assert path is not None
    old = utcnow().timestamp() - ORPHAN_AGE_S - 60
    os.utime(path, (old, old))
    store = runtime.clips.store
    assert hasattr(store, "root")
    free = os.statvfs(store.root).f_bavail * os.statvfs(store.root).f_frsize
    result = await sweep(
        sessionmaker=runtime.sessionmaker,
        store=store,
        retention=RetentionSettings(),
        now=utcnow(),
        min_free_bytes=free + 5 * MB,  # "short" by more than one alert's files
    )
    assert result.orphans == 1 and store.local_path("9/9/9/clip.mp4") is None
    assert store.local_path("9/9/10/clip.mp4") is not None  # may still be being recorded
    assert result.capped_alerts == 2  # both needed to free 5 MB
    assert await refs_of(runtime, first) == (None, None)
    assert await refs_of(runtime, second) == (None, None)
