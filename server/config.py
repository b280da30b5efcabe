"""The one settings object: defaults, then an optional YAML file, then `SHOPGUARD_*` variables.

Nested sections read from variables like `SHOPGUARD_AUTH__ACCESS_TOKEN_TTL_S=600`.
"""

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from server.errors import ConfigError
from shared.schemas.cameras import MAX_ANALYSIS_WIDTH, MIN_ANALYSIS_WIDTH
from shared.schemas.settings import ClipSettings, DetectionSettings, RetentionSettings

WEAK_SECRETS = frozenset({"changethis", "changeme", "secret", "password", "shopguard", "admin"})
MIN_SECRET_LENGTH = 32
SQLITE_FILE = "shopguard.db"
MIN_PRODUCTION_PASSWORD_LENGTH = 12


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port of the HTTP server.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser."
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, le=104_857_600, description="Largest request body accepted."
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description=(
            "Reverse proxies (addresses or networks) whose X-Forwarded-For is believed; "
            "none by default, so a caller cannot claim another address."
        ),
    )


class AuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_token_ttl_s: int = Field(
        900, ge=60, le=86_400, description="Lifetime of an access token in seconds."
    )
    refresh_token_ttl_s: int = Field(
        30 * 86_400, ge=3600, le=365 * 86_400, description="Lifetime of a refresh token."
    )
    jwt_secret: SecretStr | None = Field(
        None,
        description="Token signing key; when unset one is generated into the data directory.",
    )
    lockout_threshold: int = Field(
        5,
        ge=1,
        le=100,
        description="Failed sign-ins in a row, for one name from one address, before it waits.",
    )
    lockout_first_delay_s: int = Field(
        30, ge=1, le=3600, description="First wait after those failures; it doubles per failure."
    )
    lockout_s: int = Field(
        900,
        ge=1,
        le=86_400,
        description="Longest wait between sign-in tries (and password changes).",
    )
    client_max_failures: int = Field(
        20,
        ge=1,
        le=10_000,
        description=(
            "Failed sign-ins from one address in the window before it is throttled (names "
            "that signed in from it before are not)."
        ),
    )
    name_max_failures: int = Field(
        50,
        ge=1,
        le=100_000,
        description=(
            "Failed sign-ins for one name from all addresses in the window before the name "
            "waits everywhere but where it signed in before."
        ),
    )
    client_window_s: int = Field(
        300, ge=1, le=86_400, description="Window in seconds for counting failures."
    )
    initial_admin_username: str = Field(
        "admin", min_length=3, max_length=64, description="Name of the first admin account."
    )
    initial_admin_password: SecretStr | None = Field(
        None, description="Password of the first admin; when unset a one-time one is printed."
    )
    password_hash_memory_kib: int = Field(
        65_536, ge=1024, le=1_048_576, description="Argon2 memory cost in KiB."
    )


class PushConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cooldown_s: float = Field(
        60.0,
        ge=0.0,
        le=86400.0,
        description="Seconds after a camera's pushed alert in which "
        "its new alerts are stored and shown live but not pushed again.",
    )
    webpush_subject: str = Field(
        "mailto:admin@shopguard.invalid",
        description="Contact in Web Push VAPID claims (mailto: or https: URL).",
    )
    fcm_service_account: Path | None = Field(
        None, description="Firebase service account JSON file; FCM pushes are off without it."
    )
    fcm_project_id: str | None = Field(
        None, description="Firebase project (default: the service account's)."
    )
    fcm_endpoint: str = Field(
        "https://fcm.googleapis.com/v1/projects", description="FCM HTTP v1 base URL."
    )
    apns_key_file: Path | None = Field(
        None, description="APNs token signing key (.p8); APNs pushes are off without it."
    )
    apns_key_id: str = Field("", description="The .p8 key's id (10 characters).")
    apns_team_id: str = Field("", description="The Apple developer team id.")
    apns_topic: str = Field("", description="The iOS app's bundle id.")
    apns_sandbox: bool = Field(False, description="Use APNs' development servers.")
    apns_endpoint: str | None = Field(
        None, description="host:port to send APNs pushes to instead of Apple's (a relay)."
    )
    apns_ca_file: Path | None = Field(
        None, description="CA bundle to trust for APNs instead of the system's (a relay)."
    )
    retry_base_s: float = Field(1.0, ge=0.01, le=60.0, description="First retry delay.")
    retry_cap_s: float = Field(300.0, ge=0.1, le=3600.0, description="Longest retry delay.")
    send_timeout_s: float = Field(
        10.0,
        ge=0.1,
        le=120.0,
        description="Longest time one push may take, look-up to answer; a slower one is retried.",
    )
    parallel_sends: int = Field(16, ge=1, le=256, description="Pushes sent at once, at most.")
    allow_private_endpoints: bool = Field(
        False,
        description="Also push over http and to loopback and private addresses (tests, a push "
        "service on a private network); otherwise only https to public hosts.",
    )


