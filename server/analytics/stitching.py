"""Tracks that break and resume: a new track id that starts soon after another was lost,
near where that one was last seen, is the same person. Counting by person, not by track id,
keeps a broken track from being counted twice over a line or as two visits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(slots=True)
class _Seen:
    ts: float
    point: tuple[float, float]


class TrackStitcher:
    """Maps track ids to person numbers, frame by frame.

    Example:
        stitcher = TrackStitcher(rejoin_s=2.0, rejoin_distance=0.08)
        people = stitcher.people(ts, tracks.track_id, feet)  # one person number per row
        gone = stitcher.forget(ts)  # people lost for longer than rejoin_s
    """

    def __init__(self, *, rejoin_s: float, rejoin_distance: float) -> None:
        self.rejoin_s = rejoin_s
        self.rejoin_distance = rejoin_distance
        self._person_of: dict[int, int] = {}  # track id → person
        self._last: dict[int, _Seen] = {}  # person → where and when last seen
        self._next = 0
        self.rejoined = 0  # new track ids taken as a person already seen

    def people(
        self, ts: float, track_ids: npt.NDArray[np.int64], points: npt.NDArray[np.float64]
    ) -> list[int]:
        """The person of each row (`points` (N, 2) in fractions of the picture)."""
        ids = [int(t) for t in track_ids]
        known = {self._person_of[t] for t in ids if t in self._person_of}
        lost = {
            person: seen
            for person, seen in self._last.items()
            if person not in known and 0 < ts - seen.ts <= self.rejoin_s
        }
        out: list[int] = []
        for track_id, (x, y) in zip(ids, points.tolist(), strict=True):
            person = self._person_of.get(track_id)
            if person is None:
                person = self._rejoin(lost, x, y)
                if person is None:
                    person, self._next = self._next, self._next + 1
                else:
                    self.rejoined += 1
                    del lost[person]
                self._person_of[track_id] = person
            self._last[person] = _Seen(ts, (x, y))
            out.append(person)
        return out

    def forget(self, ts: float) -> list[int]:
        """People not seen for over `rejoin_s`: they will not come back as themselves."""
        gone = [p for p, seen in self._last.items() if ts - seen.ts > self.rejoin_s]
        if gone:
            dropped = set(gone)
            for person in gone:
                del self._last[person]
            self._person_of = {t: p for t, p in self._person_of.items() if p not in dropped}
        return gone

    def _rejoin(self, lost: dict[int, _Seen], x: float, y: float) -> int | None:
        best, best_d = None, self.rejoin_distance
        for person, seen in lost.items():
            d = float(np.hypot(seen.point[0] - x, seen.point[1] - y))
            if d <= best_d:
                best, best_d = person, d
        return best
