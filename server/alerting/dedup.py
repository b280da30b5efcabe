"""⑧ dedup: one alert per incident, keyed by (camera, zone, event type).

While an episode under a key has been seen within the window (default 5 minutes), new
detections extend it (last seen, peak score, tracks involved) instead of opening another.
Extensions are reported when they change something a reader sees (a higher peak, a new
person, a higher severity) or, to keep "last seen" fresh, at most every `refresh_s`.
Only an opening and a rise in severity ask for a push.

The state lives in memory, owned by the process that runs the camera; `restore` rebuilds
it from the database's open alerts after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.records.alerts import DedupKey, Detection

HIGH_SHARE = 0.5  # severity is high from halfway between the threshold and 1


def severity(score: float, threshold: float) -> int:
    """1 at the threshold, 2 from halfway between it and 1."""
    return 2 if score >= threshold + HIGH_SHARE * (1.0 - threshold) else 1


@dataclass(slots=True)
class Episode:
    """An open incident: its alert (None until stored) and what it has absorbed."""

    key: DedupKey
    started_ts: float
    last_ts: float
    peak: float
    severity: int
    track_ids: set[int] = field(default_factory=set)
    alert_id: int | None = None
    reported_ts: float = 0.0  # when an update was last reported


@dataclass(frozen=True, slots=True)
class Opening:
    """A new incident: store an alert, announce it, push it."""

    episode: Episode
    detection: Detection


@dataclass(frozen=True, slots=True)
class Extension:
    """An open incident grew: update its alert; push again if `severity_raised`."""

    episode: Episode
    detection: Detection
    severity_raised: bool


class Dedup:
    """Episodes of one process's cameras."""

    def __init__(self, window_s: float, refresh_s: float = 5.0) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s: must be positive, got {window_s}")
        self.window_s, self.refresh_s = window_s, refresh_s
        self.episodes: dict[DedupKey, Episode] = {}

    def offer(self, found: Detection) -> Opening | Extension | None:
        """Fold a detection in; None when it changes nothing worth reporting yet."""
        episode = self.episodes.get(found.key)
        level = severity(found.score, found.threshold)
        if episode is None or found.ts - episode.last_ts > self.window_s:
            episode = Episode(found.key, found.ts, found.ts, found.score, level, {found.track_id})
            episode.reported_ts = found.ts
            self.episodes[found.key] = episode
            return Opening(episode, found)
        new_track = found.track_id not in episode.track_ids
        higher = found.score > episode.peak
        raised = level > episode.severity
        episode.last_ts = max(episode.last_ts, found.ts)
        episode.peak = max(episode.peak, found.score)
        episode.severity = max(episode.severity, level)
        episode.track_ids.add(found.track_id)
        if new_track or higher or raised or found.ts - episode.reported_ts >= self.refresh_s:
            episode.reported_ts = found.ts
            return Extension(episode, found, raised)
        return None

    def restore(self, episode: Episode) -> None:
        """Take up an incident stored before a restart."""
        self.episodes[episode.key] = episode

    def forget(self, key: DedupKey) -> None:
        """Drop an episode (its alert was reviewed or deleted: the next detection opens anew)."""
        self.episodes.pop(key, None)

    def expire(self, now_ts: float) -> None:
        """Drop episodes not seen within the window."""
        for key in [k for k, e in self.episodes.items() if now_ts - e.last_ts > self.window_s]:
            del self.episodes[key]
