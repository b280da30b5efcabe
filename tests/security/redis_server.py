"""A Redis server of the test's own on 127.0.0.1 (Debian's redis-server, never the machine's
own on 6379), run as its own process so a test can stop it and start it again on the port."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from server.config import RedisConfig, Settings

REDIS_SERVER = "/usr/bin/redis-server"
START_S = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def settings_for(self, settings: Settings) -> Settings:
        """`settings` sharing this Redis, under a prefix of their own (one Redis, many tests)."""
        prefix = f"test-{uuid.uuid4().hex[:12]}"
        return settings.model_copy(
            update={"redis": RedisConfig(url=SecretStr(self.url), prefix=prefix)}
        )

    def start(self) -> None:
        """Start it (empty: nothing is saved) and wait until it answers PING."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_S
        while not answers_ping(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer PING in {START_S} s")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=START_S)
        self.process = None

    @classmethod
    @contextlib.contextmanager
    def running(cls, folder: Path) -> Iterator[RedisServer]:
        server = cls(folder)
        server.start()
        try:
            yield server
        finally:
            server.stop()
