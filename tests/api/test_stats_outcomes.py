"""What a manager reads off the Stats screen: alerts per day by outcome, per hour of the
day in the store's zone, per camera with its shares and the hint for a noisy camera, and
the median time to review, for real alerts of known outcomes and times."""

import statistics
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from server.runtime import Runtime
from tests.api.test_stats import stats
from tests.helpers import World, add_alert

DAY = timedelta(days=1)
TOKYO = ZoneInfo("Asia/Tokyo")  # no daylight saving time: local hours are plain

# camera, local day (from day0), local time, review: an outcome, "acknowledged" or None (new)
PLAN: list[tuple[str, int, time, str | None]] = [
    ("a", 0, time(9, 0), "false_alarm"),
    ("a", 0, time(9, 30), "false_alarm"),
    ("a", 1, time(9, 15), "false_alarm"),
    ("a", 1, time(14, 0), "confirmed_theft"),
    ("a", 2, time(14, 5), "confirmed_theft"),
    ("a", 2, time(23, 59), "deterred"),
    ("b", 0, time(0, 0), "confirmed_theft"),
    ("b", 0, time(14, 10), "confirmed_theft"),
    ("b", 1, time(9, 45), "false_alarm"),
    ("b", 1, time(20, 0), "false_alarm"),
    ("b", 2, time(20, 30), "unclear"),
    ("b", 2, time(21, 0), None),
    ("b", 2, time(22, 0), "acknowledged"),
    ("c", 0, time(3, 0), "false_alarm"),
    ("c", 1, time(3, 0), "false_alarm"),
    ("c", 2, time(3, 0), "false_alarm"),
    ("c", 2, time(3, 30), "false_alarm"),
]


def outcomes(ct: int = 0, det: int = 0, fa: int = 0, unc: int = 0, nr: int = 0) -> dict[str, int]:
    return {
        "confirmed_theft": ct,
        "deterred": det,
        "false_alarm": fa,
        "unclear": unc,
        "not_reviewed": nr,
    }


async def add_camera(client: httpx.AsyncClient, admin: dict[str, str], store_id: int) -> int:
    response = await client.post(
        "/api/v1/cameras",
        headers=admin,
        json={"store_id": store_id, "name": "Back door", "source_kind": "usb", "source_url": "0"},
    )
    assert response.status_code == 201, response.text
    camera_id: int = response.json()["id"]
    return camera_id


async def review(
    client: httpx.AsyncClient, admin: dict[str, str], alert_id: int, outcome: str
) -> datetime | None:
    """Review as the app does; the review's time, or None when only acknowledged."""
    body = {"status": "acknowledged"} if outcome == "acknowledged" else {"outcome": outcome}
    response = await client.patch(f"/api/v1/alerts/{alert_id}", headers=admin, json=body)
    assert response.status_code == 200, response.text
    reviewed_at = response.json()["reviewed_at"]
    return None if reviewed_at is None else datetime.fromisoformat(reviewed_at)


