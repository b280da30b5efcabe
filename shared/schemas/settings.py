"""Detection, evidence and retention settings that admins edit at run time.

The server's configuration embeds these models, so their bounds hold for the file, the
environment and the API alike.
"""

from pydantic import BaseModel, ConfigDict, Field


class DetectionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Behaviour score that opens an alert (0..1) on cameras whose threshold no "
        "budget sets (budgets off, or under a day of scored video); null: the behaviour "
        "model's own operating threshold (docs/model-card.md). A camera may set its own.",
    )
    alert_budget_per_day: float | None = Field(
        None,
        gt=0.0,
        le=1000.0,
        description="At most this many alerts per camera per day: each camera's threshold "
        "follows from its own recent scores (a camera may set its own budget or threshold); "
        "null: the behaviour model's evaluated figure (3 while its file states none).",
    )
    budget_thresholds: bool = Field(
        True,
        description="Derive cameras' thresholds from alert budgets; off: cameras without "
        "their own threshold use `threshold`.",
    )
    dedup_window_s: float = Field(
        300.0, ge=10.0, le=86400.0, description="Seconds an alert stays open to absorb repeats."
    )
    analysis_fps: float = Field(
        5.0, ge=0.5, le=30.0, description="Frames per second analysed per camera."
    )


class ClipSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pre_roll_s: float = Field(
        2.0, ge=0.0, le=30.0, description="Seconds of video before the event."
    )
    post_roll_s: float = Field(
        2.0, ge=0.0, le=60.0, description="Seconds of video after the event."
    )
    max_event_s: float = Field(
        30.0,
        ge=1.0,
        le=300.0,
        description="Seconds of a long incident the clip follows at most (then the post-roll).",
    )


class RetentionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unreviewed_days: int = Field(
        30, ge=1, le=3650, description="Days to keep evidence of unreviewed and false alarms."
    )
    confirmed_days: int = Field(
        365, ge=1, le=3650, description="Days to keep evidence of confirmed thefts."
    )
    disk_cap_gb: float = Field(
        50.0, ge=0.1, le=100000.0, description="Evidence above this size is deleted oldest first."
    )


class RuntimeSettings(BaseModel):
    """Everything editable through `/api/v1/settings`."""

    model_config = ConfigDict(extra="forbid")

    detection: DetectionSettings = DetectionSettings()
    clips: ClipSettings = ClipSettings()
    retention: RetentionSettings = RetentionSettings()


class RuntimeSettingsUpdate(BaseModel):
    """Fields to change, by section; fields and sections left out keep their values."""

    model_config = ConfigDict(extra="forbid")

    detection: DetectionSettings | None = None
    clips: ClipSettings | None = None
    retention: RetentionSettings | None = None
