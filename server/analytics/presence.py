"""Occupancy and dwell of one zone: who is in it each frame, and each visit's length.

A visit starts the first frame a person's feet are in the zone and ends once they have been
out of it (or out of sight) for `leave_grace_s`; its dwell runs to the last frame they were
in it. Visits are counted in the minute they end. Occupancy is weighted by time: each frame
counts for the seconds it stands for, so a camera analysed at a varying rate (dropped
frames, a presence gate) still averages right.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from shared.schemas.analytics import DWELL_EDGES_S


@dataclass(slots=True)
class _Visit:
    start: float
    last: float


@dataclass(slots=True)
class ZonePresence:
    """One zone's (or the whole view's) running figures for the current minute."""

    leave_grace_s: float
    seconds: float = 0.0  # analysed time in the minute
    occupancy_sum: float = 0.0  # person-seconds in the zone
    occupancy_max: int = 0
    entries: int = 0
    exits: int = 0
    dwell_sum_s: float = 0.0
    dwell_hist: list[int] = field(default_factory=lambda: [0] * len(DWELL_EDGES_S))
    _visits: dict[int, _Visit] = field(default_factory=dict)

    def take(self, ts: float, inside: list[int], step_s: float) -> None:
        """The people whose feet are in the zone at `ts`, a frame standing for `step_s`."""
        self.seconds += step_s
        self.occupancy_sum += len(inside) * step_s
        self.occupancy_max = max(self.occupancy_max, len(inside))
        for person in inside:
            visit = self._visits.get(person)
            if visit is None:
                self._visits[person] = _Visit(ts, ts)
                self.entries += 1
            else:
                visit.last = ts
        for person, visit in list(self._visits.items()):
            if ts - visit.last > self.leave_grace_s:
                self._end(person, visit)

    def flush(self) -> None:
        """End every visit (the camera stopped)."""
        for person, visit in list(self._visits.items()):
            self._end(person, visit)

    def reset(self) -> None:
        """Start a new minute (visits go on)."""
        self.entries = self.exits = self.occupancy_max = 0
        self.seconds = self.occupancy_sum = self.dwell_sum_s = 0.0
        self.dwell_hist = [0] * len(DWELL_EDGES_S)

    def _end(self, person: int, visit: _Visit) -> None:
        del self._visits[person]
        dwell = visit.last - visit.start
        self.exits += 1
        self.dwell_sum_s += dwell
        self.dwell_hist[bisect.bisect_right(DWELL_EDGES_S, dwell) - 1] += 1
