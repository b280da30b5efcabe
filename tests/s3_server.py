"""An S3-compatible server on 127.0.0.1 for the evidence tests: moto's S3 API (the same
HTTP API as MinIO or AWS S3, from PyPI; MinIO's own server is not packaged there), run as
its own process so a test can stop it and start it again on the same port."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from server.config import S3Config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class S3Server:
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def config(self, bucket: str, prefix: str = "") -> S3Config:
        return S3Config(
            endpoint=self.endpoint,
            secure=False,
            bucket=bucket,
            prefix=prefix,
            access_key="shopguard-test",
            secret_key=SecretStr("shopguard-test-secret"),
            region="us-east-1",
            timeout_s=2.0,
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://{self.endpoint}/", timeout=1)
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"the S3 test server exited with {self.process.returncode}")
            time.sleep(0.1)
        raise RuntimeError("the S3 test server did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@contextlib.contextmanager
def running_s3() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()
