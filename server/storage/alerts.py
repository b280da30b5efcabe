"""Alerts: creation by the pipeline, filtered pages for the app, and review."""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from server.errors import Conflict, InvalidRequest, NotFound
from server.storage.models import Alert, Camera, ClipJob, User
from shared.schemas.alerts import (
    VALUED_OUTCOMES,
    AlertOutcome,
    AlertPublic,
    AlertStatus,
    AlertUpdate,
    ClipStatus,
)
from shared.schemas.settings import ClipSettings


def alert_public(alert: Alert, currency: str | None = None) -> AlertPublic:
    """The alert as the API shows it; `currency`: its store's, when the caller looked it up."""
    return AlertPublic(
        id=alert.id,
        store_id=alert.store_id,
        camera_id=alert.camera_id,
        zone=alert.zone,
        event_type=alert.event_type,
        peak_score=alert.peak_score,
        started_at=alert.started_at,
        last_seen_at=alert.last_seen_at,
        status=AlertStatus(alert.status),
        outcome=AlertOutcome(alert.outcome) if alert.outcome else None,
        acknowledged_by=alert.acknowledged_by.username if alert.acknowledged_by else None,
        acknowledged_at=alert.acknowledged_at,
        reviewed_by=alert.reviewed_by.username if alert.reviewed_by else None,
        reviewed_at=alert.reviewed_at,
        notes=alert.notes,
        track_ids=[int(t) for t in alert.track_ids],
        has_snapshot=alert.snapshot_ref is not None,
        has_clip=alert.clip_ref is not None,
        has_annotated_clip=alert.annotated_ref is not None,
        clip_status=ClipStatus(alert.clip_status) if alert.clip_status else None,
        goods_value=alert.goods_value,
        goods_recovered=alert.goods_recovered,
        currency=currency,
        version=alert.version,
    )


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """What to list; `store_ids=None` means every store."""

    store_ids: list[int] | None
    store_id: int | None = None
    camera_id: int | None = None
    statuses: tuple[AlertStatus, ...] = ()
    outcomes: tuple[AlertOutcome, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    min_score: float | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """WHERE clauses for the alerts table."""
        conditions: list[ColumnElement[bool]] = []
        if self.store_ids is not None:
            conditions.append(Alert.store_id.in_(self.store_ids))
        if self.store_id is not None:
            conditions.append(Alert.store_id == self.store_id)
        if self.camera_id is not None:
            conditions.append(Alert.camera_id == self.camera_id)
        if self.statuses:
            conditions.append(Alert.status.in_([s.value for s in self.statuses]))
        if self.outcomes:
            conditions.append(Alert.outcome.in_([o.value for o in self.outcomes]))
        if self.since is not None:
            conditions.append(Alert.started_at >= self.since)
        if self.until is not None:
            conditions.append(Alert.started_at < self.until)
        if self.min_score is not None:
            conditions.append(Alert.peak_score >= self.min_score)
        return conditions


MAX_CURSOR_ID = 2**31 - 1  # alerts.id is a 32-bit INTEGER on PostgreSQL


def encode_cursor(alert: Alert) -> str:
    raw = f"{alert.started_at.isoformat()}|{alert.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        started, alert_id = raw.split("|")
        when = datetime.fromisoformat(started)
        if when.tzinfo is None:
            raise ValueError("cursor time has no zone")
        number = int(alert_id)
        if not 0 <= number <= MAX_CURSOR_ID:  # the database would refuse it
            raise ValueError("cursor id out of range")
        return when.astimezone(UTC), number
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequest("invalid cursor: pass back `next_cursor` unchanged") from exc


async def list_alerts(
    *, session: AsyncSession, where: AlertFilter, limit: int, cursor: str | None
) -> tuple[Sequence[Alert], int, str | None]:
    """A page newest first (by start, then id), the total matching, and the next cursor."""
    total = await session.scalar(select(func.count(Alert.id)).where(*where.conditions()))
    query = (
        select(Alert).where(*where.conditions()).order_by(Alert.started_at.desc(), Alert.id.desc())
    )
    if cursor is not None:
        started, alert_id = decode_cursor(cursor)
        query = query.where(
            or_(
                Alert.started_at < started,
                and_(Alert.started_at == started, Alert.id < alert_id),
            )
        )
    rows = (await session.scalars(query.limit(limit + 1))).all()
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], int(total or 0), next_cursor


async def get_alert(*, session: AsyncSession, alert_id: int, store_ids: list[int] | None) -> Alert:
    alert = await session.get(Alert, alert_id)
    if alert is None or (store_ids is not None and alert.store_id not in store_ids):
        raise NotFound(f"alert {alert_id} not found")
    return alert


async def lock_alert(*, session: AsyncSession, alert_id: int, store_ids: list[int] | None) -> Alert:
    """The alert as it stands, held for this transaction's writes: the clip worker or the
    recorder cannot change it between this read and the caller's flush (a no-op UPDATE takes
    the row lock on PostgreSQL and the write lock on SQLite, where FOR UPDATE is ignored)."""
    await session.execute(
        update(Alert)
        .where(Alert.id == alert_id)
        .values(id=Alert.id)
        .execution_options(synchronize_session=False)
    )
    alert = await session.get(Alert, alert_id, populate_existing=True)
    if alert is None or (store_ids is not None and alert.store_id not in store_ids):
        raise NotFound(f"alert {alert_id} not found")
    return alert


