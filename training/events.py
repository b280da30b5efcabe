"""Event figures on session timelines: what a store owner sees of a threshold.

An alert is a run of frames at or over the threshold on one session's timeline; runs fewer
than `merge_gap_s` seconds apart are one alert, as the server's dedup window makes them one
incident. Alerts never cross sessions: what lay between two sessions is unknown. An episode
is caught when an alert overlaps it. An alert that overlaps no episode is a false alert,
unless it starts in a don't-care band (`training/timeline.py`): then it is a band alert,
counted apart. Rates are per hour with people in view that counts as normal (no episode,
no band): hours of an empty shop raise no alert and say nothing about false alerts.

`EventTable` holds, per session and threshold, what the sums are made of, so a curve, a
chosen budget and the session bootstrap are sums over its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from training.metrics import MERGE_GAP_S
from training.timeline import Timeline

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BUDGETS = (0.5, 1.0, 2.0, 4.0)  # false alerts per hour with people: the criterion's budgets
Outcome = Literal["caught", "false", "band"]


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert on session `session`'s timeline, frames [start, end)."""

    session: int
    start: int
    end: int
    peak: float
    outcome: Outcome  # overlaps an episode / overlaps none / overlaps none, starts in a band


@dataclass(frozen=True, slots=True)
class EventFigures:
    """Event counts over some sessions, and the hours they were counted over."""

    episodes: int
    caught: int
    false_alerts: int
    band_alerts: int  # alerts starting in a don't-care band (not false alerts)
    video_hours: float  # every frame
    people_hours: float  # frames with someone in view
    counted_hours: float  # frames with someone in view that count as normal: the rate's base

    @property
    def caught_share(self) -> float:
        return self.caught / self.episodes if self.episodes else float("nan")

    @property
    def false_alerts_per_hour(self) -> float:
        return self.false_alerts / self.counted_hours if self.counted_hours else float("nan")

    def row(self) -> dict[str, float | int]:
        return {
            "episodes": self.episodes,
            "episodes_caught": self.caught,
            "episodes_caught_share": round(self.caught_share, 4),
            "false_alerts": self.false_alerts,
            "band_alerts": self.band_alerts,
            "video_hours": round(self.video_hours, 3),
            "people_hours": round(self.people_hours, 3),
            "counted_hours": round(self.counted_hours, 3),
            "false_alerts_per_hour": round(self.false_alerts_per_hour, 2),
        }


def session_alerts(
    timeline: Timeline,
    scores: F64,
    threshold: float,
    merge_gap_s: float = MERGE_GAP_S,
    session: int = 0,
) -> list[Alert]:
    """The alerts of one session's frame scores (shape (T,)) at `threshold`."""
    starts, ends = _merged_runs(scores >= threshold, round(merge_gap_s * timeline.fps))
    overlaps = _overlapping(starts, ends, timeline)
    return [
        Alert(
            session,
            int(a),
            int(b),
            float(scores[a:b].max()),
            "caught" if hit else ("band" if timeline.band[a] else "false"),
        )
        for a, b, hit in zip(starts.tolist(), ends.tolist(), overlaps.tolist(), strict=True)
    ]


@dataclass(frozen=True, slots=True)
class EventTable:
    """Per session (S) and threshold (T): episodes caught and alerts; per session: hours.

    `thresholds` is (T,) when every session shares them, (S, T) when each has its own
    (e.g. its fold's).
    """

    thresholds: F64
    episodes: I64  # (S,)
    caught: I64  # (S, T)
    false_alerts: I64  # (S, T)
    band_alerts: I64  # (S, T)
    video_hours: F64  # (S,)
    people_hours: F64  # (S,)
    counted_hours: F64  # (S,)

    @property
    def sessions(self) -> int:
        return len(self.episodes)

    def figures(self, column: int = 0, weights: F64 | None = None) -> EventFigures:
        """The sums at threshold `column`, each session counted `weights` times (once)."""
        w = np.ones(self.sessions) if weights is None else weights
        return EventFigures(
            int(np.rint(w @ self.episodes)),
            int(np.rint(w @ self.caught[:, column])),
            int(np.rint(w @ self.false_alerts[:, column])),
            int(np.rint(w @ self.band_alerts[:, column])),
            float(w @ self.video_hours),
            float(w @ self.people_hours),
            float(w @ self.counted_hours),
        )

    def curve(self, weights: F64 | None = None) -> tuple[F64, F64]:
        """Per threshold, the false alerts per hour and the share of episodes caught."""
        w = np.ones(self.sessions) if weights is None else weights
        hours, episodes = float(w @ self.counted_hours), float(w @ self.episodes)
        per_hour = (w @ self.false_alerts) / hours if hours else np.full(self.columns, np.nan)
        share = (w @ self.caught) / episodes if episodes else np.full(self.columns, np.nan)
        return np.asarray(per_hour, np.float64), np.asarray(share, np.float64)

    @property
    def columns(self) -> int:
        return int(self.caught.shape[1])

    def caught_within(self, budgets: Sequence[float], weights: F64 | None = None) -> F64:
        """Per budget, the largest share of episodes caught by a threshold whose false alerts
        per hour stay within it (the threshold picked on these very scores: a figure of how
        well they rank, not of a threshold that was fixed beforehand)."""
        per_hour, share = self.curve(weights)
        fits = per_hour[None, :] <= np.asarray(budgets, np.float64)[:, None] + 1e-9  # (B, T)
        best = np.where(fits, share[None, :], -np.inf).max(axis=1, initial=-np.inf)
        return np.asarray(np.where(fits.any(axis=1), best, 0.0), np.float64)

    def criterion(self, budgets: Sequence[float] = BUDGETS, weights: F64 | None = None) -> float:
        """The event-aware selection criterion: the share of episodes caught, averaged over
        the false-alert budgets (per hour with people)."""
        return float(self.caught_within(budgets, weights).mean())


