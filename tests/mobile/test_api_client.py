"""The app's API layer against the real server: the server check says what is wrong, sign-in
keeps its tokens and refreshes them, roles are enforced with the server's own words, and the
live events arrive over the WebSocket."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator

import pytest

from mobile.api.client import ApiClient
from mobile.api.errors import (
    ApiError,
    NotAllowed,
    NotShopGuard,
    Rejected,
    SignedOut,
    TlsProblem,
    Unreachable,
)
from mobile.api.events import Event, EventStream, LinkState
from mobile.api.probe import check_server, normalise_address
from shared.schemas.alerts import AlertOutcome, AlertStatus
from shared.schemas.auth import TokenPair
from shared.schemas.events import AlertCreated
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD
from tests.mobile.conftest import Served, until
from tests.s3_server import free_port  # bound, then let go: nothing listens there

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def not_shopguard() -> Iterator[str]:
    """Another web server on 127.0.0.1 (a router's page, say)."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body>Router login</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_the_server_check_says_what_is_wrong(served: Served, not_shopguard: str) -> None:
    health = await check_server(served.address.removeprefix("http://"))  # scheme optional
    assert (health.service, health.status) == ("shopguard", "ok")
    with pytest.raises(Unreachable, match=r"nothing answers at http://127\.0\.0\.1:\d+"):
        await check_server(f"127.0.0.1:{free_port()}")
    with pytest.raises(NotShopGuard, match=r"answered \(HTTP 200\) but is not a ShopGuard server"):
        await check_server(not_shopguard)
    with pytest.raises(TlsProblem, match="refused a secure connection"):
        await check_server(served.address.replace("http://", "https://"))
    with pytest.raises(ApiError, match="not an http:// or https:// address"):
        normalise_address("ftp://shop")


async def test_sign_in_keeps_tokens_and_refreshes_an_expired_one(served: Served) -> None:
    kept: list[TokenPair | None] = []

    async def keep(tokens: TokenPair | None) -> None:
        kept.append(tokens)

    client = ApiClient(served.address, on_tokens=keep)
    try:
        with pytest.raises(Rejected, match="wrong username or password"):
            await client.login("supervisor_a", "wrong-password-1")
        await client.login("supervisor_a", NEW_PASSWORD)
        assert kept[-1] is not None and (await client.me()).username == "supervisor_a"
        stale = kept[-1].model_copy(update={"access_token": "expired.access.token"})
        client.tokens = stale
        cameras = await client.cameras()  # 401, refreshed, retried
        assert [c.name for c in cameras.data] == ["Aisle 1"]  # supervisor_a's store only
        assert kept[-1] is not None and kept[-1].refresh_token != stale.refresh_token
        await client.logout()
        assert kept[-1] is None and client.tokens is None
        with pytest.raises(SignedOut):
            await client.alerts()
    finally:
        await client.aclose()


async def test_review_follows_the_role_and_the_version(served: Served) -> None:
    admin, viewer, supervisor = (ApiClient(served.address) for _ in range(3))
    try:
        await admin.login("admin", ADMIN_PASSWORD)
        await viewer.login("viewer_a", NEW_PASSWORD)
        await supervisor.login("supervisor_a", NEW_PASSWORD)
        raised = await admin.send_test_alert(served.world.cameras[0])
        seen = await viewer.alerts(statuses=[AlertStatus.new])
        assert [a.id for a in seen.data] == [raised.id]
        with pytest.raises(NotAllowed, match="supervisor"):
            await viewer.review(raised, status=AlertStatus.acknowledged)
        with pytest.raises(Rejected, match="a reviewed alert needs an outcome"):
            await supervisor.review(raised, status=AlertStatus.reviewed)  # caught here
        reviewed = await supervisor.review(
            raised, outcome=AlertOutcome.false_alarm, notes="a delivery"
        )
        assert (reviewed.status, reviewed.outcome) == (AlertStatus.reviewed, "false_alarm")
        assert reviewed.reviewed_by == "supervisor_a" and reviewed.notes == "a delivery"
        with pytest.raises(Rejected) as stale:  # based on the version before the review
            await supervisor.review(raised, notes="again")
        assert stale.value.status == 409
    finally:
        for client in (admin, viewer, supervisor):
            await client.aclose()


async def test_live_events_arrive_and_the_link_reports_its_state(served: Served) -> None:
    client = ApiClient(served.address)
    await client.login("admin", ADMIN_PASSWORD)
    events: list[Event] = []
    states: list[LinkState] = []
    resyncs: list[int] = []

    async def on_event(event: Event) -> None:
        events.append(event)

    async def on_state(state: LinkState, _: str) -> None:
        states.append(state)

    async def on_resync() -> None:
        resyncs.append(1)

    stream = EventStream(client, on_event=on_event, on_state=on_state, on_resync=on_resync)
    running = asyncio.create_task(stream.run())
    try:
        await until(lambda: LinkState.live in states)
        raised = await client.send_test_alert(served.world.cameras[1])
        await until(lambda: any(isinstance(e, AlertCreated) for e in events))
        created = next(e for e in events if isinstance(e, AlertCreated))
        assert created.alert.id == raised.id and created.alert.camera_id == raised.camera_id
        assert states[:2] == [LinkState.connecting, LinkState.live] and resyncs == [1]
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await client.aclose()
