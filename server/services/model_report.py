"""GET /models: the active, candidate and previous behaviour models, and the candidate's
before/after report (its would-be alerts beside the active model's real ones, per camera:
`alerting/comparison.py`)."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.alerting.comparison import Comparison, Interval, LiveAlert, Overlap, compare
from server.alerting.thresholds import CameraThresholds
from server.behaviour.live import CameraScorers
from server.behaviour.models import LoadedModel
from server.behaviour.registry import ModelFile
from server.errors import ModelError
from server.pipeline.manager import PipelineManager, stage_times
from server.services.models import ModelService
from server.storage import cameras as camera_rows
from server.storage import shadow as shadow_rows
from server.storage.models import Camera, utcnow
from server.storage.settings import effective_settings
from server.weights import sha256_of
from shared.schemas.models import (
    BehaviourModelPublic,
    CameraComparison,
    DayCounts,
    ModelsPublic,
    ReviewOverlap,
    ShadowPublic,
)
from shared.schemas.settings import DetectionSettings


async def models_public(
    *,
    session: AsyncSession,
    service: ModelService,
    pipeline: PipelineManager,
    store_ids: list[int] | None,
) -> ModelsPublic:
    """The models and, with a candidate in shadow, its report on the cameras of `store_ids`
    (None: every camera)."""
    await service.check_candidate()
    live = await service.loaded()
    registry = service.registry
    active_file, candidate_file = registry.active(), registry.candidate()
    previous_file = registry.previous()
    pair = live.pair
    previous = await asyncio.to_thread(_describe_unloaded, previous_file) if previous_file else None
    candidate = None
    if candidate_file is not None:
        candidate = _describe(candidate_file, pair.candidate, live.candidate_error)
    shadow = None
    if pair.candidate is not None:
        shadow = await _shadow_report(session, service, pipeline, pair.candidate, store_ids)
    return ModelsPublic(
        active=_describe(active_file, pair.active, live.active_error),
        candidate=candidate,
        previous=previous,
        shadow=shadow,
    )


async def _shadow_report(
    session: AsyncSession,
    service: ModelService,
    pipeline: PipelineManager,
    candidate: LoadedModel,
    store_ids: list[int] | None,
) -> ShadowPublic:
    running = service.shadow
    if running is not None and running.identity != candidate.identity:
        running = None
    if running is not None:  # up to the second: what waits in memory is stored first
        await running.flush()
        await running.thresholds.flush()
    identity = candidate.identity
    cameras = await camera_rows.list_cameras(session=session, store_ids=store_ids)
    ids = [c.id for c in cameras]
    spans: dict[int, list[Interval]] = defaultdict(list)
    for camera_id, started, ended in await shadow_rows.scored_spans(
        session=session, model=identity, camera_ids=ids
    ):
        spans[camera_id].append(Interval(started.timestamp(), ended.timestamp()))
    shadow: dict[int, list[Interval]] = defaultdict(list)
    for camera_id, started, last in await shadow_rows.shadow_alerts(
        session=session, model=identity, camera_ids=ids
    ):
        shadow[camera_id].append(Interval(started.timestamp(), last.timestamp()))
    first = min((s.start for found in spans.values() for s in found), default=None)
    live: dict[int, list[LiveAlert]] = defaultdict(list)
    if first is not None:
        for camera_id, started, last, outcome in await shadow_rows.live_alerts(
            session=session,
            camera_ids=ids,
            since=datetime.fromtimestamp(first, UTC) - timedelta(minutes=1),
            until=utcnow(),
        ):
            live[camera_id].append(
                LiveAlert(Interval(started.timestamp(), last.timestamp()), outcome)
            )
    detection = (await effective_settings(session=session, settings=service.settings)).detection
    shown = [c for c in cameras if c.id in spans or c.id in pipeline.runners]
    rows = [
        _camera(
            camera,
            compare(spans[camera.id], live[camera.id], shadow[camera.id]),
            pipeline,
            service.thresholds,
            running.thresholds if running is not None else None,
            detection,
        )
        for camera in shown
    ]
    return ShadowPublic(
        identity=identity,
        running=running is not None,
        since=datetime.fromtimestamp(first, UTC) if first is not None else None,
        scored_hours=round(sum(r.scored_hours for r in rows), 4),
        active_alerts=sum(r.active_alerts for r in rows),
        candidate_alerts=sum(r.candidate_alerts for r in rows),
        confirmed=_sum([r.confirmed for r in rows]),
        false_alarms=_sum([r.false_alarms for r in rows]),
        cameras=rows,
    )


def _camera(
    camera: Camera,
    found: Comparison,
    pipeline: PipelineManager,
    active: CameraThresholds,
    candidate: CameraThresholds | None,
    detection: DetectionSettings,
) -> CameraComparison:
    runner = pipeline.runners.get(camera.id)
    scorers = runner.detector if runner is not None else None
    return CameraComparison(
        camera_id=camera.id,
        store_id=camera.store_id,
        name=camera.name,
        scored_hours=round(found.scored_s / 3600, 4),
        active_alerts=found.active,
        candidate_alerts=found.candidate,
        active_alerts_per_day=_rounded(found.per_day(found.active)),
        candidate_alerts_per_day=_rounded(found.per_day(found.candidate)),
        candidate_only_alerts=found.candidate_only,
        confirmed=_public(found.confirmed),
        false_alarms=_public(found.false_alarms),
        active_threshold=active.public(camera, detection) if active.facts else None,
        candidate_threshold=candidate.public(camera, detection) if candidate else None,
        shadow_scoring=(
            stage_times(scorers.shadow_time) if isinstance(scorers, CameraScorers) else None
        ),
        days=[
            DayCounts(
                day=d.day,
                scored_hours=round(d.scored_s / 3600, 4),
                active_alerts=d.active,
                candidate_alerts=d.candidate,
            )
            for d in found.days
        ],
    )


def _describe(
    file: ModelFile, loaded: LoadedModel | None, error: str | None
) -> BehaviourModelPublic:
    """A model as the API shows it; from its loaded form, else from what its file says."""
    threshold: float | None
    if loaded is not None and loaded.path == file.path:
        info, threshold = loaded.model.info, loaded.model.policy.threshold
        identity: str | None = loaded.identity
    else:
        info, threshold = _read(file)
        identity = sha256_of(file.path) if file.path.is_file() else None
    return BehaviourModelPublic(
        role=file.role,
        source=file.source,
        location=str(file.path),
        identity=identity,
        trained_at=_trained_at(info),
        threshold=threshold,
        info=info,
        error=error if loaded is None or loaded.path != file.path else None,
    )


def _describe_unloaded(file: ModelFile) -> BehaviourModelPublic:
    """A model nothing has loaded (the previous one): loaded now, to say whether it would."""
    try:
        return _describe(file, LoadedModel.load(file.path), None)
    except ModelError as exc:
        return _describe(file, None, exc.message)


def _read(file: ModelFile) -> tuple[dict[str, Any], float | None]:
    """The info and threshold a model file states, as far as it can be read."""
    try:
        document = json.loads(file.path.read_text(encoding="utf-8"))
        info = document.get("info") or {}
        threshold = float(document["policy"]["threshold"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}, None
    return (info if isinstance(info, dict) else {}), threshold


def _trained_at(info: dict[str, Any]) -> datetime | None:
    stated = info.get("trained_at")
    try:
        return datetime.fromisoformat(stated) if isinstance(stated, str) else None
    except ValueError:
        return None


def _public(overlap: Overlap) -> ReviewOverlap:
    return ReviewOverlap(reviewed=overlap.reviewed, also_raised=overlap.also_raised)


def _sum(overlaps: list[ReviewOverlap]) -> ReviewOverlap:
    return ReviewOverlap(
        reviewed=sum(o.reviewed for o in overlaps), also_raised=sum(o.also_raised for o in overlaps)
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
