"""Losses prevented and suffered: the goods' values recorded at review, added up in Python
(exact decimals, the same on every backend) per store, camera, month and currency."""

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.storage.alerts import AlertFilter
from server.storage.models import Alert, Camera, Store
from shared.schemas.alerts import TEST_EVENT_TYPE, VALUED_OUTCOMES, AlertOutcome, AlertStatus
from shared.schemas.losses import (
    ZERO,
    CameraLosses,
    CurrencyLosses,
    LossesPublic,
    MonthLosses,
    StoreLosses,
)

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class _Incident:
    """A confirmed theft or a deterred incident, with its value if one is recorded."""

    store_id: int
    camera_id: int
    started_at: datetime
    outcome: str | None
    value: Decimal | None
    recovered: bool | None

    @property
    def theft(self) -> bool:
        return self.outcome == AlertOutcome.confirmed_theft.value

    @property
    def valued(self) -> bool:
        return self.value is not None


async def loss_stats(
    *, session: AsyncSession, where: AlertFilter, tz: ZoneInfo | None
) -> LossesPublic:
    """Figures for incidents started in [since, until) of the stores `where` lets through;
    months are counted in `tz`, else in each store's own zone. Test alerts are left out."""
    assert where.since is not None and where.until is not None
    since, until = where.since, where.until
    stores = await _stores(session, where)
    query = select(
        Alert.store_id,
        Alert.camera_id,
        Alert.started_at,
        Alert.outcome,
        Alert.goods_value,
        Alert.goods_recovered,
    ).where(
        *where.conditions(),
        Alert.status == AlertStatus.reviewed.value,
        Alert.outcome.in_([outcome.value for outcome in VALUED_OUTCOMES]),
        Alert.event_type != TEST_EVENT_TYPE,
    )
    incidents = [_Incident(*row) for row in (await session.execute(query)).all()]
    zones = {store.id: tz or ZoneInfo(store.timezone) for store in stores}
    currency = {store.id: store.currency for store in stores}
    months = {store.id: _months(since, until, zones[store.id]) for store in stores}

    def month_of(incident: _Incident) -> str:
        return incident.started_at.astimezone(zones[incident.store_id]).strftime("%Y-%m")

    def per_month(labels: Iterable[str], group: list[_Incident]) -> list[MonthLosses]:
        by_month = _group(group, month_of)
        return [
            MonthLosses(month=label, **_figures(by_month.get(label, [])))
            for label in sorted(set(labels))
        ]

    incidents = [incident for incident in incidents if incident.store_id in zones]
    by_store = _group(incidents, lambda incident: incident.store_id)
    by_currency = _group(incidents, lambda incident: currency[incident.store_id])
    by_camera = _group(incidents, lambda incident: incident.camera_id)
    camera_names = await _camera_names(session, set(by_camera))
    return LossesPublic(
        since=since,
        until=until,
        timezone=tz.key if tz is not None else None,
        totals=[
            CurrencyLosses(
                currency=code,
                per_month=per_month(
                    (m for store in stores if store.currency == code for m in months[store.id]),
                    by_currency.get(code, []),
                ),
                **_figures(by_currency.get(code, [])),
            )
            for code in sorted(set(currency.values()))
        ],
        per_store=[
            StoreLosses(
                store_id=store.id,
                name=store.name,
                currency=store.currency,
                timezone=zones[store.id].key,
                per_month=per_month(months[store.id], by_store.get(store.id, [])),
                **_figures(by_store.get(store.id, [])),
            )
            for store in stores
        ],
        per_camera=[
            CameraLosses(
                camera_id=camera_id,
                store_id=group[0].store_id,
                name=camera_names.get(camera_id, ""),
                currency=currency[group[0].store_id],
                **_figures(group),
            )
            for camera_id, group in sorted(by_camera.items())
        ],
    )


def _figures(incidents: list[_Incident]) -> dict[str, Any]:
    thefts = [i for i in incidents if i.theft and i.valued]
    recovered = [i for i in thefts if i.recovered]
    deterred = [i for i in incidents if not i.theft and i.valued]
    recovered_value, at_risk = _sum(recovered), _sum(deterred)
    return {
        "prevented": recovered_value + at_risk,
        "suffered": _sum(i for i in thefts if not i.recovered),
        "recovered": recovered_value,
        "at_risk": at_risk,
        "thefts": len(thefts),
        "recovered_thefts": len(recovered),
        "deterred": len(deterred),
        "unvalued": sum(not i.valued for i in incidents),
    }


def _sum(incidents: Iterable[_Incident]) -> Decimal:
    return sum((i.value for i in incidents if i.value is not None), ZERO)


def _group(incidents: list[_Incident], key: Callable[[_Incident], K]) -> dict[K, list[_Incident]]:
    groups: dict[K, list[_Incident]] = {}
    for incident in incidents:
        groups.setdefault(key(incident), []).append(incident)
    return groups


def _months(since: datetime, until: datetime, zone: ZoneInfo) -> list[str]:
    """Every local month the range touches, oldest first: `2026-03`."""
    first = since.astimezone(zone)
    last = (until - timedelta(microseconds=1)).astimezone(zone)
    year, month, labels = first.year, first.month, []
    while (year, month) <= (last.year, last.month):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


async def _stores(session: AsyncSession, where: AlertFilter) -> Sequence[Store]:
    """The stores the figures cover: visible, asked for, and the camera's when one is."""
    query = select(Store).order_by(Store.name)
    if where.store_ids is not None:
        query = query.where(Store.id.in_(where.store_ids))
    if where.store_id is not None:
        query = query.where(Store.id == where.store_id)
    if where.camera_id is not None:
        owner = select(Camera.store_id).where(Camera.id == where.camera_id).scalar_subquery()
        query = query.where(Store.id == owner)
    return (await session.scalars(query)).all()


async def _camera_names(session: AsyncSession, camera_ids: set[int]) -> dict[int, str]:
    if not camera_ids:
        return {}
    query = select(Camera.id, Camera.name).where(Camera.id.in_(camera_ids))
    return {row.id: row.name for row in (await session.execute(query)).all()}
