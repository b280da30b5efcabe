"""Apple Push Notification service through aioapns: token-based (a .p8 signing key, its
key id, the team id and the app's bundle id as topic), HTTP/2 over TLS to Apple's
servers, or to `endpoint` (host, port) where one is set (a relay; the tests' local APNs).

aioapns's own HTTP CONNECT proxy support passes asyncio's socket wrapper where a socket is
needed and fails on Python 3.11, so it is not offered. An `endpoint` is held to the rules of
`notify/endpoints.py` (a public host unless `allow_private`), when set and at each send.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

from aioapns import APNs, NotificationRequest, PushType
from aioapns.exceptions import ConnectionError as ApnsConnectionError
from aioapns.exceptions import MaxAttemptsExceeded

from server.errors import ConfigError
from server.notify.endpoints import Endpoint, EndpointPolicy, EndpointRefused
from server.notify.push import Delivery, Outcome, Target

GONE_REASONS = {"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic", "ExpiredToken"}
RETRY_STATUSES = {"429", "500", "503"}


class ApnsNotifier:
    platform = "apns"

    def __init__(
        self,
        *,
        key_file: Path,
        key_id: str,
        team_id: str,
        topic: str,
        sandbox: bool = False,
        endpoint: tuple[str, int] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        allow_private: bool = False,
    ) -> None:
        """Raises `ConfigError` when the signing key file cannot be read, or `endpoint` is
        not a public host (unless `allow_private`)."""
        self._endpoints = EndpointPolicy(allow_private=allow_private)
        self._endpoint: Endpoint | None = None
        if endpoint is not None:
            host = f"[{endpoint[0]}]" if ":" in endpoint[0] else endpoint[0]
            try:
                self._endpoint = self._endpoints.parse(f"https://{host}:{endpoint[1]}")
            except EndpointRefused as exc:
                raise ConfigError(f"push.apns_endpoint {host}:{endpoint[1]}: {exc}") from exc
        try:
            key = key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"APNs signing key {key_file}: {exc}") from exc
        if "PRIVATE KEY" not in key:
            raise ConfigError(f"APNs signing key {key_file}: not a PEM private key (.p8)")
        self._client = APNs(
            key=key,
            key_id=key_id,
            team_id=team_id,
            topic=topic,
            use_sandbox=sandbox,
            ssl_context=ssl_context,
            max_connection_attempts=1,  # the outbox retries with back-off
        )
        if endpoint is not None:
            base = self._client.pool.protocol_class
            self._client.pool.protocol_class = type(
                "ApnsAtEndpoint", (base,), {"APNS_SERVER": endpoint[0], "APNS_PORT": endpoint[1]}
            )

    async def aclose(self) -> None:
        """Close the pooled HTTP/2 connections (at shutdown)."""
        self._client.pool.close()
        self._endpoints.close()
        await asyncio.sleep(0)  # let the transports finish closing

    async def send(self, target: Target, payload: dict[str, Any]) -> Outcome:
        if self._endpoint is not None:
            try:  # what the name resolves to now (aioapns connects by name)
                await self._endpoints.resolve(self._endpoint)
            except EndpointRefused as exc:
                return Outcome(Delivery.refused, f"APNs endpoint {exc}"[:300])
            except OSError as exc:
                return Outcome(Delivery.retry, f"APNs unreachable: {exc}"[:300])
        message = {
            "aps": {
                "alert": {"title": payload["title"], "body": payload["body"]},
                "sound": "default",
                "thread-id": f"camera-{payload.get('camera_id', '')}",
            },
            **{k: v for k, v in payload.items() if k not in ("title", "body")},
        }
        request = NotificationRequest(
            device_token=target.token, message=message, push_type=PushType.ALERT
        )
        try:
            result = await self._client.send_notification(request)
        except (ApnsConnectionError, MaxAttemptsExceeded, OSError, ssl.SSLError) as exc:
            return Outcome(Delivery.retry, f"APNs unreachable: {type(exc).__name__} {exc}"[:300])
        if result.is_successful:
            return Outcome(Delivery.sent, result.notification_id)
        detail = f"APNs answered {result.status} {result.description or ''}".strip()
        if result.status == "410" or result.description in GONE_REASONS:
            return Outcome(Delivery.gone, detail)
        if result.status in RETRY_STATUSES:
            return Outcome(Delivery.retry, detail)
        return Outcome(Delivery.refused, detail)
