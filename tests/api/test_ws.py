"""The live events WebSocket on a real uvicorn: the hello handshake and its close codes,
events as the app sees them, store scoping, replay after a reconnect and slow clients."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.app import create_app
from server.config import EventsConfig, Settings
from server.runtime import Runtime
from server.services.alerts import commit_and_announce
from server.storage import alerts, cameras, events
from server.storage.models import utcnow
from shared.schemas.alerts import AlertPublic
from shared.schemas.events import (
    AlertCreated,
    AlertUpdated,
    CameraStatusChanged,
    EventEnvelope,
    Hello,
    Welcome,
)
from tests.helpers import (
    ADMIN_PASSWORD,
    USER_PASSWORD,
    LiveServer,
    World,
    add_alert,
    login,
    make_world,
)

TIMEOUT = 15.0  # every receive and handshake waits at most this long (a loaded CI box is slow)
QUIET = 0.3  # how long "nothing arrives" is watched
CLOSE_BAD_HELLO = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4408


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.http_url, timeout=30) as client:
        yield client


@pytest.fixture
async def admin_token(http: httpx.AsyncClient) -> str:
    return token_of(await login(http, "admin", ADMIN_PASSWORD))


@pytest.fixture
async def live_world(http: httpx.AsyncClient) -> World:
    return await make_world(http, await login(http, "admin", ADMIN_PASSWORD))


@pytest.fixture
async def tight_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """A live server with a short hello timeout and the smallest subscriber queue."""
    tight = settings.model_copy(
        update={"events": EventsConfig(hello_timeout_s=0.5, subscriber_queue=8)}
    )
    async with LiveServer.run(create_app(tight)) as server:
        yield server


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def receive(ws: ClientConnection) -> dict[str, Any]:
    """The next message that is not a keep-alive ping."""
    while True:
        raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
        message: dict[str, Any] = json.loads(raw)
        if message.get("kind") != "ping":
            return message


async def next_event(ws: ClientConnection) -> EventEnvelope:
    return EventEnvelope.model_validate(await receive(ws))


def alert_of(envelope: EventEnvelope) -> AlertPublic:
    """The alert an `alert.created` or `alert.updated` event carries."""
    assert isinstance(envelope.event, AlertCreated | AlertUpdated), envelope
    return envelope.event.alert


async def assert_quiet(ws: ClientConnection) -> None:
    """Nothing but pings arrives for a moment."""
    with pytest.raises(TimeoutError):
        message = await asyncio.wait_for(receive(ws), QUIET)
        pytest.fail(f"unexpected message {message}")


@contextlib.asynccontextmanager
async def subscribed(
    server: LiveServer, token: str, since: int | None = None
) -> AsyncIterator[tuple[ClientConnection, Welcome]]:
    """Connected, hello sent, welcome received."""
    async with connect(server.ws_url, open_timeout=TIMEOUT) as ws:
        await ws.send(Hello(token=token, since=since).model_dump_json())
        welcome = Welcome.model_validate(await receive(ws))
        yield ws, welcome


async def read_until_closed(ws: ClientConnection) -> list[dict[str, Any]]:
    """Everything the server sends until it closes the connection."""
    messages: list[dict[str, Any]] = []
    with pytest.raises(ConnectionClosed):
        while True:
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)))
    return messages


async def refused_with(server: LiveServer, first: str | bytes | None) -> tuple[int, str]:
    """Connect, send `first` (or nothing), and return the close code and reason."""
    async with connect(server.ws_url, open_timeout=TIMEOUT) as ws:
        if first is not None:
            await ws.send(first)
        assert await read_until_closed(ws) == []
        assert ws.close_code is not None
        return ws.close_code, ws.close_reason or ""


async def newest_seq(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        return (await events.seq_bounds(session=session))[1]


async def publish_burst(runtime: Runtime, camera_id: int, count: int) -> None:
    """`count` alerts committed in one transaction and announced together, back to back."""
    async with runtime.sessionmaker() as session:
        camera = await cameras.get_camera(session=session, camera_id=camera_id, store_ids=None)
        envelopes = []
        for index in range(count):
            alert = await alerts.create_alert(
                session=session,
                camera=camera,
                zone=f"shelf-{index}",
                event_type="concealment",
                score=0.9,
                started_at=utcnow(),
                track_ids=[index],
            )
            envelopes.append(
                await runtime.bus.stage(
                    session,
                    AlertCreated(alert=alerts.alert_public(alert)),
                    store_id=camera.store_id,
                )
            )
        await commit_and_announce(session, runtime.bus, *envelopes)


# --- the hello handshake ---------------------------------------------------------------------


async def test_no_hello_in_time_is_closed_4400(tight_server: LiveServer) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    code, reason = await refused_with(tight_server, None)
    assert code == CLOSE_BAD_HELLO
    assert "hello" in reason
    assert 0.4 <= loop.time() - started < TIMEOUT


@pytest.mark.parametrize(
    "first",
    [
        "hello?",  # not JSON
        "{}",  # no token
        '{"kind": "hello", "token": ""}',  # empty token
        '{"kind": "welcome", "token": "abc"}',  # not a hello
        '{"kind": "hello", "token": "abc", "since": -1}',  # negative since
        b'{"kind": "hello", "token": "abc"}',  # a binary frame
    ],
)
async def test_garbage_instead_of_hello_is_closed_4400(
    live_server: LiveServer, first: str | bytes
) -> None:
    code, _ = await refused_with(live_server, first)
    assert code == CLOSE_BAD_HELLO
    assert live_server.runtime.bus.subscriber_count == 0


async def test_bad_tokens_are_closed_4401(
    live_server: LiveServer, http: httpx.AsyncClient, admin_token: str
) -> None:
    runtime = live_server.runtime
    claims = runtime.auth.signer.verify(admin_token)
    expired = runtime.auth.signer.issue(
        user_id=claims.user_id,
        session_id=claims.session_id,
        now=utcnow() - timedelta(hours=1),
        ttl=timedelta(minutes=15),
    )
    ended = token_of(await login(http, "admin", ADMIN_PASSWORD))
    logout = await http.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {ended}"})
    assert logout.status_code == 204

    for token, reason in (
        ("not-a-token", "invalid access token"),
        (expired, "expired"),
        (ended, "session has ended"),
    ):
        code, text = await refused_with(live_server, Hello(token=token).model_dump_json())
        assert (code, reason in text) == (CLOSE_UNAUTHORIZED, True), (token, text)
    assert runtime.bus.subscriber_count == 0
    # the admin's own token is fine
    async with subscribed(live_server, admin_token) as (_, welcome):
        assert welcome.resync_required is False


async def test_one_time_password_is_closed_4403(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    admin = await login(http, "admin", ADMIN_PASSWORD)
    created = await http.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "newbie", "password": USER_PASSWORD, "role": "viewer"},
    )
    assert created.status_code == 201
    token = token_of(await login(http, "newbie", USER_PASSWORD))
    code, reason = await refused_with(live_server, Hello(token=token).model_dump_json())
    assert code == CLOSE_FORBIDDEN
    assert "password" in reason


# --- live events -----------------------------------------------------------------------------


async def test_welcome_then_created_updated_and_camera_events(
    live_server: LiveServer, http: httpx.AsyncClient, live_world: World
) -> None:
    runtime = live_server.runtime
    camera_a = live_world.cameras[0]
    earlier = await add_alert(runtime, camera_a, started_at=utcnow() - timedelta(minutes=5))
    last_seq = await newest_seq(runtime)
    assert last_seq >= 1

    async with subscribed(live_server, token_of(live_world.headers["viewer_a"])) as (ws, welcome):
        assert welcome == Welcome(last_seq=last_seq, resync_required=False)
        await assert_quiet(ws)  # no `since`: nothing old is replayed

        alert = await add_alert(runtime, camera_a, started_at=utcnow(), score=0.77)
        created = await next_event(ws)
        assert created.seq == last_seq + 1
        assert created.store_id == live_world.stores[0]
        assert isinstance(created.event, AlertCreated)
        assert alert_of(created).id == alert.id
        assert alert_of(created).camera_id == camera_a
        assert alert_of(created).peak_score == pytest.approx(0.77)
        assert alert_of(created).status == "new"

        review = await http.patch(
            f"/api/v1/alerts/{alert.id}",
            headers=live_world.headers["supervisor_a"],
            json={"outcome": "false_alarm", "notes": "a customer"},
        )
        assert review.status_code == 200, review.text
        updated = await next_event(ws)
        assert updated.seq == created.seq + 1
        assert isinstance(updated.event, AlertUpdated)
        assert alert_of(updated).id == alert.id
        assert alert_of(updated).status == "reviewed"
        assert alert_of(updated).outcome == "false_alarm"
        assert alert_of(updated).version == review.json()["version"]

        disabled = await http.post(
            f"/api/v1/cameras/{camera_a}/disable", headers=live_world.headers["admin"]
        )
        assert disabled.status_code == 200, disabled.text
        status = await next_event(ws)
        assert status.seq == updated.seq + 1
        assert isinstance(status.event, CameraStatusChanged)
        assert status.event.camera_id == camera_a
        assert status.event.store_id == live_world.stores[0]
        assert status.event.status == "disabled"
        # disabling it again changes nothing, so nothing is announced
        again = await http.post(
            f"/api/v1/cameras/{camera_a}/disable", headers=live_world.headers["admin"]
        )
        assert again.status_code == 200
        await assert_quiet(ws)
    assert earlier.id != alert.id


async def test_events_are_scoped_to_the_viewers_stores(
    live_server: LiveServer, live_world: World
) -> None:
    runtime = live_server.runtime
    camera_a, camera_b = live_world.cameras
    store_a, store_b = live_world.stores
    async with (
        subscribed(live_server, token_of(live_world.headers["viewer_a"])) as (ws_a, _),
        subscribed(live_server, token_of(live_world.headers["viewer_b"])) as (ws_b, _),
        subscribed(live_server, token_of(live_world.headers["admin"])) as (ws_admin, _),
    ):
        in_a = await add_alert(runtime, camera_a, started_at=utcnow())
        in_b = await add_alert(runtime, camera_b, started_at=utcnow())

        seen_a = await next_event(ws_a)
        assert (seen_a.store_id, seen_a.event.type) == (store_a, "alert.created")
        assert alert_of(seen_a).id == in_a.id
        # viewer_b's first event is store B's: store A's alert never reached it
        seen_b = await next_event(ws_b)
        assert (seen_b.store_id, alert_of(seen_b).id) == (store_b, in_b.id)
        # and viewer_a does not get store B's
        later_a = await add_alert(runtime, camera_a, started_at=utcnow())
        assert alert_of(await next_event(ws_a)).id == later_a.id
        await assert_quiet(ws_b)
        # an admin sees every store
        admin_seen = [(await next_event(ws_admin)).store_id for _ in range(3)]
        assert admin_seen == [store_a, store_b, store_a]

    # a replay is scoped the same way
    async with subscribed(live_server, token_of(live_world.headers["viewer_b"]), since=0) as (
        ws_b,
        welcome,
    ):
        assert welcome.resync_required is False
        replayed = await next_event(ws_b)
        assert (replayed.store_id, alert_of(replayed).id) == (store_b, in_b.id)
        await assert_quiet(ws_b)


# --- reconnecting ----------------------------------------------------------------------------


async def test_reconnect_with_since_replays_exactly_the_missed_events(
    live_server: LiveServer, http: httpx.AsyncClient, live_world: World
) -> None:
    runtime = live_server.runtime
    camera_a, camera_b = live_world.cameras
    token = token_of(live_world.headers["viewer_a"])

    async with subscribed(live_server, token) as (ws, _):
        first = await add_alert(runtime, camera_a, started_at=utcnow())
        seen = (await next_event(ws)).seq

    # while away: two events in store A, one in store B, a review and a camera change
    second = await add_alert(runtime, camera_a, started_at=utcnow())
    await add_alert(runtime, camera_b, started_at=utcnow())
    review = await http.patch(
        f"/api/v1/alerts/{first.id}",
        headers=live_world.headers["supervisor_a"],
        json={"status": "acknowledged"},
    )
    assert review.status_code == 200, review.text
    disabled = await http.post(
        f"/api/v1/cameras/{camera_a}/disable", headers=live_world.headers["admin"]
    )
    assert disabled.status_code == 200
    newest = await newest_seq(runtime)

    async with subscribed(live_server, token, since=seen) as (ws, welcome):
        assert welcome == Welcome(last_seq=newest, resync_required=False)
        missed = [await next_event(ws) for _ in range(3)]
        assert [e.event.type for e in missed] == ["alert.created", "alert.updated", "camera.status"]
        assert alert_of(missed[0]).id == second.id
        assert alert_of(missed[1]).id == first.id
        assert alert_of(missed[1]).status == "acknowledged"
        seqs = [e.seq for e in missed]
        assert seqs == sorted(set(seqs))
        assert seen < seqs[0] and seqs[-1] == newest
        # then live ones, with nothing repeated in between
        live = await add_alert(runtime, camera_a, started_at=utcnow())
        after = await next_event(ws)
        assert (after.seq, alert_of(after).id) == (newest + 1, live.id)
        await assert_quiet(ws)


async def test_since_beyond_the_newest_seq_asks_for_a_resync(
    live_server: LiveServer, live_world: World
) -> None:
    runtime = live_server.runtime
    await add_alert(runtime, live_world.cameras[0], started_at=utcnow())
    newest = await newest_seq(runtime)
    token = token_of(live_world.headers["viewer_a"])

    async with subscribed(live_server, token, since=newest + 10) as (ws, welcome):
        assert welcome == Welcome(last_seq=newest, resync_required=True)
        await assert_quiet(ws)  # nothing is replayed
        live = await add_alert(runtime, live_world.cameras[0], started_at=utcnow())
        event = await next_event(ws)
        assert (event.seq, alert_of(event).id) == (newest + 1, live.id)

    # `since` equal to the newest is simply up to date
    newest = await newest_seq(runtime)
    async with subscribed(live_server, token, since=newest) as (ws, welcome):
        assert welcome == Welcome(last_seq=newest, resync_required=False)
        await assert_quiet(ws)


async def test_since_older_than_the_kept_log_asks_for_a_resync(
    live_server: LiveServer, live_world: World
) -> None:
    runtime = live_server.runtime
    for _ in range(3):
        await add_alert(runtime, live_world.cameras[0], started_at=utcnow())
    async with runtime.sessionmaker() as session:  # retention passes: only the newest is kept
        assert await events.prune_events(session=session, before=utcnow()) == 2
        await session.commit()
    newest = await newest_seq(runtime)

    token = token_of(live_world.headers["viewer_a"])
    async with subscribed(live_server, token, since=newest - 3) as (ws, welcome):
        assert welcome == Welcome(last_seq=newest, resync_required=True)
        await assert_quiet(ws)


# --- slow clients ----------------------------------------------------------------------------


async def test_a_client_that_falls_behind_is_closed_4408_and_catches_up(
    tight_server: LiveServer,
) -> None:
    runtime = tight_server.runtime
    async with httpx.AsyncClient(base_url=tight_server.http_url, timeout=30) as http:
        world = await make_world(http, await login(http, "admin", ADMIN_PASSWORD))
    camera_a = world.cameras[0]
    token = token_of(world.headers["viewer_a"])
    queue = runtime.settings.events.subscriber_queue
    assert queue == 8

    async with subscribed(tight_server, token) as (ws, _):
        await add_alert(runtime, camera_a, started_at=utcnow())
        seen = (await next_event(ws)).seq
        # more events than the queue holds, announced at once, while this client reads nothing
        await publish_burst(runtime, camera_a, queue + 4)
        delivered = await read_until_closed(ws)
        assert ws.close_code == CLOSE_TOO_SLOW
        assert "since" in (ws.close_reason or "")
    assert runtime.bus.dropped_subscribers == 1
    assert runtime.bus.subscriber_count == 0
    if delivered:  # whatever did arrive before the close counts as seen
        seen = EventEnvelope.model_validate(delivered[-1]).seq

    newest = await newest_seq(runtime)
    async with subscribed(tight_server, token, since=seen) as (ws, welcome):
        assert welcome == Welcome(last_seq=newest, resync_required=False)
        replayed = [await next_event(ws) for _ in range(newest - seen)]
        assert [e.seq for e in replayed] == list(range(seen + 1, newest + 1))
        assert all(e.event.type == "alert.created" for e in replayed)
        live = await add_alert(runtime, camera_a, started_at=utcnow())
        event = await next_event(ws)
        assert (event.seq, alert_of(event).id) == (newest + 1, live.id)


async def test_a_client_that_leaves_is_unsubscribed_at_once(
    live_server: LiveServer, admin_token: str
) -> None:
    runtime = live_server.runtime
    async with subscribed(live_server, admin_token):
        assert runtime.bus.subscriber_count == 1
    # no event and no ping has to be sent for the server to notice
    for _ in range(100):  # two seconds at most
        if runtime.bus.subscriber_count == 0:
            break
        await asyncio.sleep(0.02)
    assert runtime.bus.subscriber_count == 0


async def test_a_stream_ends_4401_when_its_token_expires(
    live_server: LiveServer, live_world: World
) -> None:
    runtime = live_server.runtime
    token = token_of(live_world.headers["viewer_a"])
    claims = runtime.auth.signer.verify(token)
    ttl = timedelta(seconds=runtime.settings.auth.access_token_ttl_s)
    expiring = runtime.auth.signer.issue(  # a token with 3 s left: time to subscribe on a busy box
        user_id=claims.user_id,
        session_id=claims.session_id,
        now=utcnow() - ttl + timedelta(seconds=3),
        ttl=ttl,
    )
    async with subscribed(live_server, expiring) as (ws, _):
        await asyncio.sleep(3.1)
        await add_alert(runtime, live_world.cameras[0], started_at=utcnow())
        assert await read_until_closed(ws) == []  # the event is not sent on an expired token
        assert ws.close_code == CLOSE_UNAUTHORIZED
        assert "expired" in (ws.close_reason or "")


def slow_pings(settings: Settings) -> Settings:
    """Pings (and the periodic session check) far apart: what ends a stream within a
    receive's TIMEOUT is the announcement of the change, not the periodic check."""
    return settings.model_copy(update={"events": EventsConfig(ping_interval_s=60.0)})