async def create_alert(
    *,
    session: AsyncSession,
    camera: Camera,
    zone: str,
    event_type: str,
    score: float,
    started_at: datetime,
    last_seen_at: datetime | None = None,
    track_ids: list[int] | None = None,
) -> Alert:
    alert = Alert(
        store_id=camera.store_id,
        camera_id=camera.id,
        zone=zone,
        event_type=event_type,
        peak_score=score,
        started_at=started_at,
        last_seen_at=last_seen_at or started_at,
        track_ids=list(track_ids or []),
    )
    session.add(alert)
    await session.flush()
    await session.refresh(alert)
    return alert


def plan_clip(session: AsyncSession, alert: Alert, ts: float, clips: ClipSettings) -> None:
    """Add the alert's clip job (around `ts`, Unix seconds), in the alert's own transaction:
    a stored alert always has its job, so a restart finds it (and fails it with the reason)
    rather than leaving an alert that never gets a clip and never says why."""
    session.add(
        ClipJob(
            alert_id=alert.id,
            camera_id=alert.camera_id,
            status=ClipStatus.queued.value,
            clip_start=datetime.fromtimestamp(ts - clips.pre_roll_s, UTC),
            clip_end=datetime.fromtimestamp(ts + clips.post_roll_s, UTC),
        )
    )
    alert.clip_status = ClipStatus.queued.value


async def review_alert(
    *, session: AsyncSession, alert: Alert, review: AlertUpdate, reviewer: User, now: datetime
) -> Alert:
    """Apply a review step; acknowledging and reviewing record who and when."""
    if review.if_version is not None and review.if_version != alert.version:
        raise Conflict(
            f"alert {alert.id} changed meanwhile (version {alert.version}, you had "
            f"{review.if_version}); reload it"
        )
    status = review.status or (AlertStatus.reviewed if review.outcome else None)
    outcome = _outcome_after(alert, status, review.outcome)
    _check_goods(alert.id, review, outcome)
    if status is AlertStatus.acknowledged and alert.acknowledged_at is None:
        alert.acknowledged_by_id, alert.acknowledged_at = reviewer.id, now
    if status is AlertStatus.reviewed:
        alert.reviewed_by_id, alert.reviewed_at = reviewer.id, now
        alert.outcome = review.outcome.value if review.outcome else None
        if alert.acknowledged_at is None:
            alert.acknowledged_by_id, alert.acknowledged_at = reviewer.id, now
    if status is AlertStatus.new:
        alert.outcome = None
        alert.reviewed_by_id = alert.reviewed_at = None
        alert.acknowledged_by_id = alert.acknowledged_at = None
    if status is AlertStatus.acknowledged:
        alert.outcome = None
        alert.reviewed_by_id = alert.reviewed_at = None
    if status is not None:
        alert.status = status.value
    if review.notes is not None:
        alert.notes = review.notes
    _apply_goods(alert, review, outcome)
    alert_id = alert.id  # a failed flush expires the object
    try:
        await session.flush()
    except StaleDataError as exc:
        raise Conflict(f"alert {alert_id} changed meanwhile; reload it") from exc
    await session.refresh(alert, attribute_names=["acknowledged_by", "reviewed_by"])
    return alert


Goods = tuple[Decimal | None, bool | None]


def goods_of(alert: Alert) -> Goods:
    """The goods' value and recovery as recorded."""
    return alert.goods_value, alert.goods_recovered


def goods_cleared(before: Goods, alert: Alert, review: AlertUpdate) -> dict[str, Any]:
    """What the review removed without saying so (a new outcome takes no value), for the
    audit log: `{"goods_value": None}` and the like."""
    after = goods_of(alert)
    names = ("goods_value", "goods_recovered")
    return {
        name: None
        for name, old, new in zip(names, before, after, strict=True)
        if old is not None and new is None and name not in review.model_fields_set
    }


def _outcome_after(
    alert: Alert, status: AlertStatus | None, outcome: AlertOutcome | None
) -> AlertOutcome | None:
    """The alert's outcome once the step is applied."""
    if status is AlertStatus.reviewed:
        return outcome
    if status is not None:  # back to new or acknowledged
        return None
    return AlertOutcome(alert.outcome) if alert.outcome else None


def _check_goods(alert_id: int, review: AlertUpdate, outcome: AlertOutcome | None) -> None:
    """A value needs a confirmed theft or a deterred incident, a recovery a theft: sent
    with the step, or the alert's outcome already."""
    if review.goods_value is not None and outcome not in VALUED_OUTCOMES:
        raise InvalidRequest(
            f"alert {alert_id} is not reviewed as confirmed_theft or deterred: a goods value "
            "only goes with one of those outcomes"
        )
    if review.goods_recovered is not None and outcome is not AlertOutcome.confirmed_theft:
        raise InvalidRequest(
            f"alert {alert_id} is not reviewed as confirmed_theft: goods_recovered only goes "
            "with a confirmed theft"
        )


def _apply_goods(alert: Alert, review: AlertUpdate, outcome: AlertOutcome | None) -> None:
    """Record what the step sends; an outcome that takes no value (or no recovery) clears it."""
    sent = review.model_fields_set
    if "goods_value" in sent:
        alert.goods_value = review.goods_value
    if "goods_recovered" in sent:
        alert.goods_recovered = review.goods_recovered
    if outcome not in VALUED_OUTCOMES:
        alert.goods_value = None
    if outcome is not AlertOutcome.confirmed_theft:
        alert.goods_recovered = None
