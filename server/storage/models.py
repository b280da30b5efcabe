"""ORM tables. Alembic migrations in `migrations/` own the schema; times are UTC."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


user_stores = Table(
    "user_stores",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
)


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str] = mapped_column(String(500), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")  # ISO 4217, for losses
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stores: Mapped[list[Store]] = relationship(secondary=user_stores, lazy="selectin")

    @property
    def store_ids(self) -> list[int]:
        return sorted(store.id for store in self.stores)


class AuthSession(Base):
    """One signed-in device; its refresh tokens rotate, revoking it ends them all."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoke_reason: Mapped[str | None] = mapped_column(String(40), default=None)
    client: Mapped[str] = mapped_column(String(255), default="")


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class Dvr(Base):
    __tablename__ = "dvrs"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    source_kind: Mapped[str] = mapped_column(String(8))
    url_template: Mapped[str] = mapped_column(Text)
    substream_url_template: Mapped[str | None] = mapped_column(Text, default=None)
    channels: Mapped[int]
    first_channel: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cameras: Mapped[list["Camera"]] = relationship(back_populates="dvr", lazy="selectin")

    __table_args__ = (UniqueConstraint("store_id", "name"),)


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    source_kind: Mapped[str] = mapped_column(String(8))
    source_url: Mapped[str] = mapped_column(Text)
    substream_url: Mapped[str | None] = mapped_column(Text, default=None)
    dvr_id: Mapped[int | None] = mapped_column(
        ForeignKey("dvrs.id", ondelete="CASCADE"), default=None, index=True
    )
    channel: Mapped[int | None] = mapped_column(default=None)
    location: Mapped[str] = mapped_column(String(200), default="")
    zones: Mapped[list[Any]] = mapped_column(default=list)
    lines: Mapped[list[Any]] = mapped_column(default=list)  # counting lines
    enabled: Mapped[bool] = mapped_column(default=True)
    threshold: Mapped[float | None] = mapped_column(default=None)
    alert_budget_per_day: Mapped[float | None] = mapped_column(default=None)
    analysis_fps: Mapped[float | None] = mapped_column(default=None)
    analysis_width: Mapped[int | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="offline")
    status_since: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    dvr: Mapped[Dvr | None] = relationship(back_populates="cameras", lazy="raise")

    __table_args__ = (UniqueConstraint("store_id", "name"),)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="RESTRICT"))
    zone: Mapped[str] = mapped_column(String(60), default="")
    event_type: Mapped[str] = mapped_column(String(40))
    peak_score: Mapped[float]
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    snapshot_ref: Mapped[str | None] = mapped_column(String(500), default=None)
    clip_ref: Mapped[str | None] = mapped_column(String(500), default=None)
    annotated_ref: Mapped[str | None] = mapped_column(String(500), default=None)
    clip_status: Mapped[str | None] = mapped_column(String(16), default=None)
    track_ids: Mapped[list[Any]] = mapped_column(default=list)
    # the value of the goods, recorded at review: stolen (confirmed theft) or at risk
    # (deterred), in the store's currency; recovered: whether a stolen one was got back
    goods_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), default=None)
    goods_recovered: Mapped[bool | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column()
    acknowledged_by: Mapped[User | None] = relationship(
        foreign_keys=[acknowledged_by_id], lazy="selectin"
    )
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id], lazy="selectin")

    __table_args__ = (
        Index("ix_alerts_started_id", "started_at", "id"),
        Index("ix_alerts_camera_started", "camera_id", "started_at"),
        Index("ix_alerts_store_started", "store_id", "started_at"),
    )
    # every UPDATE checks and bumps the version, so concurrent reviews cannot overwrite
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def evidence_refs(self) -> list[str]:
        """The keys of the alert's stored evidence files."""
        return [r for r in (self.snapshot_ref, self.clip_ref, self.annotated_ref) if r]

    def forget_evidence(self) -> None:
        self.snapshot_ref = self.clip_ref = self.annotated_ref = None


