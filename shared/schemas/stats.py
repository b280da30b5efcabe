"""Alert statistics over a time range, for the Stats screen."""

from datetime import datetime

from pydantic import BaseModel, Field


class Bucket(BaseModel):
    start: datetime
    count: int


class CameraStats(BaseModel):
    camera_id: int
    store_id: int
    alerts: int
    reviewed: int
    confirmed: int


class StoreStats(BaseModel):
    store_id: int
    alerts: int
    reviewed: int
    confirmed: int


class StatsPublic(BaseModel):
    since: datetime
    until: datetime
    timezone: str = Field(description="Zone in which hours and days are counted.")
    alerts: int
    reviewed: int
    confirmed: int
    share_reviewed: float | None = Field(description="Reviewed / all; null without alerts.")
    share_confirmed: float | None = Field(
        description="Confirmed theft / reviewed; null when nothing is reviewed."
    )
    median_time_to_review_s: float | None
    per_hour: list[Bucket]
    per_day: list[Bucket]
    per_camera: list[CameraStats]
    per_store: list[StoreStats]
