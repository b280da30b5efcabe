"""Stores: a chain has several, each with its cameras."""

from datetime import datetime
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.schemas.money import CURRENCY_PATTERN, check_currency


def _check_timezone(value: str | None) -> str | None:
    if value is not None and value not in available_timezones():
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin")
    return value


class StoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    address: str = Field(default="", max_length=500)
    timezone: str = Field(default="UTC", description="IANA time zone, used for daily stats.")
    currency: str = Field(
        default="USD",
        pattern=CURRENCY_PATTERN,
        description="ISO 4217 code (EUR, USD, GBP...) of the goods' values recorded at review.",
    )

    _tz = field_validator("timezone")(_check_timezone)
    _currency = field_validator("currency")(check_currency)


class StoreUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    address: str | None = Field(default=None, max_length=500)
    timezone: str | None = None
    currency: str | None = Field(
        default=None,
        pattern=CURRENCY_PATTERN,
        description="ISO 4217 code; values already recorded keep their amounts (not converted).",
    )

    _tz = field_validator("timezone")(_check_timezone)
    _currency = field_validator("currency")(check_currency)


class StorePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    address: str
    timezone: str
    currency: str = Field(default="USD", description="ISO 4217 code of the store's values.")
    created_at: datetime


class StoresPublic(BaseModel):
    data: list[StorePublic]
    count: int
