"""Labelled episodes: pose tracks (keypoints only, no pixels) that reviews turned into training
data: a reviewed alert's people, or a missed theft a supervisor marked on a camera."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_MARK_S = 600.0
"""Longest span one missed-theft mark may cover."""


class EpisodeLabel(StrEnum):
    """What the people did: a theft (positive) or nothing wrong (negative)."""

    theft = "theft"
    normal = "normal"


class EpisodeSource(StrEnum):
    """Where the label came from."""

    alert_review = "alert_review"  # an alert reviewed as a confirmed theft or a false alarm
    missed_theft = "missed_theft"  # a theft the cameras did not alert on, marked by a person


class MissedTheftCreate(BaseModel):
    """A theft on this camera that raised no alert, from `start` to `end`."""

    model_config = ConfigDict(extra="forbid")

    start: datetime = Field(description="When the theft began (with a time zone).")
    end: datetime = Field(description="When it ended; at most 10 minutes after `start`.")
    notes: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _span(self) -> "MissedTheftCreate":
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a time zone, e.g. 2026-12-02T14:02:00Z")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).total_seconds() > MAX_MARK_S:
            raise ValueError(f"a mark covers at most {MAX_MARK_S:g} seconds")
        return self


class LabelledEpisodePublic(BaseModel):
    id: int
    store_id: int
    camera_id: int
    source: EpisodeSource
    label: EpisodeLabel
    alert_id: int | None = Field(description="The reviewed alert; null for a missed theft.")
    start: datetime = Field(description="The labelled span's start.")
    end: datetime = Field(description="The labelled span's end.")
    kept_from: datetime = Field(description="The poses kept begin here (a margin before).")
    kept_to: datetime = Field(description="... and end here (a margin after).")
    track_ids: list[int] = Field(description="The people (track ids) whose poses are kept.")
    poses: int = Field(description="Poses kept (one per person per analysed frame).")
    frames: int = Field(description="Analysed frames in the kept span.")
    size_bytes: int
    created_at: datetime
    created_by: str | None
    notes: str


class LabelledEpisodesPublic(BaseModel):
    data: list[LabelledEpisodePublic]
    count: int = Field(description="How many episodes match the filters in all.")
