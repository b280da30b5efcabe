"""The live events WebSocket; the protocol is described in `shared/schemas/events.py`."""

import asyncio
import contextlib
import logging
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from server.errors import AuthError
from server.notify.bus import AccessChanged, Item, Subscription
from server.runtime import Runtime
from server.services.auth import Principal
from server.storage import events
from server.storage.models import utcnow
from shared.schemas.events import Hello, Ping, Welcome

logger = logging.getLogger(__name__)
router = APIRouter()

CLOSE_BAD_HELLO = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4408
REPLAY_PAGE = 500


@router.websocket("/ws")
async def live_events(websocket: WebSocket) -> None:
    """Send `Hello` first; then receive `Welcome`, missed events, and live ones."""
    runtime: Runtime = websocket.app.state.runtime
    await websocket.accept()
    try:
        raw = await asyncio.wait_for(
            websocket.receive_text(), timeout=runtime.settings.events.hello_timeout_s
        )
        hello = Hello.model_validate_json(raw)
    except (TimeoutError, ValidationError, KeyError):
        await websocket.close(CLOSE_BAD_HELLO, "send a hello message with a token first")
        return
    except WebSocketDisconnect:
        return
    async with runtime.sessionmaker() as session:
        try:
            principal = await runtime.auth.authenticate(session=session, token=hello.token)
            expires_at = runtime.auth.signer.verify(hello.token).expires_at
        except AuthError as exc:
            await websocket.close(CLOSE_UNAUTHORIZED, exc.message)
            return
    if principal.user.must_change_password:
        await websocket.close(CLOSE_FORBIDDEN, "change your one-time password first")
        return
    # before the replay, so nothing falls in between
    subscription = runtime.bus.subscribe(user_id=principal.user.id)
    serving = asyncio.create_task(
        _serve(websocket, runtime, principal, hello, subscription, expires_at.timestamp())
    )
    # _serve only sends; this reads, so a client that leaves is noticed at once
    watching = asyncio.create_task(_until_client_leaves(websocket))
    try:
        await asyncio.wait((serving, watching), return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            with contextlib.suppress(WebSocketDisconnect):
                serving.result()
    finally:
        for task in (serving, watching):
            task.cancel()
        await asyncio.gather(serving, watching, return_exceptions=True)
        runtime.bus.unsubscribe(subscription)


async def _until_client_leaves(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends after its hello until it disconnects."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def _serve(
    websocket: WebSocket,
    runtime: Runtime,
    principal: Principal,
    hello: Hello,
    subscription: Subscription,
    expires_at: float,
) -> None:
    scope = principal.store_scope
    async with runtime.sessionmaker() as session:
        oldest, newest = await events.seq_bounds(session=session)
    since = hello.since
    resync = since is not None and (since < oldest - 1 or since > newest)
    await websocket.send_text(Welcome(last_seq=newest, resync_required=resync).model_dump_json())
    last = newest if since is None or resync else since
    while last < newest:  # a short session per page: a slow client holds no connection
        async with runtime.sessionmaker() as session:
            page = await events.events_since(
                session=session, since=last, store_ids=scope, limit=REPLAY_PAGE
            )
        for missed in page:
            await websocket.send_text(missed.model_dump_json())
        last = page[-1].seq if len(page) == REPLAY_PAGE else newest
    ping = runtime.settings.events.ping_interval_s
    checked = time.monotonic()
    while True:
        idle = False
        item: Item = None
        try:
            item = await asyncio.wait_for(subscription.get(), timeout=ping)
        except TimeoutError:
            idle = not subscription.overflowed
        if utcnow().timestamp() >= expires_at:
            await websocket.close(CLOSE_UNAUTHORIZED, "access token expired; reconnect")
            return
        # logout, password change, disable, role or stores: at once when announced, and
        # once per ping in case an announcement was lost
        if isinstance(item, AccessChanged) or time.monotonic() - checked >= ping:
            checked = time.monotonic()
            current = await _current_principal(runtime, hello.token)
            if current is None:
                await websocket.close(CLOSE_UNAUTHORIZED, "this session has ended; sign in again")
                return
            scope = current.store_scope
            if isinstance(item, AccessChanged):
                continue
        if idle:
            await websocket.send_text(Ping().model_dump_json())
            continue
        if item is None:
            await websocket.close(CLOSE_TOO_SLOW, "fell behind; reconnect with since")
            return
        if item.seq <= last or (scope is not None and item.store_id not in scope):
            continue
        await websocket.send_text(item.model_dump_json())
        last = item.seq


async def _current_principal(runtime: Runtime, token: str) -> Principal | None:
    """The caller as the database sees it now; None once the session has ended."""
    async with runtime.sessionmaker() as session:
        try:
            return await runtime.auth.authenticate(session=session, token=token)
        except AuthError:
            return None
