"""⑥ tracks → verdicts: every live track of a camera scored by the behaviour model.

For each scored frame: each tracked person's raw score over the model's window ending now
(the XGBoost's features, `features.py`, averaged with the temporal network's on the
person's keypoint sequence, `ensemble.py`: the same code training used), that track's raw
scores averaged over the last `smoothing_s` seconds, then calibrated (`scoring.py`). Only
moments at which the person had been seen for `min_track_age_s` count (the policy's
track-age rule). A new track id that continues one which vanished just before where it
appears (an id switch: `scoring.continues`) is the same person: it inherits their first
sight and is scored on their frames under both ids, so the model does not see a newcomer.
One scorer per camera keeps its tracks' recent raw scores and sightings.
`training/replay.py` feeds PoseLift through this class at 5 fps and checks it gives the
offline scores of the same frames (`replay.as_live`, then `dataset.video_scores`).

Example:
    >>> scorer = BehaviourScorer(load_behaviour_model(path))   # `models.py`
    >>> verdicts = scorer.score(tracks, tracker)   # verdicts.score[i] for tracks.track_id[i]
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from server.behaviour.ensemble import TrackModel
from server.behaviour.scoring import (
    CONTINUE_WITHIN_S,
    alerting_scores,
    continues,
    join,
    track_scores,
)
from server.records.people import TrackHistory, Tracks, Verdicts

_EPS_S = 1e-6  # a track this close to the minimum age has it, despite float sums


class TrackHistories(Protocol):
    """What the scorer reads of a camera's tracker (`pipeline.tracking.Tracker`)."""

    def history(self, track_id: int) -> TrackHistory: ...

    def live_ids(self) -> list[int]: ...


@dataclass(slots=True)
class _Sighting:
    """When a track's person was first seen, where and when the track last was, and the
    person's frames under the ids it continues."""

    first_ts: float  # inherited from the track it continues, if any
    last_ts: float
    last_box: npt.NDArray[np.float32]  # (4,)
    before: TrackHistory | None = None  # the continued tracks' frames, the window's worth
    passed_on: bool = False  # a later track continued it: it gives its age once

    def person(self, own: TrackHistory) -> TrackHistory:
        """The person's frames: the track's own, after those it continues."""
        return own if self.before is None else join(self.before, own)


class BehaviourScorer:
    """Scores one camera's tracks, at most every `every_s` seconds: a window of seconds
    changes little from one analysed frame to the next, and scoring is the costliest step
    after pose."""

    def __init__(self, model: TrackModel, every_s: float = 0.0) -> None:
        if not every_s >= 0:
            raise ValueError(f"every_s: must be >= 0, got {every_s}")
        self.model, self.every_s = model, every_s
        self._raw: dict[int, deque[tuple[float, float]]] = {}  # track id → counted (ts, raw)
        self._seen: dict[int, _Sighting] = {}  # track id → its sighting, kept a while after
        self._last_ts = -float("inf")

    def due(self, ts: float) -> bool:
        """Whether the frame at `ts` should be scored (and, if so, takes its turn)."""
        if ts - self._last_ts < self.every_s - 1e-6:
            return False
        self._last_ts = ts
        return True

    def score(self, tracks: Tracks, tracker: TrackHistories) -> Verdicts:
        """The verdicts on `tracks` (as `tracker` has just updated them)."""
        live = set(tracker.live_ids())
        for gone in self._raw.keys() - live:  # ended tracks are forgotten
            del self._raw[gone]
        policy = self.model.policy
        if len(tracks) == 0:
            self._forget(tracks.ts, live)
            return Verdicts.empty(tracks.ts, policy.threshold)
        ids = [int(i) for i in tracks.track_id]
        own = [tracker.history(i) for i in ids]
        self._see(tracks, own, tracker, live)
        histories = [self._seen[i].person(h) for i, h in zip(ids, own, strict=True)]
        ends = [np.asarray([tracks.ts])] * len(ids)
        raw = self.model.raw_scores_at(histories, ends)
        smoothed = np.full(len(ids), np.nan)  # NaN: no moment of the track counts yet
        for row, track_id in enumerate(ids):
            past = self._raw.setdefault(track_id, deque())
            age = tracks.ts - self._seen[track_id].first_ts
            if age >= policy.min_track_age_s - _EPS_S:
                past.append((tracks.ts, float(raw[row])))
            while past and past[0][0] <= tracks.ts - policy.smoothing_s:
                past.popleft()
            if past:
                times, values = zip(*past, strict=True)
                smoothed[row] = track_scores(times, values, policy.smoothing_s)[-1]
        score = alerting_scores(smoothed, policy.calibration)
        self._forget(tracks.ts, live)
        return Verdicts(
            ts=tracks.ts,
            track_id=tracks.track_id.copy(),
            raw=raw.astype(np.float32),
            score=score.astype(np.float32),
            threshold=policy.threshold,
        )

    def _see(
        self,
        tracks: Tracks,
        own: list[TrackHistory],
        tracker: TrackHistories,
        live: set[int],
    ) -> None:
        """Note the tracks' sightings; a track new to the scorer that continues one which
        vanished just before where it appears (`scoring.continues`) takes that one's first
        sight and frames."""
        ids = tracks.track_id.tolist()
        horizon = tracks.ts - self.model.history_s - _EPS_S
        for row, track_id in enumerate(ids):
            if track_id in self._seen:
                continue
            start, box = float(own[row].ts[0]), own[row].xyxy[0]  # the tracker keeps enough
            candidates = [i for i, s in self._seen.items() if i not in ids and not s.passed_on]
            for i in candidates:  # lost but not ended: the tracker knows its last frame
                if i in live and len(last := tracker.history(i)):
                    self._seen[i].last_ts, self._seen[i].last_box = last.ts[-1], last.xyxy[-1]
            last_ts = [self._seen[i].last_ts for i in candidates]
            last_box = np.asarray([self._seen[i].last_box for i in candidates], np.float32)
            fit = continues(last_ts, last_box.reshape(-1, 4), start, box)
            sighting = _Sighting(start, start, box)
            if fit.max(initial=0.0) > 0:
                previous = candidates[int(np.argmax(fit))]
                earlier = self._seen[previous]
                frames = tracker.history(previous) if previous in live else None
                earlier.passed_on, sighting.first_ts = True, earlier.first_ts
                sighting.before = earlier.person(frames) if frames is not None else earlier.before
            self._seen[track_id] = sighting
        for row, track_id in enumerate(ids):
            sighting = self._seen[track_id]
            sighting.last_ts, sighting.last_box = tracks.ts, tracks.xyxy[row]
            if sighting.before is not None:
                sighting.before = _since(sighting.before, horizon)

    def _forget(self, ts: float, live: set[int]) -> None:
        """Drop the sightings of ended tracks that no new track could continue any more."""
        for track_id in [
            i for i, s in self._seen.items() if i not in live and ts - s.last_ts > CONTINUE_WITHIN_S
        ]:
            del self._seen[track_id]


def _since(history: TrackHistory, ts: float) -> TrackHistory | None:
    """The frames of `history` after `ts`; None when there are none."""
    keep = history.ts > ts
    if not keep.any():
        return None
    return TrackHistory(
        history.track_id,
        history.ts[keep],
        history.xyxy[keep],
        history.keypoints[keep],
        history.keypoint_conf[keep],
    )
