"""Alert statistics: totals, shares, review time, buckets per hour and day in a time zone."""

import statistics
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from server.runtime import Runtime
from server.storage.alerts import AlertFilter
from server.storage.stats import alert_stats
from tests.helpers import World, add_alert, error_of

STATS = "/api/v1/stats"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


def starts(buckets: list[dict[str, Any]]) -> list[datetime]:
    return [parse(bucket["start"]) for bucket in buckets]


def nonzero(buckets: list[dict[str, Any]], origin: datetime, step: timedelta) -> dict[int, int]:
    """Bucket counts keyed by their offset from `origin` in steps."""
    return {int((parse(b["start"]) - origin) / step): b["count"] for b in buckets if b["count"] > 0}


def old_fields(camera: dict[str, Any]) -> dict[str, Any]:
    """A camera's entry as the first clients read it (later fields are in
    test_stats_outcomes.py)."""
    return {
        key: camera[key] for key in ("camera_id", "store_id", "alerts", "reviewed", "confirmed")
    }


async def stats(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    query = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
    response = await client.get(STATS, headers=headers, params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_totals_shares_review_time_and_buckets(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    cam_a, cam_b = world.cameras
    store_a, store_b = world.stores
    # three whole UTC days, all in the recent past
    day0 = datetime.combine((datetime.now(UTC) - 3 * DAY).date(), time(), tzinfo=UTC)
    since, until = day0, day0 + 3 * DAY
    plan = [
        # name, camera, start offset from day0, review by, outcome (None: left new)
        ("a1", cam_a, timedelta(hours=1, minutes=30), "supervisor_a", "confirmed_theft"),
        ("a2", cam_a, timedelta(hours=1, minutes=45), "supervisor_a", "false_alarm"),
        ("a3", cam_a, timedelta(hours=26), None, None),
        ("a4", cam_a, timedelta(hours=26, minutes=10), "supervisor_a", "acknowledged"),
        ("b1", cam_b, timedelta(hours=50), "supervisor_b", "confirmed_theft"),
        ("b2", cam_b, timedelta(hours=71, minutes=59), None, None),
        # outside the range: just before `since`, exactly at `until` (excluded)
        ("o1", cam_a, timedelta(minutes=-1), "admin", "confirmed_theft"),
        ("o2", cam_b, 3 * DAY, "admin", "false_alarm"),
    ]
    started: dict[str, datetime] = {}
    ids: dict[str, int] = {}
    for name, camera, offset, _, _ in plan:
        started[name] = day0 + offset
        ids[name] = (await add_alert(runtime, camera, started_at=started[name])).id

    review_times: dict[str, float] = {}
    reviews_began = datetime.now(UTC)
    for name, _, _, who, outcome in plan:
        if who is None:
            continue
        body = {"status": "acknowledged"} if outcome == "acknowledged" else {"outcome": outcome}
        response = await client.patch(
            f"/api/v1/alerts/{ids[name]}", headers=world.headers[who], json=body
        )
        assert response.status_code == 200, response.text
        if outcome != "acknowledged":
            reviewed_at = parse(response.json()["reviewed_at"])
            review_times[name] = (reviewed_at - started[name]).total_seconds()
    reviews_ended = datetime.now(UTC)

    admin = world.headers["admin"]
    result = await stats(client, admin, since=since, until=until)
    assert parse(result["since"]) == since
    assert parse(result["until"]) == until
    assert result["timezone"] == "UTC"
    assert (result["alerts"], result["reviewed"], result["confirmed"]) == (6, 3, 2)
    assert result["share_reviewed"] == pytest.approx(3 / 6)
    assert result["share_confirmed"] == pytest.approx(2 / 3)
    in_range = [review_times[name] for name in ("a1", "a2", "b1")]
    assert result["median_time_to_review_s"] == pytest.approx(statistics.median(in_range), abs=1e-3)
    # and by the wall clock: a2's review time is the median, it was reviewed in the window
    low = (reviews_began - started["a2"]).total_seconds()
    high = (reviews_ended - started["a2"]).total_seconds()
    assert low - 1e-3 <= result["median_time_to_review_s"] <= high + 1e-3
    assert [old_fields(camera) for camera in result["per_camera"]] == [
        {"camera_id": cam_a, "store_id": store_a, "alerts": 4, "reviewed": 2, "confirmed": 1},
        {"camera_id": cam_b, "store_id": store_b, "alerts": 2, "reviewed": 1, "confirmed": 1},
    ]
    assert result["per_store"] == [
        {"store_id": store_a, "alerts": 4, "reviewed": 2, "confirmed": 1},
        {"store_id": store_b, "alerts": 2, "reviewed": 1, "confirmed": 1},
    ]
    # every hour and day of the range is there, the empty ones with 0
    assert starts(result["per_hour"]) == [day0 + i * HOUR for i in range(72)]
    assert nonzero(result["per_hour"], day0, HOUR) == {1: 2, 26: 2, 50: 1, 71: 1}
    assert starts(result["per_day"]) == [day0, day0 + DAY, day0 + 2 * DAY]
    assert [b["count"] for b in result["per_day"]] == [2, 2, 2]

    # a store's viewer counts only that store
    mine = await stats(client, world.headers["viewer_a"], since=since, until=until)
    assert (mine["alerts"], mine["reviewed"], mine["confirmed"]) == (4, 2, 1)
    assert mine["share_reviewed"] == pytest.approx(0.5)
    assert mine["share_confirmed"] == pytest.approx(0.5)
    assert mine["median_time_to_review_s"] == pytest.approx(
        statistics.median([review_times["a1"], review_times["a2"]]), abs=1e-3
    )
    assert [c["camera_id"] for c in mine["per_camera"]] == [cam_a]
    assert [s["store_id"] for s in mine["per_store"]] == [store_a]
    assert nonzero(mine["per_hour"], day0, HOUR) == {1: 2, 26: 2}
    assert [b["count"] for b in mine["per_day"]] == [2, 2, 0]
    # ... even when asking for the other store
    other = await stats(
        client, world.headers["viewer_a"], since=since, until=until, store_id=store_b
    )
    assert (other["alerts"], other["reviewed"], other["confirmed"]) == (0, 0, 0)
    assert other["share_reviewed"] is None
    assert other["share_confirmed"] is None
    assert other["median_time_to_review_s"] is None
    assert (other["per_camera"], other["per_store"]) == ([], [])
    assert len(other["per_hour"]) == 72
    assert all(b["count"] == 0 for b in other["per_hour"] + other["per_day"])

    # filters by store and camera
    only_b = await stats(client, admin, since=since, until=until, store_id=store_b)
    assert (only_b["alerts"], only_b["confirmed"]) == (2, 1)
    assert only_b["share_confirmed"] == pytest.approx(1.0)
    only_a = await stats(client, admin, since=since, until=until, camera_id=cam_a)
    assert only_a["per_camera"] == result["per_camera"][:1]
    # the range moves with since/until: a wider one takes in the two outside alerts
    wider = await stats(client, admin, since=since - HOUR, until=until + HOUR)
    assert (wider["alerts"], wider["reviewed"], wider["confirmed"]) == (8, 5, 3)
    assert len(wider["per_hour"]) == 74


async def test_new_york_days_start_at_local_midnight(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    # New York leaves daylight saving time on 2024-11-03: 02:00 EDT becomes 01:00 EST
    cam_a, cam_b = world.cameras
    for moment, camera in (
        ("2024-11-02T02:00:00+00:00", cam_a),  # Nov 1 22:00 in New York
        ("2024-11-03T05:30:00+00:00", cam_b),  # Nov 3 01:30 EDT
        ("2024-11-03T06:30:00+00:00", cam_a),  # Nov 3 01:30 EST, the repeated hour
        ("2024-11-05T04:59:00+00:00", cam_b),  # Nov 4 23:59 EST
    ):
        await add_alert(runtime, camera, started_at=parse(moment))
    since = parse("2024-11-01T12:00:00+00:00")
    until = parse("2024-11-05T12:00:00+00:00")
    admin = world.headers["admin"]
    ny = ZoneInfo("America/New_York")

    local = await stats(client, admin, since=since, until=until, tz="America/New_York")
    assert local["timezone"] == "America/New_York"
    assert local["alerts"] == 4
    assert [b["start"] for b in local["per_day"]] == [
        "2024-11-01T00:00:00-04:00",
        "2024-11-02T00:00:00-04:00",
        "2024-11-03T00:00:00-04:00",
        "2024-11-04T00:00:00-05:00",
        "2024-11-05T00:00:00-05:00",
    ]
    for start in starts(local["per_day"]):
        assert start.astimezone(ny).time() == time(0, 0)
    assert [b["count"] for b in local["per_day"]] == [1, 0, 2, 1, 0]
    # hours step in absolute time; the repeated local hour is two buckets
    assert starts(local["per_hour"]) == [since + i * HOUR for i in range(96)]
    assert nonzero(local["per_hour"], since, HOUR) == {14: 1, 41: 1, 42: 1, 88: 1}
    assert local["per_hour"][41]["start"] == "2024-11-03T01:00:00-04:00"
    assert local["per_hour"][42]["start"] == "2024-11-03T01:00:00-05:00"
    assert sum(b["count"] for b in local["per_hour"]) == 4

    utc = await stats(client, admin, since=since, until=until)
    assert [b["start"] for b in utc["per_day"]] == [
        f"2024-11-0{day}T00:00:00Z" for day in range(1, 6)
    ]
    assert [b["count"] for b in utc["per_day"]] == [0, 1, 2, 0, 1]
    # viewers of store A only count camera A's two alerts
    mine = await stats(
        client, world.headers["viewer_a"], since=since, until=until, tz="America/New_York"
    )
    assert mine["alerts"] == 2
    assert [b["count"] for b in mine["per_day"]] == [1, 0, 1, 0, 0]


async def test_bad_ranges_and_zones_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    t = datetime(2024, 6, 1, tzinfo=UTC)
    refused: list[tuple[dict[str, Any], str]] = [
        ({"since": t, "until": t}, "invalid_request"),  # empty range
        ({"since": t + HOUR, "until": t}, "invalid_request"),  # reversed range
        ({"since": t - 367 * DAY, "until": t}, "invalid_request"),  # more than 366 days
        ({"since": t - 366 * DAY - timedelta(seconds=1), "until": t}, "invalid_request"),
        ({"since": t, "until": t + DAY, "tz": "Mars/Olympus_Mons"}, "invalid_request"),
        ({"since": t, "until": t + DAY, "tz": "utc+2"}, "invalid_request"),
        ({"since": t, "until": t + DAY, "tz": "x" * 65}, "validation_error"),  # too long
        ({"since": "last week"}, "validation_error"),  # not a time
    ]
    for params, code in refused:
        query = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
        response = await client.get(STATS, headers=admin_headers, params=query)
        assert response.status_code == 422, (params, response.text)
        assert error_of(response)["code"] == code, params
    # exactly 366 days is allowed, with one day bucket per day
    year = await stats(client, admin_headers, since=t - 366 * DAY, until=t)
    assert len(year["per_day"]) == 366
    assert len(year["per_hour"]) == 366 * 24
    # without a range: the last 7 days up to now
    before = datetime.now(UTC)
    default = await stats(client, admin_headers)
    after = datetime.now(UTC)
    assert before <= parse(default["until"]) <= after
    assert parse(default["until"]) - parse(default["since"]) == 7 * DAY
    assert default["alerts"] == 0
    assert default["share_reviewed"] is None


@pytest.mark.parametrize(
    ("zone", "change_day", "hours_that_day"),
    [
        ("Europe/Berlin", date(2024, 10, 27), 25),  # clocks go back: 02:00-03:00 twice
        ("Europe/Berlin", date(2024, 3, 31), 23),  # clocks go forward: 02:00-03:00 skipped
    ],
)
async def test_storage_stats_across_dst_change(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    runtime: Runtime,
    zone: str,
    change_day: date,
    hours_that_day: int,
) -> None:
    store = await client.post("/api/v1/stores", headers=admin_headers, json={"name": "Berlin"})
    camera = await client.post(
        "/api/v1/cameras",
        headers=admin_headers,
        json={
            "store_id": store.json()["id"],
            "name": "Door",
            "source_kind": "usb",
            "source_url": "0",
        },
    )
    assert camera.status_code == 201, camera.text
    camera_id = camera.json()["id"]
    tz = ZoneInfo(zone)
    midnight = datetime.combine(change_day, time(), tzinfo=tz)
    # both in the hour of the change: 02:30 CEST and 02:30 CET in October,
    # 01:30 CET and 03:30 CEST in March
    moments = [
        datetime.combine(change_day, time(0, 30), tzinfo=UTC),
        datetime.combine(change_day, time(1, 30), tzinfo=UTC),
        datetime.combine(change_day, time(12, 0), tzinfo=UTC),
        datetime.combine(change_day + DAY, time(0, 0), tzinfo=tz).astimezone(UTC),  # next day
    ]
    for moment in moments:
        await add_alert(runtime, camera_id, started_at=moment)

    since = datetime.combine(change_day - DAY, time(), tzinfo=tz).astimezone(UTC)
    until = datetime.combine(change_day + 2 * DAY, time(), tzinfo=tz).astimezone(UTC)
    async with runtime.sessionmaker() as session:
        result = await alert_stats(
            session=session, where=AlertFilter(store_ids=None, since=since, until=until), tz=tz
        )

    assert result.timezone == zone
    assert result.alerts == 4
    # one bucket per local day, each starting at local midnight
    assert [b.start.astimezone(tz).date() for b in result.per_day] == [
        change_day - DAY,
        change_day,
        change_day + DAY,
    ]
    assert all(b.start.astimezone(tz).time() == time(0, 0) for b in result.per_day)
    assert [b.start for b in result.per_day][1] == midnight
    assert [b.count for b in result.per_day] == [0, 3, 1]
    # hourly buckets: 24 + (23 or 25) + 24, one absolute hour apart
    assert len(result.per_hour) == 48 + hours_that_day
    assert [b.start.astimezone(UTC) for b in result.per_hour] == [
        since + i * HOUR for i in range(48 + hours_that_day)
    ]
    that_day = [b for b in result.per_hour if b.start.astimezone(tz).date() == change_day]
    assert len(that_day) == hours_that_day
    # each alert lands in its own hour, none is counted twice
    assert sum(b.count for b in result.per_hour) == 4
    counted = {b.start.astimezone(UTC): b.count for b in result.per_hour if b.count}
    assert counted == {
        datetime.combine(change_day, time(0), tzinfo=UTC): 1,
        datetime.combine(change_day, time(1), tzinfo=UTC): 1,
        datetime.combine(change_day, time(12), tzinfo=UTC): 1,
        moments[3]: 1,
    }


async def test_days_default_to_the_stores_time_zone(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world.headers["admin"]
    store_id = world.stores[0]
    moved = await client.patch(
        f"/api/v1/stores/{store_id}", headers=admin, json={"timezone": "Asia/Tokyo"}
    )
    assert moved.status_code == 200
    own = (await client.get("/api/v1/stats", headers=admin, params={"store_id": store_id})).json()
    assert own["timezone"] == "Asia/Tokyo"
    assert all(
        datetime.fromisoformat(b["start"]).utcoffset() == timedelta(hours=9) for b in own["per_day"]
    )
    chain = (await client.get("/api/v1/stats", headers=admin)).json()
    assert chain["timezone"] == "UTC"  # across stores there is no one local day
    other = await client.get(
        "/api/v1/stats", headers=world.headers["viewer_b"], params={"store_id": store_id}
    )
    assert other.status_code == 200  # a store of others is a filter that finds nothing
    assert (other.json()["alerts"], other.json()["timezone"]) == (0, "UTC")