def event_table(
    timelines: Sequence[Timeline],
    scores: Sequence[F64],
    thresholds: F64,
    merge_gap_s: float = MERGE_GAP_S,
) -> EventTable:
    """Count every session's events at every threshold (`thresholds` (T,) or (S, T))."""
    if len(timelines) != len(scores):
        raise ValueError("scores: one array per timeline")
    grid = np.asarray(thresholds, np.float64)
    per_session = np.broadcast_to(grid, (len(timelines), grid.shape[-1]))
    counts = np.zeros((3, len(timelines), per_session.shape[1]), np.int64)
    for s, (timeline, score) in enumerate(zip(timelines, scores, strict=True)):
        if score.shape != (len(timeline),):
            raise ValueError(f"scores[{s}]: shape must be ({len(timeline)},)")
        for t, threshold in enumerate(per_session[s].tolist()):
            outcomes = [a.outcome for a in session_alerts(timeline, score, threshold, merge_gap_s)]
            counts[1, s, t] = outcomes.count("false")
            counts[2, s, t] = outcomes.count("band")
            counts[0, s, t] = _caught(timeline, score, threshold, merge_gap_s)
    hours = [1 / (t.fps * 3600) for t in timelines]
    return EventTable(
        grid,
        np.asarray([len(t.episodes) for t in timelines], np.int64),
        counts[0],
        counts[1],
        counts[2],
        np.asarray([len(t) * h for t, h in zip(timelines, hours, strict=True)]),
        np.asarray([t.people.sum() * h for t, h in zip(timelines, hours, strict=True)]),
        np.asarray(
            [(t.people & t.normal).sum() * h for t, h in zip(timelines, hours, strict=True)]
        ),
    )


def episode_peaks(timelines: Sequence[Timeline], scores: Sequence[F64]) -> F64:
    """Each episode's highest score, sorted: the thresholds worth trying (each is just low
    enough to catch its episode)."""
    peaks = [
        float(score[e.start : e.end].max())
        for timeline, score in zip(timelines, scores, strict=True)
        for e in timeline.episodes
    ]
    return np.unique(np.asarray(peaks, np.float64))


def choose_threshold(
    timelines: Sequence[Timeline],
    scores: Sequence[F64],
    max_false_per_hour: float,
    merge_gap_s: float = MERGE_GAP_S,
) -> float:
    """The threshold catching the most episodes while the false alerts per hour with people
    stay within `max_false_per_hour` (the highest such, on ties); 1.0 when none does."""
    candidates = episode_peaks(timelines, scores)
    if not len(candidates):
        return 1.0
    table = event_table(timelines, scores, candidates, merge_gap_s)
    per_hour, share = table.curve()
    fits = np.flatnonzero(per_hour <= max_false_per_hour + 1e-9)
    if not len(fits):
        return 1.0
    best = fits[share[fits] == share[fits].max()]
    return float(min(1.0, candidates[best[-1]]))


def _merged_runs(mask: npt.NDArray[np.bool_], merge_gap: int) -> tuple[I64, I64]:
    """[start, end) of the runs of True, runs at most `merge_gap` frames apart joined."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    starts, ends = edges[0::2], edges[1::2]
    if not len(starts):
        return starts, ends
    opens = np.concatenate([[True], starts[1:] - ends[:-1] > merge_gap])
    closes = np.concatenate([opens[1:], [True]])
    return starts[opens], ends[closes]


def _overlapping(starts: I64, ends: I64, timeline: Timeline) -> npt.NDArray[np.bool_]:
    """Which of the (sorted, disjoint) spans overlap an episode."""
    if not timeline.episodes:
        return np.zeros(len(starts), bool)
    ep_starts = np.asarray([e.start for e in timeline.episodes])
    ep_ends = np.asarray([e.end for e in timeline.episodes])
    last = np.searchsorted(ep_starts, ends, side="left") - 1  # last episode starting before
    return np.asarray((last >= 0) & (ep_ends[np.maximum(last, 0)] > starts), bool)


def _caught(timeline: Timeline, scores: F64, threshold: float, merge_gap_s: float) -> int:
    if not timeline.episodes:
        return 0
    starts, ends = _merged_runs(scores >= threshold, round(merge_gap_s * timeline.fps))
    if not len(starts):
        return 0
    ep_starts = np.asarray([e.start for e in timeline.episodes])
    ep_ends = np.asarray([e.end for e in timeline.episodes])
    last = np.searchsorted(starts, ep_ends, side="left") - 1  # last alert starting before
    return int(((last >= 0) & (ends[np.maximum(last, 0)] > ep_starts)).sum())