class TrackPeak(Base):
    """A finished track's highest alerting score (a score, never pixels): a camera's recent
    peaks set its threshold from its alert budget (`alerting/budget.py`)."""

    __tablename__ = "track_peaks"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(64))  # the scoring model's identity (sha256)
    track_id: Mapped[int]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    peak: Mapped[float]

    __table_args__ = (Index("ix_track_peaks_camera_last_seen", "camera_id", "last_seen"),)


class ScoredSpan(Base):
    """A stretch of time a camera was analysed and scored by one model: the days its track
    peaks cover (alerts per day divide by them)."""

    __tablename__ = "scored_spans"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]

    __table_args__ = (Index("ix_scored_spans_camera_ended", "camera_id", "ended_at"),)


class ShadowAlert(Base):
    """An alert a candidate behaviour model would have raised while it ran in shadow beside
    the active one (counted, never sent): one row per would-be episode, deduplicated as live
    alerts are (`alerting/shadow.py`)."""

    __tablename__ = "shadow_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(64))  # the candidate's identity (sha256)
    zone: Mapped[str] = mapped_column(String(60), default="")
    event_type: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    peak_score: Mapped[float]
    tracks: Mapped[int] = mapped_column(default=1)  # people involved

    __table_args__ = (Index("ix_shadow_alerts_model_camera", "model", "camera_id", "started_at"),)


class ClipJob(Base):
    """Making one alert's evidence clip: a row per job, so none is forgotten by a restart."""

    __tablename__ = "clip_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), unique=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    clip_start: Mapped[datetime]  # pre-roll included
    clip_end: Mapped[datetime]  # post-roll included; moves later while the alert grows
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PushOutbox(Base):
    """A push to send to one device: written with the alert it announces, sent by the
    dispatcher, retried with back-off until the provider takes it."""

    __tablename__ = "push_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    device_id: Mapped[int] = mapped_column(
        ForeignKey("push_devices.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(16))  # opened | raised
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("alert_id", "device_id", "reason"),
        Index("ix_push_outbox_due", "status", "next_attempt_at"),
    )


class PushDevice(Base):
    __tablename__ = "push_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    keys: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushPreference(Base):
    """Which alerts push to a user's devices; no row: every alert they may see, any hour."""

    __tablename__ = "push_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    store_ids: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True), default=None)
    camera_ids: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True), default=None)
    quiet_start: Mapped[str | None] = mapped_column(String(5), default=None)  # "HH:MM" local
    quiet_end: Mapped[str | None] = mapped_column(String(5), default=None)  # exclusive
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(default=None)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    client: Mapped[str] = mapped_column(String(255), default="")


class SettingOverride(Base):
    """A runtime settings section edited through the API, replacing the file's value."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class EventLogEntry(Base):
    """A published live event, kept for a while so reconnecting clients can catch up."""

    __tablename__ = "event_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    store_id: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]


class LabelledEpisode(Base):
    """Pose tracks kept as training data with a label: a reviewed alert's people, or a
    missed theft marked on a camera. The poses themselves are a file (`data_ref`)."""

    __tablename__ = "labelled_episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), default=None, unique=True
    )
    source: Mapped[str] = mapped_column(String(16))  # alert_review | missed_theft
    label: Mapped[str] = mapped_column(String(8))  # theft | normal
    start_at: Mapped[datetime]  # the labelled span
    end_at: Mapped[datetime]
    kept_from: Mapped[datetime]  # the poses kept: the span and a margin on each side
    kept_to: Mapped[datetime]
    track_ids: Mapped[list[Any]] = mapped_column(default=list)
    poses: Mapped[int] = mapped_column(default=0)
    frames: Mapped[int] = mapped_column(default=0)
    data_ref: Mapped[str | None] = mapped_column(String(500), default=None)
    size_bytes: Mapped[int] = mapped_column(default=0)
    labelled_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[User | None] = relationship(lazy="selectin")

    __table_args__ = (Index("ix_labelled_episodes_camera_start", "camera_id", "start_at"),)


class ClusterWorker(Base):
    """A worker process that runs cameras under lease (`server/cluster/leases.py`). Times
    come from the database's clock; `stopped_at` is set by a clean shutdown."""

    __tablename__ = "cluster_workers"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    capacity: Mapped[int]
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime] = mapped_column(index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
    url: Mapped[str | None] = mapped_column(String(300), default=None)  # its live views


class CameraLease(Base):
    """A worker's hold on one enabled camera until `expires_at` (database clock); a row
    without a worker is a free camera. `token` is the holding process's incarnation, so a
    restarted worker of the same name never inherits its predecessor's leases.

    `worker_name` has no foreign key on purpose: pruning a long-dead worker must not lock
    lease rows that other workers are claiming."""

    __tablename__ = "camera_leases"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    worker_name: Mapped[str | None] = mapped_column(String(128), default=None, index=True)
    token: Mapped[str | None] = mapped_column(String(32), default=None)
    acquired_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)


