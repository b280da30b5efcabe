"""Runtime: the long-lived pieces a running server owns, built at start-up and closed at the end.

Backends are chosen here: today the local event bus and the local camera assignment (every
enabled camera runs in this process); later Redis, object storage and the camera assignment
of a multi-box deployment.
"""

import asyncio
import contextlib
import logging
import os
import socket
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.alerting.recorder import AlertRecorder
from server.alerting.thresholds import CameraThresholds
from server.analytics.stage import AnalyticsStage
from server.analytics.writer import AnalyticsWriter
from server.annotate.pictures import PictureThreads
from server.behaviour.live import LiveModels
from server.behaviour.registry import ModelRegistry
from server.bus import RecordBus, make_bus
from server.cluster.leases import CameraLeases
from server.config import Settings
from server.datadir import prepare_data_dir
from server.demo import ensure_demo_camera
from server.errors import ConfigError
from server.evidence.s3_store import S3EvidenceStore
from server.evidence.store import EvidenceStore, EvidenceStoreError, LocalEvidenceStore
from server.evidence.worker import ClipWorker
from server.live.forward import WorkerRelay
from server.live.frames import LiveFrames
from server.live.peers import LivePeers, Viewer
from server.notify.apns import ApnsNotifier
from server.notify.bus import LocalEventBus
from server.notify.dispatcher import PushDispatcher, RetryPolicy
from server.notify.fcm import FcmNotifier
from server.notify.outbox import AlertPushes
from server.notify.push import Notifier
from server.notify.shared_bus import SharedEventBus
from server.notify.webpush import WebPushNotifier, load_vapid
from server.pipeline.manager import LocalAssignment, PipelineManager
from server.posetracks.service import PoseTracks
from server.posetracks.store import LocalPoseStore
from server.records.alerts import AlertRaised, AlertsDecided
from server.records.analysis import FrameAnalysis
from server.records.analytics import CameraMinute
from server.records.cameras import StatusChange
from server.records.hub import RecordHub
from server.records.video import Frame
from server.security.keys import load_signing_key
from server.security.media_links import MediaLinks
from server.security.passwords import Passwords
from server.security.redact import redact_url
from server.security.sign_in_failover import make_sign_in_guard
from server.security.tokens import TokenSigner
from server.services.auth import AuthService
from server.services.camera_catalog import DatabaseCameraCatalog
from server.services.camera_status import CameraStatusRecorder
from server.services.models import ModelService
from server.services.users import ensure_initial_admin
from server.storage import events, migrate
from server.storage.db import make_engine, make_sessionmaker
from server.storage.models import utcnow

logger = logging.getLogger(__name__)

ADMIN_PASSWORD_FILE = "initial_admin_password.txt"
EVIDENCE_DIR = "evidence"  # snapshots and clips, under the data directory
POSE_TRACKS_DIR = "pose-tracks"  # kept poses and labelled episodes, under the data directory
VAPID_KEY_FILE = "vapid_private.pem"  # the server's Web Push key, made on first start


# which unfinished clip jobs a starting process fails: one box, all (their video was in its
# memory); a worker, only those no other worker can still be recording; an API instance, none
_UNFINISHED_CLIPS: dict[str, Literal["all", "stale", "none"]] = {
    "all": "all",
    "worker": "stale",
    "api": "none",
}


def advertised_url(settings: Settings) -> str:
    """Where API instances reach this worker for live views."""
    configured = settings.cluster.advertise_url
    return configured or f"http://{socket.gethostname()}:{settings.server.port}"


def make_notifiers(settings: Settings) -> dict[str, Notifier]:
    """The push providers this server can reach: Web Push always (its key is made on
    first start), FCM with a service account file, APNs with a signing key."""
    push = settings.push
    private = push.allow_private_endpoints
    vapid = load_vapid(settings.data_dir / VAPID_KEY_FILE)
    notifiers: dict[str, Notifier] = {
        "webpush": WebPushNotifier(vapid, push.webpush_subject, allow_private=private)
    }
    if push.fcm_service_account is not None:
        notifiers["fcm"] = FcmNotifier(
            push.fcm_service_account,
            project_id=push.fcm_project_id,
            endpoint_base=push.fcm_endpoint,
            allow_private=private,
        )
    if push.apns_key_file is not None:
        notifiers["apns"] = ApnsNotifier(
            key_file=push.apns_key_file,
            key_id=push.apns_key_id,
            team_id=push.apns_team_id,
            topic=push.apns_topic,
            sandbox=push.apns_sandbox,
            endpoint=_host_port(push.apns_endpoint) if push.apns_endpoint else None,
            ssl_context=(
                ssl.create_default_context(cafile=str(push.apns_ca_file))
                if push.apns_ca_file
                else None
            ),
            allow_private=private,
        )
    return notifiers


