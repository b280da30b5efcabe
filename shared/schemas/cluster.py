"""Cluster status: the workers that run cameras under lease, and who runs each camera."""

from datetime import datetime

from pydantic import BaseModel, Field


class ClusterWorkerPublic(BaseModel):
    name: str
    capacity: int = Field(description="Most cameras the worker runs at once.")
    started_at: datetime
    heartbeat_at: datetime = Field(description="Its last lease renewal (database clock).")
    stopped_at: datetime | None = Field(description="Set when it shut down cleanly.")
    alive: bool = Field(description="Renewed within the lease time and not stopped.")
    camera_ids: list[int] = Field(description="The cameras it holds an unexpired lease on.")
    url: str | None = Field(description="Where API instances reach it for live views.")


class ClusterWorkersPublic(BaseModel):
    data: list[ClusterWorkerPublic]
    count: int


class CameraLeasePublic(BaseModel):
    camera_id: int
    camera_name: str
    store_id: int
    worker: str | None = Field(description="The worker running it; null: none holds it.")
    acquired_at: datetime | None
    expires_at: datetime | None = Field(description="Unless the worker renews it first.")


class CameraLeasesPublic(BaseModel):
    data: list[CameraLeasePublic]
    count: int