class S3Config(BaseModel):
    """An S3-compatible object store (MinIO, Ceph, AWS S3) for evidence files."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(
        "127.0.0.1:9000", description="host:port of the S3 API (no scheme; see `secure`)."
    )
    secure: bool = Field(True, description="Talk HTTPS to the endpoint.")
    bucket: str = Field(
        "shopguard-evidence",
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description="Bucket (made if absent): 3-63 lower-case letters, digits, dots, hyphens.",
    )
    prefix: str = Field("", max_length=200, description="Folder inside the bucket, e.g. 'site-1/'.")
    access_key: str = Field("", description="Access key id.")
    secret_key: SecretStr = Field(SecretStr(""), description="Secret access key.")
    region: str | None = Field(None, description="Region, where the store wants one.")
    timeout_s: float = Field(
        10.0, ge=0.5, le=300.0, description="Connect and read timeout of one request."
    )


class EvidenceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["local", "s3"] = Field(
        "local",
        description="Where snapshots and clips are kept: the data directory's disk, or an "
        "S3-compatible object store shared by several servers.",
    )
    s3: S3Config = S3Config()


class IceServer(BaseModel):
    """A STUN or TURN server for live viewers outside the store's network."""

    model_config = ConfigDict(extra="forbid")

    urls: list[str] = Field(min_length=1, description="e.g. ['turn:turn.example.com:3478'].")
    username: str | None = None
    credential: SecretStr | None = None


class LiveConfig(BaseModel):
    """Annotated live video (WebRTC, with an MJPEG fallback)."""

    model_config = ConfigDict(extra="forbid")

    width: int = Field(
        640, ge=160, le=1920, description="Width of the live picture; the height follows."
    )
    fps: float = Field(
        10.0, gt=0.0, le=30.0, description="Most frames a second (at most the analysis rate)."
    )
    max_viewers_per_camera: int = Field(4, ge=1, le=100, description="Live viewers of a camera.")
    max_viewers: int = Field(
        8, ge=1, le=500, description="Live viewers in all: each costs an encoder."
    )
    max_views_per_user: int = Field(
        4, ge=1, le=100, description="Live views one user may hold at once (all cameras)."
    )
    max_views_per_user_camera: int = Field(
        2, ge=1, le=100, description="Live views of one camera one user may hold at once."
    )
    ice_servers: list[IceServer] = Field(
        default_factory=list, description="STUN/TURN servers; none are needed on a LAN."
    )
    link_ttl_s: int = Field(
        300, ge=30, le=3600, description="How long a player link may start a live view."
    )
    mjpeg_fps: float = Field(2.0, gt=0.0, le=10.0, description="Frames a second of the fallback.")
    connect_timeout_s: float = Field(
        8.0, ge=1.0, le=60.0, description="A player not connected by then falls back to MJPEG."
    )


class LogsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_file: bool = Field(
        True, description="Also write plain-text logs to <data_dir>/logs/shopguard.log."
    )
    max_mb: float = Field(10.0, ge=0.1, le=1000.0, description="Size at which the file rotates.")
    backups: int = Field(5, ge=1, le=100, description="Rotated files kept (oldest dropped).")


class EventsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retention_h: float = Field(
        72.0, ge=0.1, le=8760.0, description="Hours of events kept for clients that reconnect."
    )
    subscriber_queue: int = Field(
        256, ge=8, le=100_000, description="Events buffered per live client before it is dropped."
    )
    hello_timeout_s: float = Field(
        10.0, ge=0.5, le=120.0, description="Seconds a new WebSocket has to authenticate."
    )
    ping_interval_s: float = Field(
        20.0, ge=1.0, le=600.0, description="Seconds between keep-alive pings to idle clients."
    )


class MetricsConfig(BaseModel):
    """Prometheus metrics at /metrics, and who may read them (any one of the ways is enough)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics.")
    allow_loopback: bool = Field(
        True,
        description="Readers on this machine (127.0.0.1, ::1; not a request relayed by a "
        "proxy, which sends X-Forwarded-For or Forwarded) need no token.",
    )
    token: SecretStr | None = Field(
        None,
        description="Bearer token a Prometheus on another machine sends "
        "(authorization.credentials_file in its scrape config); unset: none is accepted.",
    )
    allow_admins: bool = Field(
        True, description="Signed-in admins may read them with their access token."
    )


class RedisConfig(BaseModel):
    """Redis, shared by the instances of a deployment of several processes or machines."""

    model_config = ConfigDict(extra="forbid")

    url: SecretStr | None = Field(
        None,
        description="redis://[:password@]host:port/db; set: the sign-in throttle is shared "
        "through it, and bus.backend may be redis.",
    )
    prefix: str = Field(
        "shopguard",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Start of every key and stream name (several deployments, one Redis).",
    )


class BusConfig(BaseModel):
    """How records and events travel between stages and instances."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["local", "redis"] = Field(
        "local",
        description="local: in this process only (one box, --role all); redis: Redis "
        "Streams, required when roles are split.",
    )
    stream_max_len: int = Field(
        100_000, ge=100, le=100_000_000, description="Entries kept per stream (approximately)."
    )
    claim_idle_s: float = Field(
        30.0,
        ge=1.0,
        le=3600.0,
        description="An entry delivered to a consumer that has not acknowledged it for this "
        "long (it died) is handed to another consumer of its group.",
    )


