"""Web Push (VAPID) through pywebpush: browsers and the Flet web app. The endpoint is the
subscription's own URL; the payload is encrypted for the subscription's keys."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from requests import RequestException

from server.notify.push import Delivery, Outcome, Target

TTL_S = 3600  # a push older than an hour is not worth showing
GONE = {404, 410}  # the subscription expired or was revoked
RETRY = {408, 425, 429, 500, 502, 503, 504}


def load_vapid(path: Path) -> Vapid02:
    """The server's VAPID key, created on first start (PEM, owner-only)."""
    if not path.is_file():
        key = Vapid02()
        key.generate_keys()
        path.parent.mkdir(parents=True, exist_ok=True)
        key.save_key(str(path))
        path.chmod(0o600)
    return Vapid02.from_file(str(path))


class WebPushNotifier:
    platform = "webpush"

    def __init__(self, vapid: Vapid02, subject: str, timeout_s: float = 10.0) -> None:
        self._vapid, self._subject, self._timeout = vapid, subject, timeout_s
        self.public_key = public_key(vapid)

    async def send(self, target: Target, payload: dict[str, Any]) -> Outcome:
        if not target.keys or not {"p256dh", "auth"} <= target.keys.keys():
            return Outcome(Delivery.gone, "Web Push subscription without p256dh/auth keys")
        return await asyncio.to_thread(self._send, target, payload)

    def _send(self, target: Target, payload: dict[str, Any]) -> Outcome:
        try:
            response = webpush(
                subscription_info={"endpoint": target.token, "keys": target.keys},
                data=json.dumps(payload),
                vapid_private_key=self._vapid,
                vapid_claims={"sub": self._subject},
                ttl=TTL_S,
                timeout=self._timeout,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            detail = f"Web Push endpoint answered {status}: {str(exc)[:200]}"
            if status in GONE:
                return Outcome(Delivery.gone, detail)
            if status is None or status in RETRY:
                return Outcome(Delivery.retry, detail)
            return Outcome(Delivery.refused, detail)
        except (RequestException, OSError) as exc:
            return Outcome(Delivery.retry, f"Web Push endpoint unreachable: {exc}"[:300])
        return Outcome(Delivery.sent, f"{getattr(response, 'status_code', '')}")


def public_key(vapid: Vapid02) -> str:
    """The VAPID public key as browsers take it: the uncompressed point, base64url."""
    point = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).decode().rstrip("=")
