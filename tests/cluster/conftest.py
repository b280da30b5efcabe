"""A migrated database with cameras, and lease workers on it, each with its own engine."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.cluster.dialect import read_database_now
from server.cluster.leases import CameraLeases
from server.config import ClusterConfig
from server.storage import migrate
from server.storage.db import make_engine, make_sessionmaker
from server.storage.models import Camera, CameraLease, Store

LEASE_S = 2.0
HEARTBEAT_S = 0.5


@dataclass
class Cluster:
    """One database; `sessions` is the test's own view of it."""

    url: str
    sessions: async_sessionmaker[AsyncSession]
    engines: list[AsyncEngine] = field(default_factory=list)

    def worker(self, name: str, capacity: int = 10, url: str | None = None) -> CameraLeases:
        """A worker process's leases, with an engine of its own (on `url` if given)."""
        engine = make_engine(url or self.url)
        self.engines.append(engine)
        config = ClusterConfig(
            role="worker",
            worker_name=name,
            worker_capacity=capacity,
            lease_s=LEASE_S,
            heartbeat_s=HEARTBEAT_S,
        )
        return CameraLeases(make_sessionmaker(engine), config)

    async def add_cameras(self, count: int) -> list[int]:
        async with self.sessions() as session, session.begin():
            store = Store(name="Downtown")
            session.add(store)
            await session.flush()
            cameras = [
                Camera(
                    store_id=store.id,
                    name=f"Aisle {n}",
                    source_kind="rtsp",
                    source_url=f"rtsp://10.0.0.{n}/ch1",
                )
                for n in range(1, count + 1)
            ]
            session.add_all(cameras)
            await session.flush()
            return [camera.id for camera in cameras]

    async def holders(self) -> dict[int, str]:
        """Camera id → the worker whose lease on it has not expired (database clock)."""
        async with self.sessions() as session:
            now = await read_database_now(session)
            rows = await session.execute(
                select(CameraLease.camera_id, CameraLease.worker_name).where(
                    CameraLease.expires_at > now
                )
            )
            return {camera_id: worker for camera_id, worker in rows if worker is not None}


@pytest.fixture
async def cluster(database_url: str) -> AsyncIterator[Cluster]:
    engine = make_engine(database_url)
    await migrate.upgrade(engine)
    cluster = Cluster(url=database_url, sessions=make_sessionmaker(engine), engines=[engine])
    try:
        yield cluster
    finally:
        for each in cluster.engines:
            await each.dispose()


async def rounds(*workers: CameraLeases, count: int = 1) -> None:
    """`count` rounds of every worker, one after the other."""
    for _ in range(count):
        for worker in workers:
            await worker.renew_and_claim()


async def wait_until(
    condition: Callable[[], Awaitable[bool]], deadline_s: float = 30.0, step_s: float = 0.05
) -> float:
    """Poll `condition` until it holds; the seconds it took. Fails after `deadline_s`."""
    began = time.monotonic()
    while not await condition():
        if time.monotonic() - began > deadline_s:
            pytest.fail(f"condition not met within {deadline_s} s")
        await asyncio.sleep(step_s)
    return time.monotonic() - began