class ClusterConfig(BaseModel):
    """Roles and camera assignment when several processes share the work."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["all", "api", "worker"] = Field(
        "all",
        description="all: API and cameras in one process (one box); api: REST, WebSocket, "
        "push, no cameras; worker: cameras only, claimed by lease.",
    )
    worker_name: str | None = Field(
        None,
        max_length=128,
        description="This worker's name in the lease table; unset: host name and process id.",
    )
    advertise_url: str | None = Field(
        None,
        max_length=300,
        pattern=r"^https?://[^/\s]+$",
        description="How API instances reach this worker for live views, e.g. "
        "http://worker-1:8000; unset: http://<host name>:<server.port>.",
    )
    worker_capacity: int = Field(
        10, ge=1, le=1000, description="Most cameras one worker runs at once."
    )
    lease_s: float = Field(
        15.0,
        ge=2.0,
        le=600.0,
        description="A worker's hold on a camera lasts this long unless renewed; a dead "
        "worker's cameras are taken over within it.",
    )
    heartbeat_s: float = Field(
        5.0, ge=0.5, le=200.0, description="Seconds between lease renewals (under lease_s / 2)."
    )

    @model_validator(mode="after")
    def _renew_in_time(self) -> "ClusterConfig":
        if self.heartbeat_s * 2 > self.lease_s:
            raise ValueError("cluster.heartbeat_s must be at most half of cluster.lease_s")
        return self


class PipelineConfig(BaseModel):
    """The video pipeline: which cameras run here, how long video is kept, how hard to retry."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True, description="Run the enabled cameras in this process (off: API and storage only)."
    )
    ring_seconds: float = Field(
        10.0, ge=1.0, le=120.0, description="Seconds of encoded video kept per camera."
    )
    ring_max_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024 * 1024,
        le=1024 * 1024 * 1024,
        description="Most bytes of encoded video kept per camera.",
    )
    queue_size: int = Field(
        4, ge=1, le=256, description="Analysis frames buffered per camera before the oldest drop."
    )
    open_timeout_s: float = Field(
        10.0, ge=0.1, le=300.0, description="Seconds to open a source and get its first frame."
    )
    read_timeout_s: float = Field(
        10.0, ge=0.1, le=300.0, description="Seconds one network read may block."
    )
    stall_timeout_s: float = Field(
        20.0, ge=0.1, le=600.0, description="Seconds without a packet before a reconnect."
    )
    degraded_after_s: float = Field(
        5.0,
        ge=0.1,
        le=600.0,
        description="Seconds without a picture before an online camera shows degraded.",
    )
    backoff_base_s: float = Field(
        1.0, ge=0.01, le=60.0, description="First delay before reopening a failed camera."
    )
    backoff_cap_s: float = Field(
        60.0, ge=0.01, le=3600.0, description="Longest delay between reopen attempts."
    )
    backoff_jitter: float = Field(
        0.2, ge=0.0, le=1.0, description="Share of each retry delay that is randomised."
    )
    offline_after: int = Field(
        3, ge=1, le=100, description="Failures in a row before a camera counts as offline."
    )
    pose_backend: Literal["onnxruntime", "openvino", "ultralytics"] = Field(
        "onnxruntime",
        description="Pose runtime: onnxruntime (default, CPU), openvino (extra `openvino`), "
        "ultralytics (PyTorch, for GPU boxes; torch and ultralytics installed by hand).",
    )
    pose_device: str = Field(
        "cpu", description="Device of the ultralytics backend, e.g. cuda:0.", max_length=32
    )
    pose_model: Path | None = Field(
        None,
        description="Pose model; unset: the one the setup placed in weights/ (the INT8 .onnx, "
        "or the .pt for the ultralytics backend; weights/yolo11n-pose.onnx is the float one).",
    )
    behaviour_model: Path | None = Field(
        None,
        description="Behaviour model file; unset: weights/behaviour-xgb.json (shipped with "
        "ShopGuard, made by `shopguard model train`). Without one, people are tracked only.",
    )
    behaviour_every_s: float = Field(
        0.4,
        ge=0.0,
        le=5.0,
        description="Seconds between behaviour scorings of a camera's people (0: every "
        "analysed frame); the model looks at seconds of movement, so 0.4 loses little.",
    )
    pose_workers: int = Field(
        2, ge=1, le=32, description="Pose inference threads shared by all cameras (one per core)."
    )
    pose_threads: int = Field(
        1, ge=1, le=32, description="Threads each pose worker's model call may use."
    )
    pose_batch: int = Field(
        1, ge=1, le=16, description="Most frames of different cameras run in one model call."
    )
    pose_queue: int = Field(
        16, ge=1, le=1024, description="Frames waiting for pose before the oldest is dropped."
    )
    pose_confidence: float = Field(
        0.25, ge=0.01, le=0.99, description="Least person score the pose model reports."
    )
    analysis_width: int = Field(
        640,
        ge=MIN_ANALYSIS_WIDTH,
        le=MAX_ANALYSIS_WIDTH,
        multiple_of=32,
        description="Pose model input width in pixels, unless a camera sets it.",
    )
    track_history_s: float = Field(
        4.0, ge=0.5, le=60.0, description="Seconds of keypoints kept per tracked person."
    )
    track_lost_timeout_s: float = Field(
        2.0, ge=0.0, le=60.0, description="Seconds a person may go unseen before the track ends."
    )
    reconcile_interval_s: float = Field(
        30.0,
        ge=0.1,
        le=3600.0,
        description="Seconds between checks of the camera list (changes through the API "
        "apply at once).",
    )
    presence_gate: bool = Field(
        True,
        description="While a camera shows nobody, check its frames for motion instead of "
        "running pose on each; full analysis resumes (with the last second's stirring "
        "frames) on motion, and pose checks the view every presence_check_s.",
    )
    presence_check_s: float = Field(
        2.0,
        ge=0.2,
        le=60.0,
        description="Seconds between pose checks of a camera showing nobody (finds a person "
        "who stands still).",
    )
    presence_lead_s: float = Field(
        1.0,
        ge=0.0,
        le=5.0,
        description="Seconds before motion whose frames are analysed when a camera wakes, "
        "those that already stirred (changed by half the motion threshold somewhere).",
    )
    presence_quiet_s: float = Field(
        1.0,
        ge=0.0,
        le=60.0,
        description="Seconds of analysed frames showing nobody before a camera is gated "
        "(a person pose misses for a moment keeps it awake).",
    )
    presence_motion_threshold: float = Field(
        12.0,
        ge=1.0,
        le=255.0,
        description="Brightness change (0-255) of a patch of the camera's small grey picture "
        "that counts as motion.",
    )
    presence_motion_share: float = Field(
        0.002,
        ge=0.0,
        le=1.0,
        description="Share of the picture that must move to wake a camera showing nobody.",
    )

    @model_validator(mode="after")
    def _cap_covers_base(self) -> "PipelineConfig":
        if self.backoff_cap_s < self.backoff_base_s:
            raise ValueError("backoff_cap_s must be at least backoff_base_s")
        return self


