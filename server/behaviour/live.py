"""⑥ the behaviour models cameras score with: the active one and, in shadow, a candidate.
The pipeline's `Detector` (pipeline/detector.py) in this server.

`LiveModels` holds the loaded models (`ModelPair`, replaced whole, so a camera reads one
consistent pair). Each camera's `CameraScorers` scores its tracks with the active model (the
verdicts of its `FrameAnalysis` records: alerts, pushes, live view) and, while a candidate is
loaded, with the candidate too; the candidate's verdicts on the same frame ride along as the
record's `shadow` (`alerting/shadow.py` counts its would-be alerts). Both run on the tracking
thread, one after the other, where the scorer always ran.

A promotion or a restore replaces the pair; each camera follows at its next scoring, without
a restart: a scorer is kept for a model it already had (the promoted candidate keeps its
tracks' recent scores), a new one starts for a model it had not. Without a candidate the
only extra work is reading the pair.

Example:
    >>> scorers = models.for_camera(tracker)
    >>> if scorers.due(tracks.ts): verdicts = scorers.score(tracks, tracker)
    >>> shadow = scorers.shadow(tracks.ts)   # the candidate's, on the same frame
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Protocol

from server.behaviour.models import LoadedModel, new_scorer
from server.behaviour.registry import ModelRegistry
from server.behaviour.scorer import BehaviourScorer, TrackHistories
from server.errors import ModelError
from server.metrics.timings import Durations
from server.records.analysis import ShadowVerdicts
from server.records.people import Tracks, Verdicts

logger = logging.getLogger(__name__)

HISTORY_SLACK_S = 0.5  # tracks keep a model's window plus this (a frame's worth)
_SAME_AS_ACTIVE = "the candidate is the active model itself (the same sha256)"


@dataclass(frozen=True, slots=True)
class ModelPair:
    """The models scoring now; `generation` grows with every change."""

    active: LoadedModel | None = None
    candidate: LoadedModel | None = None
    generation: int = 0

    def history_s(self) -> float:
        """Seconds of keypoints tracks must keep for both models' windows (0: no model)."""
        windows = [m.model.history_s for m in (self.active, self.candidate) if m is not None]
        return max(windows) + HISTORY_SLACK_S if windows else 0.0


class ScoredTracker(TrackHistories, Protocol):
    """A camera's tracker, whose kept history grows to the models' window."""

    history_s: float


