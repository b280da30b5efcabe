"""A push endpoint on 127.0.0.1 that never quite answers: it reads the request, starts a
201 answer, then sends one more byte of a header line every `every_s` for as long as the
client stays (or `limit_s`). A client whose timeout counts per read never gives up on it.

It counts who it holds: `open` answers being trickled now, and for each client that hung
up, how long after the request it did (`hung_up_after_s`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

START = b"HTTP/1.1 201 Created\r\nX-Trickle: "


@dataclass
class TricklingEndpoint:
    every_s: float = 0.3
    limit_s: float = 60.0  # a test that fails still ends
    port: int = 0
    requests: int = 0
    open: int = 0
    hung_up_after_s: list[float] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def endpoint(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/push/{name}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        self.requests += 1
        self.open += 1
        started = time.monotonic()
        try:
            writer.write(START)
            while not self._stop.is_set() and time.monotonic() - started < self.limit_s:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.every_s)
                if reader.at_eof():  # the client hung up
                    self.hung_up_after_s.append(time.monotonic() - started)
                    break
                writer.write(b"a")
                await writer.drain()
        except ConnectionError:
            self.hung_up_after_s.append(time.monotonic() - started)
        finally:
            self.open -= 1
            writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TricklingEndpoint]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(server.sockets[0].getsockname()[1])
        try:
            async with server:
                yield self
        finally:
            self._stop.set()  # the answers still trickling end at their next byte
