"""The before/after report of a candidate model, for one camera: its would-be alerts beside the
active model's real ones, over the time it scored the camera in shadow.

Computation only (`services/model_report.py` reads the rows).

- **Time compared**: the candidate's scored spans on the camera (as the alert budget counts
  them: stretches of scored frames).
- **Active alerts**: real alerts (test alerts left out) that started within a span, give or
  take `SPAN_SLACK_S` (spans are stored every 30 s, so the newest lags a little).
- **Would-be alerts**: the candidate's shadow episodes, deduplicated as live alerts are.
- **Also raised**: an active alert reviewed as real (confirmed theft, deterred) or as a false
  alarm is also raised by the candidate when one of its would-be alerts on the camera
  overlaps it in time, give or take `OVERLAP_SLACK_S` (two models cross their thresholds at
  different moments of one incident).
- **Candidate only**: would-be alerts that overlap none of the active model's alerts.
- **Per day**: UTC days, by when an alert started; a span across midnight counts on both.

Example:
    >>> found = compare(spans, live, shadow)
    >>> found.active, found.candidate, found.confirmed.also_raised
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from shared.schemas.alerts import AlertOutcome

DAY_S = 86400.0
SPAN_SLACK_S = 30.0
OVERLAP_SLACK_S = 30.0
MIN_RATE_S = 3600.0  # alerts per day are stated from an hour of scored video
REAL = frozenset({AlertOutcome.confirmed_theft.value, AlertOutcome.deterred.value})
FALSE = frozenset({AlertOutcome.false_alarm.value})


@dataclass(frozen=True, slots=True)
class Interval:
    """From `start` to `end`, Unix seconds."""

    start: float
    end: float

    def overlaps(self, other: Interval, slack_s: float) -> bool:
        return other.start <= self.end + slack_s and other.end >= self.start - slack_s


@dataclass(frozen=True, slots=True)
class LiveAlert:
    """A real alert of the active model: its span and its review outcome (None: not reviewed)."""

    span: Interval
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class Overlap:
    reviewed: int = 0
    also_raised: int = 0


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    scored_s: float
    active: int
    candidate: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """One camera's figures (module docstring)."""

    scored_s: float = 0.0
    active: int = 0
    candidate: int = 0
    candidate_only: int = 0
    confirmed: Overlap = Overlap()
    false_alarms: Overlap = Overlap()
    days: list[Day] = field(default_factory=list)

    def per_day(self, count: int) -> float | None:
        """`count` a day over the scored time; None under `MIN_RATE_S` of it."""
        return count / (self.scored_s / DAY_S) if self.scored_s >= MIN_RATE_S else None


def compare(
    spans: Sequence[Interval], live: Sequence[LiveAlert], shadow: Sequence[Interval]
) -> Comparison:
    """The figures of one camera: the candidate's scored `spans`, the active model's `live`
    alerts (any time: those outside the spans are left out) and the candidate's `shadow`
    alerts."""
    if not spans:
        return Comparison()
    compared = [a for a in live if any(a.span.overlaps(s, SPAN_SLACK_S) for s in spans)]
    confirmed = _overlap([a for a in compared if a.outcome in REAL], shadow)
    false_alarms = _overlap([a for a in compared if a.outcome in FALSE], shadow)
    candidate_only = sum(
        not any(a.span.overlaps(s, OVERLAP_SLACK_S) for a in compared) for s in shadow
    )
    scored: dict[date, float] = {}
    for span in spans:
        for day, seconds in _by_day(span):
            scored[day] = scored.get(day, 0.0) + seconds
    active_days = _count_by_day(a.span.start for a in compared)
    shadow_days = _count_by_day(s.start for s in shadow)
    days = [
        Day(day, scored.get(day, 0.0), active_days.get(day, 0), shadow_days.get(day, 0))
        for day in sorted(scored.keys() | active_days.keys() | shadow_days.keys())
    ]
    return Comparison(
        scored_s=sum(scored.values()),
        active=len(compared),
        candidate=len(shadow),
        candidate_only=candidate_only,
        confirmed=confirmed,
        false_alarms=false_alarms,
        days=days,
    )


def _overlap(reviewed: Sequence[LiveAlert], shadow: Sequence[Interval]) -> Overlap:
    raised = sum(any(a.span.overlaps(s, OVERLAP_SLACK_S) for s in shadow) for a in reviewed)
    return Overlap(len(reviewed), raised)


def _day(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def _by_day(span: Interval) -> list[tuple[date, float]]:
    """The span's seconds in each UTC day it touches."""
    found = []
    start = span.start
    while start < span.end:
        day = _day(start)
        midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
        end = min(span.end, midnight.timestamp())
        found.append((day, end - start))
        start = end
    return found


def _count_by_day(starts: Iterable[float]) -> dict[date, int]:
    counts: dict[date, int] = {}
    for ts in starts:
        counts[_day(ts)] = counts.get(_day(ts), 0) + 1
    return counts
