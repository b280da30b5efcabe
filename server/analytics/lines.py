"""Footfall: people crossing a counting line, in or out by the side they cross to.

A person's side of the line is known once their feet are `margin` clear of it; a change of
side whose path passes between the line's ends is a crossing. A crossing waits `bounce_s`
before it counts: a person who steps back over the line within that time counts neither way
(someone standing on the line is not counted back and forth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shared.schemas.cameras import CountingLine

MARGIN = 0.01  # fraction of the picture either side of the line where the side is unsure


@dataclass(slots=True)
class _Person:
    side: int  # +1: the "in" side (right of a→b), -1: the "out" side
    point: tuple[float, float]  # where that side was last seen
    pending: tuple[float, int] | None = None  # (ts, +1 in / -1 out), not yet counted


@dataclass(slots=True)
class LineCounter:
    """Counts one line's crossings; `take` each frame's people, `counted` drains the counts."""

    line: CountingLine
    bounce_s: float
    entered: int = 0
    left: int = 0
    _people: dict[int, _Person] = field(default_factory=dict)

    def take(self, ts: float, people: list[int], points: list[tuple[float, float]]) -> None:
        for person, point in zip(people, points, strict=True):
            side = self._side(point)
            state = self._people.get(person)
            if state is None:
                if side:
                    self._people[person] = _Person(side, point)
                continue
            self._settle(state, ts)
            if not side or side == state.side:
                if side:
                    state.point = point
                continue
            if self._passes_between_ends(state.point, point):
                if state.pending is not None:  # back over the line at once: neither counts
                    state.pending = None
                else:
                    state.pending = (ts, side)
            state.side, state.point = side, point

    def settle(self, ts: float) -> None:
        """Count the crossings held longer than `bounce_s`."""
        for state in self._people.values():
            self._settle(state, ts)

    def forget(self, people: list[int]) -> None:
        """People gone for good: their held crossings count now."""
        for person in people:
            state = self._people.pop(person, None)
            if state is not None and state.pending is not None:
                self._count(state.pending[1])

    def flush(self) -> None:
        """Count every held crossing (the camera stopped)."""
        self.forget(list(self._people))

    def counted(self) -> tuple[int, int]:
        """(entered, left) since the last call."""
        out = (self.entered, self.left)
        self.entered = self.left = 0
        return out

    def _settle(self, state: _Person, ts: float) -> None:
        if state.pending is not None and ts - state.pending[0] >= self.bounce_s:
            self._count(state.pending[1])
            state.pending = None

    def _count(self, direction: int) -> None:
        if direction > 0:
            self.entered += 1
        else:
            self.left += 1

    def _side(self, point: tuple[float, float]) -> int:
        """+1 right of a→b (as seen on the picture, y down), -1 left, 0 on the line."""
        (ax, ay), (bx, by) = self.line.a, self.line.b
        dx, dy = bx - ax, by - ay
        cross = dx * (point[1] - ay) - dy * (point[0] - ax)
        distance = cross / math.hypot(dx, dy)
        return 0 if abs(distance) <= MARGIN else (1 if distance > 0 else -1)

    def _passes_between_ends(self, p: tuple[float, float], q: tuple[float, float]) -> bool:
        """Whether the path p→q meets the line between its ends (a little beyond them: feet
        are measured with some error)."""
        (ax, ay), (bx, by) = self.line.a, self.line.b
        rx, ry = bx - ax, by - ay
        sx, sy = q[0] - p[0], q[1] - p[1]
        denominator = rx * sy - ry * sx
        if denominator == 0:
            return False
        t = ((p[0] - ax) * sy - (p[1] - ay) * sx) / denominator  # along a→b
        slack = MARGIN / math.hypot(rx, ry)
        return -slack <= t <= 1 + slack
