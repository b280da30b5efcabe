"""Losses prevented and suffered, from the goods' values recorded at review.

Amounts are strings with two decimals (`"1234.50"`, see `shared.schemas.money`), each in
the currency it is listed with: figures of stores with different currencies are never
added up."""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from shared.schemas.money import Money

ZERO = Decimal("0.00")


class LossFigures(BaseModel):
    """What valued incidents add up to, in one currency."""

    prevented: Money = Field(
        default=ZERO, description="Stolen goods recovered plus goods at risk in deterred ones."
    )
    suffered: Money = Field(
        default=ZERO,
        description="Stolen goods not recovered (a recovery left unknown counts as not).",
    )
    recovered: Money = Field(default=ZERO, description="Stolen goods got back.")
    at_risk: Money = Field(default=ZERO, description="Goods at risk in deterred incidents.")
    thefts: int = Field(default=0, description="Confirmed thefts with a value.")
    recovered_thefts: int = Field(default=0, description="Of those, the ones recovered.")
    deterred: int = Field(default=0, description="Deterred incidents with a value.")
    unvalued: int = Field(
        default=0, description="Confirmed thefts and deterred incidents with no value yet."
    )


class MonthLosses(LossFigures):
    month: str = Field(
        pattern=r"^\d{4}-\d{2}$",
        description="The local calendar month (`2026-03`) in which the incidents started.",
    )


class StoreLosses(LossFigures):
    store_id: int
    name: str
    currency: str = Field(description="ISO 4217 code of this store's amounts.")
    timezone: str = Field(description="Zone in which this store's months are counted.")
    per_month: list[MonthLosses] = Field(description="Every month of the range, oldest first.")


class CameraLosses(LossFigures):
    camera_id: int
    store_id: int
    name: str
    currency: str


class CurrencyLosses(LossFigures):
    """The stores with this currency together."""

    currency: str
    per_month: list[MonthLosses] = Field(
        description="Every month of the range, oldest first; each store's month is its own."
    )


class LossesPublic(BaseModel):
    since: datetime
    until: datetime
    timezone: str | None = Field(
        description="Zone in which months are counted; null: each store's own zone."
    )
    totals: list[CurrencyLosses] = Field(
        description="One entry per currency of the stores listed, by code."
    )
    per_store: list[StoreLosses] = Field(
        description="The stores you may see (and asked for), by name, even without incidents."
    )
    per_camera: list[CameraLosses] = Field(
        description="Cameras with confirmed thefts or deterred incidents in the range, by id."
    )
