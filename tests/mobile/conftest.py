"""The app's tests run against the real server under uvicorn on 127.0.0.1 (SQLite, the
pipeline off), with two stores, their cameras and a supervisor and viewer for each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest

from server.app import create_app
from server.config import Settings
from tests.helpers import ADMIN_PASSWORD, LiveServer, World, login, make_world


@dataclass
class Served:
    server: LiveServer
    world: World

    @property
    def address(self) -> str:
        return self.server.http_url


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Served]:
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        world = await make_world(http, await login(http, "admin", ADMIN_PASSWORD))
        yield Served(server, world)


async def until(check: Callable[[], bool], within_s: float = 10.0) -> None:
    """Wait for `check` to hold (polled every 50 ms); fail after `within_s`."""
    for _ in range(int(within_s * 20)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {within_s} s")
