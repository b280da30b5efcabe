"""Reviews become training data, through the real app and database: a reviewed alert keeps its
people's poses (and follows later reviews), an unreviewed alert holds its poses past the kept
hours, a supervisor marks a missed theft, and episodes expire like evidence."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from server.evidence.retention import ORPHAN_AGE_S
from server.posetracks.episodes import read_episode
from server.posetracks.rows import PoseRows
from server.posetracks.store import ChunkKey
from server.records.people import Tracks
from server.records.video import Frame
from server.runtime import Runtime
from server.services.alerts import record_alert
from server.storage import cameras
from server.storage.models import Alert, LabelledEpisode, utcnow
from tests.helpers import World, db_snapshot, error_of
from tests.posetracks.people import assert_rows_equal, expected_rows, feed, tracked_frames

API = "/api/v1"
MARGIN_S = 10.0  # pose_tracks.margin_s, by default


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


async def fed(
    runtime: Runtime, camera_id: int, start: float, seconds: float, *, nobody: bool = False
) -> list[tuple[Frame, Tracks]]:
    """Analysed frames handed to the server's pose-track sink, as the pipeline would."""
    frames = tracked_frames(camera_id, start, seconds, nobody=nobody)
    feed(runtime.pose_tracks.recorder, frames)
    return frames


async def alert_over(
    runtime: Runtime, camera_id: int, span: tuple[float, float], track_ids: list[int]
) -> Alert:
    """An alert as the pipeline records it, from `span[0]` to `span[1]`."""
    async with runtime.sessionmaker() as session:
        camera = await cameras.get_camera(session=session, camera_id=camera_id, store_ids=None)
        return await record_alert(
            session=session,
            bus=runtime.bus,
            camera=camera,
            zone="",
            event_type="concealment",
            score=0.9,
            started_at=at(span[0]),
            last_seen_at=at(span[1]),
            track_ids=track_ids,
        )


async def episodes(client: httpx.AsyncClient, headers: dict[str, str], **query: Any) -> Any:
    response = await client.get(f"{API}/labelled-episodes", headers=headers, params=query)
    assert response.status_code == 200, response.text
    return response.json()


async def episode_file(runtime: Runtime, episode_id: int) -> tuple[Any, PoseRows, str]:
    """The episode's file as the database points to it: meta, poses, key."""
    async with runtime.sessionmaker() as session:
        row = await session.get(LabelledEpisode, episode_id)
        assert row is not None and row.data_ref is not None
    data = runtime.pose_tracks.store.get(row.data_ref)
    assert data is not None, row.data_ref
    meta, rows = read_episode(data)
    return meta, rows, row.data_ref


async def review(
    client: httpx.AsyncClient, headers: dict[str, str], alert_id: int, **body: str
) -> None:
    response = await client.patch(f"{API}/alerts/{alert_id}", headers=headers, json=body)
    assert response.status_code == 200, response.text


