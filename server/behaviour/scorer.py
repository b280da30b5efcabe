"""⑥ tracks → verdicts: every live track of a camera scored by the behaviour model.

For each analysed frame: the features of each tracked person over the model's window
ending now (`features.py`, the same code training used), the model's raw score, that
track's raw scores averaged over the last `smoothing_s` seconds, then calibrated
(`scoring.py`). One scorer per camera keeps its tracks' recent raw scores.

Example:
    >>> scorer = BehaviourScorer(BehaviourModel.load(path))
    >>> verdicts = scorer.score(tracks, tracker)   # verdicts.score[i] for tracks.track_id[i]
"""

from __future__ import annotations

from collections import deque

import numpy as np

from server.behaviour.classifier import BehaviourModel
from server.behaviour.features import batch_features
from server.behaviour.scoring import track_scores
from server.pipeline.records import Tracks, Verdicts
from server.pipeline.tracking import Tracker


class BehaviourScorer:
    """Scores one camera's tracks, at most every `every_s` seconds: a window of seconds
    changes little from one analysed frame to the next, and scoring is the costliest step
    after pose."""

    def __init__(self, model: BehaviourModel, every_s: float = 0.0) -> None:
        if not every_s >= 0:
            raise ValueError(f"every_s: must be >= 0, got {every_s}")
        self.model, self.every_s = model, every_s
        self._raw: dict[int, deque[tuple[float, float]]] = {}  # track id → (ts, raw score)
        self._last_ts = -float("inf")

    def due(self, ts: float) -> bool:
        """Whether the frame at `ts` should be scored (and, if so, takes its turn)."""
        if ts - self._last_ts < self.every_s - 1e-6:
            return False
        self._last_ts = ts
        return True

    def score(self, tracks: Tracks, tracker: Tracker) -> Verdicts:
        """The verdicts on `tracks` (as `tracker` has just updated them)."""
        for gone in self._raw.keys() - set(tracker.live_ids()):  # ended tracks are forgotten
            del self._raw[gone]
        if len(tracks) == 0:
            return Verdicts.empty(tracks.ts, self.model.policy.threshold)
        ids = [int(i) for i in tracks.track_id]
        histories = [tracker.history(i) for i in ids]
        ends = [np.asarray([tracks.ts])] * len(ids)
        raw = self.model.raw_scores(batch_features(histories, ends, self.model.spec))
        policy = self.model.policy
        smoothed = np.empty(len(ids), np.float64)
        for row, track_id in enumerate(ids):
            past = self._raw.setdefault(track_id, deque())
            past.append((tracks.ts, float(raw[row])))
            while past and past[0][0] <= tracks.ts - policy.smoothing_s:
                past.popleft()
            times, values = zip(*past, strict=True)
            smoothed[row] = track_scores(times, values, policy.smoothing_s)[-1]
        return Verdicts(
            ts=tracks.ts,
            track_id=tracks.track_id.copy(),
            raw=raw.astype(np.float32),
            score=policy.calibration.apply(smoothed).astype(np.float32),
            threshold=policy.threshold,
        )