async def test_outcomes_per_day_hours_of_day_cameras_and_review_time(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    admin = world.headers["admin"]
    cam_a, cam_b = world.cameras
    cam_c = await add_camera(client, admin, world.stores[0])
    cameras = {"a": cam_a, "b": cam_b, "c": cam_c}
    day0 = datetime.combine((datetime.now(TOKYO) - 3 * DAY).date(), time(), tzinfo=TOKYO)
    review_times: list[float] = []
    for camera, day, at, outcome in PLAN:
        started = datetime.combine(day0.date() + day * DAY, at, tzinfo=TOKYO)
        alert = await add_alert(runtime, cameras[camera], started_at=started)
        if outcome is not None and (reviewed := await review(client, admin, alert.id, outcome)):
            review_times.append((reviewed - started).total_seconds())
    since, until = day0, day0 + 3 * DAY

    result = await stats(client, admin, since=since, until=until, tz="Asia/Tokyo")

    assert (result["alerts"], result["reviewed"], result["confirmed"]) == (17, 15, 4)
    assert result["false_alarms"] == 9
    assert result["share_confirmed"] == pytest.approx(4 / 15)
    assert result["share_false_alarm"] == pytest.approx(9 / 15)
    assert result["outcomes"] == outcomes(ct=4, det=1, fa=9, unc=1, nr=2)
    assert len(review_times) == 15
    assert result["median_time_to_review_s"] == pytest.approx(
        statistics.median(review_times), abs=1e-3
    )
    # days start at Tokyo's midnight, each split by outcome
    assert [datetime.fromisoformat(d["start"]) for d in result["per_day"]] == [
        day0,
        day0 + DAY,
        day0 + 2 * DAY,
    ]
    assert [(d["count"], d["outcomes"]) for d in result["per_day"]] == [
        (5, outcomes(ct=2, fa=3)),
        (5, outcomes(ct=1, fa=4)),
        (7, outcomes(ct=1, det=1, fa=2, unc=1, nr=2)),
    ]
    # the hour of the day on Tokyo's clock, all 24 of them
    hours = {9: 4, 14: 3, 23: 1, 0: 1, 20: 2, 21: 1, 22: 1, 3: 4}
    assert result["per_hour_of_day"] == [
        {"hour": hour, "count": hours.get(hour, 0)} for hour in range(24)
    ]
    # per camera: names, shares of the reviewed ones, and the hint for the noisy one
    assert result["per_camera"] == [
        {
            "camera_id": cam_a,
            "store_id": world.stores[0],
            "name": "Aisle 1",
            "alerts": 6,
            "reviewed": 6,
            "confirmed": 2,
            "false_alarms": 3,
            "share_confirmed": pytest.approx(1 / 3),
            "share_false_alarm": pytest.approx(0.5),  # half of 6 reviewed: noisy
            "hint": "raise_threshold",
        },
        {
            "camera_id": cam_b,
            "store_id": world.stores[1],
            "name": "Aisle 2",
            "alerts": 7,
            "reviewed": 5,
            "confirmed": 2,
            "false_alarms": 2,
            "share_confirmed": pytest.approx(0.4),
            "share_false_alarm": pytest.approx(0.4),
            "hint": None,
        },
        {
            "camera_id": cam_c,
            "store_id": world.stores[0],
            "name": "Back door",
            "alerts": 4,
            "reviewed": 4,
            "confirmed": 0,
            "false_alarms": 4,
            "share_confirmed": 0.0,
            "share_false_alarm": 1.0,
            "hint": None,  # all false alarms, but 4 reviews are too few to judge
        },
    ]
    # the fields older apps read are still there and agree
    assert [d["count"] for d in result["per_day"]] == [5, 5, 7]
    assert sum(h["count"] for h in result["per_hour"]) == 17

    # on UTC's clock the same alerts fall 9 hours earlier in the day
    utc = await stats(client, admin, since=since, until=until, tz="UTC")
    assert {h["hour"]: h["count"] for h in utc["per_hour_of_day"] if h["count"]} == {
        (hour - 9) % 24: count for hour, count in hours.items()
    }

    # one day only: the numbers follow the range, and two reviews make no noisy camera
    day1 = await stats(client, admin, since=day0 + DAY, until=day0 + 2 * DAY, tz="Asia/Tokyo")
    assert (day1["alerts"], day1["false_alarms"], day1["confirmed"]) == (5, 4, 1)
    assert day1["outcomes"] == outcomes(ct=1, fa=4)
    assert [(c["name"], c["alerts"], c["hint"]) for c in day1["per_camera"]] == [
        ("Aisle 1", 2, None),
        ("Aisle 2", 2, None),
        ("Back door", 1, None),
    ]
    assert len(day1["per_day"]) == 1

    # a viewer of store B sees store B's camera only
    mine = await stats(client, world.headers["viewer_b"], since=since, until=until)
    assert [c["name"] for c in mine["per_camera"]] == ["Aisle 2"]
    assert mine["outcomes"] == outcomes(ct=2, fa=2, unc=1, nr=2)
    assert mine["share_false_alarm"] == pytest.approx(0.4)


async def test_no_alerts_gives_zeros_and_no_shares(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    since = datetime(2024, 6, 1, tzinfo=UTC)
    empty = await stats(client, admin_headers, since=since, until=since + 2 * DAY)
    assert (empty["alerts"], empty["false_alarms"]) == (0, 0)
    assert (empty["share_confirmed"], empty["share_false_alarm"]) == (None, None)
    assert empty["outcomes"] == outcomes()
    assert [d["outcomes"] for d in empty["per_day"]] == [outcomes(), outcomes()]
    assert empty["per_hour_of_day"] == [{"hour": hour, "count": 0} for hour in range(24)]
    assert empty["per_camera"] == []


async def test_without_tz_the_zone_all_my_stores_share(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world.headers["admin"]
    store_a, store_b = world.stores
    for store_id, zone in ((store_a, "Asia/Tokyo"), (store_b, "Asia/Tokyo")):
        moved = await client.patch(
            f"/api/v1/stores/{store_id}", headers=admin, json={"timezone": zone}
        )
        assert moved.status_code == 200, moved.text
    assert (await stats(client, admin))["timezone"] == "Asia/Tokyo"  # one zone for all
    moved = await client.patch(
        f"/api/v1/stores/{store_b}", headers=admin, json={"timezone": "Europe/Madrid"}
    )
    assert moved.status_code == 200, moved.text
    assert (await stats(client, admin))["timezone"] == "UTC"  # zones differ: no local day
    assert (await stats(client, world.headers["viewer_a"]))["timezone"] == "Asia/Tokyo"
    assert (await stats(client, world.headers["viewer_b"]))["timezone"] == "Europe/Madrid"
    assert (await stats(client, admin, tz="America/Lima"))["timezone"] == "America/Lima"
