"""Push preferences, set through the API, decide who gets an alert's pushes: a muted
camera, a store left out, pushes off, quiet hours on the store's clock (also past
midnight); bad choices are refused with a clear message and change nothing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import PushConfig, Settings
from server.notify.outbox import OPENED, enqueue_alert_pushes
from server.notify.preferences import in_quiet_hours
from server.runtime import Runtime
from server.services.alerts import record_alert
from server.storage import cameras
from server.storage.models import Alert, PushOutbox
from shared.api_paths import API_V1
from tests.conftest import make_settings
from tests.fakes.webpush import WebPushService
from tests.helpers import World, db_snapshot, error_of
from tests.notify.devices import register
from tests.notify.test_webpush_delivery import raise_alert, until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pywebpush

PREFERENCES = f"{API_V1}/devices/preferences"
NIGHT = {"start": "22:00", "end": "07:00"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    push = PushConfig(allow_private_endpoints=True)  # the local Web Push service
    return make_settings(tmp_path / "data", database_url).model_copy(update={"push": push})


async def choose(client: httpx.AsyncClient, world: World, user: str, body: Any) -> Any:
    """Replace a user's preferences; the stored preferences."""
    response = await client.put(PREFERENCES, headers=world.headers[user], json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def set_timezone(client: httpx.AsyncClient, world: World, store_id: int, tz: str) -> None:
    response = await client.patch(
        f"{API_V1}/stores/{store_id}", headers=world.headers["admin"], json={"timezone": tz}
    )
    assert response.status_code == 200, response.text


async def alert_at(runtime: Runtime, camera_id: int, now: datetime) -> Alert:
    """An alert stored with its pushes as the recorder stores one, at the given moment."""
    async with runtime.sessionmaker() as session:
        camera = await cameras.get_camera(session=session, camera_id=camera_id, store_ids=None)

        async def with_pushes(session: AsyncSession, alert: Alert) -> None:
            await enqueue_alert_pushes(
                session, alert=alert, camera=camera, reason=OPENED, now=now, cooldown_s=0.0
            )

        return await record_alert(
            session=session,
            bus=runtime.bus,
            camera=camera,
            zone="Shelf 1",
            event_type="concealment",
            score=0.9,
            started_at=now,
            before_commit=with_pushes,
        )


async def pushed_devices(runtime: Runtime, alert_id: int) -> set[int]:
    """The devices the alert's pushes are queued for."""
    async with runtime.sessionmaker() as session:
        query = select(PushOutbox.device_id).where(PushOutbox.alert_id == alert_id)
        return set((await session.scalars(query)).all())


async def phones(client: httpx.AsyncClient, world: World, *users: str) -> dict[int, str]:
    """An FCM phone registered for each user; the user of each device id."""
    return {await register(client, world, user, "fcm", f"fcm-token-{user}"): user for user in users}


QUIET = [
    # (start, end, clock, quiet?)
    ("22:00", "07:00", "23:30", True),  # evening of a night that wraps
    ("22:00", "07:00", "00:00", True),  # midnight
    ("22:00", "07:00", "02:00", True),  # past midnight
    ("22:00", "07:00", "22:00", True),  # the first quiet minute
    ("22:00", "07:00", "06:59", True),  # the last quiet minute
    ("22:00", "07:00", "07:00", False),  # the end is the first minute that pushes again
    ("22:00", "07:00", "12:00", False),  # midday
    ("12:00", "14:00", "13:59", True),  # a stretch within one day
    ("12:00", "14:00", "14:00", False),
    ("12:00", "14:00", "11:59", False),
    ("12:00", "14:00", "23:00", False),  # not mistaken for a wrapping stretch
]


@pytest.mark.parametrize(("start", "end", "clock", "quiet"), QUIET)
def test_quiet_hours_hold_their_start_but_not_their_end(
    start: str, end: str, clock: str, quiet: bool
) -> None:
    assert in_quiet_hours(start, end, clock) is quiet


async def test_preferences_start_at_the_defaults_and_are_replaced_whole(
    client: httpx.AsyncClient, world: World
) -> None:
    viewer = world.headers["viewer_a"]
    defaults = await client.get(PREFERENCES, headers=viewer)
    assert defaults.status_code == 200, defaults.text
    assert defaults.json() == {
        "enabled": True,
        "store_ids": None,
        "camera_ids": None,
        "quiet_hours": None,
        "updated_at": None,
    }
    store_a, camera_a = world.stores[0], world.cameras[0]
    chosen = {"store_ids": [store_a, store_a], "camera_ids": [camera_a], "quiet_hours": NIGHT}
    stored = await choose(client, world, "viewer_a", chosen)
    assert stored.pop("updated_at") is not None
    assert stored == {
        "enabled": True,
        "store_ids": [store_a],  # each once
        "camera_ids": [camera_a],
        "quiet_hours": NIGHT,
    }
    again = (await client.get(PREFERENCES, headers=viewer)).json()
    assert again.pop("updated_at") is not None and again == stored
    # replaced whole: what a request leaves out takes its default
    reset = await choose(client, world, "viewer_a", {"enabled": False})
    assert reset["enabled"] is False
    assert reset["store_ids"] is reset["camera_ids"] is reset["quiet_hours"] is None
    # others keep theirs
    mine = (await client.get(PREFERENCES, headers=world.headers["supervisor_a"])).json()
    assert mine["updated_at"] is None

    audit = await client.get(
        f"{API_V1}/audit", headers=world.headers["admin"], params={"action": "device.preferences"}
    )
    entries = audit.json()["data"]
    assert [(e["username"], e["target_type"]) for e in entries] == [("viewer_a", "user")] * 2
    assert entries[0]["details"]["enabled"] is False  # newest first
    assert entries[1]["details"]["quiet_hours"] == NIGHT


async def test_a_muted_camera_pushes_to_everyone_else(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    """supervisor_a keeps only a new camera: her browser stays silent for Aisle 1, while
    viewer_a's browser still gets its push; the new camera pushes to both."""
    created = await client.post(
        f"{API_V1}/cameras",
        headers=world.headers["admin"],
        json={
            "store_id": world.stores[0],
            "name": "Entrance",
            "source_kind": "rtsp",
            "source_url": "rtsp://10.0.0.9/ch1",
        },
    )
    assert created.status_code == 201, created.text
    aisle, entrance = world.cameras[0], created.json()["id"]
    service = WebPushService()
    async with service.running():
        for user in ("supervisor_a", "viewer_a"):
            keys = service.subscribe(user).keys
            await register(client, world, user, "webpush", service.endpoint(user), keys)
        await choose(client, world, "supervisor_a", {"camera_ids": [entrance]})

        muted = await raise_alert(runtime, aisle)
        await until(lambda: len(service.received) == 1)
        await asyncio.sleep(0.3)  # and no more
        assert [(user, p["alert_id"]) for user, p in service.received] == [("viewer_a", muted.id)]

        kept = await raise_alert(runtime, entrance)
        await until(lambda: len(service.received) == 3)
        await asyncio.sleep(0.3)
    assert sorted((user, p["alert_id"]) for user, p in service.received[1:]) == [
        ("supervisor_a", kept.id),
        ("viewer_a", kept.id),
    ]
    assert len(await pushed_devices(runtime, muted.id)) == 1  # the alert is stored all the same


TOKYO_NIGHT = datetime(2030, 1, 15, 13, 30, tzinfo=UTC)  # 22:30 in Tokyo, 08:30 in New York

# (moment in UTC, camera's store, who gets a push)
QUIET_CASES = [
    # Tokyo 22:30: the admin's night began (13:30 in UTC: it follows the store's clock)
    (TOKYO_NIGHT, 0, {"viewer_a", "supervisor_a"}),
    # Tokyo 02:00: still night past midnight
    (datetime(2030, 1, 15, 17, 0, tzinfo=UTC), 0, {"viewer_a", "supervisor_a"}),
    # Tokyo 06:59: the last quiet minute
    (datetime(2030, 1, 15, 21, 59, tzinfo=UTC), 0, {"viewer_a", "supervisor_a"}),
    # Tokyo 07:00: night over
    (datetime(2030, 1, 15, 22, 0, tzinfo=UTC), 0, {"admin", "viewer_a", "supervisor_a"}),
    # Tokyo 12:30: viewer_a's quiet lunch (03:30 in UTC)
    (datetime(2030, 1, 16, 3, 30, tzinfo=UTC), 0, {"admin", "supervisor_a"}),
    # Tokyo 14:00: lunch over
    (datetime(2030, 1, 16, 5, 0, tzinfo=UTC), 0, {"admin", "viewer_a", "supervisor_a"}),
    # the first moment again, in the New York store: 08:30 there, the admin's night is over
    (TOKYO_NIGHT, 1, {"admin"}),
]


async def test_quiet_hours_follow_the_clock_of_the_alerts_store(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    await set_timezone(client, world, world.stores[0], "Asia/Tokyo")
    await set_timezone(client, world, world.stores[1], "America/New_York")
    owners = await phones(client, world, "admin", "viewer_a", "supervisor_a")
    await choose(client, world, "admin", {"quiet_hours": NIGHT})
    await choose(client, world, "viewer_a", {"quiet_hours": {"start": "12:00", "end": "14:00"}})
    wrong = []
    for now, store, expected in QUIET_CASES:
        alert = await alert_at(runtime, world.cameras[store], now)
        got = {owners[device] for device in await pushed_devices(runtime, alert.id)}
        if got != expected:
            wrong.append(f"{now:%H:%M}Z, store {store}: pushed to {sorted(got)}")
    assert not wrong, "\n".join(wrong)


async def test_pushes_off_or_another_store_chosen_queue_nothing(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    owners = await phones(client, world, "admin", "viewer_a", "supervisor_a", "viewer_b")
    await choose(client, world, "viewer_a", {"enabled": False})
    await choose(client, world, "admin", {"store_ids": [world.stores[1]]})
    await choose(client, world, "supervisor_a", {"store_ids": [world.stores[0]]})
    await choose(client, world, "viewer_b", {"store_ids": [], "quiet_hours": NIGHT})
    now = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
    in_a = await alert_at(runtime, world.cameras[0], now)
    in_b = await alert_at(runtime, world.cameras[1], now)
    assert {owners[d] for d in await pushed_devices(runtime, in_a.id)} == {"supervisor_a"}
    assert {owners[d] for d in await pushed_devices(runtime, in_b.id)} == {"admin"}


@dataclass(frozen=True)
class Bad:
    caller: str
    body: Any
    status: int
    code: str
    message: str


def bad_choices(world: World) -> list[Bad]:
    store_a, store_b = world.stores
    camera_b = world.cameras[1]
    invalid = "invalid request: body"
    clock = "is not a time of day; use 24-hour HH:MM, e.g. 22:00"
    return [
        # an empty stretch
        Bad(
            "viewer_a",
            {"quiet_hours": {"start": "22:00", "end": "22:00"}},
            422,
            "validation_error",
            f"{invalid}.quiet_hours: Value error, quiet hours must start and end at different "
            "times; to stop all pushes set `enabled` to false",
        ),
        # no such hour
        Bad("viewer_a", {"quiet_hours": {"start": "24:00", "end": "07:00"}}, 422,
            "validation_error", f"{invalid}.quiet_hours.start: Value error, '24:00' {clock}"),
        # no leading zero
        Bad("viewer_a", {"quiet_hours": {"start": "22:00", "end": "7:00"}}, 422,
            "validation_error", f"{invalid}.quiet_hours.end: Value error, '7:00' {clock}"),
        # seconds
        Bad("viewer_a", {"quiet_hours": {"start": "22:00:00", "end": "07:00"}}, 422,
            "validation_error", f"{invalid}.quiet_hours.start: Value error, '22:00:00' {clock}"),
        # no end
        Bad("viewer_a", {"quiet_hours": {"start": "22:00"}}, 422, "validation_error",
            f"{invalid}.quiet_hours.end: Field required"),
        # a word the server does not know
        Bad("viewer_a", {"mute": True}, 422, "validation_error",
            f"{invalid}.mute: Extra inputs are not permitted"),
        # another store's store and camera: not found, as everywhere
        Bad("viewer_a", {"store_ids": [store_b]}, 404, "not_found",
            f"stores not found: [{store_b}]"),
        Bad("viewer_a", {"camera_ids": [camera_b]}, 404, "not_found",
            f"cameras not found: [{camera_b}]"),
        Bad("admin", {"camera_ids": [999999]}, 404, "not_found", "cameras not found: [999999]"),
        # a camera outside the stores chosen would never push
        Bad("admin", {"store_ids": [store_a], "camera_ids": [camera_b]}, 422, "invalid_request",
            f"cameras [{camera_b}] are not in the chosen stores [{store_a}]; add their stores "
            "to store_ids or leave the cameras out"),
    ]  # fmt: skip


async def test_bad_choices_are_refused_clearly_and_change_nothing(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    before = await db_snapshot(runtime)
    wrong = []
    for bad in bad_choices(world):
        response = await client.put(PREFERENCES, headers=world.headers[bad.caller], json=bad.body)
        error = error_of(response) if response.status_code >= 400 else {}
        got = (response.status_code, error.get("code"), error.get("message"))
        if got != (bad.status, bad.code, bad.message):
            wrong.append(f"{bad.caller} {bad.body}: {got}")
    assert not wrong, "\n".join(wrong)
    assert await db_snapshot(runtime) == before
