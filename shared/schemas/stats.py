"""Alert statistics over a time range, for the Stats screen.

Fields added after the first version carry defaults, so an app can read an older server's
answer (and an older app simply ignores them)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

NOISY_FALSE_ALARM_SHARE = 0.5
"""A camera whose reviewed alerts are at least this share false alarms..."""
NOISY_MIN_REVIEWED = 5
"""...out of at least this many reviewed alerts gets the `raise_threshold` hint."""


class CameraHint(StrEnum):
    """Advice for a camera, as a stable code the app words in its language."""

    raise_threshold = "raise_threshold"
    """Many of its reviewed alerts are false alarms: consider raising its threshold."""


class OutcomeCounts(BaseModel):
    """Alerts by what their review found; not yet reviewed ones apart."""

    confirmed_theft: int = 0
    deterred: int = 0
    false_alarm: int = 0
    unclear: int = 0
    not_reviewed: int = 0


class Bucket(BaseModel):
    start: datetime
    count: int


class DayBucket(Bucket):
    """A local day; `outcomes` splits its `count`."""

    outcomes: OutcomeCounts = Field(default_factory=OutcomeCounts)


class HourOfDay(BaseModel):
    hour: int = Field(ge=0, le=23, description="Local hour: 0 is from midnight to 1 am.")
    count: int


class CameraStats(BaseModel):
    camera_id: int
    store_id: int
    name: str = ""
    alerts: int
    reviewed: int
    confirmed: int
    false_alarms: int = 0
    share_confirmed: float | None = Field(
        default=None, description="Confirmed theft / reviewed; null when nothing is reviewed."
    )
    share_false_alarm: float | None = Field(
        default=None, description="False alarms / reviewed; null when nothing is reviewed."
    )
    hint: CameraHint | None = Field(
        default=None,
        description=(
            f"raise_threshold: at least {NOISY_FALSE_ALARM_SHARE:.0%} of at least "
            f"{NOISY_MIN_REVIEWED} reviewed alerts were false alarms."
        ),
    )


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
    false_alarms: int = 0
    share_reviewed: float | None = Field(description="Reviewed / all; null without alerts.")
    share_confirmed: float | None = Field(
        description="Confirmed theft / reviewed; null when nothing is reviewed."
    )
    share_false_alarm: float | None = Field(
        default=None, description="False alarms / reviewed; null when nothing is reviewed."
    )
    median_time_to_review_s: float | None
    outcomes: OutcomeCounts = Field(default_factory=OutcomeCounts)
    per_hour: list[Bucket]
    per_day: list[DayBucket]
    per_hour_of_day: list[HourOfDay] = Field(
        default_factory=list, description="Hours 0 to 23 of the local day, over the range."
    )
    per_camera: list[CameraStats] = Field(
        description="Cameras with alerts in the range, by id; see `hint` for noisy ones."
    )
    per_store: list[StoreStats]
