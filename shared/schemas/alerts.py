"""Alerts: one per incident (camera, zone, event type within the dedup window), then reviewed."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.schemas.money import GoodsValue, Money

TEST_EVENT_TYPE = "test"
"""Event type of alerts raised on demand to check delivery (not counted as detections)."""


class AlertStatus(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    reviewed = "reviewed"


class AlertOutcome(StrEnum):
    """What the review found."""

    confirmed_theft = "confirmed_theft"
    false_alarm = "false_alarm"
    deterred = "deterred"
    unclear = "unclear"


VALUED_OUTCOMES = frozenset({AlertOutcome.confirmed_theft, AlertOutcome.deterred})
"""Outcomes that may carry the goods' value: stolen (theft) or at risk (deterred)."""


class ClipStatus(StrEnum):
    """Where an alert's evidence clip is: queued and recording, being written, ready, or
    failed (the alert says why in the server's log)."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class AlertUpdate(BaseModel):
    """A review step. Setting an outcome marks the alert reviewed."""

    model_config = ConfigDict(extra="forbid")

    status: AlertStatus | None = None
    outcome: AlertOutcome | None = None
    notes: str | None = Field(default=None, max_length=4000)
    goods_value: GoodsValue | None = Field(
        default=None,
        description="What the goods were worth in the store's currency: stolen (confirmed "
        "theft) or at risk (deterred). Only with one of those outcomes, sent here or already "
        "recorded; null removes a recorded value.",
    )
    goods_recovered: bool | None = Field(
        default=None,
        strict=True,  # true or false, not "yes" or 1
        description="Whether stolen goods were got back (confirmed theft only); null: unknown.",
    )
    if_version: int | None = Field(
        default=None,
        ge=1,
        description="The version you last saw; a different current version answers 409.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "AlertUpdate":
        if self.status is AlertStatus.reviewed and self.outcome is None:
            raise ValueError("a reviewed alert needs an outcome")
        if self.outcome is not None and self.status not in (None, AlertStatus.reviewed):
            raise ValueError("an outcome only goes with status reviewed")
        goods = {"goods_value", "goods_recovered"} & self.model_fields_set
        if self.status is None and self.outcome is None and self.notes is None and not goods:
            raise ValueError("nothing to change: give status, outcome, notes or the goods' value")
        if self.status in (AlertStatus.new, AlertStatus.acknowledged) and self.values_goods:
            raise ValueError("the goods' value only goes with a reviewed alert")
        if self.outcome not in (None, *VALUED_OUTCOMES) and self.goods_value is not None:
            raise ValueError("goods_value only goes with outcome confirmed_theft or deterred")
        theft = self.outcome in (None, AlertOutcome.confirmed_theft)
        if not theft and self.goods_recovered is not None:
            raise ValueError("goods_recovered only goes with outcome confirmed_theft")
        return self

    @property
    def values_goods(self) -> bool:
        """The step records a value or the recovery (rather than nothing or removing them)."""
        return self.goods_value is not None or self.goods_recovered is not None


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    store_id: int
    camera_id: int
    zone: str
    event_type: str
    peak_score: float
    started_at: datetime
    last_seen_at: datetime
    status: AlertStatus
    outcome: AlertOutcome | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    notes: str
    track_ids: list[int]
    has_snapshot: bool
    has_clip: bool
    has_annotated_clip: bool = Field(
        default=False, description="The clip with people, skeletons and scores drawn on it."
    )
    clip_status: ClipStatus | None = Field(
        default=None, description="The evidence clip's progress; null when none is made."
    )
    goods_value: Money | None = Field(
        default=None,
        description="The goods' value in `currency`, as a string with two decimals: stolen "
        "(confirmed theft) or at risk (deterred); null when none is recorded.",
    )
    goods_recovered: bool | None = Field(
        default=None, description="Stolen goods got back (confirmed theft only); null: unknown."
    )
    currency: str | None = Field(
        default=None,
        description="The store's currency (ISO 4217) for `goods_value`; null in live events.",
    )
    version: int
    thumbnail_url: str | None = Field(
        default=None,
        description="Signed path of the snapshot as a small JPEG (240 px wide) for lists, "
        "good for 1 to 2 hours; null without a snapshot, and in live events (ask "
        "`POST /alerts/thumbnail-links`).",
    )


class AlertsPublic(BaseModel):
    data: list[AlertPublic]
    count: int = Field(description="How many alerts match the filters in all.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class EvidenceName(StrEnum):
    """An alert's evidence files."""

    snapshot = "snapshot.jpg"
    clip = "clip.mp4"
    annotated = "annotated.mp4"


class MediaLinksPublic(BaseModel):
    snapshot_url: str | None = Field(description="Path of a signed link; null: none yet.")
    clip_url: str | None = Field(description="Path of a signed link; null: none yet.")
    annotated_url: str | None = Field(
        default=None, description="The annotated clip's signed link; null: none yet."
    )
    expires_at: datetime


class ThumbnailLinksRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_ids: list[int] = Field(min_length=1, max_length=200)


class ThumbnailLink(BaseModel):
    alert_id: int
    url: str | None = Field(description="Signed path of the thumbnail; null: no snapshot yet.")


class ThumbnailLinksPublic(BaseModel):
    data: list[ThumbnailLink] = Field(
        description="The alerts asked for that you may see and that exist, in the order asked."
    )
    expires_at: datetime


SHARE_DEFAULT_S = 72 * 3600
SHARE_MAX_S = 7 * 24 * 3600


class EvidenceShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    annotated: bool = Field(
        default=False, description="Share the annotated clip too (it must be made already)."
    )
    expires_in_s: int = Field(
        default=SHARE_DEFAULT_S,
        ge=1,
        le=SHARE_MAX_S,
        description="Seconds the download links work (default 72 hours, at most 7 days).",
    )


class SharedEvidenceFile(BaseModel):
    name: EvidenceName
    filename: str = Field(description="The name it downloads as, e.g. shopguard-alert-7-clip.mp4.")
    path: str = Field(description="Signed path of the download; no sign-in needed.")
    url: str = Field(description="The whole link, on the address the request came to.")
    size_bytes: int
    sha256: str = Field(description="Hex SHA-256 of the stored file: the download's bytes.")


class EvidenceSharePublic(BaseModel):
    alert_id: int
    clip: SharedEvidenceFile
    annotated: SharedEvidenceFile | None = Field(description="Only when asked for.")
    expires_at: datetime
    shared_by: str
    shared_at: datetime
