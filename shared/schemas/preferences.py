"""Which alerts push to a user's devices: stores, cameras, quiet hours and an on/off switch."""

import re
from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _check_clock(value: str) -> str:
    if not CLOCK.fullmatch(value):
        raise ValueError(f"{value[:20]!r} is not a time of day; use 24-hour HH:MM, e.g. 22:00")
    return value


def _unique_ids(ids: list[int]) -> list[int]:
    return sorted(set(ids))


ClockTime = Annotated[
    str,
    AfterValidator(_check_clock),
    Field(
        description="24-hour HH:MM.",
        examples=["22:00"],
        json_schema_extra={"pattern": f"^{CLOCK.pattern}$"},
    ),
]
IdChoice = Annotated[list[int], Field(max_length=1000), AfterValidator(_unique_ids)]


class QuietHours(BaseModel):
    """A daily stretch without pushes, in the local time of each alert's store. A start
    later than the end wraps past midnight (22:00 to 07:00)."""

    model_config = ConfigDict(extra="forbid")

    start: ClockTime
    end: ClockTime = Field(description="24-hour HH:MM; the first minute that pushes again.")

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError(
                "quiet hours must start and end at different times; "
                "to stop all pushes set `enabled` to false"
            )
        return self


class PushPreferencesBase(BaseModel):
    enabled: bool = Field(default=True, description="False: no pushes at all.")
    store_ids: IdChoice | None = Field(
        default=None, description="Push only for these stores; null: every store you may see."
    )
    camera_ids: IdChoice | None = Field(
        default=None,
        description="Push only for these cameras; null: every camera of the chosen stores.",
    )
    quiet_hours: QuietHours | None = Field(
        default=None, description="No pushes during these hours; null: at any hour."
    )


class PushPreferencesUpdate(PushPreferencesBase):
    """Your preferences, replaced whole: a field left out takes its default."""

    model_config = ConfigDict(extra="forbid")


class PushPreferencesPublic(PushPreferencesBase):
    updated_at: datetime | None = Field(description="Null: never set, the defaults apply.")
