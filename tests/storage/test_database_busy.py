"""Every database connection busy: requests get a quick 503 with Retry-After, then recover."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.config import Settings
from server.runtime import Runtime
from tests.conftest import make_settings
from tests.helpers import error_of

POOL_WAIT_S = 0.3


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    busy = make_settings(tmp_path / "data", database_url)
    return busy.model_copy(update={"database_pool_wait_s": POOL_WAIT_S})


@asynccontextmanager
async def _hold_all(runtime: Runtime) -> AsyncIterator[int]:
    """Checks out connections until the pool has none left; gives them back afterwards."""
    async with AsyncExitStack() as held:
        count = 0
        while True:
            try:
                await held.enter_async_context(runtime.engine.connect())
            except PoolTimeout:
                break
            count += 1
        yield count


async def test_a_full_pool_answers_503_busy_and_recovers(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    async with _hold_all(runtime) as held:
        assert held >= 5
        response = await client.get("/api/v1/stores", headers=admin_headers)
        assert response.status_code == 503, response.text
        assert error_of(response)["code"] == "server_busy"
        assert response.headers["retry-after"] == "2"
        assert "Traceback" not in response.text
    response = await client.get("/api/v1/stores", headers=admin_headers)
    assert response.status_code == 200
