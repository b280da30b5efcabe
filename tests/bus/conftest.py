"""Fixtures of the bus tests: a real Redis per test, and each bus backend in turn."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from server.bus import LocalBus, RecordBus, RedisStreamsBus, Topic
from tests.redis_server import RedisServer

CLAIM_IDLE_S = 1.0  # small, so a dead consumer's entries move on quickly


class Reading(BaseModel):
    """A record as a camera would publish it; `n` numbers them in publish order."""

    model_config = ConfigDict(frozen=True)
    n: int
    camera: str = "cam-1"


READINGS = Topic(name="readings", model=Reading)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["local", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[RecordBus]:
    """Each backend in turn, with the same behaviour expected of both."""
    instance: RecordBus
    if request.param == "local":
        instance = LocalBus(claim_idle_s=CLAIM_IDLE_S)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        instance = RedisStreamsBus(server.url, claim_idle_s=CLAIM_IDLE_S)
    try:
        yield instance
    finally:
        await instance.close()
