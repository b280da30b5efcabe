"""Cameras, DVRs and their zones. Source URLs come back with credentials masked."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MIN_ANALYSIS_WIDTH = 256  # pose input widths a camera may ask for (multiples of 32)
MAX_ANALYSIS_WIDTH = 1280


class SourceKind(StrEnum):
    rtsp = "rtsp"
    http = "http"
    usb = "usb"
    file = "file"


class CameraStatus(StrEnum):
    """Connection state, driven by the video pipeline."""

    connecting = "connecting"
    online = "online"
    degraded = "degraded"
    offline = "offline"
    disabled = "disabled"


class ThresholdSource(StrEnum):
    """Where a camera's threshold in force comes from."""

    manual = "manual"  # the camera's own `threshold`
    budget = "budget"  # derived from its alert budget and its own recent scores
    learning = "learning"  # a budget applies but under a day of scored video: global/model's
    model = "model"  # budgets are off: the global threshold, else the model's


class ZoneKind(StrEnum):
    shelf = "shelf"
    exit = "exit"
    checkout = "checkout"
    queue = "queue"  # a checkout queue: its length and the wait are measured
    entrance = "entrance"
    staff = "staff"  # staff only
    ignore = "ignore"  # not analysed: nobody in it raises alerts or is counted
    other = "other"


MAX_LINES = 8  # counting lines per camera


_SCHEMES: dict[SourceKind, tuple[str, ...]] = {
    SourceKind.rtsp: ("rtsp://", "rtsps://"),
    SourceKind.http: ("http://", "https://"),
}


def check_source(kind: SourceKind, url: str) -> None:
    """Raise ValueError when `url` cannot be a source of `kind`."""
    schemes = _SCHEMES.get(kind)
    if schemes is not None and not url.lower().startswith(schemes):
        raise ValueError(f"a {kind.value} source must start with {' or '.join(schemes)}")
    if schemes is not None:
        host = url.split("://", 1)[1].rpartition("@")[2].split("/", 1)[0].split("?", 1)[0]
        if not host or any(c.isspace() for c in url):
            raise ValueError(
                "the URL needs a host (and no spaces), e.g. rtsp://user:pw@10.0.0.5/ch1"
            )
    if kind is SourceKind.usb and not (url.isdigit() or url.startswith("/dev/video")):
        raise ValueError("a usb source is a device index such as 0 or a path such as /dev/video0")
    if kind is SourceKind.file and "://" in url:
        raise ValueError("a file source is a path on the server, not a URL")


class Zone(BaseModel):
    """A polygon in normalised image coordinates (0..1, origin top left)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    kind: ZoneKind = ZoneKind.shelf
    polygon: list[tuple[float, float]] = Field(min_length=3, max_length=64)

    @field_validator("polygon")
    @classmethod
    def _inside_image(cls, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if any(not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0) for x, y in points):
            raise ValueError("polygon points must lie in 0..1 (fractions of width and height)")
        return points


class CountingLine(BaseModel):
    """A line people are counted crossing, from `a` to `b` in fractions of the picture
    (0..1, origin top left). Crossing it towards the right-hand side of a→b, as seen on the
    picture, counts as going in; the other way, as going out."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    a: tuple[float, float]
    b: tuple[float, float]

    @field_validator("a", "b")
    @classmethod
    def _inside_image(cls, point: tuple[float, float]) -> tuple[float, float]:
        x, y = point
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError("line ends must lie in 0..1 (fractions of width and height)")
        return point

    @model_validator(mode="after")
    def _has_length(self) -> "CountingLine":
        (ax, ay), (bx, by) = self.a, self.b
        if (ax - bx) ** 2 + (ay - by) ** 2 < 0.02**2:
            raise ValueError("a counting line needs its ends at least 2% of the picture apart")
        return self


class CameraOverrides(BaseModel):
    """Per-camera settings that replace the global ones when set."""

    threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Alert threshold for this camera; set, it wins over any alert budget.",
    )
    alert_budget_per_day: float | None = Field(
        default=None,
        gt=0.0,
        le=1000.0,
        description="At most this many alerts a day from this camera: its threshold follows "
        "from its own recent scores; null: the global `detection.alert_budget_per_day`.",
    )
    analysis_fps: float | None = Field(
        default=None, ge=0.5, le=30.0, description="Frames per second analysed for this camera."
    )
    analysis_width: int | None = Field(
        default=None,
        ge=MIN_ANALYSIS_WIDTH,
        le=MAX_ANALYSIS_WIDTH,
        multiple_of=32,
        description="Pose model input width in pixels for this camera (larger finds smaller "
        "people and costs more); a multiple of 32.",
    )


