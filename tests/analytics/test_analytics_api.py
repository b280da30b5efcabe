"""Analytics read back through the API: the camera stage's minutes (made from known tracks)
go through the real writer into SQLite or PostgreSQL and come out as footfall, occupancy,
dwell, queues and heatmaps, scoped by store like the statistics."""

from __future__ import annotations

import io
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from server.analytics.camera import CameraAnalytics, CameraLayout
from server.config import AnalyticsConfig
from server.records.analytics import CameraMinute
from server.runtime import Runtime
from shared.schemas.analytics import DWELL_EDGES_S, HEATMAP_COLS, HEATMAP_ROWS
from tests.analytics.synthetic import HEIGHT, WIDTH, tracks_at, walk
from tests.helpers import World, error_of

ANALYTICS = "/api/v1/analytics"
FPS = 5.0
LINE = {"name": "Door", "a": [0.0, 0.5], "b": [1.0, 0.5]}  # walking down: in
SHELF = {"name": "Shelf", "kind": "shelf", "polygon": [[0, 0], [0.4, 0], [0.4, 0.4], [0, 0.4]]}
TILL = {"name": "Till", "kind": "queue", "polygon": [[0.6, 0.6], [1, 0.6], [1, 1], [0.6, 1]]}

Paths = dict[int, list[tuple[float, tuple[float, float]]]]


