"""Firebase Cloud Messaging on 127.0.0.1, as Google runs it: an OAuth token endpoint that
checks the service account's signed assertion, and the HTTP v1 `messages:send` endpoint
that checks the token it issued. Its answer per device token can be set: 200 (sent),
404 UNREGISTERED (gone) or 503 (down for now)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.local_server import serving

PROJECT = "shopguard-test"


@dataclass
class FcmService:
    port: int = 0
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    answers: dict[str, int] = field(default_factory=dict)  # device token -> status
    received: list[dict[str, Any]] = field(default_factory=list)
    issued: set[str] = field(default_factory=set)

    @property
    def endpoint_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/projects"

    def service_account(self, path: Path) -> Path:
        """A service account file whose sign-in goes to this fake."""
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": PROJECT,
                    "private_key_id": "test-key",
                    "private_key": pem,
                    "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
                    "client_id": "1",
                    "token_uri": f"http://127.0.0.1:{self.port}/token",
                }
            )
        )
        return path

    async def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        public = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        try:
            claims = jwt.decode(
                str(form["assertion"]),
                public.decode(),
                algorithms=["RS256"],
                audience="https://oauth2.googleapis.com/token",  # what Google's sign-in expects
            )
        except Exception:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        token = f"access-{len(self.issued)}-{claims['iss']}"
        self.issued.add(token)
        return JSONResponse({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    async def _send(self, request: Request) -> Response:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.issued:
            return JSONResponse({"error": {"code": 401}}, status_code=401)
        message = (await request.json())["message"]
        status = self.answers.get(message.get("token", ""), 200)
        if status == 404:
            return JSONResponse(
                {
                    "error": {
                        "code": 404,
                        "status": "NOT_FOUND",
                        "details": [{"errorCode": "UNREGISTERED"}],
                    }
                },
                status_code=404,
            )
        if status != 200:
            return Response(status_code=status)
        self.received.append(message)
        return JSONResponse({"name": f"projects/{PROJECT}/messages/{len(self.received)}"})

    @contextlib.asynccontextmanager
    async def running(self, port: int = 0) -> AsyncIterator[FcmService]:
        app = Starlette(
            routes=[
                Route("/token", self._token, methods=["POST"]),
                Route("/v1/projects/{project}/messages:send", self._send, methods=["POST"]),
            ]
        )
        async with serving(app, port or self.port) as bound:
            self.port = bound
            yield self
