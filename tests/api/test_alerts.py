"""Alerts: filtered, scoped, stably paginated lists; review by supervisors, audited."""

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from server.runtime import Runtime
from server.storage.db import make_engine, make_sessionmaker
from server.storage.models import Alert
from shared.schemas.alerts import ClipStatus
from tests.helpers import World, add_alert, error_of
from tests.pipeline.app_helpers import eventually

ALERTS = "/api/v1/alerts"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [alert["id"] for alert in response.json()["data"]]


async def listing(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> tuple[list[int], int]:
    """Ids of one page and the total `count`."""
    response = await client.get(ALERTS, headers=headers, params=params)
    return ids(response), response.json()["count"]


async def alert_of(client: httpx.AsyncClient, headers: dict[str, str], alert_id: int) -> Any:
    response = await client.get(f"{ALERTS}/{alert_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def review(
    client: httpx.AsyncClient, headers: dict[str, str], alert_id: int, **body: Any
) -> httpx.Response:
    return await client.patch(f"{ALERTS}/{alert_id}", headers=headers, json=body)


async def audit_rows(client: httpx.AsyncClient, admin: dict[str, str], action: str) -> Any:
    response = await client.get("/api/v1/audit", headers=admin, params={"action": action})
    assert response.status_code == 200, response.text
    return response.json()


# --- listing and filters -----------------------------------------------------------------


@pytest.fixture
async def filter_set(runtime: Runtime, world: World) -> dict[str, int]:
    """Six alerts over two cameras/stores, with statuses and outcomes set through the API."""
    cam_a, cam_b = world.cameras
    specs = {
        "a1": (cam_a, T0, 0.95),
        "a2": (cam_a, T0 + timedelta(hours=1), 0.60),
        "a3": (cam_a, T0 + timedelta(hours=2), 0.85),
        "b1": (cam_b, T0 + timedelta(minutes=30), 0.70),
        "b2": (cam_b, T0 + timedelta(hours=3), 0.99),
        "b3": (cam_b, T0 + timedelta(hours=4), 0.50),
    }
    made = {}
    for name, (camera_id, started_at, score) in specs.items():
        alert = await add_alert(runtime, camera_id, started_at=started_at, score=score)
        made[name] = alert.id
    return made


@pytest.fixture
async def reviewed_set(
    client: httpx.AsyncClient, world: World, filter_set: dict[str, int]
) -> dict[str, int]:
    """a2 acknowledged, a3 confirmed theft, b1 false alarm, b2 deterred; a1 and b3 new."""
    admin = world.headers["admin"]
    steps = [
        ("a2", {"status": "acknowledged"}),
        ("a3", {"outcome": "confirmed_theft"}),
        ("b1", {"status": "reviewed", "outcome": "false_alarm"}),
        ("b2", {"outcome": "deterred"}),
    ]
    for name, body in steps:
        response = await review(client, admin, filter_set[name], **body)
        assert response.status_code == 200, response.text
    return filter_set


async def test_list_is_newest_first_with_count(
    client: httpx.AsyncClient, world: World, filter_set: dict[str, int]
) -> None:
    s = filter_set
    page, count = await listing(client, world.headers["admin"])
    assert page == [s["b3"], s["b2"], s["a3"], s["a2"], s["b1"], s["a1"]]
    assert count == 6
    first = await alert_of(client, world.headers["admin"], s["b2"])
    assert first["store_id"] == world.stores[1]
    assert first["camera_id"] == world.cameras[1]
    assert first["peak_score"] == pytest.approx(0.99)
    assert first["status"] == "new"
    assert first["outcome"] is None
    assert first["version"] == 1
    assert datetime.fromisoformat(first["started_at"]) == T0 + timedelta(hours=3)


FILTER_CASES: list[tuple[dict[str, Any], list[str]]] = [
    # one store, one camera (indexes into world.stores / world.cameras)
    ({"store_id": 0}, ["a3", "a2", "a1"]),
    ({"camera_id": 1}, ["b3", "b2", "b1"]),
    ({"store_id": 1, "camera_id": 0}, []),
    # one status, several statuses
    ({"status": "new"}, ["b3", "a1"]),
    ({"status": ["acknowledged", "reviewed"]}, ["b2", "a3", "a2", "b1"]),
    ({"status": ["new", "acknowledged"], "store_id": 0}, ["a2", "a1"]),
    # outcomes
    ({"outcome": "confirmed_theft"}, ["a3"]),
    ({"outcome": ["false_alarm", "deterred"]}, ["b2", "b1"]),
    ({"outcome": "unclear"}, []),
    # since is inclusive, until exclusive
    ({"since": T0 + timedelta(hours=2)}, ["b3", "b2", "a3"]),
    ({"until": T0 + timedelta(hours=1)}, ["b1", "a1"]),
    ({"since": T0 + timedelta(minutes=30), "until": T0 + timedelta(hours=3)}, ["a3", "a2", "b1"]),
    # a time without zone is UTC; one with an offset is converted
    ({"since": "2024-05-01T13:00:00"}, ["b3", "b2", "a3", "a2"]),
    ({"until": "2024-05-01T14:30:00+02:00"}, ["a1"]),  # 12:30 UTC: b1 at 12:30 is out
    # scores: min_score is inclusive
    ({"min_score": 0.85}, ["b2", "a3", "a1"]),
    ({"min_score": 0.99, "store_id": 1}, ["b2"]),
    ({"min_score": 1.0}, []),
    # everything at once
    ({"store_id": 1, "status": "reviewed", "min_score": 0.7, "since": T0}, ["b2", "b1"]),
]


async def test_filters(
    client: httpx.AsyncClient, world: World, reviewed_set: dict[str, int]
) -> None:
    for params, expected in FILTER_CASES:
        resolved: dict[str, Any] = {}
        for key, value in params.items():
            if key == "store_id":
                resolved[key] = world.stores[value]
            elif key == "camera_id":
                resolved[key] = world.cameras[value]
            elif isinstance(value, datetime):
                resolved[key] = value.isoformat()
            else:
                resolved[key] = value
        page, count = await listing(client, world.headers["admin"], **resolved)
        assert page == [reviewed_set[name] for name in expected], params
        assert count == len(expected), params


BAD_FILTERS: list[dict[str, Any]] = [
    {"status": "closed"},  # not a status
    {"outcome": "stolen"},  # not an outcome
    {"min_score": 1.5},  # above 1
    {"min_score": -0.1},  # below 0
    {"limit": 0},  # pages hold 1..200
    {"limit": 201},
    {"since": "yesterday"},  # not a time
    {"store_id": "downtown"},  # not an id
]


async def test_bad_filters_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for params in BAD_FILTERS:
        response = await client.get(ALERTS, headers=admin_headers, params=params)
        assert response.status_code == 422, params
        assert error_of(response)["code"] == "validation_error", params


async def test_scoping_by_store(
    client: httpx.AsyncClient, world: World, filter_set: dict[str, int]
) -> None:
    s = filter_set
    viewer_a, viewer_b = world.headers["viewer_a"], world.headers["viewer_b"]
    assert await listing(client, viewer_a) == ([s["a3"], s["a2"], s["a1"]], 3)
    assert await listing(client, viewer_b) == ([s["b3"], s["b2"], s["b1"]], 3)
    # asking for the other store or its camera gives nothing, not its alerts
    assert await listing(client, viewer_b, store_id=world.stores[0]) == ([], 0)
    assert await listing(client, viewer_b, camera_id=world.cameras[0]) == ([], 0)
    assert await listing(client, world.headers["supervisor_b"], min_score=0.0) == (
        [s["b3"], s["b2"], s["b1"]],
        3,
    )
    for name in ("viewer_b", "supervisor_b"):
        hidden = await client.get(f"{ALERTS}/{s['a1']}", headers=world.headers[name])
        assert hidden.status_code == 404
        assert error_of(hidden)["code"] == "not_found"
    missing = await client.get(f"{ALERTS}/999999", headers=world.headers["admin"])
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    # viewer_a does see it
    assert (await alert_of(client, viewer_a, s["a1"]))["id"] == s["a1"]


# --- pagination ----------------------------------------------------------------------------


async def test_pagination_is_stable_with_equal_start_times(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    cam_a, cam_b = world.cameras
    same = T0 + timedelta(microseconds=123456)  # precision must survive the cursor
    created: list[tuple[datetime, int]] = []
    for index in range(9):
        camera = cam_a if index % 2 else cam_b
        if index % 3 == 0:  # interleaved: earlier, equal and later alerts
            started = same - timedelta(minutes=index)
        elif index % 3 == 1:
            started = same
        else:
            started = same + timedelta(seconds=index)
        alert = await add_alert(runtime, camera, started_at=started)
        created.append((started, alert.id))
    for _ in range(3):  # more with the very same start, created after the others
        alert = await add_alert(runtime, cam_a, started_at=same)
        created.append((same, alert.id))
    expected = [alert_id for _, alert_id in sorted(created, reverse=True)]
    assert sum(1 for started, _ in created if started == same) == 7

    admin = world.headers["admin"]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    newer_id = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(ALERTS, headers=admin, params=params)
        page = ids(response)
        body = response.json()
        assert len(page) <= 2
        seen.extend(page)
        pages += 1
        assert body["count"] == len(created) + (1 if newer_id else 0)
        if pages == 2:  # a new alert arrives while paging: it must not disturb the walk
            newer = await add_alert(runtime, cam_b, started_at=same + timedelta(hours=1))
            newer_id = newer.id
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert len(seen) == len(set(seen)) == 12
    assert pages == 6
    # a fresh first page shows the new alert on top
    first, count = await listing(client, admin, limit=2)
    assert first == [newer_id, expected[0]]
    assert count == 13


async def test_pagination_with_filters_and_scope(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    cam_a, cam_b = world.cameras
    mine = []
    for _ in range(5):
        mine.append((await add_alert(runtime, cam_a, started_at=T0, score=0.9)).id)
        await add_alert(runtime, cam_b, started_at=T0, score=0.9)
        await add_alert(runtime, cam_a, started_at=T0, score=0.1)
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2, "min_score": 0.5}
    while True:
        response = await client.get(ALERTS, headers=world.headers["viewer_a"], params=params)
        seen.extend(ids(response))
        assert response.json()["count"] == 5
        if response.json()["next_cursor"] is None:
            break
        params["cursor"] = response.json()["next_cursor"]
    assert seen == sorted(mine, reverse=True)


async def test_last_page_has_no_cursor(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    for index in range(2):
        await add_alert(runtime, world.cameras[0], started_at=T0 + timedelta(minutes=index))
    response = await client.get(ALERTS, headers=world.headers["admin"], params={"limit": 2})
    assert len(ids(response)) == 2
    assert response.json()["next_cursor"] is None
    empty = await client.get(ALERTS, headers=world.headers["viewer_b"])
    assert empty.json() == {"data": [], "count": 0, "next_cursor": None}


def encoded(raw: bytes) -> str:
    """A cursor in the server's encoding (URL-safe base64 without padding)."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    "not-a-cursor",  # decodes to bytes without a separator
    "!!!!",  # not base64 at all
    "a",  # impossible base64 length
    encoded(b"no-separator"),
    encoded(b"2024-05-01T12:00:00|1"),  # a time without zone
    encoded(b"yesterday+00:00|1"),  # not a time
    encoded(b"2024-05-01T12:00:00+00:00|abc"),  # id not a number
    encoded(b"2024-05-01T12:00:00+00:00|1|2"),  # too many parts
    encoded(b"2024-05-01T12:00:00+00:00|100000000000000000000"),  # id beyond any column
    encoded(b"2024-05-01T12:00:00+00:00|-5"),  # negative id
    encoded(b"0001-01-01T00:00:00+14:00|1"),  # a time before year 1 in UTC
    encoded(b"\xff\xfe|1"),  # not UTF-8
]


async def test_invalid_cursor_is_422(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    for cursor in BAD_CURSORS:
        response = await client.get(ALERTS, headers=admin_headers, params={"cursor": cursor})
        assert response.status_code == 422, (cursor, response.text)
        assert error_of(response)["code"] == "invalid_request", cursor
    too_long = await client.get(ALERTS, headers=admin_headers, params={"cursor": "A" * 201})
    assert too_long.status_code == 422
    assert error_of(too_long)["code"] == "validation_error"


# --- review ----------------------------------------------------------------------------------


def parse(moment: str | None) -> datetime:
    assert moment is not None
    return datetime.fromisoformat(moment)


async def test_acknowledge_then_review(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    alert_id = (await add_alert(runtime, world.cameras[0], started_at=T0)).id
    supervisor = world.headers["supervisor_a"]

    before = datetime.now(UTC)
    acked = await review(client, supervisor, alert_id, status="acknowledged")
    after = datetime.now(UTC)
    assert acked.status_code == 200, acked.text
    body = acked.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == "supervisor_a"
    assert before <= parse(body["acknowledged_at"]) <= after
    assert body["reviewed_by"] is None
    assert body["reviewed_at"] is None
    assert body["outcome"] is None
    assert body["version"] == 2
    assert await alert_of(client, supervisor, alert_id) == body

    before = datetime.now(UTC)
    done = await review(
        client,
        supervisor,
        alert_id,
        status="reviewed",
        outcome="confirmed_theft",
        notes="left through exit 2",
        if_version=2,
    )
    after = datetime.now(UTC)
    assert done.status_code == 200, done.text
    reviewed = done.json()
    assert reviewed["status"] == "reviewed"
    assert reviewed["outcome"] == "confirmed_theft"
    assert reviewed["notes"] == "left through exit 2"
    assert reviewed["reviewed_by"] == "supervisor_a"
    assert before <= parse(reviewed["reviewed_at"]) <= after
    # acknowledgement is kept as it was
    assert reviewed["acknowledged_by"] == "supervisor_a"
    assert reviewed["acknowledged_at"] == body["acknowledged_at"]
    assert reviewed["version"] == 3
    assert await alert_of(client, world.headers["viewer_a"], alert_id) == reviewed

    # notes alone are a change too
    noted = await review(client, world.headers["admin"], alert_id, notes="police informed")
    assert noted.status_code == 200
    assert noted.json()["notes"] == "police informed"
    assert noted.json()["status"] == "reviewed"
    assert noted.json()["outcome"] == "confirmed_theft"
    assert noted.json()["reviewed_by"] == "supervisor_a"
    assert noted.json()["version"] == 4


async def test_outcome_alone_marks_reviewed(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    alert_id = (await add_alert(runtime, world.cameras[1], started_at=T0)).id
    response = await review(client, world.headers["supervisor_b"], alert_id, outcome="false_alarm")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "reviewed"
    assert body["outcome"] == "false_alarm"
    assert body["reviewed_by"] == "supervisor_b"
    assert body["acknowledged_by"] == "supervisor_b"  # reviewing acknowledges too
    assert body["reviewed_at"] is not None
    assert body["acknowledged_at"] == body["reviewed_at"]
    assert body["version"] == 2


async def test_reopen_clears_the_review(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    alert_id = (await add_alert(runtime, world.cameras[0], started_at=T0)).id
    supervisor = world.headers["supervisor_a"]
    first = await review(client, supervisor, alert_id, outcome="unclear", notes="blurry")
    assert first.status_code == 200
    reopened = await review(client, world.headers["admin"], alert_id, status="new")
    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert body["status"] == "new"
    for field in ("outcome", "reviewed_by", "reviewed_at", "acknowledged_by", "acknowledged_at"):
        assert body[field] is None, field
    assert body["notes"] == "blurry"
    assert body["version"] == 3
    # back to acknowledged from reviewed drops the outcome but keeps who acknowledged
    await review(client, supervisor, alert_id, outcome="deterred")
    acked = await review(client, supervisor, alert_id, status="acknowledged")
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["outcome"] is None
    assert acked.json()["reviewed_by"] is None
    assert acked.json()["acknowledged_by"] == "supervisor_a"
    assert acked.json()["version"] == 5


REFUSED_REVIEWS: list[tuple[str, dict[str, Any], int, str]] = [
    ("viewer_a", {"status": "acknowledged"}, 403, "forbidden"),  # viewers only read
    ("viewer_a", {"outcome": "confirmed_theft"}, 403, "forbidden"),
    ("supervisor_b", {"status": "acknowledged"}, 404, "not_found"),  # another store's alert
    ("supervisor_a", {"status": "reviewed"}, 422, "validation_error"),  # reviewed needs outcome
    # an outcome only goes with status reviewed
    ("supervisor_a", {"status": "acknowledged", "outcome": "false_alarm"}, 422, "validation_error"),
    ("supervisor_a", {}, 422, "validation_error"),  # nothing to change
    ("supervisor_a", {"if_version": 1}, 422, "validation_error"),  # still nothing to change
    ("supervisor_a", {"status": "closed"}, 422, "validation_error"),  # unknown status
    ("supervisor_a", {"notes": "x", "reviewer": "me"}, 422, "validation_error"),  # extra field
    ("supervisor_a", {"notes": "x" * 4001}, 422, "validation_error"),  # notes too long
    ("supervisor_a", {"notes": "x", "if_version": 0}, 422, "validation_error"),  # versions >= 1
]


async def test_refused_reviews_change_nothing(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    alert_id = (await add_alert(runtime, world.cameras[0], started_at=T0)).id
    admin = world.headers["admin"]
    before = await alert_of(client, admin, alert_id)
    for who, body, status, code in REFUSED_REVIEWS:
        response = await review(client, world.headers[who], alert_id, **body)
        assert response.status_code == status, (who, body, response.text)
        assert error_of(response)["code"] == code, (who, body)
        assert await alert_of(client, admin, alert_id) == before, (who, body)
    assert (await audit_rows(client, admin, "alert.review"))["count"] == 0
    missing = await review(client, admin, 999999, status="acknowledged")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"


async def test_stale_version_is_409(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    alert_id = (await add_alert(runtime, world.cameras[0], started_at=T0)).id
    admin, supervisor = world.headers["admin"], world.headers["supervisor_a"]
    # two reviewers loaded version 1; the first one wins
    first = await review(client, admin, alert_id, status="acknowledged", if_version=1)
    assert first.status_code == 200
    before = await alert_of(client, admin, alert_id)
    stale = await review(
        client, supervisor, alert_id, outcome="false_alarm", notes="mine", if_version=1
    )
    assert stale.status_code == 409, stale.text
    assert error_of(stale)["code"] == "conflict"
    assert await alert_of(client, admin, alert_id) == before
    assert before["version"] == 2
    assert before["acknowledged_by"] == "admin"
    # a version from the future is just as wrong
    future = await review(client, supervisor, alert_id, notes="x", if_version=7)
    assert future.status_code == 409
    assert await alert_of(client, admin, alert_id) == before
    # with the current version it goes through
    fresh = await review(client, supervisor, alert_id, outcome="false_alarm", if_version=2)
    assert fresh.status_code == 200
    assert fresh.json()["version"] == 3


async def test_each_review_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    alert_a = (await add_alert(runtime, world.cameras[0], started_at=T0)).id
    alert_b = (await add_alert(runtime, world.cameras[1], started_at=T0)).id
    admin = world.headers["admin"]
    started = datetime.now(UTC)
    steps: list[tuple[str, int, dict[str, Any]]] = [
        ("supervisor_a", alert_a, {"status": "acknowledged"}),
        ("supervisor_a", alert_a, {"outcome": "confirmed_theft", "notes": "n", "if_version": 2}),
        ("supervisor_b", alert_b, {"outcome": "false_alarm"}),
        ("admin", alert_a, {"status": "new"}),
    ]
    for who, alert_id, body in steps:
        response = await review(client, world.headers[who], alert_id, **body)
        assert response.status_code == 200, response.text
    finished = datetime.now(UTC)

    log = await audit_rows(client, admin, "alert.review")
    assert log["count"] == 4
    rows = list(reversed(log["data"]))  # the log is newest first
    for row, (who, alert_id, body) in zip(rows, steps, strict=True):
        assert row["username"] == who
        assert row["action"] == "alert.review"
        assert row["target_type"] == "alert"
        assert row["target_id"] == str(alert_id)
        assert row["details"] == {k: v for k, v in body.items() if k != "if_version"}
        assert started <= parse(row["at"]) <= finished
    by_user = await client.get(
        "/api/v1/audit",
        headers=admin,
        params={"action": "alert.review", "username": "supervisor_b"},
    )
    assert [row["target_id"] for row in by_user.json()["data"]] == [str(alert_b)]


async def test_two_reviews_at_once_one_wins_the_other_gets_409(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    alert = await add_alert(
        runtime, world.cameras[0], started_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    path = f"/api/v1/alerts/{alert.id}"
    reviews = [
        (world.headers["supervisor_a"], {"outcome": "confirmed_theft", "notes": "caught"}),
        (world.headers["admin"], {"outcome": "false_alarm", "notes": "nothing"}),
    ]
    responses = await asyncio.gather(
        *(
            client.patch(path, headers=headers, json=body | {"if_version": 1})
            for headers, body in reviews
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    [winner] = [r.json() for r in responses if r.status_code == 200]
    [loser] = [r for r in responses if r.status_code == 409]
    assert error_of(loser)["code"] == "conflict"
    final = (await client.get(path, headers=world.headers["admin"])).json()
    assert final == winner  # the loser's review did not overwrite it
    assert final["version"] == 2


async def test_a_review_waits_for_the_clip_worker_and_keeps_both_changes(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    """A review without `if_version` that meets the clip worker writing the same alert is
    not a conflict: it waits for that write and applies to the fresh row."""
    alert_id = (await add_alert(runtime, world.cameras[0], started_at=T0)).id
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()).upper())

    async def review_reached_the_alert() -> bool:
        return any(statement.startswith("UPDATE ALERTS") for statement in sent)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    worker_engine = make_engine(runtime.settings.resolved_database_url)
    try:
        async with make_sessionmaker(worker_engine)() as worker:
            held = await worker.get(Alert, alert_id)
            assert held is not None
            held.clip_status = ClipStatus.done.value
            await worker.flush()  # the row stays held until commit
            reviewing = asyncio.create_task(
                review(client, world.headers["supervisor_a"], alert_id, outcome="deterred")
            )
            await eventually(review_reached_the_alert, within_s=30)
            await worker.commit()
        response = await reviewing
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)
        await worker_engine.dispose()
    assert response.status_code == 200, response.text
    final = await alert_of(client, world.headers["admin"], alert_id)
    assert (final["clip_status"], final["outcome"], final["version"]) == ("done", "deterred", 3)
