"""The models API on a server without cameras running: the before/after report read from the
database (the candidate's scored time and would-be alerts beside the active model's reviewed
alerts), promotion, restore and discard with their audit rows, a broken candidate refused
with its reason, and each store's supervisors seeing their cameras only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from server.behaviour.models import model_identity
from server.runtime import Runtime
from server.storage.models import Alert, AuditEntry, ScoredSpan, ShadowAlert
from server.weights import record_sha, sha256_of
from tests.helpers import World, add_alert, error_of
from tests.models.builders import SHIPPED, write_candidate

NOW = datetime.now(UTC).replace(microsecond=0)


async def models(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/v1/models", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def shadow_history(runtime: Runtime, camera_id: int, identity: str) -> None:
    """Ten hours of camera A scored by the candidate beside the active model: the active
    model raised four alerts (a confirmed theft and a false alarm the candidate would also
    have raised, a false alarm it would not, one not reviewed); the candidate would have
    raised one more of its own."""
    start = NOW - timedelta(hours=10)
    live = []
    for hours, outcome in ((1, "confirmed_theft"), (2, "false_alarm"), (3, "false_alarm"),
                           (4, None)):  # fmt: skip
        alert = await add_alert(runtime, camera_id, started_at=start + timedelta(hours=hours))
        live.append((alert.id, outcome))
    async with runtime.sessionmaker() as session:
        session.add(ScoredSpan(camera_id=camera_id, model=identity, started_at=start, ended_at=NOW))
        for alert_id, outcome in live:
            row = await session.get(Alert, alert_id)
            assert row is not None
            row.last_seen_at = row.started_at + timedelta(seconds=40)
            if outcome is not None:
                row.status, row.outcome = "reviewed", outcome
        for hours in (1, 2, 6):  # with the theft, with the first false alarm, on its own
            at = start + timedelta(hours=hours, seconds=5)
            session.add(
                ShadowAlert(
                    camera_id=camera_id,
                    model=identity,
                    zone="",
                    event_type="concealment",
                    started_at=at,
                    last_seen_at=at + timedelta(seconds=20),
                    peak_score=0.4,
                    tracks=1,
                )
            )
        await session.commit()


async def test_the_report_sets_the_candidates_would_be_alerts_beside_the_real_ones(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    admin = world.headers["admin"]
    before = await models(client, admin)
    assert before["candidate"] is None and before["previous"] is None
    assert before["shadow"] is None
    active = before["active"]
    assert (active["role"], active["source"], active["location"]) == (
        "active",
        "shipped",
        str(SHIPPED),
    )
    assert active["identity"] == model_identity(SHIPPED) and active["error"] is None
    assert active["trained_at"] is not None and 0 < active["threshold"] < 1
    assert "out_of_fold" in active["info"]  # training's figures, passed through

    path = write_candidate(runtime.settings.data_dir, 0.3, "retrained with the store's reviews")
    identity = sha256_of(path)
    camera_a, camera_b = world.cameras
    await shadow_history(runtime, camera_a, identity)
    body = await models(client, admin)
    candidate = body["candidate"]
    assert (candidate["role"], candidate["source"], candidate["identity"]) == (
        "candidate",
        "trained",
        identity,
    )
    assert candidate["threshold"] == 0.3 and candidate["error"] is None
    assert candidate["info"]["note"] == "retrained with the store's reviews"
    shadow = body["shadow"]
    assert shadow["identity"] == identity and shadow["running"] is False  # no cameras here
    assert datetime.fromisoformat(shadow["since"]) == NOW - timedelta(hours=10)
    assert (shadow["scored_hours"], shadow["active_alerts"], shadow["candidate_alerts"]) == (
        10.0,
        4,
        3,
    )
    assert shadow["confirmed"] == {"reviewed": 1, "also_raised": 1}
    assert shadow["false_alarms"] == {"reviewed": 2, "also_raised": 1}
    [row] = shadow["cameras"]  # camera B was never scored by the candidate here
    assert (row["camera_id"], row["name"]) == (camera_a, "Aisle 1")
    assert row["store_id"] == world.stores[0]
    assert (row["active_alerts_per_day"], row["candidate_alerts_per_day"]) == (9.6, 7.2)
    assert row["candidate_only_alerts"] == 1
    assert row["shadow_scoring"] is None  # this process does not run the camera
    assert row["active_threshold"]["threshold_source"] == "learning"
    assert row["candidate_threshold"] is None  # its shadow is not running
    assert sum(d["scored_hours"] for d in row["days"]) == 10.0
    assert sum(d["active_alerts"] for d in row["days"]) == 4
    assert sum(d["candidate_alerts"] for d in row["days"]) == 3

    # each store's supervisors read the report for their own cameras only
    mine = (await models(client, world.headers["supervisor_a"]))["shadow"]["cameras"]
    assert [c["camera_id"] for c in mine] == [camera_a]
    theirs = (await models(client, world.headers["supervisor_b"]))["shadow"]
    assert theirs["cameras"] == [] and theirs["active_alerts"] == 0
    assert camera_b not in [c["camera_id"] for c in theirs["cameras"]]


async def test_promote_restore_and_discard_are_audited(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    admin = world.headers["admin"]
    shipped = model_identity(SHIPPED)
    data_dir = runtime.settings.data_dir
    first = sha256_of(write_candidate(data_dir, 0.3))

    stale = await client.post(
        "/api/v1/models/candidate/promote", headers=admin, json={"identity": "0" * 64}
    )
    assert stale.status_code == 409 and error_of(stale)["code"] == "conflict"
    promoted = await client.post(
        "/api/v1/models/candidate/promote", headers=admin, json={"identity": first}
    )
    assert promoted.status_code == 200, promoted.text
    body = promoted.json()
    assert (body["active"]["identity"], body["active"]["source"]) == (first, "promoted")
    assert body["candidate"] is None and body["shadow"] is None
    assert (body["previous"]["identity"], body["previous"]["source"]) == (shipped, "shipped")
    assert runtime.models.live.pair.active is not None
    assert runtime.models.live.pair.active.identity == first  # what cameras score with
    assert runtime.thresholds.facts is not None and runtime.thresholds.facts.identity == first

    restored = await client.post("/api/v1/models/previous/restore", headers=admin)
    assert restored.status_code == 200, restored.text
    assert restored.json()["active"]["identity"] == shipped
    assert restored.json()["previous"]["identity"] == first
    assert runtime.thresholds.facts is not None and runtime.thresholds.facts.identity == shipped

    second = sha256_of(write_candidate(data_dir, 0.35))
    assert (await models(client, admin))["candidate"]["identity"] == second
    gone = await client.delete("/api/v1/models/candidate", headers=admin)
    assert gone.status_code == 204, gone.text
    assert (await models(client, admin))["candidate"] is None
    again = await client.delete("/api/v1/models/candidate", headers=admin)
    assert again.status_code == 404
    assert error_of(again) == {
        "code": "not_found",
        "message": "no candidate model: train one with `shopguard model train --candidate`",
        "fields": [],
    }
    async with runtime.sessionmaker() as session:
        audit = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.target_id, AuditEntry.details)
                .where(AuditEntry.action.like("model.%"))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [tuple(row) for row in audit] == [
        ("model.promote", first, {"previous": shipped}),
        ("model.restore", shipped, {"previous": first}),
        ("model.discard", second, {}),
    ]


async def test_a_broken_candidate_is_refused_and_the_active_model_stays(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    admin = world.headers["admin"]
    path = write_candidate(runtime.settings.data_dir, 0.3)
    record_sha(path)
    path.write_text(path.read_text().replace('"threshold": 0.3', '"threshold": 0.01'))
    body = await models(client, admin)
    assert body["candidate"]["error"] == (
        f"behaviour model {path} does not match its sha256 (changed or damaged)"
    )
    assert body["shadow"] is None
    refused = await client.post("/api/v1/models/candidate/promote", headers=admin)
    assert refused.status_code == 409
    assert error_of(refused)["message"] == (
        "the candidate model is refused: behaviour model "
        f"{path} does not match its sha256 (changed or damaged)"
    )
    after = await models(client, admin)
    assert after["active"]["identity"] == model_identity(SHIPPED) and after["previous"] is None
    assert runtime.models.live.pair.active is not None
    assert runtime.models.live.pair.active.identity == model_identity(SHIPPED)
    nothing = await client.post("/api/v1/models/previous/restore", headers=admin)
    assert nothing.status_code == 404
    assert error_of(nothing)["message"] == "no previous model to go back to"
