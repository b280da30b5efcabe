"""A real Redis for the bus tests: Debian's redis-server on a free 127.0.0.1 port, in its own
folder with an append-only file fsynced on every write, so that stopping it (SIGTERM) and
starting it again on the same port and folder keeps every entry it acknowledged."""

import asyncio
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

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

    def start(self) -> None:
        """Start it and wait until it answers PING (the append-only file loaded)."""
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
