"""The real server under uvicorn on 127.0.0.1 (the pipeline off) with two stores, a camera
in each, and a supervisor and viewer per store: what the app's and the evidence tests use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from mobile.api.client import ApiClient
from server.app import create_app
from server.config import Settings
from server.runtime import Runtime
from tests.helpers import ADMIN_PASSWORD, LiveServer, World, login, make_world


@dataclass
class Served:
    server: LiveServer
    world: World

    @property
    def address(self) -> str:
        return self.server.http_url

    @property
    def runtime(self) -> Runtime:
        return self.server.runtime


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Served]:
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        world = await make_world(http, await login(http, "admin", ADMIN_PASSWORD))
        yield Served(server, world)


OBSERVER_TIMEOUT_S = 30.0  # a loaded CI machine may stall a request past the app's 10 s


def observer(served: Served) -> ApiClient:
    """An API client for what a test checks behind the app's back (an admin's view of the
    stored rows): more patient than the app, so a slow machine fails no check by itself."""
    return ApiClient(served.address, timeout_s=OBSERVER_TIMEOUT_S)
