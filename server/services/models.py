"""`ModelService`: the behaviour models of a running server, and changing them without a restart.

While cameras are analysed it looks at the candidate slot every `CANDIDATE_POLL_S`: a new
candidate that loads scores every camera in shadow beside the active model (its verdicts go
to a `ShadowAlerts`, which counts its would-be alerts and keeps its track peaks); one that
does not load is refused (GET /models says why) and the active model goes on alone.

Promoting, restoring and discarding change the files first (`ModelRegistry`: refused with
a reason, nothing changed, when a model does not load), then the models every camera scores
with (`LiveModels`: each camera follows at its next scoring), then the model the alert
budgets follow (`CameraThresholds.use_model`: a promoted candidate's shadow peaks become
its history at once). One change at a time.

Example:
    >>> service = ModelService(settings=s, sessionmaker=sm, live=models, thresholds=t)
    >>> await service.start(); change = await service.promote(); await service.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.alerting.shadow import ShadowAlerts
from server.alerting.thresholds import CameraThresholds
from server.behaviour.live import LiveModels
from server.behaviour.models import LoadedModel, model_identity
from server.behaviour.registry import ModelRegistry
from server.config import Settings
from server.records.analysis import FrameAnalysis

logger = logging.getLogger(__name__)

CANDIDATE_POLL_S = 5.0  # how often the candidate slot is looked at


@dataclass(frozen=True, slots=True)
class ModelChange:
    """What a promotion or a restore did."""

    before: str | None  # the identity active until now (None: none loaded)
    after: LoadedModel


class ModelService:
    """The active behaviour model, the candidate in shadow, and changes between them."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        live: LiveModels,
        thresholds: CameraThresholds,
    ) -> None:
        """`live`: the models the cameras score with; `thresholds`: the active model's
        alert budgets."""
        self.live = live
        self.registry: ModelRegistry = live.registry
        self.thresholds = thresholds
        self.shadow: ShadowAlerts | None = None
        self.settings = settings
        self._sessionmaker = sessionmaker
        self._watch = settings.pipeline.enabled  # without cameras nothing runs in shadow
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the models and start following the candidate slot (when cameras run)."""
        if not self._watch:
            return
        await asyncio.to_thread(self.live.load)
        async with self._lock:
            await self._follow_candidate()
        self._task = asyncio.create_task(self._watch_forever(), name="candidate-model")

    async def stop(self) -> None:
        """Stop watching; store the shadow's would-be alerts and peaks (cameras stopped)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        async with self._lock:
            await self._stop_shadow()

    def take_shadow(self, analysis: FrameAnalysis, /) -> None:
        """A camera's frame as the candidate scored it, to the candidate's `ShadowAlerts`."""
        shadow, tried = self.shadow, analysis.shadow
        if shadow is not None and tried is not None and shadow.identity == tried.model:
            shadow.take(FrameAnalysis(analysis.frame, analysis.tracks, tried.verdicts))

    async def loaded(self) -> LiveModels:
        """The live models, loaded (a server without cameras loads them when first asked)."""
        await asyncio.to_thread(self.live.load)
        if not self._watch:
            await asyncio.to_thread(self.live.refresh_candidate)
        return self.live

    async def check_candidate(self) -> None:
        """Look at the candidate slot now (the watcher does it every few seconds)."""
        if not self._watch:
            return
        async with self._lock:
            if await asyncio.to_thread(self.live.refresh_candidate):
                await self._follow_candidate()

    async def promote(self, identity: str | None = None) -> ModelChange:
        """Make the candidate active (`identity`: only if it is still that one)."""
        async with self._lock:
            before = await asyncio.to_thread(self._active_identity)
            loaded = await asyncio.to_thread(self.registry.promote, identity)
            self.live.use(loaded, drop_candidate=True)
            await self._stop_shadow()
            await self.thresholds.use_model(loaded.path)
            logger.info("behaviour model %s promoted (was %s)", loaded.identity[:12], before)
            return ModelChange(before, loaded)

    async def restore(self) -> ModelChange:
        """Make the previous model active again."""
        async with self._lock:
            before = await asyncio.to_thread(self._active_identity)
            loaded = await asyncio.to_thread(self.registry.restore)
            self.live.use(loaded)  # a candidate that is this very model is dropped
            await self._follow_candidate()
            await self.thresholds.use_model(loaded.path)
            logger.info("behaviour model %s restored (was %s)", loaded.identity[:12], before)
            return ModelChange(before, loaded)

    async def discard(self) -> str | None:
        """Delete the candidate; its identity, when it loaded."""
        async with self._lock:
            candidate = self.live.pair.candidate
            await asyncio.to_thread(self.registry.discard)
            self.live.drop_candidate()
            await self._stop_shadow()
            return candidate.identity if candidate is not None else None

    def _active_identity(self) -> str | None:
        """The active model's identity, from its file (None: there is none)."""
        path = self.registry.active().path
        return model_identity(path) if path.is_file() else None

    async def _watch_forever(self) -> None:
        while True:
            await asyncio.sleep(CANDIDATE_POLL_S)
            try:
                await self.check_candidate()
            except Exception:  # a file system hiccup: look again next time
                logger.exception("looking at the candidate model failed")

    async def _follow_candidate(self) -> None:
        """Run the shadow of the loaded candidate, if any (under the lock)."""
        candidate = self.live.pair.candidate
        if self.shadow is not None and (
            candidate is None or self.shadow.identity != candidate.identity
        ):
            await self._stop_shadow()
        if candidate is not None and self.shadow is None:
            shadow = ShadowAlerts(
                settings=self.settings,
                sessionmaker=self._sessionmaker,
                model=candidate.path,
                identity=candidate.identity,
            )
            await shadow.start()
            self.shadow = shadow
            logger.info("candidate behaviour model %s runs in shadow", candidate.identity[:12])

    async def _stop_shadow(self) -> None:
        shadow, self.shadow = self.shadow, None
        if shadow is not None:
            await shadow.stop()
