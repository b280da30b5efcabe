"""A real Redis of the test's own: Debian's redis-server on a free 127.0.0.1 port (never the
machine's own on 6379), in its own folder with an append-only file fsynced on every write,
so that stopping it (SIGTERM) and starting it again on the same port and folder keeps every
entry it acknowledged. Used by the bus, the shared sign-in throttle and the cluster tests."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis
from pydantic import SecretStr

from server.config import RedisConfig, Settings

REDIS_SERVER = "/usr/bin/redis-server"
START_S = 30.0  # a loaded CI box may take its time; polled, not slept


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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

    @classmethod
    @contextlib.contextmanager
    def running(cls, folder: Path) -> Iterator[RedisServer]:
        server = cls(folder)
        server.start()
        try:
            yield server
        finally:
            server.stop()

    def start(self) -> None:
        """Start it and wait until it answers PING (the append-only file loaded)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.folder),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
                "--daemonize", "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + START_S
        while not self.answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server silent for {START_S} s: {self.log_tail()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM, and wait until the process has really exited."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=START_S)
        self.process = None

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.exceptions.RedisError:  # refused, or LOADING the append-only file
            return False
        finally:
            client.close()

    def log_tail(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


async def until(what: str, condition: Callable[[], bool], within_s: float = 60.0) -> None:
    """Poll `condition` until true; fail naming `what` after `within_s` (generous for CI)."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s} s: {what}")
        await asyncio.sleep(0.02)


async def until_async(
    what: str, condition: Callable[[], Awaitable[bool]], within_s: float = 60.0
) -> None:
    """`until` for a condition that has to ask the bus."""
    deadline = time.monotonic() + within_s
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s} s: {what}")
        await asyncio.sleep(0.02)