class CameraCreate(CameraOverrides):
    model_config = ConfigDict(extra="forbid")

    store_id: int
    name: str = Field(min_length=1, max_length=120)
    source_kind: SourceKind
    source_url: str = Field(min_length=1, max_length=2000, description="Main stream, for evidence.")
    substream_url: str | None = Field(
        default=None, max_length=2000, description="Lower-resolution stream for analysis."
    )
    location: str = Field(default="", max_length=200)
    zones: list[Zone] = Field(default_factory=list, max_length=32)
    lines: list[CountingLine] = Field(default_factory=list, max_length=MAX_LINES)
    enabled: bool = True

    @model_validator(mode="after")
    def _source_matches_kind(self) -> "CameraCreate":
        check_source(self.source_kind, self.source_url)
        if self.substream_url is not None:
            check_source(self.source_kind, self.substream_url)
        return self


class CameraUpdate(CameraOverrides):
    """Fields to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    source_kind: SourceKind | None = None
    source_url: str | None = Field(default=None, min_length=1, max_length=2000)
    substream_url: str | None = Field(default=None, max_length=2000)
    location: str | None = Field(default=None, max_length=200)
    zones: list[Zone] | None = Field(default=None, max_length=32)
    lines: list[CountingLine] | None = Field(default=None, max_length=MAX_LINES)
    enabled: bool | None = None


class CameraThreshold(BaseModel):
    """The threshold in force for a camera and what it gives (docs/api.md, alert budget)."""

    threshold_source: ThresholdSource
    effective_threshold: float | None = Field(
        description="The threshold alerts are held to now; null: the behaviour model's, "
        "and no model is loaded."
    )
    expected_alerts_per_day: float | None = Field(
        description="Alerts a day at that threshold on this camera's recent scores; null "
        "under a day of scored video."
    )
    aimed_alerts_per_day: float | None = Field(
        description="What the budget aims at: the camera's or the global budget times "
        "`review_factor`; null when no budget applies (manual, model)."
    )
    review_factor: float = Field(
        description="1, or less when many of the camera's reviewed alerts were false alarms."
    )
    scored_days: float = Field(
        description="Days of this camera's video scored by the current model over the last "
        "7 days; a budget sets the threshold from 1."
    )


class CameraPublic(BaseModel):
    id: int
    store_id: int
    name: str
    source_kind: SourceKind
    source_url: str = Field(description="The main stream URL with any password masked.")
    substream_url: str | None
    has_credentials: bool
    dvr_id: int | None
    channel: int | None
    location: str
    zones: list[Zone]
    lines: list[CountingLine] = Field(default_factory=list)
    enabled: bool
    threshold: float | None
    alert_budget_per_day: float | None
    threshold_source: ThresholdSource
    effective_threshold: float | None
    expected_alerts_per_day: float | None
    aimed_alerts_per_day: float | None
    review_factor: float
    scored_days: float
    analysis_fps: float | None
    analysis_width: int | None
    status: CameraStatus
    status_since: datetime
    last_error: str | None
    open_alerts: int = Field(default=0, description="Its alerts not reviewed yet (new or seen).")
    created_at: datetime
    updated_at: datetime


class CamerasPublic(BaseModel):
    data: list[CameraPublic]
    count: int


class DvrCreate(BaseModel):
    """A DVR or NVR: one entry creates a camera per channel."""

    model_config = ConfigDict(extra="forbid")

    store_id: int
    name: str = Field(min_length=1, max_length=110, description="Cameras are named `<name> ch<N>`.")
    source_kind: SourceKind = SourceKind.rtsp
    url_template: str = Field(
        min_length=1,
        max_length=2000,
        description="Main-stream URL with `{channel}`, e.g. rtsp://u:p@dvr/ch{channel}/main.",
    )
    substream_url_template: str | None = Field(default=None, max_length=2000)
    channels: int = Field(ge=1, le=64)
    first_channel: int = Field(default=1, ge=0, le=64)
    location: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _templates(self) -> "DvrCreate":
        for template in (self.url_template, self.substream_url_template):
            if template is None:
                continue
            if "{channel}" not in template:
                raise ValueError("URL templates must contain {channel}")
            check_source(self.source_kind, template.replace("{channel}", "1"))
        return self


class DvrPublic(BaseModel):
    id: int
    store_id: int
    name: str
    source_kind: SourceKind
    url_template: str = Field(description="The template with any password masked.")
    channels: int
    first_channel: int
    camera_ids: list[int]
    created_at: datetime


class DvrsPublic(BaseModel):
    data: list[DvrPublic]
    count: int


class SourceProbe(BaseModel):
    """A source to try before saving it. For a saved camera, a masked URL (as the API shows
    it) stands for the stored one."""

    model_config = ConfigDict(extra="forbid")

    source_kind: SourceKind
    source_url: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _source_matches_kind(self) -> "SourceProbe":
        check_source(self.source_kind, self.source_url)
        return self


class SourceProbeResult(BaseModel):
    """What opening the source gave: a picture's codec and size, or why it failed."""

    ok: bool
    source_url: str = Field(description="The URL tried, with any password masked.")
    message: str = Field(description="One line for people: what was found, or what is wrong.")
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    seconds: float = Field(description="How long opening and decoding the first picture took.")
