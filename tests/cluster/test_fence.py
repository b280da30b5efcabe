"""A worker cut off from the database lets its cameras go before its leases expire, so the
worker that takes them over never runs them beside it (PostgreSQL)."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from server.cluster.leases import CameraLeases
from tests.cluster.conftest import LEASE_S, Cluster, wait_until
from tests.cluster.relay import SilentRelay
from tests.conftest import PG_ADMIN_DSN

POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def own_role() -> AsyncIterator[str]:
    """A login role of its own (superuser, like the test's), so its connections can be cut."""
    role = f"sg_worker_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN SUPERUSER')
        yield role
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role
        )
        await admin.execute(f'DROP ROLE "{role}"')
    finally:
        await admin.close()


async def cut_off(role: str) -> int:
    """No new connections for `role`, and its open ones terminated; how many there were."""
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'ALTER ROLE "{role}" NOLOGIN')
        killed: int = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1",
            role,
        )
    finally:
        await admin.close()
    return killed


class LoopStalls:
    """The longest the event loop went without running a 10 ms ticker: on a loaded machine
    a fence is reported late by as much, and no more."""

    def __init__(self) -> None:
        self.longest_s = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.longest_s = max(self.longest_s, now - last - 0.01)
            last = now

    def __enter__(self) -> "LoopStalls":
        self._task = asyncio.create_task(self._tick())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def let_in(role: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'ALTER ROLE "{role}" LOGIN')
    finally:
        await admin.close()


@POSTGRES_ONLY
async def test_cut_off_worker_lets_go_before_another_takes_over_then_shares_again(
    cluster: Cluster, own_role: str
) -> None:
    cameras = await cluster.add_cameras(4)
    a = cluster.worker("a", url=make_url(cluster.url).set(username=own_role).render_as_string())
    b = cluster.worker("b")
    changes: list[tuple[float, frozenset[int]]] = []
    running = asyncio.create_task(a.run(lambda held: changes.append((time.monotonic(), held))))
    try:
        await wait_until(lambda: _is(a.held, frozenset(cameras)))
        with LoopStalls() as stalls:
            assert await cut_off(own_role) >= 1
            cut = time.monotonic()
            fenced_at = await _fenced_and_taken_over(b, cameras, changes)
        # a let go within one lease of losing the database (plus what the machine stalled)
        assert fenced_at - cut <= LEASE_S + stalls.longest_s, (fenced_at - cut, stalls.longest_s)

        await let_in(own_role)  # a comes back: it gets a share, never a camera b runs

        async def shared() -> bool:
            held_b = await b.renew_and_claim()
            assert not a.held & held_b
            return (len(a.held), len(held_b)) == (2, 2)

        await wait_until(shared, step_s=0.1)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def _fenced_and_taken_over(
    b: CameraLeases, cameras: list[int], changes: list[tuple[float, frozenset[int]]]
) -> float:
    """Wait until b holds every camera; when a let go, which was before b took any."""
    b_first_held: list[float] = []

    async def b_holds_all() -> bool:
        held = await b.renew_and_claim()
        if held and not b_first_held:
            b_first_held.append(time.monotonic())
        return held == frozenset(cameras)

    await wait_until(b_holds_all, step_s=0.1)
    assert changes[0][1] == frozenset(cameras)
    fenced_at, nothing = changes[-1]
    assert nothing == frozenset()
    assert fenced_at < b_first_held[0]  # a let go before b could take any of its cameras
    return fenced_at


async def _is(value: frozenset[int], expected: frozenset[int]) -> bool:
    return value == expected


@POSTGRES_ONLY
async def test_worker_whose_database_hangs_lets_go_on_time(cluster: Cluster) -> None:
    cameras = await cluster.add_cameras(2)
    url = make_url(cluster.url)
    async with SilentRelay.to(url.host or "127.0.0.1", url.port or 5432) as relay:
        a = cluster.worker("a", url=url.set(port=relay.listen_port).render_as_string())
        changes: list[tuple[float, frozenset[int]]] = []
        running = asyncio.create_task(a.run(lambda held: changes.append((time.monotonic(), held))))
        try:
            await wait_until(lambda: _is(a.held, frozenset(cameras)))
            relay.go_silent()  # its renewals now hang instead of failing
            silent = time.monotonic()
            await wait_until(lambda: _is(a.held, frozenset()))
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    fenced_at, nothing = changes[-1]
    assert nothing == frozenset()
    assert fenced_at - silent <= LEASE_S
