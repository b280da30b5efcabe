"""Admin APIs: users, stores, runtime settings, push devices and the audit log."""

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.config import Settings
from shared.schemas.settings import ClipSettings, DetectionSettings, RetentionSettings
from tests.helpers import ADMIN_PASSWORD, LIFESPAN_S, NEW_PASSWORD, World, error_of, login

USERS = "/api/v1/users"
STORES = "/api/v1/stores"
SETTINGS = "/api/v1/settings"
DEVICES = "/api/v1/devices"
AUDIT = "/api/v1/audit"
TEMP_PASSWORD = "first-password-1"


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


async def get_json(client: httpx.AsyncClient, headers: dict[str, str], path: str) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def try_login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


async def changes_since(
    client: httpx.AsyncClient, admin: dict[str, str], since: datetime
) -> list[tuple[str, str, str, str]]:
    """(username, action, target type, target id) of every non-sign-in row, oldest first."""
    response = await client.get(
        AUDIT, headers=admin, params={"since": since.isoformat(), "limit": 500}
    )
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    now = datetime.now(UTC)
    for row in rows:
        assert since <= parse(row["at"]) <= now, row
    return [
        (row["username"], row["action"], row["target_type"], row["target_id"])
        for row in reversed(rows)
        if not row["action"].startswith("auth.")
    ]


async def make_store(client: httpx.AsyncClient, admin: dict[str, str], name: str) -> int:
    response = await client.post(STORES, headers=admin, json={"name": name})
    assert response.status_code == 201, response.text
    store_id: int = response.json()["id"]
    return store_id


# --- users -----------------------------------------------------------------------------------


