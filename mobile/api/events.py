"""The live events WebSocket, kept open: signs in with a fresh access token, resumes from the
last event it saw, and reconnects with back-off (a new token when the old one expired).
The protocol is in `shared/schemas/events.py`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

import websockets
from pydantic import TypeAdapter, ValidationError

from mobile.api.client import ApiClient
from mobile.api.errors import ApiError, SignedOut, server_message
from mobile.i18n import _
from shared.api_paths import WS_EVENTS
from shared.schemas.events import (
    AlertCreated,
    AlertUpdated,
    CameraStatusChanged,
    EventEnvelope,
    Hello,
    Ping,
    Welcome,
)

logger = logging.getLogger(__name__)
Event = AlertCreated | AlertUpdated | CameraStatusChanged
_message = TypeAdapter(EventEnvelope | Welcome | Ping)
CLOSE_UNAUTHORIZED = 4401
MAX_BACKOFF_S = 30.0


class LinkState(StrEnum):
    connecting = "connecting"
    live = "live"
    offline = "offline"  # waiting to reconnect
    signed_out = "signed_out"  # stopped: sign in again


class EventStream:
    def __init__(
        self,
        client: ApiClient,
        *,
        on_event: Callable[[Event], Awaitable[None]],
        on_state: Callable[[LinkState, str], Awaitable[None]],
        on_resync: Callable[[], Awaitable[None]],
    ) -> None:
        """`on_resync` runs on the first connection and when events were missed that cannot
        be replayed: reload lists over REST. Other gaps are replayed by the server."""
        self._client = client
        self._on_event, self._on_state, self._on_resync = on_event, on_state, on_resync
        self.last_seq: int | None = None

    async def run(self) -> None:
        """Until cancelled or signed out."""
        failures = 0
        while True:
            await self._on_state(LinkState.connecting, _("connecting…"))
            try:
                await self._session()
                failures = 0
                reason = _("the server closed the connection")
            except SignedOut as exc:
                await self._on_state(LinkState.signed_out, exc.message)
                return
            except (OSError, ApiError, websockets.WebSocketException, TimeoutError) as exc:
                failures += 1
                reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            delay = min(MAX_BACKOFF_S, 0.5 * 2 ** min(failures, 6))
            retrying = _("{reason}; retrying in {seconds} s").format(
                reason=reason, seconds=f"{delay:.0f}"
            )
            await self._on_state(LinkState.offline, retrying)
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        token = await self._client.fresh_access_token()
        url = "ws" + self._client.address.removeprefix("http") + WS_EVENTS
        async with websockets.connect(url, open_timeout=10, ping_interval=None) as socket:
            await socket.send(Hello(token=token, since=self.last_seq).model_dump_json())
            async for raw in socket:
                try:
                    message = _message.validate_json(raw)
                except ValidationError:
                    logger.warning("an event the app does not know: %.200s", raw)
                    continue
                if isinstance(message, Welcome):
                    await self._on_state(LinkState.live, _("live"))
                    if message.resync_required or self.last_seq is None:
                        self.last_seq = message.last_seq  # missed events replay from here
                        await self._on_resync()
                elif isinstance(message, EventEnvelope):
                    self.last_seq = message.seq
                    await self._on_event(message.event)
            if socket.close_code == CLOSE_UNAUTHORIZED:
                with contextlib.suppress(ApiError):
                    await self._client.me()  # refresh now; SignedOut when it cannot
                if self._client.tokens is None:
                    reason = socket.close_reason or "signed out"
                    raise SignedOut(
                        server_message("unauthorized", reason), status=401, detail=reason
                    )