async def open_evidence_store(settings: Settings) -> EvidenceStore:
    """The data directory's disk, or the configured S3-compatible store (its bucket made
    if absent). An unreachable store is logged, not fatal: cameras and alerts go on, and
    each file waits and retries before its job fails with the reason."""
    if settings.evidence.backend == "local":
        return LocalEvidenceStore(settings.data_dir / EVIDENCE_DIR)
    store = S3EvidenceStore(settings.evidence.s3)
    try:
        await asyncio.to_thread(store.ensure_bucket)
    except EvidenceStoreError as exc:
        logger.error("evidence store unavailable at start: %s", exc)
    return store


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"push.apns_endpoint: expected host:port, got {text!r}")
    return host, int(port)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: LocalEventBus | SharedEventBus
    record_bus: RecordBus | None  # between processes (None: one box)
    leases: CameraLeases | None  # a worker's hold on its cameras
    relay: WorkerRelay | None  # an API instance's live views, relayed to the workers
    records: RecordHub
    auth: AuthService
    passwords: Passwords
    pictures: PictureThreads
    pipeline: PipelineManager
    statuses: CameraStatusRecorder
    alerts: AlertRecorder
    thresholds: CameraThresholds
    clips: ClipWorker
    media_links: MediaLinks
    pushes: PushDispatcher
    live: LivePeers
    pose_tracks: PoseTracks
    models: ModelService
    analytics: AnalyticsStage
    analytics_writer: AnalyticsWriter
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, settings: Settings) -> "Runtime":
        """Open the database, migrate it, make sure an admin exists, start the cameras and
        housekeeping."""
        prepare_data_dir(settings)
        signing_key = load_signing_key(settings)
        signer = TokenSigner(signing_key)
        passwords = Passwords(memory_kib=settings.auth.password_hash_memory_kib)
        pictures = PictureThreads()  # live views and snapshots: never the default executor
        engine = make_engine(settings.resolved_database_url, settings.database_pool_wait_s)
        try:
            await migrate.upgrade(engine)
        except (OSError, SQLAlchemyError) as exc:
            await engine.dispose()
            where = redact_url(settings.resolved_database_url)
            raise ConfigError(f"cannot open the database at {where}: {exc}") from exc
        except BaseException:
            await engine.dispose()
            raise
        sessionmaker = make_sessionmaker(engine)
        role = settings.cluster.role
        record_bus = make_bus(settings) if settings.bus.backend == "redis" else None
        bus: LocalEventBus | SharedEventBus = (
            LocalEventBus(subscriber_queue=settings.events.subscriber_queue)
            if record_bus is None
            else SharedEventBus(
                record_bus, sessionmaker, subscriber_queue=settings.events.subscriber_queue
            )
        )
        leases = (
            CameraLeases(sessionmaker, settings.cluster, url=advertised_url(settings))
            if role == "worker"
            else None
        )
        records = RecordHub()  # the stages of this process, joined by their records
        registry = ModelRegistry.of(settings)  # the active behaviour model, any candidate
        live_models = LiveModels(registry, every_s=settings.pipeline.behaviour_every_s)
        statuses = CameraStatusRecorder(sessionmaker, bus)
        records.subscribe(StatusChange, statuses.take)
        pipeline = PipelineManager(
            config=(  # an API instance runs no cameras
                settings.pipeline.model_copy(update={"enabled": False})
                if role == "api"
                else settings.pipeline
            ),
            catalog=DatabaseCameraCatalog(settings, sessionmaker),
            assignment=leases or LocalAssignment(),
            publish=records.publish,
            detector=live_models,  # the one place the detector is chosen
        )
        clips = ClipWorker(
            settings=settings,
            sessionmaker=sessionmaker,
            bus=bus,
            store=await open_evidence_store(settings),
            ring_of=pipeline.ring,
            pictures=pictures,
        )
        dispatcher = PushDispatcher(
            sessionmaker=sessionmaker,
            notifiers=make_notifiers(settings),
            retry=RetryPolicy(settings.push.retry_base_s, settings.push.retry_cap_s),
            send_timeout_s=settings.push.send_timeout_s,
            parallel_sends=settings.push.parallel_sends,
        )
        thresholds = CameraThresholds(
            settings=settings, sessionmaker=sessionmaker, model=registry.active().path
        )
        models = ModelService(
            settings=settings, sessionmaker=sessionmaker, live=live_models, thresholds=thresholds
        )
        recorder = AlertRecorder(
            settings=settings,
            sessionmaker=sessionmaker,
            bus=bus,
            publish=records.publish,
            pushes=AlertPushes(settings.push.cooldown_s, dispatcher.wake),
            thresholds=thresholds,
        )
        frames = LiveFrames()
        pose_tracks = PoseTracks(
            settings=settings,
            sessionmaker=sessionmaker,
            store=LocalPoseStore(settings.data_dir / POSE_TRACKS_DIR),
        )
        analytics = AnalyticsStage(
            settings.analytics, sessionmaker, records.publish, running=lambda: pipeline.runners
        )
        analytics_writer = AnalyticsWriter(settings.analytics, sessionmaker)
        for take_analysis in (
            clips.take,  # what the annotated clips draw
            frames.take,  # the live view
            thresholds.take,  # track peaks, for the alert budgets
            recorder.take,
            pose_tracks.recorder.take,
            models.take_shadow,  # a candidate's verdicts: counted, not sent
            analytics.take,  # footfall, occupancy, dwell, heatmaps
        ):
            records.subscribe(FrameAnalysis, take_analysis)
        records.subscribe(StatusChange, analytics.status_changed)
        records.subscribe(CameraMinute, analytics_writer.take)
        records.subscribe(AlertRaised, clips.alert_raised)  # snapshot and clip
        records.subscribe(AlertsDecided, clips.alerts_decided)  # when a clip may close
        records.subscribe(AlertRaised, frames.alert_raised)  # its people highlighted
        records.subscribe(Frame, frames.take_gated)  # a gated camera's frames, shown plain
        runtime = cls(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            bus=bus,
            record_bus=record_bus,
            leases=leases,
            relay=WorkerRelay() if role == "api" else None,
            records=records,
            auth=AuthService(
                config=settings.auth,
                signer=signer,
                passwords=passwords,
                bus=bus,
                guard=make_sign_in_guard(settings),
            ),
            passwords=passwords,
            pictures=pictures,
            pipeline=pipeline,
            statuses=statuses,
            alerts=recorder,
            thresholds=thresholds,
            clips=clips,
            media_links=MediaLinks(signing_key),
            pushes=dispatcher,
            live=LivePeers(frames, pictures, settings.live),
            pose_tracks=pose_tracks,
            models=models,
            analytics=analytics,
            analytics_writer=analytics_writer,
        )
        async with runtime.sessionmaker() as session:
            password = await ensure_initial_admin(
                session=session, settings=settings, passwords=passwords
            )
        if password is not None:
            runtime._announce_admin(password)
        if settings.demo_video is not None:
            try:
                async with runtime.sessionmaker() as session:
                    await ensure_demo_camera(session=session, video=settings.demo_video)
            except Exception:  # a demo is a convenience: never keep the API from starting
                logger.exception("creating the demo camera failed")
        if isinstance(bus, SharedEventBus) and role != "worker":
            await bus.start()  # this instance's live clients get every instance's events
        await runtime.clips.start(unfinished=_UNFINISHED_CLIPS[role])
        await runtime.pushes.start()
        await runtime.thresholds.start()
        await runtime.alerts.start()
        await runtime.pose_tracks.start()
        await runtime.models.start()
        await runtime.analytics_writer.start()
        await runtime.analytics.start()
        await runtime.statuses.start()
        await runtime.pipeline.start()
        if leases is not None:
            runtime._tasks.append(
                asyncio.create_task(leases.run(lambda _held: pipeline.request_reconcile()))
            )
        runtime._tasks.append(asyncio.create_task(runtime._prune_events_forever()))
        access = runtime.bus.subscribe(events=False)
        runtime._tasks.append(
            asyncio.create_task(runtime.live.watch_access(access, runtime._may_watch))
        )
        return runtime

    async def stop(self) -> None:
        await self.live.close_all()
        for task in self._tasks:  # the lease renewal first: its cameras stop next
            task.cancel()
        await self.pipeline.stop()
        if self.leases is not None:
            await self.leases.release_all()  # the other workers take over at once
        await self.statuses.stop()  # the cameras' last word: offline
        await self.models.stop()
        await self.analytics.stop()  # the cameras' last minutes, to the writer
        await self.analytics_writer.stop()
        await self.pose_tracks.stop()
        await self.thresholds.stop()
        await self.alerts.stop()
        await self.clips.stop()
        await self.pushes.stop()
        if isinstance(self.bus, SharedEventBus):
            await self.bus.stop()
        if self.record_bus is not None:
            await self.record_bus.close()  # what is buffered goes out first
        if self.relay is not None:
            await self.relay.aclose()
        self.passwords.close()
        await self.auth.guard.aclose()
        self.pictures.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.engine.dispose()

    async def _may_watch(self, viewer: Viewer) -> bool:
        try:
            async with self.sessionmaker() as session:
                return await self.auth.may_watch(
                    session=session,
                    session_id=viewer.session_id,
                    user_id=viewer.user_id,
                    camera_id=viewer.camera_id,
                )
        except SQLAlchemyError:  # the database is away: the token checks still apply
            logger.exception("checking a live view's access failed")
            return True

    def _announce_admin(self, password: str) -> None:
        path: Path = self.settings.data_dir / ADMIN_PASSWORD_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(password + "\n")
        logger.warning(
            "\n%s\n  First admin created.  username: %s   one-time password: %s\n"
            "  Sign in and choose a new password (also saved in %s).\n%s",
            "=" * 72,
            self.settings.auth.initial_admin_username,
            password,
            path,
            "=" * 72,
        )

    async def _prune_events_forever(self) -> None:
        keep = timedelta(hours=self.settings.events.retention_h)
        while True:
            try:
                async with self.sessionmaker() as session:
                    removed = await events.prune_events(session=session, before=utcnow() - keep)
                    await session.commit()
                if removed:
                    logger.info("pruned %d old events", removed)
            except Exception:  # the database may be down for a while; try again later
                logger.exception("pruning the event log failed")
            await asyncio.sleep(3600)
