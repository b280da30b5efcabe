"""A Web Push service on 127.0.0.1, as a browser vendor runs one: it takes the encrypted
pushes POSTed to a subscription's endpoint, checks the VAPID authorization header, and
decrypts each push with the subscription's private key, as the browser would.

Its answers can be set per subscription: 201 (taken), 503 (down for now) or 410 (gone).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.local_server import serving


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass
class Subscription:
    """A browser's push subscription: its endpoint and the keys the server encrypts for."""

    name: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def keys(self) -> dict[str, str]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url(public), "auth": b64url(self.auth)}


@dataclass
class WebPushService:
    port: int = 0
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    answers: dict[str, int] = field(default_factory=dict)  # name -> status to answer
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused: int = 0
    delay_s: float = 0.0  # answer each push this late (a slow service)

    def subscribe(self, name: str) -> Subscription:
        self.subscriptions[name] = Subscription(name)
        return self.subscriptions[name]

    def endpoint(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/push/{name}"

    async def _push(self, request: Request) -> Response:
        name = request.path_params["name"]
        status = self.answers.get(name, 201)
        if status != 201:
            self.refused += 1
            return Response(status_code=status)
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("vapid t="):
            return Response("missing VAPID authorization", status_code=401)
        subscription = self.subscriptions[name]
        body = http_ece.decrypt(
            await request.body(),
            private_key=subscription.private_key,
            auth_secret=subscription.auth,
            version=request.headers.get("content-encoding", "aes128gcm"),
        )
        self.received.append((name, json.loads(body)))
        await asyncio.sleep(self.delay_s)
        return Response(status_code=201)

    @contextlib.asynccontextmanager
    async def running(self, port: int = 0) -> AsyncIterator[WebPushService]:
        """Serve on `port` (0: a free one, remembered for a restart on the same port)."""
        app = Starlette(routes=[Route("/push/{name}", self._push, methods=["POST"])])
        async with serving(app, port or self.port) as bound:
            self.port = bound
            yield self
