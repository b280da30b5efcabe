"""ASGI middleware: each HTTP request's latency under its route template (`/api/v1/cameras/
{camera_id}`, never the raw path, so the series stay as many as the routes), and the time
from an alert's decision to its `alert.created` event leaving on a live WebSocket.

The WebSocket timing reads the frames the events socket sends (`shared/schemas/events.py`):
the `Welcome` names the last event already logged, so the events after it are live ones and
those up to it replays, which are not timed. An event's `at` is when it was written, in the
transaction that stored the alert.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC

from fastapi.routing import iter_route_contexts
from pydantic import ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.metrics.app_metrics import AppMetrics
from shared.api_paths import WS_EVENTS
from shared.schemas.events import EventEnvelope, Welcome

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no route (404, a CORS preflight answered before routing)


def route_templates(routes: Sequence[BaseRoute]) -> dict[int, str]:
    """Each route's full path template (its routers' prefixes included), by the route's id."""
    return {
        id(context.original_route): context.path_format
        for context in iter_route_contexts(routes)
        if context.path_format
    }


class RequestMetrics:
    """Times HTTP requests and alert deliveries into `metrics`; `routes` are the app's."""

    def __init__(self, app: ASGIApp, *, metrics: AppMetrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self._routes = routes
        self._templates: dict[int, str] | None = None  # built at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == WS_EVENTS:
            await self.app(scope, receive, AlertDeliveryTimer(send, self.metrics))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app answers: an exception becomes ServerErrorMiddleware's 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.http_latency.labels(method, self.template(scope), str(status)).observe(
                time.perf_counter() - started
            )

    def template(self, scope: Scope) -> str:
        """The matched route's path template; `UNMATCHED` when routing matched none."""
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        if self._templates is None:
            self._templates = route_templates(self._routes)
        found = self._templates.get(id(route)) or getattr(route, "path_format", None)
        return found if isinstance(found, str) else UNMATCHED


class AlertDeliveryTimer:
    """One events WebSocket's `send`, timing the live `alert.created` events it carries."""

    def __init__(self, send: Send, metrics: AppMetrics) -> None:
        self._send = send
        self._metrics = metrics
        self._live_after: int | None = None  # the Welcome's last_seq

    async def __call__(self, message: Message) -> None:
        await self._send(message)
        text = message.get("text") if message["type"] == "websocket.send" else None
        if text is None:
            return
        try:
            self._seen(text)
        except (ValidationError, ValueError):  # not ours to judge: the client got it as is
            pass

    def _seen(self, text: str) -> None:
        if self._live_after is None:
            if '"welcome"' in text:
                self._live_after = Welcome.model_validate_json(text).last_seq
            return
        if '"alert.created"' not in text:  # most frames: pings and other events
            return
        envelope = EventEnvelope.model_validate_json(text)
        if envelope.seq <= self._live_after or envelope.event.type != "alert.created":
            return
        at = envelope.at if envelope.at.tzinfo is not None else envelope.at.replace(tzinfo=UTC)
        self._metrics.alert_delivery.observe(max(0.0, time.time() - at.timestamp()))