async def test_users_api(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    admin = admin_headers
    north = await make_store(client, admin, "North")
    south = await make_store(client, admin, "South")
    started = datetime.now(UTC)

    created = await client.post(
        USERS,
        headers=admin,
        json={
            "username": "clerk",
            "password": TEMP_PASSWORD,
            "role": "viewer",
            "store_ids": [north],
        },
    )
    assert created.status_code == 201, created.text
    clerk = created.json()
    assert started <= parse(clerk["created_at"]) <= datetime.now(UTC)
    assert {k: v for k, v in clerk.items() if k != "created_at"} == {
        "id": clerk["id"],
        "username": "clerk",
        "role": "viewer",
        "is_active": True,
        "store_ids": [north],
        "must_change_password": True,
        "locked_until": None,
        "last_login_at": None,
    }
    path = f"{USERS}/{clerk['id']}"
    assert await get_json(client, admin, path) == clerk
    users_before = await get_json(client, admin, USERS)
    assert [u["username"] for u in users_before["data"]] == ["admin", "clerk"]

    refused: list[tuple[dict[str, Any], int, str]] = [
        # the name is taken
        ({"username": "clerk", "password": TEMP_PASSWORD}, 409, "conflict"),
        # a store that does not exist
        ({"username": "ghost", "password": TEMP_PASSWORD, "store_ids": [4242]}, 404, "not_found"),
        (
            {"username": "ghost", "password": TEMP_PASSWORD, "store_ids": [north, 4242]},
            404,
            "not_found",
        ),
        ({"username": "gh", "password": TEMP_PASSWORD}, 422, "validation_error"),  # too short
        ({"username": "gh ost", "password": TEMP_PASSWORD}, 422, "validation_error"),  # space
        ({"username": "ghost", "password": "short"}, 422, "validation_error"),
        (
            {"username": "ghost", "password": TEMP_PASSWORD, "role": "owner"},
            422,
            "validation_error",
        ),
        ({"username": "ghost", "password": TEMP_PASSWORD, "admin": True}, 422, "validation_error"),
    ]
    for body, status, code in refused:
        response = await client.post(USERS, headers=admin, json=body)
        assert response.status_code == status, (body, response.text)
        assert error_of(response)["code"] == code, body
    assert await get_json(client, admin, USERS) == users_before

    # the one-time password works once, and only for changing it
    first = await try_login(client, "clerk", TEMP_PASSWORD)
    assert first.status_code == 200
    assert first.json()["must_change_password"] is True
    clerk_headers = {"Authorization": f"Bearer {first.json()['access_token']}"}
    pending = await client.get(STORES, headers=clerk_headers)
    assert pending.status_code == 403
    changed = await client.post(
        "/api/v1/auth/password",
        headers=clerk_headers,
        json={"current_password": TEMP_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 204
    assert [s["id"] for s in (await get_json(client, clerk_headers, STORES))["data"]] == [north]

    # role and stores change what the user may do at once
    promoted = await client.patch(
        path, headers=admin, json={"role": "supervisor", "store_ids": [south, north]}
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json() == (await get_json(client, admin, path))
    assert promoted.json()["role"] == "supervisor"
    assert promoted.json()["store_ids"] == sorted([north, south])
    assert promoted.json()["must_change_password"] is False
    me = await get_json(client, clerk_headers, "/api/v1/auth/me")
    assert (me["role"], me["store_ids"]) == ("supervisor", sorted([north, south]))
    assert len((await get_json(client, clerk_headers, STORES))["data"]) == 2
    # still not an admin
    forbidden = await client.get(USERS, headers=clerk_headers)
    assert forbidden.status_code == 403
    assert error_of(forbidden)["code"] == "forbidden"

    before = await get_json(client, admin, path)
    refused_updates: list[tuple[dict[str, Any], int, str]] = [
        ({"store_ids": [north, 4242]}, 404, "not_found"),  # unknown store: nothing changes
        ({"role": "root"}, 422, "validation_error"),
        ({"username": "renamed"}, 422, "validation_error"),  # names are fixed
        ({"password": "short"}, 422, "validation_error"),
    ]
    for body, status, code in refused_updates:
        response = await client.patch(path, headers=admin, json=body)
        assert response.status_code == status, (body, response.text)
        assert error_of(response)["code"] == code, body
        assert await get_json(client, admin, path) == before, body

    # disabling ends the user's sessions and sign-ins
    disabled = await client.patch(path, headers=admin, json={"is_active": False})
    assert disabled.status_code == 200
    assert disabled.json()["is_active"] is False
    assert (await client.get("/api/v1/auth/me", headers=clerk_headers)).status_code == 401
    assert (await try_login(client, "clerk", NEW_PASSWORD)).status_code == 401
    enabled = await client.patch(path, headers=admin, json={"is_active": True})
    assert enabled.json()["is_active"] is True
    assert (await client.get("/api/v1/auth/me", headers=clerk_headers)).status_code == 401
    clerk_headers = await login(client, "clerk", NEW_PASSWORD)

    # an admin cannot lock themselves out
    admin_id = (await get_json(client, admin, "/api/v1/auth/me"))["id"]
    for body in ({"is_active": False}, {"role": "viewer"}):
        response = await client.patch(f"{USERS}/{admin_id}", headers=admin, json=body)
        assert response.status_code == 409, body
        assert error_of(response)["code"] == "conflict"
    assert (await get_json(client, admin, "/api/v1/auth/me"))["role"] == "admin"

    # a reset gives a working one-time password and ends the old one and old sessions
    reset = await client.post(f"{path}/reset-password", headers=admin)
    assert reset.status_code == 200, reset.text
    assert set(reset.json()) == {"username", "password"}
    assert reset.json()["username"] == "clerk"
    one_time = reset.json()["password"]
    assert len(one_time) >= 16
    assert (await get_json(client, admin, path))["must_change_password"] is True
    assert (await client.get("/api/v1/auth/me", headers=clerk_headers)).status_code == 401
    assert (await try_login(client, "clerk", NEW_PASSWORD)).status_code == 401
    signed_in = await try_login(client, "clerk", one_time)
    assert signed_in.status_code == 200
    assert signed_in.json()["must_change_password"] is True
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert (await client.get(STORES, headers=headers)).status_code == 403
    final = "final-password-3"
    response = await client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": one_time, "new_password": final},
    )
    assert response.status_code == 204
    assert (await client.get(STORES, headers=headers)).status_code == 200
    assert (await try_login(client, "clerk", one_time)).status_code == 401
    assert (await try_login(client, "clerk", final)).status_code == 200

    missing = await client.post(f"{USERS}/4242/reset-password", headers=admin)
    assert missing.status_code == 404
    assert (await client.get(f"{USERS}/4242", headers=admin)).status_code == 404

    target = str(clerk["id"])
    assert await changes_since(client, admin, started) == [
        ("admin", "user.create", "user", target),
        ("admin", "user.update", "user", target),
        ("admin", "user.update", "user", target),
        ("admin", "user.update", "user", target),
        ("admin", "user.reset_password", "user", target),
    ]
    updates = await client.get(AUDIT, headers=admin, params={"action": "user.update"})
    assert [row["details"] for row in reversed(updates.json()["data"])] == [
        {"changed": ["role", "store_ids"]},
        {"changed": ["is_active"]},
        {"changed": ["is_active"]},
    ]
    assert TEMP_PASSWORD not in (await client.get(AUDIT, headers=admin)).text


# --- stores ----------------------------------------------------------------------------------


async def test_stores_api(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    started = datetime.now(UTC)
    created = await client.post(
        STORES,
        headers=admin,
        json={"name": "Harbour", "address": "1 Quay", "timezone": "Europe/Berlin"},
    )
    assert created.status_code == 201, created.text
    store = created.json()
    assert started <= parse(store["created_at"]) <= datetime.now(UTC)
    assert {k: v for k, v in store.items() if k != "created_at"} == {
        "id": store["id"],
        "name": "Harbour",
        "address": "1 Quay",
        "timezone": "Europe/Berlin",
        "currency": "USD",  # the default
    }
    path = f"{STORES}/{store['id']}"
    assert await get_json(client, admin, path) == store
    # a store's people do not see new stores
    assert (await client.get(path, headers=world.headers["viewer_a"])).status_code == 404
    viewer_view = await get_json(client, world.headers["viewer_a"], STORES)
    assert [s["name"] for s in viewer_view["data"]] == ["Downtown"]

    stores_before = await get_json(client, admin, STORES)
    assert [s["name"] for s in stores_before["data"]] == ["Downtown", "Harbour", "Mall"]
    for body, status, code in [
        ({"name": "Harbour"}, 409, "conflict"),  # the name is taken
        ({"name": ""}, 422, "validation_error"),
        ({"name": "Pier", "timezone": "Atlantis/Capital"}, 422, "validation_error"),
        ({"name": "Pier", "phone": "123"}, 422, "validation_error"),  # unknown field
    ]:
        response = await client.post(STORES, headers=admin, json=body)
        assert response.status_code == status, (body, response.text)
        assert error_of(response)["code"] == code, body
    viewer_try = await client.post(
        STORES, headers=world.headers["supervisor_a"], json={"name": "X"}
    )
    assert viewer_try.status_code == 403
    assert await get_json(client, admin, STORES) == stores_before

    patched = await client.patch(
        path, headers=admin, json={"name": "Harbour Front", "timezone": "Europe/London"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() == store | {"name": "Harbour Front", "timezone": "Europe/London"}
    assert await get_json(client, admin, path) == patched.json()
    for body, status, code in [
        ({"name": "Mall"}, 409, "conflict"),  # taken by another store
        ({"timezone": "Nowhere/Else"}, 422, "validation_error"),
        ({"address": "x" * 501}, 422, "validation_error"),
    ]:
        response = await client.patch(path, headers=admin, json=body)
        assert response.status_code == status, (body, response.text)
        assert error_of(response)["code"] == code, body
        assert await get_json(client, admin, path) == patched.json(), body
    supervisor_try = await client.patch(
        f"{STORES}/{world.stores[0]}", headers=world.headers["supervisor_a"], json={"name": "Y"}
    )
    assert supervisor_try.status_code == 403

    # a store with cameras stays
    downtown = f"{STORES}/{world.stores[0]}"
    before = await get_json(client, admin, downtown)
    refused = await client.delete(downtown, headers=admin)
    assert refused.status_code == 409, refused.text
    assert error_of(refused)["code"] == "conflict"
    assert await get_json(client, admin, downtown) == before
    # an empty one goes
    deleted = await client.delete(path, headers=admin)
    assert deleted.status_code == 204
    assert (await client.get(path, headers=admin)).status_code == 404
    assert (await client.delete(path, headers=admin)).status_code == 404
    assert [s["name"] for s in (await get_json(client, admin, STORES))["data"]] == [
        "Downtown",
        "Mall",
    ]

    target = str(store["id"])
    assert await changes_since(client, admin, started) == [
        ("admin", "store.create", "store", target),
        ("admin", "store.update", "store", target),
        ("admin", "store.delete", "store", target),
    ]


# --- settings --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan, and a client for it."""
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://shopguard.test") as c:
            yield c


async def test_settings_api_persists_across_restart(settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "detection": DetectionSettings(threshold=0.7, dedup_window_s=120.0, analysis_fps=3.0),
            "clips": ClipSettings(pre_roll_s=4.0, post_roll_s=6.0),
        }
    )
    budgets = {"alert_budget_per_day": None, "budget_thresholds": True}  # the model's figure
    defaults = {
        "detection": {"threshold": 0.7, "dedup_window_s": 120.0, "analysis_fps": 3.0} | budgets,
        "clips": {"pre_roll_s": 4.0, "post_roll_s": 6.0, "max_event_s": 30.0},
        "retention": RetentionSettings().model_dump(),
    }
    new_detection = {
        "threshold": 0.55,
        "dedup_window_s": 600.0,
        "analysis_fps": 8.0,
        "alert_budget_per_day": 4.5,
        "budget_thresholds": True,
    }
    async with running(configured) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        assert await get_json(client, admin, SETTINGS) == defaults
        world_headers = await _viewer(client, admin)
        assert await get_json(client, world_headers, SETTINGS) == defaults

        started = datetime.now(UTC)
        saved = await client.patch(SETTINGS, headers=admin, json={"detection": new_detection})
        assert saved.status_code == 200, saved.text
        expected = defaults | {"detection": new_detection}
        assert saved.json() == expected
        assert await get_json(client, admin, SETTINGS) == expected
        assert await get_json(client, world_headers, SETTINGS) == expected

        refused: list[tuple[dict[str, Any], int, str]] = [
            ({"detection": new_detection | {"threshold": 1.5}}, 422, "validation_error"),
            ({"detection": new_detection | {"dedup_window_s": 5}}, 422, "validation_error"),
            ({"detection": new_detection | {"analysis_fps": 0}}, 422, "validation_error"),
            ({"detection": new_detection | {"sensitivity": 1}}, 422, "validation_error"),
            ({"detection": new_detection | {"alert_budget_per_day": 0}}, 422, "validation_error"),
            ({"detection": {"alert_budget_per_day": 1500}}, 422, "validation_error"),
            ({"clips": {"pre_roll_s": 31, "post_roll_s": 2}}, 422, "validation_error"),
            ({"retention": {"unreviewed_days": 0}}, 422, "validation_error"),
            # one bad section spoils the good one next to it
            (
                {"clips": {"pre_roll_s": 1}, "retention": {"disk_cap_gb": 0}},
                422,
                "validation_error",
            ),
            ({"network": {}}, 422, "validation_error"),  # no such section
        ]
        for body, status, code in refused:
            response = await client.patch(SETTINGS, headers=admin, json=body)
            assert response.status_code == status, (body, response.text)
            assert error_of(response)["code"] == code, body
            assert await get_json(client, admin, SETTINGS) == expected, body
        viewer_try = await client.patch(
            SETTINGS, headers=world_headers, json={"detection": defaults["detection"]}
        )
        assert viewer_try.status_code == 403
        assert error_of(viewer_try)["code"] == "forbidden"
        assert await get_json(client, admin, SETTINGS) == expected

        log = await client.get(AUDIT, headers=admin, params={"action": "settings.update"})
        rows = log.json()["data"]
        assert len(rows) == 1
        assert (rows[0]["username"], rows[0]["target_type"], rows[0]["target_id"]) == (
            "admin",
            "settings",
            "detection",
        )
        assert rows[0]["details"] == {"detection": new_detection}
        assert started <= parse(rows[0]["at"]) <= datetime.now(UTC)

    # a restart on the same database keeps the change and the other sections' defaults
    async with running(configured) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        assert await get_json(client, admin, SETTINGS) == expected
        retention = {"unreviewed_days": 14, "confirmed_days": 730, "disk_cap_gb": 20.0}
        both = await client.patch(
            SETTINGS, headers=admin, json={"retention": retention, "detection": None}
        )
        assert both.status_code == 200, both.text
        assert both.json() == expected | {"retention": retention}
        assert await get_json(client, admin, SETTINGS) == expected | {"retention": retention}
        # a partial section changes only the fields given; the others keep their values
        partial = await client.patch(
            SETTINGS, headers=admin, json={"detection": {"threshold": 0.6}}
        )
        assert partial.status_code == 200, partial.text
        assert partial.json()["detection"] == new_detection | {"threshold": 0.6}
        assert partial.json()["retention"] == retention
        # null hands the threshold back to the behaviour model's own
        model_own = await client.patch(
            SETTINGS, headers=admin, json={"detection": {"threshold": None}}
        )
        assert model_own.status_code == 200, model_own.text
        assert model_own.json()["detection"]["threshold"] is None


async def test_settings_overrides_only_the_fields_set(settings: Settings) -> None:
    async with running(settings) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        saved = await client.patch(SETTINGS, headers=admin, json={"detection": {"threshold": 0.6}})
        assert saved.status_code == 200, saved.text
    # the operator later changes the configured frame rate: it still takes effect
    reconfigured = settings.model_copy(
        update={"detection": DetectionSettings(analysis_fps=12.0, dedup_window_s=90.0)}
    )
    async with running(reconfigured) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        detection = (await get_json(client, admin, SETTINGS))["detection"]
        assert detection == {
            "threshold": 0.6,
            "analysis_fps": 12.0,
            "dedup_window_s": 90.0,
            "alert_budget_per_day": None,
            "budget_thresholds": True,
        }


async def _viewer(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    store = await make_store(client, admin, "Corner")
    response = await client.post(
        USERS,
        headers=admin,
        json={"username": "watcher", "password": TEMP_PASSWORD, "store_ids": [store]},
    )
    assert response.status_code == 201, response.text
    headers = await login(client, "watcher", TEMP_PASSWORD)
    changed = await client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": TEMP_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 204
    return headers


# --- devices ---------------------------------------------------------------------------------


async def test_devices_api(client: httpx.AsyncClient, world: World) -> None:
    viewer_a, viewer_b = world.headers["viewer_a"], world.headers["viewer_b"]
    started = datetime.now(UTC)
    registered = await client.post(
        DEVICES,
        headers=viewer_a,
        json={"platform": "fcm", "token": "fcm-token-aaaaaaaa", "name": "Pixel"},
    )
    assert registered.status_code == 201, registered.text
    phone = registered.json()
    assert set(phone) == {"id", "platform", "name", "created_at", "last_seen_at"}  # no token
    assert (phone["platform"], phone["name"]) == ("fcm", "Pixel")
    assert started <= parse(phone["created_at"]) <= datetime.now(UTC)

    # registering the same token again updates the one device
    again = await client.post(
        DEVICES,
        headers=viewer_a,
        json={"platform": "fcm", "token": "fcm-token-aaaaaaaa", "name": "Pixel 8"},
    )
    assert again.status_code == 201, again.text
    assert again.json()["id"] == phone["id"]
    assert again.json()["name"] == "Pixel 8"
    assert again.json()["created_at"] == phone["created_at"]
    assert parse(again.json()["last_seen_at"]) >= parse(phone["last_seen_at"])
    browser = await client.post(
        DEVICES,
        headers=viewer_a,
        json={
            "platform": "webpush",
            "token": "https://push.example/endpoint/abc",
            "keys": {"p256dh": "BPk", "auth": "xyz"},
        },
    )
    assert browser.status_code == 201
    other = await client.post(
        DEVICES, headers=viewer_b, json={"platform": "apns", "token": "apns-token-bbbbbbbb"}
    )
    assert other.status_code == 201

    mine = await get_json(client, viewer_a, DEVICES)
    assert mine["count"] == 2
    assert [(d["id"], d["platform"]) for d in mine["data"]] == [
        (phone["id"], "fcm"),
        (browser.json()["id"], "webpush"),
    ]
    theirs = await get_json(client, viewer_b, DEVICES)
    assert [d["id"] for d in theirs["data"]] == [other.json()["id"]]
    assert (await get_json(client, world.headers["admin"], DEVICES))["count"] == 0

    for body in (
        {"platform": "sms", "token": "sms-token-cccccccc"},  # no such platform
        {"platform": "fcm", "token": "short"},  # token too short
        {"platform": "fcm", "token": "fcm-token-dddddddd", "user_id": 1},  # unknown field
    ):
        response = await client.post(DEVICES, headers=viewer_a, json=body)
        assert response.status_code == 422, body
        assert error_of(response)["code"] == "validation_error"
    assert await get_json(client, viewer_a, DEVICES) == mine

    # someone else's device looks like no device at all, and stays
    stolen = await client.delete(f"{DEVICES}/{phone['id']}", headers=viewer_b)
    assert stolen.status_code == 404
    assert error_of(stolen)["code"] == "not_found"
    stolen = await client.delete(f"{DEVICES}/{phone['id']}", headers=world.headers["admin"])
    assert stolen.status_code == 404
    assert await get_json(client, viewer_a, DEVICES) == mine

    deleted = await client.delete(f"{DEVICES}/{phone['id']}", headers=viewer_a)
    assert deleted.status_code == 204
    assert [d["id"] for d in (await get_json(client, viewer_a, DEVICES))["data"]] == [
        browser.json()["id"]
    ]
    assert (await client.delete(f"{DEVICES}/{phone['id']}", headers=viewer_a)).status_code == 404

    assert await changes_since(client, world.headers["admin"], started) == [
        ("viewer_a", "device.register", "device", str(phone["id"])),
        ("viewer_a", "device.register", "device", str(phone["id"])),
        ("viewer_a", "device.register", "device", str(browser.json()["id"])),
        ("viewer_b", "device.register", "device", str(other.json()["id"])),
        ("viewer_a", "device.delete", "device", str(phone["id"])),
    ]
    log_text = (await client.get(AUDIT, headers=world.headers["admin"])).text
    assert "fcm-token-aaaaaaaa" not in log_text


# --- audit -----------------------------------------------------------------------------------


async def test_audit_filters_and_access(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    started = datetime.now(UTC)
    store = await make_store(client, admin, "Outlet")
    await client.patch(f"{STORES}/{store}", headers=admin, json={"address": "Ring road"})
    await client.post(
        DEVICES, headers=world.headers["viewer_a"], json={"platform": "fcm", "token": "t" * 12}
    )
    await client.post(
        DEVICES, headers=world.headers["supervisor_b"], json={"platform": "fcm", "token": "u" * 12}
    )
    finished = datetime.now(UTC)

    everything = await get_json(client, admin, AUDIT)
    assert everything["count"] == len(everything["data"])
    ids = [row["id"] for row in everything["data"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    for row in everything["data"]:
        assert row["username"]
        assert row["action"]
        assert row["client"].startswith("203.0.113.7")

    by_action = await client.get(AUDIT, headers=admin, params={"action": "device.register"})
    assert by_action.json()["count"] == 2
    assert [r["username"] for r in by_action.json()["data"]] == ["supervisor_b", "viewer_a"]
    by_user = await client.get(
        AUDIT, headers=admin, params={"username": "viewer_a", "since": started.isoformat()}
    )
    assert [(r["action"], r["target_type"]) for r in by_user.json()["data"]] == [
        ("device.register", "device")
    ]
    both = await client.get(
        AUDIT, headers=admin, params={"action": "store.update", "username": "admin"}
    )
    assert [(r["target_id"], r["details"]) for r in both.json()["data"]] == [
        (str(store), {"address": "Ring road"})
    ]
    nobody = await client.get(AUDIT, headers=admin, params={"username": "nobody"})
    assert nobody.json() == {"data": [], "count": 0}
    later = await client.get(AUDIT, headers=admin, params={"since": finished.isoformat()})
    assert later.json()["count"] == 0

    # pages: limit and offset over the same order, count is the total
    recent = await client.get(AUDIT, headers=admin, params={"since": started.isoformat()})
    assert recent.json()["count"] == 4
    paged = []
    for offset in (0, 2):
        page = await client.get(
            AUDIT,
            headers=admin,
            params={"since": started.isoformat(), "limit": 2, "offset": offset},
        )
        assert page.json()["count"] == 4
        paged.extend(page.json()["data"])
    assert paged == recent.json()["data"]
    assert [(r["username"], r["action"]) for r in reversed(paged)] == [
        ("admin", "store.create"),
        ("admin", "store.update"),
        ("viewer_a", "device.register"),
        ("supervisor_b", "device.register"),
    ]

    for who in ("supervisor_a", "viewer_a"):
        response = await client.get(AUDIT, headers=world.headers[who])
        assert response.status_code == 403
        assert error_of(response)["code"] == "forbidden"
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"since": "soon"}):
        response = await client.get(AUDIT, headers=admin, params=params)
        assert response.status_code == 422, params
        assert error_of(response)["code"] == "validation_error"