async def lay_out(client: httpx.AsyncClient, admin: dict[str, str], camera_id: int) -> CameraLayout:
    response = await client.patch(
        f"/api/v1/cameras/{camera_id}",
        headers=admin,
        json={"lines": [LINE], "zones": [SHELF, TILL]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return CameraLayout.of(body["zones"], body["lines"])


def minutes_of(
    camera_id: int,
    layout: CameraLayout,
    paths: Paths,
    *,
    finish: bool = True,
    continuous: bool = False,
) -> list[CameraMinute]:
    """The minutes the camera's analytics stage gives for these paths; with `finish`, the
    camera stops after them, ending every visit; `continuous`: the camera also sends its
    frames with nobody in them, from the first path's start to the last one's end."""
    frames: dict[float, dict[int, tuple[float, float]]] = defaultdict(dict)
    for track_id, path in paths.items():
        for ts, point in path:
            frames[round(ts, 6)][track_id] = point
    if continuous:
        first, end = min(frames), max(frames)
        for i in range(round((end - first) * FPS) + 1):
            frames.setdefault(round(first + i / FPS, 6), {})
    engine = CameraAnalytics(camera_id, layout, AnalyticsConfig())
    out = [
        m
        for ts in sorted(frames)
        if (m := engine.take(tracks_at(ts, frames[ts]), WIDTH, HEIGHT)) is not None
    ]
    last = engine.finish() if finish else None
    return out + ([last] if last is not None else [])


async def store(runtime: Runtime, minutes: list[CameraMinute]) -> None:
    """Through the real writer stage, as the pipeline hands them over."""
    for minute in minutes:
        runtime.records.publish(minute)
    await runtime.analytics_writer.drain()
    assert runtime.analytics_writer.stats.dropped == 0


async def get(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, **params: Any
) -> dict[str, Any]:
    query = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
    response = await client.get(f"{ANALYTICS}/{path}", headers=headers, params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def stood(
    point: tuple[float, float], t0: float, seconds: float
) -> list[tuple[float, tuple[float, float]]]:
    return [(t0 + i / FPS, point) for i in range(int(seconds * FPS))]


@pytest.fixture
def yesterday_ten() -> float:
    """10:00 UTC yesterday, in Unix seconds."""
    day = datetime.now(UTC).date() - timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC).timestamp()


async def test_footfall_per_hour_day_and_line_and_scoping(
    client: httpx.AsyncClient, runtime: Runtime, world: World, yesterday_ten: float
) -> None:
    admin = world.headers["admin"]
    cam_a, cam_b = world.cameras
    layout_a = await lay_out(client, admin, cam_a)
    layout_b = await lay_out(client, admin, cam_b)
    t = yesterday_ten
    # camera A: three in at 10:00-10:01, one out at 11:30; camera B: two in at 10:05
    paths_a: Paths = {
        1: walk((0.2, 0.1), (0.2, 0.9), t, t + 4, FPS),
        2: walk((0.5, 0.1), (0.5, 0.9), t + 10, t + 14, FPS),
        3: walk((0.8, 0.1), (0.8, 0.9), t + 65, t + 69, FPS),
        4: walk((0.5, 0.9), (0.5, 0.1), t + 5400, t + 5404, FPS),
    }
    paths_b: Paths = {
        1: walk((0.2, 0.1), (0.2, 0.9), t + 300, t + 304, FPS),
        2: walk((0.6, 0.1), (0.6, 0.9), t + 310, t + 314, FPS),
    }
    await store(
        runtime, minutes_of(cam_a, layout_a, paths_a) + minutes_of(cam_b, layout_b, paths_b)
    )
    since = datetime.fromtimestamp(t, UTC) - timedelta(hours=10)
    until = since + timedelta(days=2)  # yesterday and today

    everything = await get(client, admin, "footfall", since=since, until=until, tz="UTC")
    assert (everything["entered"], everything["left"]) == (5, 1)
    hours = {b["start"][11:16]: (b["entered"], b["left"]) for b in everything["by_hour"]}
    assert hours == {"10:00": (5, 0), "11:00": (0, 1)}
    assert [(b["entered"], b["left"]) for b in everything["by_day"]] == [(5, 1), (0, 0)]
    lines = {(b["camera_id"], b["line"]): (b["entered"], b["left"]) for b in everything["by_line"]}
    assert lines == {(cam_a, "Door"): (3, 1), (cam_b, "Door"): (2, 0)}

    # hours in the store's zone: 10:00 UTC is 11:00 in Berlin (winter)
    berlin = await get(client, admin, "footfall", since=since, until=until, tz="Europe/Berlin")
    assert {b["start"][11:16] for b in berlin["by_hour"]} == {"11:00", "12:00"}

    # a supervisor of store B sees store B only, whatever they ask
    mine = await get(client, world.headers["supervisor_b"], "footfall", since=since, until=until)
    assert (mine["entered"], mine["left"]) == (2, 0)
    other = await get(
        client,
        world.headers["supervisor_b"],
        "footfall",
        since=since,
        until=until,
        store_id=world.stores[0],
    )
    assert (other["entered"], other["left"]) == (0, 0)
    one = await get(client, admin, "footfall", since=since, until=until, camera_id=cam_a)
    assert (one["entered"], one["left"]) == (3, 1)


async def test_occupancy_now_dwell_queue_and_heatmap(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    admin = world.headers["admin"]
    cam_a = world.cameras[0]
    layout = await lay_out(client, admin, cam_a)
    last_minute = math.floor(datetime.now(UTC).timestamp() / 60) * 60 - 60  # complete
    t = last_minute - 600  # ten minutes of shop before it
    paths: Paths = {
        1: stood((0.2, 0.2), t, 40),  # 40 s at the shelf
        2: stood((0.3, 0.3), t + 100, 12),  # 12 s at the shelf
        3: stood((0.8, 0.8), t + 200, 90),  # 90 s in the till queue, then gone
        4: stood((0.7, 0.7), last_minute, 60),  # in the queue for the whole last minute
        5: stood((0.8, 0.9), last_minute, 60.2),  # and another, still there now
    }
    await store(runtime, minutes_of(cam_a, layout, paths, finish=False, continuous=True))
    since = datetime.fromtimestamp(t, UTC) - timedelta(minutes=5)

    occupancy = await get(client, admin, "occupancy", since=since, camera_id=cam_a)
    now = {entry["zone"]: entry for entry in occupancy["now"]}
    assert set(now) == {"", "Shelf", "Till"}
    assert (now["Till"]["people"], now["Shelf"]["people"], now[""]["people"]) == (2, 0, 2)
    assert now["Till"]["kind"] == "queue" and now[""]["kind"] is None
    assert datetime.fromisoformat(now[""]["at"]).timestamp() == last_minute
    peaks = {z["zone"]: max(b["max"] for b in z["by_hour"]) for z in occupancy["zones"]}
    assert peaks["Till"] == 2 and peaks["Shelf"] == 1

    dwell = await get(client, admin, "dwell", since=since, camera_id=cam_a)
    assert dwell["edges_s"] == list(DWELL_EDGES_S)
    shelf = next(z for z in dwell["zones"] if z["zone"] == "Shelf")
    assert shelf["visits"] == 2
    assert shelf["mean_s"] == pytest.approx((39.8 + 11.8) / 2, abs=0.1)
    assert shelf["histogram"][DWELL_EDGES_S.index(30)] == 1  # 39.8 s
    assert shelf["histogram"][DWELL_EDGES_S.index(10)] == 1  # 11.8 s
    assert 10 <= shelf["median_s"] <= 45 and 30 <= shelf["p90_s"] <= 45

    queues = await get(client, admin, "queues", since=since, camera_id=cam_a)
    (till,) = queues["queues"]
    assert (till["zone"], till["length_now"]) == ("Till", 2)
    assert till["wait_now_s"] == pytest.approx(89.8, abs=0.1)  # the one who left it lately
    assert max(b["max_length"] for b in till["by_hour"]) == 2

    heat = await get(client, admin, "heatmap", since=since, camera_id=cam_a)
    cells = np.asarray(heat["cells"])
    assert cells.shape == (HEATMAP_ROWS, HEATMAP_COLS) == (heat["rows"], heat["cols"])
    assert heat["person_seconds"] == pytest.approx(40 + 12 + 90 + 60 + 60, abs=1)
    assert cells[int(0.2 * HEATMAP_ROWS), int(0.2 * HEATMAP_COLS)] == pytest.approx(40, abs=1)
    assert heat["peak"] == pytest.approx(90, abs=1)

    picture = await client.get(
        f"{ANALYTICS}/heatmap.jpg", headers=admin, params={"camera_id": cam_a, "width": 320}
    )
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    image = np.asarray(Image.open(io.BytesIO(picture.content)).convert("RGB")).astype(int)
    assert image.shape[1] == 320
    hot = image[int(0.8 * image.shape[0]), int(0.8 * 320)]  # the queue's corner: red-ish
    cold = image[int(0.1 * image.shape[0]), int(0.9 * 320)]  # nobody: the grey background
    assert hot[0] > hot[2] + 60 and abs(cold[0] - cold[2]) < 10


async def test_bad_requests_and_other_stores_cameras(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world.headers["admin"]
    now = datetime.now(UTC)
    backwards = await client.get(
        f"{ANALYTICS}/footfall",
        headers=admin,
        params={"since": now.isoformat(), "until": (now - timedelta(hours=1)).isoformat()},
    )
    assert backwards.status_code == 422 and error_of(backwards)["code"] == "invalid_request"
    ancient = await client.get(
        f"{ANALYTICS}/heatmap",
        headers=admin,
        params={
            "camera_id": world.cameras[0],
            "since": "0001-01-01T00:00:00Z",
            "until": "0001-01-02T00:00:00Z",
        },
    )
    assert ancient.status_code == 422 and "2000" in error_of(ancient)["message"]
    zone = await client.get(f"{ANALYTICS}/dwell", headers=admin, params={"tz": "Mars/Base"})
    assert zone.status_code == 422
    no_camera = await client.get(f"{ANALYTICS}/heatmap", headers=admin)
    assert no_camera.status_code == 422
    elsewhere = await client.get(
        f"{ANALYTICS}/heatmap",
        headers=world.headers["supervisor_b"],
        params={"camera_id": world.cameras[0]},
    )
    assert elsewhere.status_code == 404
    assert (await client.get(f"{ANALYTICS}/queues")).status_code == 401
    # a store without analytics yet: empty, not an error
    empty = await get(client, world.headers["viewer_a"], "queues")
    assert empty["queues"] == []


async def test_minutes_then_hours_older_than_their_keep_days_are_deleted(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    """A crossing a year and more ago is gone; one ten days ago keeps its hour (the charts)
    but not its minute; yesterday's keeps both."""
    admin = world.headers["admin"]
    cam_a = world.cameras[0]
    layout = await lay_out(client, admin, cam_a)
    now = datetime.now(UTC)
    keep = runtime.settings.analytics
    assert keep.keep_minutes_days < 10 < keep.keep_days
    ages = [timedelta(days=keep.keep_days + 1), timedelta(days=10), timedelta(days=1)]
    crossing = walk((0.5, 0.1), (0.5, 0.9), 0, 4, FPS)  # the whole view and the line only
    paths: Paths = {
        i: [(math.floor((now - age).timestamp() / 3600) * 3600.0 + ts, p) for ts, p in crossing]
        for i, age in enumerate(ages)
    }
    await store(runtime, minutes_of(cam_a, layout, paths))
    windows = [(now - age - timedelta(days=1), now - age + timedelta(days=1)) for age in ages]

    async def entered() -> list[int]:
        counts = []
        for start, end in windows:
            body = await get(client, admin, "footfall", since=start, until=end)
            counts.append(body["entered"])
        return counts

    assert await entered() == [1, 1, 1]
    removed = await runtime.analytics_writer.prune(now)
    # the oldest: its minute's and hour's view and line rows and its heatmap hour (5); the
    # ten-day-old one: its minute's view and line rows (2)
    assert removed == 7
    assert await entered() == [0, 1, 1]
    assert await runtime.analytics_writer.prune(now) == 0
