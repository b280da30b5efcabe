"""What the shared sign-in guard leaves in Redis: only hashed names and addresses, under
`{redis.prefix}:signin:`, and every key expiring, so nothing grows forever."""

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from server.security.redis_sign_in_guard import KNOWN_TTL_S, RedisSignInGuard
from server.security.sign_in_guard import SignInRules, Ticket
from tests.redis_server import RedisServer

RULES = SignInRules(
    free_failures=3,
    first_delay_s=30,
    max_delay_s=900,
    address_failures=20,
    name_failures=50,
    window_s=300,
)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer.running(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    await client.flushdb()
    yield client
    await client.aclose()


async def ttls(redis: Redis) -> dict[str, float]:
    """Every key in Redis, with its seconds to live (-1: none)."""
    return {key.decode(): await redis.pttl(key) / 1000 async for key in redis.scan_iter(match="*")}


async def test_every_key_is_hashed_prefixed_and_expires(redis: Redis) -> None:
    guard = RedisSignInGuard(redis, prefix="store-7", rules=RULES)
    await guard.forgive_name("Clerk.Smith")  # an admin's reset
    for _ in range(3):  # then a streak long enough to wait 30 s
        assert isinstance(await guard.begin("Clerk.Smith", "203.0.113.7"), Ticket)
    ticket = await guard.begin("Owner", "198.51.100.23")
    assert isinstance(ticket, Ticket)
    await guard.succeeded(ticket)  # known; the owner's windows are empty, so gone

    keys = await ttls(redis)
    kinds = sorted(key.split(":")[2] for key in keys)
    assert kinds == ["address", "known", "name", "reset", "streak"]
    for key, ttl_s in keys.items():
        assert key.startswith("store-7:signin:"), key
        assert not {"clerk", "owner", "203.0.113.7", "198.51.100"} & set(key.lower().split(":"))
        assert 0 < ttl_s, key  # expires
    by_kind = {key.split(":")[2]: ttl for key, ttl in keys.items()}
    assert by_kind["streak"] == pytest.approx(30 + 300, abs=5)  # its wait, then the window
    assert by_kind["known"] == pytest.approx(KNOWN_TTL_S, abs=5)
    assert by_kind["reset"] == pytest.approx(900 + 300 + 1, abs=5)  # outlives any streak
    for window in ("address", "name"):
        assert by_kind[window] == pytest.approx(300, abs=5)
