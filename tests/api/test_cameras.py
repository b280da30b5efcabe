"""Cameras and DVRs: CRUD, masked credentials, overrides, enabling, deletion rules."""

from datetime import UTC, datetime
from typing import Any

import httpx

from server.runtime import Runtime
from server.storage.models import Camera
from tests.helpers import World, add_alert, error_of

CAMERAS = "/api/v1/cameras"
DVRS = "/api/v1/dvrs"
SECRET = "S3cr3t-Pa55word"
TIMES = ("status_since", "created_at", "updated_at")
ZONES = [
    {"name": "shelf-1", "kind": "shelf", "polygon": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.6]]},
    {"name": "exit", "kind": "exit", "polygon": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]},
]


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


def without_times(camera: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in camera.items() if key not in TIMES}


async def get_json(client: httpx.AsyncClient, headers: dict[str, str], path: str) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def create_camera(
    client: httpx.AsyncClient, admin: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await client.post(CAMERAS, headers=admin, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def audit_text(client: httpx.AsyncClient, admin: dict[str, str]) -> str:
    response = await client.get("/api/v1/audit", headers=admin, params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.text


async def test_create_read_list_update(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    admin = world.headers["admin"]
    store = world.stores[0]
    before = datetime.now(UTC)
    created = await create_camera(
        client,
        admin,
        store_id=store,
        name="Entrance",
        source_kind="rtsp",
        source_url=f"rtsp://admin:{SECRET}@10.0.0.9:554/Streaming/Channels/101",
        substream_url=f"rtsp://admin:{SECRET}@10.0.0.9:554/Streaming/Channels/102",
        location="front door",
        zones=ZONES,
        threshold=0.7,
        alert_budget_per_day=2.5,
        analysis_fps=4.0,
        analysis_width=960,
    )
    after = datetime.now(UTC)
    assert without_times(created) == {
        "id": created["id"],
        "store_id": store,
        "name": "Entrance",
        "source_kind": "rtsp",
        "source_url": "rtsp://admin:***@10.0.0.9:554/Streaming/Channels/101",
        "substream_url": "rtsp://admin:***@10.0.0.9:554/Streaming/Channels/102",
        "has_credentials": True,
        "dvr_id": None,
        "channel": None,
        "location": "front door",
        "zones": ZONES,
        "lines": [],
        "enabled": True,
        "threshold": 0.7,
        "alert_budget_per_day": 2.5,
        # its own threshold wins over its budget; no scored video yet: no alerts per day
        "threshold_source": "manual",
        "effective_threshold": 0.7,
        "expected_alerts_per_day": None,
        "aimed_alerts_per_day": None,
        "review_factor": 1.0,
        "scored_days": 0.0,
        "analysis_fps": 4.0,
        "analysis_width": 960,
        "status": "offline",
        "last_error": None,
        "open_alerts": 0,
    }
    for key in TIMES:
        assert before <= parse(created[key]) <= after, key
    camera_id = created["id"]
    assert await get_json(client, admin, f"{CAMERAS}/{camera_id}") == created
    # a viewer of the store reads it; a viewer of another store does not
    assert await get_json(client, world.headers["viewer_a"], f"{CAMERAS}/{camera_id}") == created
    hidden = await client.get(f"{CAMERAS}/{camera_id}", headers=world.headers["viewer_b"])
    assert hidden.status_code == 404
    assert error_of(hidden)["code"] == "not_found"

    listing = await get_json(client, admin, f"{CAMERAS}?store_id={store}")
    assert [c["name"] for c in listing["data"]] == ["Aisle 1", "Entrance"]
    assert listing["count"] == 2
    assert [c["name"] for c in (await get_json(client, admin, CAMERAS))["data"]] == [
        "Aisle 1",
        "Entrance",
        "Aisle 2",
    ]
    mine = await get_json(client, world.headers["viewer_b"], CAMERAS)
    assert [c["id"] for c in mine["data"]] == [world.cameras[1]]

    patched = await client.patch(
        f"{CAMERAS}/{camera_id}",
        headers=admin,
        json={"name": "Main entrance", "location": "", "threshold": None},
    )
    assert patched.status_code == 200, patched.text
    facts = runtime.thresholds.facts
    assert facts is not None
    expected = without_times(created) | {
        "name": "Main entrance",
        "location": "",
        "threshold": None,
        # its budget now, learning from the camera's scores: the model's threshold meanwhile
        "threshold_source": "learning",
        "effective_threshold": round(facts.threshold, 4),
        "aimed_alerts_per_day": 2.5,
    }
    assert without_times(patched.json()) == expected
    assert parse(patched.json()["updated_at"]) >= parse(created["updated_at"])
    assert patched.json()["created_at"] == created["created_at"]
    assert await get_json(client, admin, f"{CAMERAS}/{camera_id}") == patched.json()


async def test_only_admins_change_cameras(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    camera_id = world.cameras[0]
    before = await get_json(client, admin, f"{CAMERAS}/{camera_id}")
    body = {
        "store_id": world.stores[0],
        "name": "Sneaky",
        "source_kind": "usb",
        "source_url": "0",
    }
    for who in ("supervisor_a", "viewer_a"):
        headers = world.headers[who]
        attempts = [
            await client.post(CAMERAS, headers=headers, json=body),
            await client.patch(f"{CAMERAS}/{camera_id}", headers=headers, json={"name": "X"}),
            await client.post(f"{CAMERAS}/{camera_id}/disable", headers=headers),
            await client.delete(f"{CAMERAS}/{camera_id}", headers=headers),
            await client.post(
                DVRS,
                headers=headers,
                json={
                    "store_id": world.stores[0],
                    "name": "NVR",
                    "url_template": "rtsp://10.0.0.1/{channel}",
                    "channels": 2,
                },
            ),
        ]
        for response in attempts:
            assert response.status_code == 403, response.text
            assert error_of(response)["code"] == "forbidden"
    assert await get_json(client, admin, f"{CAMERAS}/{camera_id}") == before
    assert (await get_json(client, admin, CAMERAS))["count"] == 2
    assert (await get_json(client, admin, DVRS))["count"] == 0


async def test_credentials_are_masked_everywhere(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    store = world.stores[0]
    cases = [
        # password in the user info
        (
            "rtsp",
            f"rtsp://admin:{SECRET}@10.0.0.9/live",
            "rtsp://admin:***@10.0.0.9/live",
            True,
        ),
        # a password containing '@' and ':' is masked whole
        (
            "rtsp",
            f"rtsps://op:{SECRET}@x:y@cam.local:322/s1",
            "rtsps://op:***@cam.local:322/s1",
            True,
        ),
        # secrets in query parameters, other parameters kept
        (
            "http",
            f"http://10.0.0.9/video.cgi?user=admin&password={SECRET}&res=hd",
            "http://10.0.0.9/video.cgi?user=admin&password=***&res=hd",
            True,
        ),
        (
            "http",
            f"https://cam.example/mjpeg?token={SECRET}",
            "https://cam.example/mjpeg?token=***",
            True,
        ),
        # no credentials: unchanged
        ("rtsp", "rtsp://10.0.0.9/public", "rtsp://10.0.0.9/public", False),
        ("rtsp", "rtsp://viewer@10.0.0.9/live", "rtsp://viewer@10.0.0.9/live", False),
        ("usb", "/dev/video0", "/dev/video0", False),
    ]
    ids = []
    for index, (kind, url, masked, has_credentials) in enumerate(cases):
        created = await create_camera(
            client,
            admin,
            store_id=store,
            name=f"Cam {index}",
            source_kind=kind,
            source_url=url,
        )
        assert created["source_url"] == masked, url
        assert created["has_credentials"] is has_credentials, url
        ids.append(created["id"])
        shown = await get_json(client, admin, f"{CAMERAS}/{created['id']}")
        assert shown["source_url"] == masked

    # new credentials by PATCH, main stream and substream
    patched = await client.patch(
        f"{CAMERAS}/{ids[4]}",
        headers=admin,
        json={
            "source_url": f"rtsp://root:{SECRET}-new@10.0.0.9/public",
            "substream_url": f"rtsp://10.0.0.9/sub?pwd={SECRET}-sub",
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["source_url"] == "rtsp://root:***@10.0.0.9/public"
    assert patched.json()["substream_url"] == "rtsp://10.0.0.9/sub?pwd=***"
    assert patched.json()["has_credentials"] is True
    # refused input does not echo the secret back
    refused = await client.post(
        CAMERAS,
        headers=admin,
        json={
            "store_id": store,
            "name": "Wrong",
            "source_kind": "rtsp",
            "source_url": f"http://admin:{SECRET}@10.0.0.9/",
        },
    )
    assert refused.status_code == 422
    assert SECRET not in refused.text
    wrong_patch = await client.patch(
        f"{CAMERAS}/{ids[0]}", headers=admin, json={"source_url": f"ftp://u:{SECRET}@h/"}
    )
    assert wrong_patch.status_code == 422
    assert error_of(wrong_patch)["code"] == "invalid_request"
    assert SECRET not in wrong_patch.text

    for who in ("admin", "viewer_a", "supervisor_a"):
        listing = await client.get(CAMERAS, headers=world.headers[who])
        assert listing.status_code == 200
        assert SECRET not in listing.text
    log = await audit_text(client, admin)
    assert SECRET not in log
    assert "admin:***@10.0.0.9/live" in log  # the masked form is what gets recorded


async def test_duplicate_names(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    body = {"name": "Aisle 1", "source_kind": "rtsp", "source_url": "rtsp://10.0.0.20/s"}
    before = await get_json(client, admin, CAMERAS)
    same_store = await client.post(
        CAMERAS, headers=admin, json=body | {"store_id": world.stores[0]}
    )
    assert same_store.status_code == 409, same_store.text
    assert error_of(same_store)["code"] == "conflict"
    assert await get_json(client, admin, CAMERAS) == before
    # "Aisle 1" lives in store 0 only, so store 1 may have one too
    other_store = await create_camera(client, admin, **body | {"store_id": world.stores[1]})
    assert other_store["name"] == "Aisle 1"
    assert other_store["store_id"] == world.stores[1]
    # renaming into a taken name is refused as well
    before = await get_json(client, admin, CAMERAS)
    renamed = await client.patch(
        f"{CAMERAS}/{other_store['id']}", headers=admin, json={"name": "Aisle 2"}
    )
    assert renamed.status_code == 409, renamed.text
    assert error_of(renamed)["code"] == "conflict"
    assert await get_json(client, admin, CAMERAS) == before


async def test_unknown_store_and_camera(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        CAMERAS,
        headers=admin_headers,
        json={"store_id": 4242, "name": "Ghost", "source_kind": "usb", "source_url": "0"},
    )
    assert response.status_code == 404, response.text
    assert error_of(response)["code"] == "not_found"
    dvr = await client.post(
        DVRS,
        headers=admin_headers,
        json={"store_id": 4242, "name": "NVR", "url_template": "rtsp://h/{channel}", "channels": 2},
    )
    assert dvr.status_code == 404
    assert error_of(dvr)["code"] == "not_found"
    assert (await get_json(client, admin_headers, CAMERAS))["count"] == 0
    assert (await get_json(client, admin_headers, DVRS))["count"] == 0
    for method, path in (
        ("GET", f"{CAMERAS}/4242"),
        ("PATCH", f"{CAMERAS}/4242"),
        ("POST", f"{CAMERAS}/4242/enable"),
        ("DELETE", f"{CAMERAS}/4242"),
        ("GET", f"{DVRS}/4242"),
        ("DELETE", f"{DVRS}/4242"),
    ):
        body = {"name": "x"} if method == "PATCH" else None
        missing = await client.request(method, path, headers=admin_headers, json=body)
        assert missing.status_code == 404, (method, path)
        assert error_of(missing)["code"] == "not_found"


async def test_zones_and_overrides(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    path = f"{CAMERAS}/{world.cameras[0]}"
    zoned = await client.patch(path, headers=admin, json={"zones": ZONES})
    assert zoned.status_code == 200, zoned.text
    assert zoned.json()["zones"] == ZONES
    tuned = await client.patch(
        path,
        headers=admin,
        json={"threshold": 0.65, "analysis_fps": 2.5, "alert_budget_per_day": 0.5},
    )
    assert tuned.status_code == 200
    assert (tuned.json()["threshold"], tuned.json()["analysis_fps"]) == (0.65, 2.5)
    assert tuned.json()["alert_budget_per_day"] == 0.5
    assert tuned.json()["zones"] == ZONES  # absent fields stay
    # counting lines and the analytics' zone kinds: an admin draws them per camera
    lines = [{"name": "Door", "a": [0.1, 0.6], "b": [0.9, 0.6]}]
    queue = {"name": "Till queue", "kind": "queue", "polygon": [[0, 0], [0.5, 0], [0.5, 0.5]]}
    counted = await client.patch(
        path, headers=admin, json={"lines": lines, "zones": [*ZONES, queue]}
    )
    assert counted.status_code == 200, counted.text
    assert counted.json()["lines"] == lines
    assert counted.json()["zones"][-1]["kind"] == "queue"
    assert (await get_json(client, admin, path))["lines"] == lines
    for kind in ("entrance", "staff"):
        kinded = [{"name": kind, "kind": kind, "polygon": [[0, 0], [1, 0], [1, 1]]}]
        assert (await client.patch(path, headers=admin, json={"zones": kinded})).status_code == 200
    supervisor = await client.patch(path, headers=world.headers["supervisor_a"], json={"lines": []})
    assert supervisor.status_code == 403
    await client.patch(path, headers=admin, json={"zones": ZONES})
    # bounds are inclusive
    edge = await client.patch(path, headers=admin, json={"threshold": 1.0, "analysis_fps": 30.0})
    assert edge.status_code == 200
    edge = await client.patch(path, headers=admin, json={"threshold": 0.0, "analysis_fps": 0.5})
    assert edge.status_code == 200
    for width in (256, 1280):
        edge = await client.patch(path, headers=admin, json={"analysis_width": width})
        assert edge.status_code == 200 and edge.json()["analysis_width"] == width
    before = await get_json(client, admin, path)

    refused: list[tuple[dict[str, Any], str]] = [
        ({"threshold": -0.01}, "validation_error"),  # below 0
        ({"threshold": 1.01}, "validation_error"),  # above 1
        ({"analysis_fps": 0.4}, "validation_error"),  # below 0.5 fps
        ({"analysis_fps": 30.5}, "validation_error"),  # above 30 fps
        ({"analysis_width": 224}, "validation_error"),  # below 256 px
        ({"analysis_width": 1312}, "validation_error"),  # above 1280 px
        ({"analysis_width": 650}, "validation_error"),  # not a multiple of 32
        ({"threshold": 0.5, "analysis_fps": 0}, "validation_error"),  # one bad value spoils all
        ({"alert_budget_per_day": 0}, "validation_error"),  # a budget is more than nothing
        ({"alert_budget_per_day": 1001}, "validation_error"),
        # zone point outside the image, too few points, an unknown kind, an empty name
        ({"zones": [{"name": "z", "polygon": [[0, 0], [1.2, 0], [1, 1]]}]}, "validation_error"),
        ({"zones": [{"name": "z", "polygon": [[0, 0], [1, 0]]}]}, "validation_error"),
        (
            {"zones": [{"name": "z", "kind": "roof", "polygon": [[0, 0], [1, 0], [1, 1]]}]},
            "validation_error",
        ),
        ({"zones": [{"name": "", "polygon": [[0, 0], [1, 0], [1, 1]]}]}, "validation_error"),
        # a line end outside the picture, a line too short to cross, a nameless line
        ({"lines": [{"name": "l", "a": [0, 0], "b": [1.1, 0]}]}, "validation_error"),
        ({"lines": [{"name": "l", "a": [0.5, 0.5], "b": [0.505, 0.5]}]}, "validation_error"),
        ({"lines": [{"name": "", "a": [0, 0], "b": [1, 1]}]}, "validation_error"),
        ({"colour": "red"}, "validation_error"),  # unknown field
        ({"source_kind": "usb"}, "invalid_request"),  # the stored rtsp URL is no usb device
    ]
    for body, code in refused:
        response = await client.patch(path, headers=admin, json=body)
        assert response.status_code == 422, (body, response.text)
        assert error_of(response)["code"] == code, body
        assert await get_json(client, admin, path) == before, body

    cleared = await client.patch(
        path,
        headers=admin,
        json={"zones": [], "threshold": None, "analysis_fps": None, "alert_budget_per_day": None},
    )
    assert cleared.status_code == 200
    assert (
        cleared.json()["zones"],
        cleared.json()["threshold"],
        cleared.json()["analysis_fps"],
        cleared.json()["alert_budget_per_day"],
    ) == ([], None, None, None)


async def test_enable_and_disable(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    path = f"{CAMERAS}/{world.cameras[0]}"
    initial = await get_json(client, admin, path)
    assert (initial["enabled"], initial["status"]) == (True, "offline")

    before = datetime.now(UTC)
    disabled = await client.post(f"{path}/disable", headers=admin)
    after = datetime.now(UTC)
    assert disabled.status_code == 200, disabled.text
    assert (disabled.json()["enabled"], disabled.json()["status"]) == (False, "disabled")
    assert before <= parse(disabled.json()["status_since"]) <= after
    assert disabled.json()["last_error"] is None
    assert await get_json(client, world.headers["viewer_a"], path) == disabled.json()

    # disabling again changes nothing about the state or since when
    again = await client.post(f"{path}/disable", headers=admin)
    assert again.status_code == 200
    assert again.json()["status"] == "disabled"
    assert again.json()["status_since"] == disabled.json()["status_since"]

    before = datetime.now(UTC)
    enabled = await client.post(f"{path}/enable", headers=admin)
    after = datetime.now(UTC)
    assert (enabled.json()["enabled"], enabled.json()["status"]) == (True, "offline")
    assert before <= parse(enabled.json()["status_since"]) <= after

    # PATCH enabled works the same way
    patched = await client.patch(path, headers=admin, json={"enabled": False})
    assert (patched.json()["enabled"], patched.json()["status"]) == (False, "disabled")
    assert parse(patched.json()["status_since"]) >= parse(enabled.json()["status_since"])
    # a camera created disabled starts disabled
    created = await create_camera(
        client,
        admin,
        store_id=world.stores[0],
        name="Spare",
        source_kind="usb",
        source_url="1",
        enabled=False,
    )
    assert (created["enabled"], created["status"]) == (False, "disabled")

    log = await client.get(
        "/api/v1/audit", headers=admin, params={"action": "camera.update", "limit": 10}
    )
    rows = log.json()["data"]
    assert [row["details"] for row in reversed(rows)] == [
        {"enabled": False},
        {"enabled": False},
        {"enabled": True},
        {"enabled": False},
    ]
    assert {(row["username"], row["target_id"]) for row in rows} == {
        ("admin", str(world.cameras[0]))
    }


async def test_delete_rules(client: httpx.AsyncClient, runtime: Runtime, world: World) -> None:
    admin = world.headers["admin"]
    with_alert = world.cameras[0]
    await add_alert(runtime, with_alert, started_at=datetime(2024, 5, 1, tzinfo=UTC))
    before = await get_json(client, admin, f"{CAMERAS}/{with_alert}")
    refused = await client.delete(f"{CAMERAS}/{with_alert}", headers=admin)
    assert refused.status_code == 409, refused.text
    assert error_of(refused)["code"] == "conflict"
    assert await get_json(client, admin, f"{CAMERAS}/{with_alert}") == before

    empty = world.cameras[1]
    deleted = await client.delete(f"{CAMERAS}/{empty}", headers=admin)
    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = await client.get(f"{CAMERAS}/{empty}", headers=admin)
    assert gone.status_code == 404
    assert error_of(gone)["code"] == "not_found"
    assert [c["id"] for c in (await get_json(client, admin, CAMERAS))["data"]] == [with_alert]
    again = await client.delete(f"{CAMERAS}/{empty}", headers=admin)
    assert again.status_code == 404

    log = await client.get("/api/v1/audit", headers=admin, params={"action": "camera.delete"})
    assert [(r["username"], r["target_id"], r["details"]) for r in log.json()["data"]] == [
        ("admin", str(empty), {"name": "Aisle 2"})
    ]


DVR_MAIN = f"rtsp://admin:{SECRET}@10.0.0.50:554/cam/ch{{channel}}/main"
DVR_SUB = f"rtsp://admin:{SECRET}@10.0.0.50:554/cam/ch{{channel}}/sub"


async def test_dvr_creates_a_camera_per_channel(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    store = world.stores[0]
    before = datetime.now(UTC)
    response = await client.post(
        DVRS,
        headers=admin,
        json={
            "store_id": store,
            "name": "Back office NVR",
            "url_template": DVR_MAIN,
            "substream_url_template": DVR_SUB,
            "channels": 4,
            "location": "stock room",
        },
    )
    after = datetime.now(UTC)
    assert response.status_code == 201, response.text
    dvr = response.json()
    assert before <= parse(dvr["created_at"]) <= after
    assert {k: v for k, v in dvr.items() if k != "created_at"} == {
        "id": dvr["id"],
        "store_id": store,
        "name": "Back office NVR",
        "source_kind": "rtsp",
        "url_template": "rtsp://admin:***@10.0.0.50:554/cam/ch{channel}/main",
        "channels": 4,
        "first_channel": 1,
        "camera_ids": dvr["camera_ids"],
    }
    assert len(dvr["camera_ids"]) == 4
    assert await get_json(client, admin, f"{DVRS}/{dvr['id']}") == dvr
    assert await get_json(client, world.headers["viewer_a"], f"{DVRS}/{dvr['id']}") == dvr
    hidden = await client.get(f"{DVRS}/{dvr['id']}", headers=world.headers["viewer_b"])
    assert hidden.status_code == 404
    assert (await get_json(client, world.headers["viewer_b"], DVRS))["count"] == 0
    assert (await get_json(client, admin, DVRS))["data"] == [dvr]

    cameras = [await get_json(client, admin, f"{CAMERAS}/{cid}") for cid in dvr["camera_ids"]]
    assert [
        (c["name"], c["channel"], c["dvr_id"], c["source_url"], c["substream_url"], c["location"])
        for c in sorted(cameras, key=lambda c: c["channel"])
    ] == [
        (
            f"Back office NVR ch{n}",
            n,
            dvr["id"],
            f"rtsp://admin:***@10.0.0.50:554/cam/ch{n}/main",
            f"rtsp://admin:***@10.0.0.50:554/cam/ch{n}/sub",
            "stock room",
        )
        for n in range(1, 5)
    ]
    assert all(c["has_credentials"] and c["status"] == "offline" for c in cameras)
    assert (await get_json(client, admin, f"{CAMERAS}?store_id={store}"))["count"] == 5
    assert SECRET not in (await client.get(DVRS, headers=admin)).text
    assert SECRET not in await audit_text(client, admin)

    deleted = await client.delete(f"{DVRS}/{dvr['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(f"{DVRS}/{dvr['id']}", headers=admin)).status_code == 404
    for camera_id in dvr["camera_ids"]:
        assert (await client.get(f"{CAMERAS}/{camera_id}", headers=admin)).status_code == 404
    remaining = await get_json(client, admin, f"{CAMERAS}?store_id={store}")
    assert [c["id"] for c in remaining["data"]] == [world.cameras[0]]
    log = await client.get("/api/v1/audit", headers=admin, params={"action": "dvr.delete"})
    assert [(r["username"], r["target_id"]) for r in log.json()["data"]] == [
        ("admin", str(dvr["id"]))
    ]


async def test_dvr_first_channel_and_query_templates(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world.headers["admin"]
    response = await client.post(
        DVRS,
        headers=admin,
        json={
            "store_id": world.stores[1],
            "name": "Hik",
            "source_kind": "http",
            "url_template": f"http://10.1.1.1/cgi?channel={{channel}}&password={SECRET}",
            "channels": 3,
            "first_channel": 0,
        },
    )
    assert response.status_code == 201, response.text
    dvr = response.json()
    assert dvr["first_channel"] == 0
    assert dvr["url_template"] == "http://10.1.1.1/cgi?channel={channel}&password=***"
    cameras = (await get_json(client, admin, f"{CAMERAS}?store_id={world.stores[1]}"))["data"]
    mine = sorted((c for c in cameras if c["dvr_id"] == dvr["id"]), key=lambda c: c["channel"])
    assert [(c["name"], c["channel"], c["source_url"], c["substream_url"]) for c in mine] == [
        (f"Hik ch{n}", n, f"http://10.1.1.1/cgi?channel={n}&password=***", None) for n in (0, 1, 2)
    ]
    assert sorted(c["id"] for c in mine) == dvr["camera_ids"]
    assert SECRET not in await audit_text(client, admin)


async def test_dvr_refusals_change_nothing(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    admin = world.headers["admin"]
    store = world.stores[0]
    base = {"store_id": store, "name": "NVR", "url_template": DVR_MAIN, "channels": 4}
    dvr = (await client.post(DVRS, headers=admin, json=base)).json()
    await add_alert(runtime, dvr["camera_ids"][2], started_at=datetime(2024, 5, 1, tzinfo=UTC))
    cameras_before = await get_json(client, admin, CAMERAS)
    dvrs_before = await get_json(client, admin, DVRS)

    # one channel camera has alerts: the whole DVR stays, every camera included
    refused = await client.delete(f"{DVRS}/{dvr['id']}", headers=admin)
    assert refused.status_code == 409, refused.text
    assert error_of(refused)["code"] == "conflict"
    assert await get_json(client, admin, CAMERAS) == cameras_before
    assert await get_json(client, admin, DVRS) == dvrs_before

    await create_camera(
        client, admin, store_id=store, name="Annex ch3", source_kind="usb", source_url="2"
    )
    cameras_before = await get_json(client, admin, CAMERAS)
    attempts: list[tuple[dict[str, Any], int, str]] = [
        (base, 409, "conflict"),  # DVR name taken in this store
        (base | {"name": "Annex"}, 409, "conflict"),  # would make a second "Annex ch3"
        (base | {"name": "X", "url_template": "rtsp://h/main"}, 422, "validation_error"),
        (base | {"name": "X", "channels": 0}, 422, "validation_error"),
        (base | {"name": "X", "channels": 65}, 422, "validation_error"),
        (base | {"name": "X", "first_channel": -1}, 422, "validation_error"),
        (base | {"name": "X", "url_template": "http://h/{channel}"}, 422, "validation_error"),
    ]
    for body, status, code in attempts:
        response = await client.post(DVRS, headers=admin, json=body)
        assert response.status_code == status, (body, response.text)
        assert error_of(response)["code"] == code, body
        assert await get_json(client, admin, CAMERAS) == cameras_before, body
        assert await get_json(client, admin, DVRS) == dvrs_before, body
    assert SECRET not in await audit_text(client, admin)


async def test_a_masked_url_sent_back_keeps_the_password(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    """The app edits a camera by sending its fields back as shown: the masked URL must not
    replace the stored password with `***`, while a really new URL does."""
    admin = world.headers["admin"]
    secret_url = f"rtsp://admin:{SECRET}@10.0.0.9:554/ch1"
    created = await create_camera(
        client,
        admin,
        store_id=world.stores[0],
        name="Aisle",
        source_kind="rtsp",
        source_url=secret_url,
        enabled=False,
    )
    shown = created["source_url"]
    assert shown == "rtsp://admin:***@10.0.0.9:554/ch1"
    renamed = await client.patch(
        f"{CAMERAS}/{created['id']}", headers=admin, json={"name": "Aisle 2", "source_url": shown}
    )
    assert renamed.status_code == 200, renamed.text

    async def stored() -> str:
        async with runtime.sessionmaker() as db:
            camera = await db.get(Camera, created["id"])
            assert camera is not None
            return camera.source_url

    assert await stored() == secret_url
    moved = "rtsp://admin:***@10.0.0.10:554/ch1"  # a new host with a literal *** password
    await client.patch(f"{CAMERAS}/{created['id']}", headers=admin, json={"source_url": moved})
    assert await stored() == moved
