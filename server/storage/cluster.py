"""Cluster status queries: the workers in the lease table and each enabled camera's lease."""

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.cluster.dialect import read_database_now
from server.storage.models import Camera, CameraLease, ClusterWorker
from shared.schemas.cluster import (
    CameraLeasePublic,
    CameraLeasesPublic,
    ClusterWorkerPublic,
    ClusterWorkersPublic,
)


async def list_workers(*, session: AsyncSession, lease_s: float) -> ClusterWorkersPublic:
    """Every worker, by name; alive when it renewed within `lease_s` and has not stopped."""
    now = await read_database_now(session)
    held: defaultdict[str, list[int]] = defaultdict(list)
    leases = await session.execute(
        select(CameraLease.worker_name, CameraLease.camera_id)
        .where(CameraLease.expires_at > now)
        .order_by(CameraLease.camera_id)
    )
    for worker_name, camera_id in leases:
        if worker_name is not None:
            held[worker_name].append(camera_id)
    workers = await session.scalars(select(ClusterWorker).order_by(ClusterWorker.name))
    data = [
        ClusterWorkerPublic(
            name=worker.name,
            capacity=worker.capacity,
            started_at=worker.started_at,
            heartbeat_at=worker.heartbeat_at,
            stopped_at=worker.stopped_at,
            alive=worker.stopped_at is None
            and worker.heartbeat_at > now - timedelta(seconds=lease_s),
            camera_ids=held.get(worker.name, []),
            url=worker.url,
        )
        for worker in workers
    ]
    return ClusterWorkersPublic(data=data, count=len(data))


async def list_camera_leases(*, session: AsyncSession) -> CameraLeasesPublic:
    """Every enabled camera with the worker holding an unexpired lease on it, if any."""
    now = await read_database_now(session)
    rows = await session.execute(
        select(Camera.id, Camera.name, Camera.store_id, CameraLease)
        .outerjoin(CameraLease, CameraLease.camera_id == Camera.id)
        .where(Camera.enabled.is_(True))
        .order_by(Camera.id)
    )
    data = []
    for camera_id, name, store_id, lease in rows:
        held = lease is not None and lease.expires_at is not None and lease.expires_at > now
        data.append(
            CameraLeasePublic(
                camera_id=camera_id,
                camera_name=name,
                store_id=store_id,
                worker=lease.worker_name if held else None,
                acquired_at=lease.acquired_at if held else None,
                expires_at=lease.expires_at if held else None,
            )
        )
    return CameraLeasesPublic(data=data, count=len(data))


async def camera_worker_url(*, session: AsyncSession, camera_id: int) -> str | None:
    """Where the worker holding an unexpired lease on the camera serves its live view."""
    now = await read_database_now(session)
    url: str | None = await session.scalar(
        select(ClusterWorker.url)
        .join(CameraLease, CameraLease.worker_name == ClusterWorker.name)
        .where(CameraLease.camera_id == camera_id, CameraLease.expires_at > now)
    )
    return url
