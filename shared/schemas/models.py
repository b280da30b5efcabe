"""The behaviour models: the active one, a candidate running in shadow, the previous one, and
the before/after report an admin reads before promoting the candidate (docs/api.md)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from shared.schemas.cameras import CameraThreshold
from shared.schemas.pipeline import StageTimes


class ModelRole(StrEnum):
    active = "active"  # scores every camera; its alerts are sent
    candidate = "candidate"  # scores in shadow: its alerts are counted, never sent
    previous = "previous"  # the active one before the last promotion or restore


class ModelSource(StrEnum):
    """Where a model file comes from."""

    shipped = "shipped"  # weights/behaviour-xgb.json, shipped with ShopGuard
    configured = "configured"  # the file set in pipeline.behaviour_model
    promoted = "promoted"  # promoted from a candidate, kept in the data directory
    trained = "trained"  # written into the candidate slot by `shopguard model train --candidate`


class BehaviourModelPublic(BaseModel):
    role: ModelRole
    source: ModelSource
    location: str = Field(description="The model's file on the server.")
    identity: str | None = Field(
        description="sha256 of the model's file; null when the file cannot be read."
    )
    trained_at: datetime | None = Field(description="When it was trained, as its file states.")
    threshold: float | None = Field(description="Its own operating threshold (0..1).")
    info: dict[str, Any] = Field(
        description="What training stored in the file: data, parameters and evaluation "
        "figures, passed through as written (the layout belongs to `shopguard model train`)."
    )
    error: str | None = Field(
        description="Why the model is refused (unreadable, damaged, wrong features); null: "
        "it loads."
    )


class DayCounts(BaseModel):
    """One UTC day of a camera beside the candidate."""

    day: date
    scored_hours: float = Field(description="Hours the candidate scored this camera that day.")
    active_alerts: int = Field(description="Alerts the active model raised meanwhile.")
    candidate_alerts: int = Field(description="Alerts the candidate would have raised.")


class ReviewOverlap(BaseModel):
    """Reviewed alerts of the active model, and how many of them the candidate would also
    have raised (a would-be alert on the same camera overlapping the alert in time)."""

    reviewed: int
    also_raised: int


class CameraComparison(BaseModel):
    """One camera over the time the candidate scored it beside the active model."""

    camera_id: int
    store_id: int
    name: str
    scored_hours: float = Field(description="Hours of this camera the candidate scored.")
    active_alerts: int = Field(description="Alerts the active model raised in those hours.")
    candidate_alerts: int = Field(description="Alerts the candidate would have raised.")
    active_alerts_per_day: float | None = Field(description="null before an hour is scored.")
    candidate_alerts_per_day: float | None = Field(description="null before an hour is scored.")
    candidate_only_alerts: int = Field(
        description="Would-be alerts that overlap none of the active model's alerts."
    )
    confirmed: ReviewOverlap = Field(
        description="The active model's alerts reviewed as real (confirmed theft, deterred)."
    )
    false_alarms: ReviewOverlap = Field(
        description="The active model's alerts reviewed as false alarms."
    )
    active_threshold: CameraThreshold | None = Field(
        description="The active model's threshold in force for this camera."
    )
    candidate_threshold: CameraThreshold | None = Field(
        description="The threshold the candidate is held to here: the camera's own, its "
        "budget's from the candidate's own track peaks, else the global or the candidate's."
    )
    shadow_scoring: StageTimes | None = Field(
        description="The candidate's scoring time per scored frame on this camera (in this "
        "process, since it started); null when this process does not run the camera."
    )
    days: list[DayCounts]


class ShadowPublic(BaseModel):
    """The candidate's shadow run: its would-be alerts beside the active model's real ones."""

    identity: str
    running: bool = Field(description="Whether cameras are scoring with it now.")
    since: datetime | None = Field(description="The first moment it scored a camera.")
    scored_hours: float
    active_alerts: int
    candidate_alerts: int
    confirmed: ReviewOverlap
    false_alarms: ReviewOverlap
    cameras: list[CameraComparison]


class ModelsPublic(BaseModel):
    active: BehaviourModelPublic
    candidate: BehaviourModelPublic | None = Field(description="null: no candidate is waiting.")
    previous: BehaviourModelPublic | None = Field(description="null: nothing to go back to.")
    shadow: ShadowPublic | None = Field(
        description="The candidate's before/after report; null without a loadable candidate."
    )


class ModelPromote(BaseModel):
    """Promote the candidate; with `identity`, only if it is still that one (not a model
    written into the slot since the report was read)."""

    identity: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
