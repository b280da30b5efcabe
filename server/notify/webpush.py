"""Web Push (VAPID): browsers and the Flet web app. The endpoint is the subscription's own
URL, which any signed-in user chooses, so it is checked first (`notify/endpoints.py`) and
the request goes to the address that was checked. The payload is encrypted for the
subscription's keys by pywebpush and sent by an async HTTP client: no thread is held while
an endpoint answers slowly, and the dispatcher's deadline cuts off one that never does.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02, VapidException
from pywebpush import WebPusher, WebPushException

from server.notify.endpoints import (
    Address,
    Endpoint,
    EndpointPolicy,
    EndpointRefused,
    literal_address,
)
from server.notify.push import Delivery, Outcome, Target

TTL_S = 3600  # a push older than an hour is not worth showing
GONE = {404, 410}  # the subscription expired or was revoked
RETRY = {408, 425, 429, 500, 502, 503, 504}
VAPID_EXPIRY_S = 12 * 3600
ANSWER_BYTES = 300  # of an endpoint's answer, kept for the log


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

    def __init__(self, vapid: Vapid02, subject: str, *, allow_private: bool = False) -> None:
        """`allow_private`: also send over http and to private addresses (tests, a push
        service on a private network)."""
        self._vapid, self._subject = vapid, subject
        self.public_key = public_key(vapid)
        self.endpoints = EndpointPolicy(allow_private=allow_private)
        # one connection per push: each goes to an address checked for it (no reuse of a
        # connection made for another name); no redirects, no proxies from the environment
        self._client = httpx.AsyncClient(
            limits=httpx.Limits(max_keepalive_connections=0),
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
        self.endpoints.close()

    async def send(self, target: Target, payload: dict[str, Any]) -> Outcome:
        if not target.keys or not {"p256dh", "auth"} <= target.keys.keys():
            return Outcome(Delivery.gone, "Web Push subscription without p256dh/auth keys")
        try:
            endpoint = self.endpoints.parse(target.token)
        except EndpointRefused as exc:  # it can never be sent to: forget the device
            return Outcome(Delivery.gone, f"Web Push endpoint {exc}"[:300])
        try:
            address = await self.endpoints.resolve(endpoint)
        except EndpointRefused as exc:
            return Outcome(Delivery.refused, f"Web Push endpoint {exc}"[:300])
        except OSError as exc:
            return Outcome(Delivery.retry, f"Web Push endpoint {endpoint.host}: {exc}"[:300])
        try:
            body, headers = self._encrypt(endpoint, target.keys, payload)
        except (WebPushException, VapidException, ValueError) as exc:
            return Outcome(Delivery.gone, f"Web Push subscription unusable: {exc}"[:300])
        try:
            status, answer = await self._post(endpoint, address, body, headers)
        except (httpx.HTTPError, OSError) as exc:
            detail = f"Web Push endpoint unreachable: {type(exc).__name__} {exc}"
            return Outcome(Delivery.retry, detail[:300])
        if status <= 202:
            return Outcome(Delivery.sent, str(status))
        detail = f"Web Push endpoint answered {status}: {answer}"[:300]
        if status in GONE:
            return Outcome(Delivery.gone, detail)
        if status in RETRY:
            return Outcome(Delivery.retry, detail)
        return Outcome(Delivery.refused, detail)

    def _encrypt(
        self, endpoint: Endpoint, keys: dict[str, str], payload: dict[str, Any]
    ) -> tuple[bytes, dict[str, str]]:
        """The encrypted body (aes128gcm) and the headers, VAPID authorization included."""
        pusher = WebPusher({"endpoint": str(endpoint.url), "keys": keys})
        body = pusher.encode(json.dumps(payload).encode(), "aes128gcm")["body"]
        claims = {
            "sub": self._subject,
            "aud": f"{endpoint.url.scheme}://{endpoint.netloc}",
            "exp": int(time.time()) + VAPID_EXPIRY_S,
        }
        headers = {"ttl": str(TTL_S), "content-encoding": "aes128gcm", **self._vapid.sign(claims)}
        return body, headers

    async def _post(
        self, endpoint: Endpoint, address: Address, body: bytes, headers: dict[str, str]
    ) -> tuple[int, str]:
        """POST to `address` as to the endpoint's host (Host header, TLS name); the status
        and the start of the answer."""
        extensions: dict[str, Any] = {}
        if endpoint.url.scheme == "https" and literal_address(endpoint.host) is None:
            extensions["sni_hostname"] = endpoint.host  # and the certificate is checked for it
        request = self._client.build_request(
            "POST",
            endpoint.url.copy_with(host=str(address)),
            content=body,
            headers={**headers, "host": endpoint.netloc},
            extensions=extensions,
        )
        response = await self._client.send(request, stream=True)
        try:
            answer = b""
            async for chunk in response.aiter_raw():
                answer += chunk
                if len(answer) >= ANSWER_BYTES:
                    break
        finally:
            await response.aclose()
        return response.status_code, answer[:ANSWER_BYTES].decode("utf-8", "replace")


def public_key(vapid: Vapid02) -> str:
    """The VAPID public key as browsers take it: the uncompressed point, base64url."""
    point = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).decode().rstrip("=")