class LiveModels:
    """The behaviour models every camera of this process scores with (the pipeline's
    `Detector`); each camera scores every `every_s` seconds of video at most."""

    def __init__(self, registry: ModelRegistry, every_s: float = 0.0) -> None:
        self.registry = registry
        self.every_s = every_s
        self.pair = ModelPair()
        self.active_error: str | None = None  # why the active model did not load
        self.candidate_error: str | None = None  # why the candidate is refused
        self._candidate_signature: object = None
        self._loaded = False
        self._lock = threading.RLock()

    @property
    def error(self) -> str | None:
        """Why cameras are not scored: the active model did not load."""
        return self.active_error

    def history_s(self) -> float:
        return self.pair.history_s()

    def for_camera(self, tracker: ScoredTracker) -> CameraScorers:
        return CameraScorers(self, tracker, self.every_s)

    def load(self) -> None:
        """Load the active model and any candidate, once (blocking: run it in a thread)."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            path = self.registry.active().path
            try:
                self.use(LoadedModel.load(path))
            except ModelError as exc:
                self.active_error = exc.message
                logger.error("behaviour model not loaded: %s", exc.message)
        self.refresh_candidate()

    def refresh_candidate(self) -> bool:
        """Load the candidate slot again if its files changed since the last look (blocking);
        whether the candidate changed. A candidate that does not load is refused: the
        cameras go on without one, and `candidate_error` says why."""
        with self._lock:
            signature = self.registry.candidate_signature()
            if signature == self._candidate_signature:
                return False
            self._candidate_signature = signature
            before = self.pair.candidate
            found: LoadedModel | None = None
            error: str | None = None
            if signature is not None:
                try:
                    found = LoadedModel.load(self.registry.candidate_path)
                except ModelError as exc:
                    error = exc.message
                    logger.error("candidate behaviour model refused: %s", exc.message)
            if found is not None and found.identity == _identity(self.pair.active):
                found, error = None, _SAME_AS_ACTIVE
            self.candidate_error = error
            self.pair = replace(self.pair, candidate=found, generation=self.pair.generation + 1)
            return _identity(before) != _identity(found)

    def use(self, active: LoadedModel, *, drop_candidate: bool = False) -> None:
        """Score with `active` from the next scoring on; with `drop_candidate`, without the
        candidate (it was promoted or discarded: the slot is looked at afresh later)."""
        with self._lock:
            pair = self.pair
            candidate = None if drop_candidate else pair.candidate
            if drop_candidate:
                self._candidate_signature = None
                self.candidate_error = None
            elif candidate is not None and candidate.identity == active.identity:
                candidate, self.candidate_error = None, _SAME_AS_ACTIVE
            self.active_error = None
            self.pair = ModelPair(active, candidate, pair.generation + 1)

    def drop_candidate(self) -> None:
        """Score without the candidate (discarded)."""
        with self._lock:
            self._candidate_signature = None
            self.candidate_error = None
            self.pair = replace(self.pair, candidate=None, generation=self.pair.generation + 1)


class CameraScorers:
    """One camera's behaviour scoring, with the active model and, in shadow, the candidate.

    The pipeline's `CameraDetector`: `due` and `score` on the tracking thread, then
    `shadow` hands on the candidate's verdicts on the same frame.
    """

    def __init__(self, models: LiveModels, tracker: ScoredTracker, every_s: float = 0.0) -> None:
        if not every_s >= 0:
            raise ValueError(f"every_s: must be >= 0, got {every_s}")
        self.models, self.tracker, self.every_s = models, tracker, every_s
        self.shadow_time = Durations()  # the candidate's share of each scoring
        self._generation = -1
        self._active: BehaviourScorer | None = None
        self._candidate: BehaviourScorer | None = None
        self._candidate_identity: str | None = None
        self._by_identity: dict[str, BehaviourScorer] = {}
        self._last_ts = -float("inf")
        self._shadow: Verdicts | None = None  # the candidate's on the frame just scored

    def due(self, ts: float) -> bool:
        """Whether the frame at `ts` should be scored (and, if so, it takes its turn)."""
        if self.models.pair.active is None or ts - self._last_ts < self.every_s - 1e-6:
            return False
        self._last_ts = ts
        return True

    def score(self, tracks: Tracks, tracker: TrackHistories, /) -> Verdicts:
        """The active model's verdicts on `tracks`; the candidate's are kept for `shadow`."""
        self._follow(self.models.pair)
        if self._active is None:  # not reached: `due` said there was an active model
            return Verdicts.empty(tracks.ts, 1.0)
        verdicts = self._active.score(tracks, tracker)
        if self._candidate is not None:
            started = time.monotonic()
            self._shadow = self._candidate.score(tracks, tracker)
            self.shadow_time.add(time.monotonic() - started)
        return verdicts

    def shadow(self, ts: float) -> ShadowVerdicts | None:
        """While a candidate scores: its verdicts on the frame at `ts` (None when it did not
        score that frame); None without a candidate. Each scoring is handed on once."""
        identity = self._candidate_identity
        mine, self._shadow = self._shadow, None
        if identity is None:
            return None
        return ShadowVerdicts(identity, mine if mine is not None and mine.ts == ts else None)

    def _follow(self, pair: ModelPair) -> None:
        """Take up a changed pair (on the tracking thread, between two scorings)."""
        if pair.generation == self._generation:
            return
        self._generation = pair.generation
        kept = self._by_identity
        self._by_identity = {}
        for loaded in (pair.active, pair.candidate):
            if loaded is not None and loaded.identity not in self._by_identity:
                self._by_identity[loaded.identity] = kept.get(loaded.identity) or new_scorer(
                    loaded.model
                )
        self._active = self._by_identity[pair.active.identity] if pair.active else None
        self._candidate = self._by_identity[pair.candidate.identity] if pair.candidate else None
        self._candidate_identity = pair.candidate.identity if pair.candidate else None
        self._shadow = None
        self.tracker.history_s = max(self.tracker.history_s, pair.history_s())


def _identity(loaded: LoadedModel | None) -> str | None:
    return None if loaded is None else loaded.identity
