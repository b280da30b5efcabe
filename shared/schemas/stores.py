"""Stores: a chain has several, each with its cameras."""

from datetime import datetime
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _check_timezone(value: str | None) -> str | None:
    if value is not None and value not in available_timezones():
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin")
    return value


class StoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    address: str = Field(default="", max_length=500)
    timezone: str = Field(default="UTC", description="IANA time zone, used for daily stats.")

    _tz = field_validator("timezone")(_check_timezone)


class StoreUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    address: str | None = Field(default=None, max_length=500)
    timezone: str | None = None

    _tz = field_validator("timezone")(_check_timezone)


class StorePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    address: str
    timezone: str
    created_at: datetime


class StoresPublic(BaseModel):
    data: list[StorePublic]
    count: int
