"""Apple's push service on 127.0.0.1: an HTTP/2 server over TLS (a test CA's certificate)
that checks each request's ES256 provider token and topic and answers as APNs does, so
the real aioapns client runs against it and nothing leaves the machine.

Its answer per device token can be set: 200 (sent), 410 Unregistered (gone) or 503."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import DataReceived, RequestReceived, StreamEnded

HOSTS = ("api.push.apple.com", "api.development.push.apple.com")
LOCAL = "127.0.0.1"


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_tls(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context that trusts it) for Apple's host names."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("ShopGuard test CA"))
        .issuer_name(_name("ShopGuard test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(HOSTS[0]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [*(x509.DNSName(h) for h in HOSTS), x509.IPAddress(ipaddress.ip_address(LOCAL))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "server.pem", folder / "server.key")
    client = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    return server, client


@dataclass
class ApnsService:
    folder: Path
    team_id: str = "TEAM123456"
    key_id: str = "KEY1234567"
    topic: str = "com.shopguard.app"
    signing_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    answers: dict[str, int] = field(default_factory=dict)  # device token -> status
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    port: int = 0
    client_tls: ssl.SSLContext | None = None

    def key_file(self) -> Path:
        """The .p8 file Apple gives a developer: the provider token signing key."""
        path = self.folder / f"AuthKey_{self.key_id}.p8"
        path.write_bytes(
            self.signing_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return path

    def _answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any] | None]:
        token = headers.get("authorization", "").removeprefix("bearer ")
        try:
            claims = jwt.decode(
                token,
                self.signing_key.public_key(),
                algorithms=["ES256"],
                options={"verify_aud": False},
            )
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return 403, {"reason": "InvalidProviderToken"}
        if claims.get("iss") != self.team_id or header.get("kid") != self.key_id:
            return 403, {"reason": "InvalidProviderToken"}
        if headers.get("apns-topic") != self.topic:
            return 400, {"reason": "TopicDisallowed"}
        device = headers.get(":path", "").removeprefix("/3/device/")
        status = self.answers.get(device, 200)
        if status == 410:
            return 410, {"reason": "Unregistered", "timestamp": 0}
        if status != 200:
            return status, {"reason": "ServiceUnavailable"}
        self.received.append((device, json.loads(body)))
        return 200, None

    async def _serve_h2(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        while data := await reader.read(65536):
            for event in conn.receive_data(data):
                if isinstance(event, RequestReceived):
                    named = {str(k): str(v) for k, v in event.headers or []}  # utf-8 decoded
                    streams[event.stream_id] = (named, bytearray())
                elif isinstance(event, DataReceived):
                    streams[event.stream_id][1].extend(event.data or b"")
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, StreamEnded):
                    headers, body = streams.pop(event.stream_id)
                    status, reply = self._answer(headers, bytes(body))
                    response = [(":status", str(status)), ("apns-id", headers.get("apns-id", ""))]
                    end = reply is None
                    conn.send_headers(event.stream_id, response, end_stream=end)
                    if reply is not None:
                        conn.send_data(event.stream_id, json.dumps(reply).encode(), end_stream=True)
            writer.write(conn.data_to_send())
            await writer.drain()
        writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ApnsService]:
        server_tls, self.client_tls = make_tls(self.folder)
        apns = await asyncio.start_server(self._serve_h2, LOCAL, 0, ssl=server_tls)
        self.port = apns.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            apns.close()