invite_stores = Table(
    "invite_stores",
    Base.metadata,
    Column("invite_id", ForeignKey("invites.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
)


class Invite(Base):
    """An admin's invitation for one person to join with a role and stores, redeemed once with
    a short code (kept only as its SHA-256) and a password the person chooses."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64))  # the admin's user name
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    used_by: Mapped[str | None] = mapped_column(String(64), default=None)  # the new user's name
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    stores: Mapped[list[Store]] = relationship(secondary=invite_stores, lazy="selectin")

    @property
    def store_ids(self) -> list[int]:
        return sorted(store.id for store in self.stores)


class _ZoneFigures:
    """A camera's analytics for one zone ("" the whole view) over one period (a minute or an
    hour): how many people were in it and the visits that ended in it. Written only for
    analysed periods (the whole view) and those with someone in the zone; no person is
    identified."""

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    zone: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str | None] = mapped_column(String(16), default=None)
    start: Mapped[datetime]
    seconds: Mapped[float] = mapped_column(default=0.0)  # analysed time in the period
    occupancy_sum: Mapped[float] = mapped_column(default=0.0)  # person-seconds in the zone
    occupancy_max: Mapped[int] = mapped_column(default=0)
    entries: Mapped[int] = mapped_column(default=0)
    exits: Mapped[int] = mapped_column(default=0)
    dwell_sum_s: Mapped[float] = mapped_column(default=0.0)  # of the visits that ended
    dwell_hist: Mapped[list[Any]] = mapped_column(default=list)  # bins: DWELL_EDGES_S


class ZoneMinute(_ZoneFigures, Base):
    __tablename__ = "zone_minutes"
    __table_args__ = (
        UniqueConstraint("camera_id", "zone", "start"),
        Index("ix_zone_minutes_store_start", "store_id", "start"),
        Index("ix_zone_minutes_start", "start"),
    )


class ZoneHour(_ZoneFigures, Base):
    __tablename__ = "zone_hours"
    __table_args__ = (
        UniqueConstraint("camera_id", "zone", "start"),
        Index("ix_zone_hours_store_start", "store_id", "start"),
        Index("ix_zone_hours_start", "start"),
    )


class _LineFigures:
    """People crossing one counting line in one period (a minute or an hour), in and out."""

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    line: Mapped[str] = mapped_column(String(60))
    start: Mapped[datetime]
    entered: Mapped[int] = mapped_column(default=0)
    left: Mapped[int] = mapped_column(default=0)


class LineMinute(_LineFigures, Base):
    __tablename__ = "line_minutes"
    __table_args__ = (
        UniqueConstraint("camera_id", "line", "start"),
        Index("ix_line_minutes_store_start", "store_id", "start"),
        Index("ix_line_minutes_start", "start"),
    )


class LineHour(_LineFigures, Base):
    __tablename__ = "line_hours"
    __table_args__ = (
        UniqueConstraint("camera_id", "line", "start"),
        Index("ix_line_hours_store_start", "store_id", "start"),
        Index("ix_line_hours_start", "start"),
    )


class HeatmapHour(Base):
    """Where people stood on one camera in one hour: person-seconds per grid cell."""

    __tablename__ = "heatmap_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    start: Mapped[datetime]
    cols: Mapped[int]
    rows: Mapped[int]
    cells: Mapped[list[Any]] = mapped_column(default=list)  # rows x cols, row-major, seconds

    __table_args__ = (
        UniqueConstraint("camera_id", "start"),
        Index("ix_heatmap_hours_start", "start"),
    )