async def test_a_reviewed_alert_keeps_its_peoples_poses_and_follows_later_reviews(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    camera, supervisor = world.cameras[0], world.headers["supervisor_a"]
    start = time.time() - 120
    everyone = expected_rows(camera, await fed(runtime, camera, start, 60))
    span = (start + 20.1, start + 30.1)  # between frames: no frame sits on an edge
    people = everyone.between(*span).track_ids[:2]
    alert = await alert_over(runtime, camera, span, people)

    await review(client, supervisor, alert.id, status="acknowledged")  # no outcome: nothing
    assert (await episodes(client, supervisor))["count"] == 0
    await review(client, supervisor, alert.id, outcome="confirmed_theft")

    want = everyone.between(span[0] - MARGIN_S, span[1] + MARGIN_S).of_tracks(people)
    listed = await episodes(client, supervisor)
    assert listed["count"] == 1
    [episode] = listed["data"]
    assert {k: v for k, v in episode.items() if k not in ("id", "created_at", "size_bytes")} == {
        "store_id": world.stores[0],
        "camera_id": camera,
        "source": "alert_review",
        "label": "theft",
        "alert_id": alert.id,
        "start": alert.started_at.isoformat().replace("+00:00", "Z"),
        "end": alert.last_seen_at.isoformat().replace("+00:00", "Z"),
        "kept_from": at(span[0] - MARGIN_S).isoformat().replace("+00:00", "Z"),
        "kept_to": at(span[1] + MARGIN_S).isoformat().replace("+00:00", "Z"),
        "track_ids": people,
        "poses": len(want),
        "frames": want.frames,
        "created_by": "supervisor_a",
        "notes": "",
    }
    assert len(want) > 50 and want.frames == 150  # 30 s at 5 fps
    meta, rows, first_key = await episode_file(runtime, episode["id"])
    assert_rows_equal(rows, want)  # exactly the poses the sink took, no one else's
    assert (meta.label.value, meta.alert_id, meta.track_ids) == ("theft", alert.id, tuple(people))
    assert episode["size_bytes"] == len(runtime.pose_tracks.store.get(first_key) or b"")

    # the review changes its mind: the same episode, relabelled, in a new file
    await review(client, supervisor, alert.id, outcome="false_alarm")
    [relabelled] = (await episodes(client, supervisor))["data"]
    assert (relabelled["id"], relabelled["label"]) == (episode["id"], "normal")
    meta, rows, second_key = await episode_file(runtime, episode["id"])
    assert meta.label.value == "normal" and second_key != first_key
    assert_rows_equal(rows, want)
    # the replaced file is an orphan once it is old enough
    pruned = await runtime.pose_tracks.prune(utcnow() + timedelta(seconds=ORPHAN_AGE_S + 5))
    assert pruned.orphans == 1 and pruned.episodes_expired == 0
    assert runtime.pose_tracks.store.get(first_key) is None
    assert runtime.pose_tracks.store.get(second_key) is not None

    # an outcome that is neither a theft nor a false alarm drops the episode
    await review(client, supervisor, alert.id, outcome="deterred")
    assert (await episodes(client, supervisor))["count"] == 0
    await runtime.pose_tracks.prune(utcnow() + timedelta(seconds=ORPHAN_AGE_S + 5))
    assert runtime.pose_tracks.store.files("episodes/") == []


async def test_an_alert_with_no_poses_kept_is_reviewed_all_the_same(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    now = time.time()
    alert = await alert_over(runtime, world.cameras[1], (now - 30, now - 20), [1, 2])
    await review(client, world.headers["supervisor_b"], alert.id, outcome="confirmed_theft")
    assert (await episodes(client, world.headers["admin"]))["count"] == 0


async def test_an_unreviewed_alert_holds_its_poses_past_the_kept_hours(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    camera, admin = world.cameras[0], world.headers["admin"]
    recorder = runtime.pose_tracks.recorder
    old = time.time() - 3 * 3600  # older than pose_tracks.keep_hours (2 h)
    everyone = expected_rows(camera, await fed(runtime, camera, old, 60))
    await fed(runtime, camera, old + 300, 60)  # later, no alert
    recorder.flush()
    await recorder.drain()
    span = (old + 20.1, old + 30.1)
    people = everyone.between(*span).track_ids
    alert = await alert_over(runtime, camera, span, people)
    held = (span[0] - MARGIN_S, span[1] + MARGIN_S)

    def chunks() -> list[ChunkKey]:
        keys = (ChunkKey.parse(f.key) for f in runtime.pose_tracks.store.files("chunks/"))
        return sorted((k for k in keys if k is not None), key=lambda k: k.first_ms)

    before = chunks()
    pruned = await runtime.pose_tracks.prune(utcnow())
    kept = chunks()
    assert kept == [k for k in before if k.overlaps(*held)] and kept
    assert (pruned.chunks, pruned.chunks_held) == (len(before) - len(kept), len(kept))

    # three hours on, the review still keeps the alert's people
    await review(client, admin, alert.id, outcome="confirmed_theft")
    [episode] = (await episodes(client, admin))["data"]
    _, rows, _ = await episode_file(runtime, episode["id"])
    assert_rows_equal(rows, everyone.between(*held).of_tracks(people))
    # reviewed: nothing holds the chunks any more
    pruned = await runtime.pose_tracks.prune(utcnow())
    assert (pruned.chunks, pruned.chunks_held) == (len(kept), 0) and chunks() == []

    # and a missed theft in that old hour can no longer be marked
    mark = {"start": at(old + 300).isoformat(), "end": at(old + 310).isoformat()}
    response = await client.post(f"{API}/cameras/{camera}/missed-thefts", headers=admin, json=mark)
    assert response.status_code == 409, response.text
    error = error_of(response)
    assert error["code"] == "poses_gone"
    assert "poses are kept for 2 h (pose_tracks.keep_hours)" in error["message"]


def mark_body(start: float, end: float, notes: str = "") -> dict[str, str]:
    return {"start": at(start).isoformat(), "end": at(end).isoformat(), "notes": notes}


async def test_a_supervisor_marks_a_missed_theft_while_its_poses_are_kept(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    camera, camera_b = world.cameras
    headers = world.headers
    now = time.time()
    everyone = expected_rows(camera, await fed(runtime, camera, now - 60, 60))
    path = f"{API}/cameras/{camera}/missed-thefts"

    span = (now - 30.1, now - 20.1)
    response = await client.post(
        path, headers=headers["supervisor_a"], json=mark_body(*span, "took razors, left")
    )
    assert response.status_code == 201, response.text
    marked = response.json()
    people = everyone.between(*span).track_ids  # everyone seen in the marked span
    want = everyone.between(span[0] - MARGIN_S, span[1] + MARGIN_S).of_tracks(people)
    assert marked["source"] == "missed_theft" and marked["label"] == "theft"
    assert marked["alert_id"] is None and marked["created_by"] == "supervisor_a"
    assert marked["track_ids"] == people and len(people) >= 3
    assert (marked["poses"], marked["frames"]) == (len(want), want.frames)
    assert marked["notes"] == "took razors, left"
    _, rows, _ = await episode_file(runtime, marked["id"])
    assert_rows_equal(rows, want)

    # the last seconds are still in the sink's buffer (this minute's chunk is not written)
    recent = (now - 5.1, now)
    response = await client.post(path, headers=headers["admin"], json=mark_body(*recent))
    assert response.status_code == 201, response.text
    _, rows, _ = await episode_file(runtime, response.json()["id"])
    people = everyone.between(*recent).track_ids
    assert_rows_equal(rows, everyone.between(recent[0] - MARGIN_S, now).of_tracks(people))

    # who may mark: supervisors of the camera's store and admins
    before = await db_snapshot(runtime)
    for caller, status, code in (
        ("viewer_a", 403, "forbidden"),
        ("viewer_b", 403, "forbidden"),
        ("supervisor_b", 404, "not_found"),
    ):
        response = await client.post(path, headers=headers[caller], json=mark_body(*span))
        assert (response.status_code, error_of(response)["code"]) == (status, code), caller
    refused = [
        (mark_body(now - 3 * 3600, now - 3 * 3600 + 30), 409, "poses_gone"),  # poses gone
        (mark_body(now + 30, now + 60), 422, "invalid_request"),  # in the future
        (mark_body(now - 700, now - 99), 422, "validation_error"),  # over 10 minutes
        (mark_body(now - 20, now - 30), 422, "validation_error"),  # ends before it starts
        ({"start": "2026-12-02T14:02:00", "end": "2026-12-02T14:03:00"}, 422, "validation_error"),
    ]
    for body, status, code in refused:
        response = await client.post(path, headers=headers["supervisor_a"], json=body)
        assert (response.status_code, error_of(response)["code"]) == (status, code), body
    # a camera that was analysed but saw nobody
    await fed(runtime, camera_b, now - 30, 20, nobody=True)
    response = await client.post(
        f"{API}/cameras/{camera_b}/missed-thefts",
        headers=headers["supervisor_b"],
        json=mark_body(now - 25, now - 15),
    )
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"
    assert "nobody was tracked on camera" in error_of(response)["message"]
    assert await db_snapshot(runtime) == before

    # lists: reviewers see their stores' episodes
    assert (await episodes(client, headers["supervisor_a"]))["count"] == 2
    assert (await episodes(client, headers["supervisor_b"]))["count"] == 0
    assert (await episodes(client, headers["admin"], label="normal"))["count"] == 0
    assert (await episodes(client, headers["admin"], camera_id=camera))["count"] == 2
    response = await client.get(f"{API}/labelled-episodes", headers=headers["viewer_a"])
    assert response.status_code == 403

    # a mark made by mistake is withdrawn
    gone = f"{API}/labelled-episodes/{marked['id']}"
    assert (await client.delete(gone, headers=headers["supervisor_b"])).status_code == 404
    assert (await client.delete(gone, headers=headers["supervisor_a"])).status_code == 204
    assert [e["id"] for e in (await episodes(client, headers["admin"]))["data"]] != [marked["id"]]
    assert (await episodes(client, headers["admin"]))["count"] == 1


async def test_an_alerts_episode_is_changed_by_its_review_not_deleted(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    camera, admin = world.cameras[0], world.headers["admin"]
    start = time.time() - 60
    everyone = expected_rows(camera, await fed(runtime, camera, start, 40))
    alert = await alert_over(runtime, camera, (start + 10.1, start + 15.1), everyone.track_ids)
    await review(client, admin, alert.id, outcome="false_alarm")
    [episode] = (await episodes(client, admin))["data"]
    response = await client.delete(f"{API}/labelled-episodes/{episode['id']}", headers=admin)
    assert response.status_code == 409
    assert "change the review instead" in error_of(response)["message"]


@pytest.mark.parametrize("days", [40, 400])
async def test_episodes_expire_like_evidence(
    client: httpx.AsyncClient, world: World, runtime: Runtime, days: int
) -> None:
    """Defaults: false alarms after 30 days, thefts after 365 (retention.*)."""
    camera, admin = world.cameras[0], world.headers["admin"]
    start = time.time() - 90
    everyone = expected_rows(camera, await fed(runtime, camera, start, 60))
    alert = await alert_over(runtime, camera, (start + 10.1, start + 20.1), everyone.track_ids)
    await review(client, admin, alert.id, outcome="false_alarm")
    mark = mark_body(start + 40.1, start + 50.1)
    response = await client.post(f"{API}/cameras/{camera}/missed-thefts", headers=admin, json=mark)
    assert response.status_code == 201, response.text
    assert (await episodes(client, admin))["count"] == 2
    runtime.pose_tracks.recorder.flush()  # the buffered minute too
    await runtime.pose_tracks.recorder.drain()

    pruned = await runtime.pose_tracks.prune(utcnow() + timedelta(days=days))
    left = (await episodes(client, admin))["data"]
    if days == 40:
        assert pruned.episodes_expired == 1 and [e["label"] for e in left] == ["theft"]
        assert len(runtime.pose_tracks.store.files("episodes/")) == 1
    else:
        assert pruned.episodes_expired == 2 and left == []
        assert runtime.pose_tracks.store.files("episodes/") == []
    assert runtime.pose_tracks.store.files("chunks/") == []  # every chunk is days old by then


async def test_a_review_goes_through_when_the_poses_cannot_be_written(
    client: httpx.AsyncClient, world: World, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    camera, admin = world.cameras[0], world.headers["admin"]
    start = time.time() - 60
    everyone = expected_rows(camera, await fed(runtime, camera, start, 40))
    alert = await alert_over(runtime, camera, (start + 10.1, start + 15.1), everyone.track_ids)
    blocker = runtime.settings.data_dir / "pose-tracks" / "episodes"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"a file where the episodes folder should be")  # writes fail
    with caplog.at_level(logging.ERROR):
        await review(client, admin, alert.id, outcome="confirmed_theft")
    assert f"alert {alert.id} reviewed: keeping its poses failed" in caplog.text
    assert (await episodes(client, admin))["count"] == 0  # no row without its file
    response = await client.get(f"{API}/alerts/{alert.id}", headers=admin)
    assert response.json()["outcome"] == "confirmed_theft"

    blocker.unlink()  # the disk is back: the next review keeps them
    await review(client, admin, alert.id, outcome="false_alarm")
    [episode] = (await episodes(client, admin))["data"]
    assert episode["label"] == "normal" and episode["poses"] > 0
