"""Cluster status (admins only): the camera workers and which of them runs each camera."""

from fastapi import APIRouter

from server.api.deps import AdminUser, SessionDep, SettingsDep
from server.storage import cluster
from shared.schemas.cluster import CameraLeasesPublic, ClusterWorkersPublic

router = APIRouter(prefix="/cluster", tags=["cluster"])


@router.get("/workers")
async def read_workers(
    _: AdminUser, session: SessionDep, settings: SettingsDep
) -> ClusterWorkersPublic:
    """Every worker: capacity, last heartbeat, whether it is alive, the cameras it holds."""
    return await cluster.list_workers(session=session, lease_s=settings.cluster.lease_s)


@router.get("/cameras")
async def read_camera_leases(_: AdminUser, session: SessionDep) -> CameraLeasesPublic:
    """Every enabled camera: the worker holding its lease (null: none) and when it expires."""
    return await cluster.list_camera_leases(session=session)
