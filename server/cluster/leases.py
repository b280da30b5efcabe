"""Camera leases: which worker runs which camera, kept in the database, renewed by heartbeat.

Every `heartbeat_s` a worker runs one round, in one transaction:

1. heartbeat its row in `cluster_workers` (the database's clock gives the round's `now`);
2. drop its leases on cameras no longer enabled (a deleted camera's lease goes by cascade);
3. renew its unexpired leases until `now + lease_s`;
4. give one camera back when it holds more than its share, so a newcomer can take it; or
   claim free and expired leases up to its share, locked `FOR UPDATE SKIP LOCKED` so two
   workers never take the same camera. The share is the worker's capacity, or less while
   others live: cameras spread over the live workers as evenly as capacities allow.

A worker that cannot renew fences itself: `lease_s - fence_margin_s` after its last
successful round began, it holds nothing (`held` is empty and `run` reports it), so it
stops its cameras before their leases expire and another worker can take them. A worker
that comes back therefore never runs a camera beside its new holder.

PostgreSQL in production. SQLite works too, one writer at a time: a round's first statement
(the heartbeat) takes SQLite's write lock, so rounds never interleave (FOR UPDATE is not
rendered there).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, Update, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.cluster.dialect import database_now, dialect_of, upsert
from server.cluster.share import fair_share
from server.config import ClusterConfig
from server.storage.models import Camera, CameraLease, ClusterWorker

logger = logging.getLogger(__name__)

FORGET_WORKER_AFTER = timedelta(days=1)  # a worker row silent this long is deleted
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


class HasCameraId(Protocol):
    @property
    def camera_id(self) -> int: ...


CameraT = TypeVar("CameraT", bound=HasCameraId)


def default_worker_name() -> str:
    """The host name and process id, e.g. `shop-worker-7f9c-4121` (fits the 128 of the table)."""
    return f"{socket.gethostname()[:100]}-{os.getpid()}"


class CameraLeases:
    """This worker's leases on cameras.

    Example:
        leases = CameraLeases(sessionmaker, settings.cluster)
        task = asyncio.create_task(leases.run(lambda held: manager.request_reconcile()))
        ...; task.cancel(); (stop the cameras); await leases.release_all()

    It is also the pipeline's `CameraAssignment`: `assigned(cameras)` keeps the held ones.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        config: ClusterConfig,
        *,
        fence_margin_s: float | None = None,
        url: str | None = None,
    ) -> None:
        """`fence_margin_s`: how long before its leases expire an unrenewed worker lets its
        cameras go (default: a quarter of `lease_s`), time to stop them."""
        self.name = config.worker_name or default_worker_name()
        self.url = url  # where API instances reach it for live views
        self.capacity = config.worker_capacity
        self.lease_s = config.lease_s
        self.heartbeat_s = config.heartbeat_s
        self.fence_margin_s = config.lease_s / 4 if fence_margin_s is None else fence_margin_s
        self._sessionmaker = sessionmaker
        self._token = uuid.uuid4().hex  # this process's leases, not a namesake's
        self._held: frozenset[int] = frozenset()
        self._renewed_at = -math.inf  # monotonic start of the last successful round
        self._started = False
        self._renewal: asyncio.Task[frozenset[int]] | None = None  # the round in flight

    @property
    def held(self) -> frozenset[int]:
        """The cameras this worker may run now; empty once fenced."""
        return self._held if time.monotonic() < self._fence_at() else frozenset()

    def assigned(self, cameras: Sequence[CameraT]) -> list[CameraT]:
        """The cameras among `cameras` this worker holds."""
        held = self.held
        return [camera for camera in cameras if camera.camera_id in held]

    async def renew_and_claim(self) -> frozenset[int]:
        """One round (see the module docstring); the cameras held after it.

        When the database fails, the round changes nothing and the answer is `held`:
        what was held, until the fence empties it.
        """
        began = time.monotonic()
        try:
            async with self._sessionmaker() as session, session.begin():
                held = await self._round(session)
        except DATABASE_ERRORS as error:
            logger.warning("worker %s could not renew its camera leases: %r", self.name, error)
            return self.held
        self._held, self._renewed_at, self._started = held, began, True
        return self.held  # empty after all if the round outlasted the fence

    async def run(self, on_change: Callable[[frozenset[int]], None]) -> None:
        """Renew every `heartbeat_s` until cancelled; `on_change(held)` after each change.

        A failed round is retried at the next heartbeat or at the fence, whichever is
        first. A round that hangs (a network partition: the driver's cleanup cannot be
        cancelled either) is waited for only until the fence, which is then reported on
        time; the next round starts when the hung one ends.
        """
        reported: frozenset[int] = frozenset()

        def report() -> None:
            nonlocal reported
            if (held := self.held) != reported:
                reported = held
                on_change(held)

        try:
            while True:
                if self._renewal is None or self._renewal.done():
                    self._renewal = asyncio.create_task(
                        self.renew_and_claim(), name=f"lease-renewal-{self.name}"
                    )
                await asyncio.wait({self._renewal}, timeout=self._wait_limit())
                report()
                if self._renewal.done():
                    limit = self._wait_limit()
                    await asyncio.sleep(
                        self.heartbeat_s if limit is None else min(self.heartbeat_s, limit)
                    )
                    report()
        finally:
            if self._renewal is not None and not self._renewal.done():
                self._renewal.cancel()
                await asyncio.wait({self._renewal}, timeout=self.heartbeat_s)

    async def release_all(self) -> None:
        """Give every camera back and mark this worker stopped, so others take over at once.

        Call it after stopping this worker's cameras (and its `run`). A database that
        cannot be reached is logged: the leases then simply expire.
        """
        self._held, self._renewed_at = frozenset(), -math.inf
        try:
            async with self._sessionmaker() as session, session.begin():
                await session.execute(
                    _free(CameraLease.token == self._token),
                    execution_options={"synchronize_session": False},
                )
                await session.execute(
                    update(ClusterWorker)
                    .where(ClusterWorker.name == self.name)
                    .values(stopped_at=database_now(dialect_of(session))),
                    execution_options={"synchronize_session": False},
                )
        except DATABASE_ERRORS as error:
            logger.warning("worker %s could not release its camera leases: %r", self.name, error)

    # --- one round --------------------------------------------------------------------

    async def _round(self, session: AsyncSession) -> frozenset[int]:
        now = await self._heartbeat(session)
        expires = now + timedelta(seconds=self.lease_s)
        await self._drop_disabled(session, now)
        held = await self._renew(session, now, expires)
        await self._add_missing_rows(session)
        share = min(self.capacity, await self._fair_share(session, now))
        if len(held) > share:
            surplus = len(held) - self.capacity if len(held) > self.capacity else 1
            held -= await self._release(session, held, surplus)
        elif len(held) < share:
            held |= await self._claim(session, share - len(held), now, expires)
        await self._forget_dead_workers(session, now)
        return frozenset(held)

    async def _heartbeat(self, session: AsyncSession) -> datetime:
        """Insert or refresh this worker's row; the database's time."""
        dialect = dialect_of(session)
        now = database_now(dialect)
        insert = upsert(dialect)(ClusterWorker).values(
            name=self.name, capacity=self.capacity, started_at=now, heartbeat_at=now, url=self.url
        )
        changes = {
            "capacity": self.capacity,
            "heartbeat_at": now,
            "stopped_at": None,
            "url": self.url,
        }
        if not self._started:
            changes["started_at"] = now
        statement = insert.on_conflict_do_update(
            index_elements=[ClusterWorker.name], set_=changes
        ).returning(ClusterWorker.heartbeat_at)
        heartbeat: datetime = (await session.execute(statement)).scalar_one()
        return heartbeat

    async def _drop_disabled(self, session: AsyncSession, now: datetime) -> None:
        """Delete this worker's, free and expired leases of disabled cameras."""
        doomed = (
            select(CameraLease.camera_id)
            .join(Camera, Camera.id == CameraLease.camera_id)
            .where(
                Camera.enabled.is_(False),
                or_(
                    CameraLease.token == self._token,
                    CameraLease.expires_at.is_(None),
                    CameraLease.expires_at <= now,
                ),
            )
            .with_for_update(of=CameraLease, skip_locked=True)
        )
        await session.execute(
            delete(CameraLease).where(CameraLease.camera_id.in_(doomed)),
            execution_options={"synchronize_session": False},
        )

    async def _renew(self, session: AsyncSession, now: datetime, expires: datetime) -> set[int]:
        result = await session.execute(
            update(CameraLease)
            .where(
                CameraLease.worker_name == self.name,
                CameraLease.token == self._token,
                CameraLease.expires_at > now,
            )
            .values(expires_at=expires)
            .returning(CameraLease.camera_id),
            execution_options={"synchronize_session": False},
        )
        return set(result.scalars())

    async def _add_missing_rows(self, session: AsyncSession) -> None:
        """A free lease row for each enabled camera without one, so claims lock rows."""
        missing = (
            select(Camera.id)
            .where(
                Camera.enabled.is_(True),
                ~select(CameraLease.camera_id).where(CameraLease.camera_id == Camera.id).exists(),
            )
            .order_by(Camera.id)  # one order for every worker: no deadlock between inserts
        )
        insert = upsert(dialect_of(session))(CameraLease).from_select(["camera_id"], missing)
        await session.execute(insert.on_conflict_do_nothing(index_elements=["camera_id"]))

    async def _fair_share(self, session: AsyncSession, now: datetime) -> int:
        cameras = await session.scalar(
            select(func.count()).select_from(Camera).where(Camera.enabled.is_(True))
        )
        capacities = await session.scalars(
            select(ClusterWorker.capacity).where(
                ClusterWorker.stopped_at.is_(None),
                ClusterWorker.heartbeat_at > now - timedelta(seconds=self.lease_s),
            )
        )
        return fair_share(cameras or 0, list(capacities))

    async def _release(self, session: AsyncSession, held: set[int], count: int) -> set[int]:
        """Give back `count` held cameras, the most recently claimed first."""
        newest = (
            select(CameraLease.camera_id)
            .where(CameraLease.token == self._token, CameraLease.camera_id.in_(held))
            .order_by(CameraLease.acquired_at.desc(), CameraLease.camera_id.desc())
            .limit(count)
        )
        released = await session.execute(
            _free(CameraLease.camera_id.in_(newest)).returning(CameraLease.camera_id),
            execution_options={"synchronize_session": False},
        )
        return set(released.scalars())

    async def _claim(
        self, session: AsyncSession, count: int, now: datetime, expires: datetime
    ) -> set[int]:
        """Take up to `count` free or expired leases of enabled cameras; others' locks are
        skipped, never waited for."""
        free = (
            select(CameraLease.camera_id)
            .join(Camera, Camera.id == CameraLease.camera_id)
            .where(
                Camera.enabled.is_(True),
                or_(CameraLease.expires_at.is_(None), CameraLease.expires_at <= now),
            )
            .order_by(CameraLease.camera_id)
            .limit(count)
            .with_for_update(of=CameraLease, skip_locked=True)
        )
        claimed = set((await session.scalars(free)).all())
        if claimed:
            await session.execute(
                update(CameraLease)
                .where(CameraLease.camera_id.in_(claimed))
                .values(
                    worker_name=self.name, token=self._token, acquired_at=now, expires_at=expires
                ),
                execution_options={"synchronize_session": False},
            )
        return claimed

    async def _forget_dead_workers(self, session: AsyncSession, now: datetime) -> None:
        dead = (
            select(ClusterWorker.name)
            .where(ClusterWorker.heartbeat_at < now - FORGET_WORKER_AFTER)
            .with_for_update(skip_locked=True)
        )
        await session.execute(
            delete(ClusterWorker).where(ClusterWorker.name.in_(dead)),
            execution_options={"synchronize_session": False},
        )

    # --- the fence --------------------------------------------------------------------

    def _fence_at(self) -> float:
        return self._renewed_at + self.lease_s - self.fence_margin_s

    def _wait_limit(self) -> float | None:
        """Seconds until this worker must hold nothing; None when it holds nothing."""
        if not self.held:
            return None
        return max(0.0, self._fence_at() - time.monotonic())


def _free(condition: ColumnElement[bool]) -> Update:
    """The UPDATE that makes the leases matching `condition` free."""
    return (
        update(CameraLease)
        .where(condition)
        .values(worker_name=None, token=None, acquired_at=None, expires_at=None)
    )