class PoseTracksConfig(BaseModel):
    """Tracked people's poses (keypoints only, never pixels) kept so reviews become training
    data: the last hours of every camera, and the labelled episodes cut from them."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True, description="Keep every camera's tracked poses (off: reviews keep no poses)."
    )
    keep_hours: float = Field(
        2.0,
        ge=0.05,
        le=72.0,
        description="Hours of every camera's poses kept, within which a missed theft can be "
        "marked (an unreviewed alert's poses stay until its review).",
    )
    chunk_s: float = Field(
        60.0, ge=5.0, le=600.0, description="Seconds of a camera's poses per file written."
    )
    margin_s: float = Field(
        10.0,
        ge=0.0,
        le=60.0,
        description="Seconds of poses kept before and after a labelled span, as context.",
    )


class AnalyticsConfig(BaseModel):
    """Store analytics from tracked people: footfall over counting lines, occupancy, dwell,
    queues and heatmaps, kept as per-minute aggregates (no person's trail is kept)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Measure footfall, occupancy, dwell and heatmaps.")
    keep_days: float = Field(
        400.0,
        ge=1.0,
        le=3650.0,
        description="Days of hourly analytics (and heatmaps) kept: a year and a little, so "
        "a month compares with the same month last year.",
    )
    keep_minutes_days: float = Field(
        7.0,
        ge=0.1,
        le=365.0,
        description='Days of per-minute analytics kept (what "now" and a queue\'s wait read).',
    )
    rejoin_s: float = Field(
        2.0,
        ge=0.0,
        le=30.0,
        description="A new track starting this soon after another was lost, near where it "
        "was lost, is taken as the same person (not counted again).",
    )
    rejoin_distance: float = Field(
        0.08,
        ge=0.0,
        le=0.5,
        description="How near (a fraction of the picture) a new track must start to where a "
        "lost one was last seen to be taken as the same person.",
    )
    leave_grace_s: float = Field(
        3.0,
        ge=0.0,
        le=60.0,
        description="A person out of a zone (or out of sight) this long has left it; the "
        "visit's dwell ends when they were last seen in it.",
    )
    bounce_s: float = Field(
        1.5,
        ge=0.0,
        le=10.0,
        description="A crossing undone this soon (the same person back over the line) counts "
        "neither way.",
    )


class Settings(BaseSettings):
    """ShopGuard's configuration; build it once with `load_settings` and hand it down."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPGUARD_", env_nested_delimiter="__", extra="ignore"
    )

    mode: Literal["development", "production"] = Field(
        "development", description="Production refuses weak secrets and unsafe options."
    )
    data_dir: Path = Field(Path("data"), description="Database, keys and evidence live here.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; SQLite in the data directory when unset. "
        "postgresql://user@host/db selects asyncpg.",
    )
    database_pool_wait_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="How long a request waits for a free database connection; past it the "
        "answer is 503 busy with Retry-After.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Logging level of the server."
    )
    logs: LogsConfig = LogsConfig()
    evidence: EvidenceConfig = EvidenceConfig()
    live: LiveConfig = LiveConfig()
    push: PushConfig = PushConfig()
    server: ServerConfig = ServerConfig()
    auth: AuthConfig = AuthConfig()
    events: EventsConfig = EventsConfig()
    metrics: MetricsConfig = MetricsConfig()
    detection: DetectionSettings = DetectionSettings()
    clips: ClipSettings = ClipSettings()
    retention: RetentionSettings = RetentionSettings()
    pipeline: PipelineConfig = PipelineConfig()
    redis: RedisConfig = RedisConfig()
    bus: BusConfig = BusConfig()
    cluster: ClusterConfig = ClusterConfig()
    pose_tracks: PoseTracksConfig = PoseTracksConfig()
    analytics: AnalyticsConfig = AnalyticsConfig()
    demo_video: Path | None = Field(
        None,
        description="H.264 clip played by a looping demo camera, created on a first start "
        "with no cameras; unset: no demo.",
    )
    media_dirs: list[Path] = Field(
        default_factory=lambda: [Path("media")],
        description="Folders file cameras may play from, besides <data_dir>/media and the "
        "demo clip's folder; a file source anywhere else is refused.",
    )

    @property
    def media_folders(self) -> list[Path]:
        """Where file cameras may play from, resolved."""
        folders = [self.data_dir / "media", *self.media_dirs]
        if self.demo_video is not None:
            folders.append(self.demo_video.parent)
        return [folder.resolve() for folder in folders]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls))

    @model_validator(mode="after")
    def _bus_has_redis(self) -> "Settings":
        if self.bus.backend == "redis" and self.redis.url is None:
            raise ValueError("bus.backend redis needs redis.url")
        return self

    @model_validator(mode="after")
    def _split_roles_share_state(self) -> "Settings":
        """API instances and workers on several machines share the database, the bus and
        the evidence store; a single box (`all`) needs none of them."""
        if self.cluster.role == "all":
            return self
        problems = []
        if not self.resolved_database_url.startswith("postgresql"):
            problems.append("database_url must be PostgreSQL")
        if self.bus.backend != "redis":
            problems.append("bus.backend must be redis")
        if self.evidence.backend != "s3":
            problems.append("evidence.backend must be s3")
        if problems:
            role = self.cluster.role
            raise ValueError(f"cluster.role {role} shares state: " + "; ".join(problems))
        return self

    @model_validator(mode="after")
    def _production_is_safe(self) -> "Settings":
        if self.mode != "production":
            return self
        problems = []
        if self.auth.jwt_secret is not None and not strong_secret(
            self.auth.jwt_secret.get_secret_value()
        ):
            problems.append(
                f"auth.jwt_secret must be at least {MIN_SECRET_LENGTH} characters and not a "
                "well-known value (or leave it unset to generate one)"
            )
        password = self.auth.initial_admin_password
        if password is not None and (
            len(password.get_secret_value()) < MIN_PRODUCTION_PASSWORD_LENGTH
            or password.get_secret_value().lower() in WEAK_SECRETS
        ):
            problems.append(
                f"auth.initial_admin_password must be at least {MIN_PRODUCTION_PASSWORD_LENGTH} "
                "characters and not a well-known value"
            )
        if "*" in self.server.cors_origins:
            problems.append("server.cors_origins may not be '*' in production")
        token = self.metrics.token
        if token is not None and not strong_secret(token.get_secret_value()):
            problems.append(
                f"metrics.token must be at least {MIN_SECRET_LENGTH} characters and not a "
                "well-known value"
            )
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self

    @property
    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL to connect to."""
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{(self.data_dir / SQLITE_FILE).resolve()}"
        return async_database_url(self.database_url)


def strong_secret(value: str) -> bool:
    return len(value) >= MIN_SECRET_LENGTH and value.lower() not in WEAK_SECRETS


def async_database_url(url: str) -> str:
    """Pick the async driver for plain `postgresql://` and `sqlite://` URLs."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; `config_file` is a YAML file whose keys mirror the fields."""
    if config_file is None:
        return Settings(**overrides)
    if not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")

    class FileSettings(Settings):
        model_config = SettingsConfigDict(yaml_file=config_file)

    return FileSettings(**overrides)