async def test_a_stream_ends_4401_at_once_when_its_session_is_logged_out(
    settings: Settings,
) -> None:
    async with (
        LiveServer.run(create_app(slow_pings(settings))) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        headers = await login(http, "admin", ADMIN_PASSWORD)
        async with subscribed(server, token_of(headers)) as (ws, _):
            assert (await http.post("/api/v1/auth/logout", headers=headers)).status_code == 204
            assert await read_until_closed(ws) == []
            assert ws.close_code == CLOSE_UNAUTHORIZED
            assert "session has ended" in (ws.close_reason or "")


async def test_a_stream_ends_4401_at_once_when_an_admin_disables_its_user(
    settings: Settings,
) -> None:
    async with (
        LiveServer.run(create_app(slow_pings(settings))) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        world = await make_world(http, await login(http, "admin", ADMIN_PASSWORD))
        users = (await http.get("/api/v1/users", headers=world.headers["admin"])).json()["data"]
        [viewer_id] = [u["id"] for u in users if u["username"] == "viewer_a"]
        async with subscribed(server, token_of(world.headers["viewer_a"])) as (ws, _):
            disabled = await http.patch(
                f"/api/v1/users/{viewer_id}",
                headers=world.headers["admin"],
                json={"is_active": False},
            )
            assert disabled.status_code == 200
            assert await read_until_closed(ws) == []
            assert ws.close_code == CLOSE_UNAUTHORIZED


async def test_a_stream_follows_store_changes_made_by_an_admin(settings: Settings) -> None:
    async with (
        LiveServer.run(create_app(slow_pings(settings))) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        world = await make_world(http, await login(http, "admin", ADMIN_PASSWORD))
        admin = world.headers["admin"]
        users = (await http.get("/api/v1/users", headers=admin)).json()["data"]
        [supervisor_id] = [u["id"] for u in users if u["username"] == "supervisor_a"]
        async with subscribed(server, token_of(world.headers["supervisor_a"])) as (ws, _):
            await add_alert(server.runtime, world.cameras[0], started_at=utcnow())
            assert alert_of(await next_event(ws)).camera_id == world.cameras[0]
            moved = await http.patch(
                f"/api/v1/users/{supervisor_id}", headers=admin, json={"store_ids": []}
            )
            assert moved.status_code == 200
            await add_alert(server.runtime, world.cameras[0], started_at=utcnow())
            await assert_quiet(ws)  # store A is no longer theirs
