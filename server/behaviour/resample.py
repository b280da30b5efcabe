"""Tracks resampled onto a fixed time grid, so that window features do not depend on the
camera's frame rate (PoseLift's 15 fps, a live camera's 5) or on missed frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from server.records.people import NUM_KEYPOINTS, TrackHistory

NUM_POINTS = NUM_KEYPOINTS + 2  # the keypoints, then the box's (x1, y1) and (x2, y2) corners
_EPS_S = 1e-6  # a grid time this close to a frame's takes that frame, despite float sums


@dataclass(frozen=True, slots=True)
class Timeline:
    """Several tracks' points on one time axis, to sample all of them with one search.

    Track i's times are shifted by `shift[i]` so that it starts `margin_s` after track i-1
    ends: an interpolation limited to gaps shorter than `margin_s` never joins two tracks.
    A point is known in a frame when its keypoint's confidence is at least the `min_conf`
    given to `build` (box corners are always known); `prev_known[n, j]` is the last frame
    <= n where point j is known (-1 if none), `next_known[n, j]` the first >= n (N if none).
    """

    ts: npt.NDArray[np.float64]  # (N,) shifted seconds, strictly increasing
    points: npt.NDArray[np.float32]  # (N, NUM_POINTS, 2) x, y pixels
    prev_known: npt.NDArray[np.int64]  # (N, NUM_POINTS)
    next_known: npt.NDArray[np.int64]  # (N, NUM_POINTS)
    shift: npt.NDArray[np.float64]  # (tracks,) seconds added to each track's ts
    first: npt.NDArray[np.float64]  # (tracks,) each track's first shifted time
    last: npt.NDArray[np.float64]  # (tracks,) each track's last shifted time
    margin_s: float  # seconds between one track's last frame and the next one's first

    @classmethod
    def build(
        cls, histories: Sequence[TrackHistory], *, min_conf: float, margin_s: float
    ) -> Timeline:
        """Lay `histories` end to end, `margin_s` apart; empty histories are allowed."""
        lengths = np.asarray([len(h) for h in histories], np.int64)
        start = np.asarray([h.ts[0] if len(h) else 0.0 for h in histories], np.float64)
        span = np.asarray([h.span_s for h in histories], np.float64)
        base = np.concatenate([[0.0], np.cumsum(span + margin_s)[:-1]]) if len(span) else span
        shift = base - start
        ts = np.concatenate([h.ts for h in histories] + [np.zeros(0)]) + np.repeat(shift, lengths)
        corners = [h.xyxy.reshape(-1, 2, 2) for h in histories]
        points = np.concatenate(
            [
                np.concatenate([h.keypoints, c], axis=1)
                for h, c in zip(histories, corners, strict=True)
            ]
            + [np.zeros((0, NUM_POINTS, 2), np.float32)]
        )
        conf = np.concatenate([h.keypoint_conf for h in histories] + [np.zeros((0, NUM_KEYPOINTS))])
        known = np.concatenate([conf >= min_conf, np.ones((len(conf), 2), bool)], axis=1)
        known &= np.isfinite(points).all(axis=-1)
        n = len(ts)
        frame = np.arange(n)[:, None]
        prev_known = np.maximum.accumulate(np.where(known, frame, -1), axis=0)
        next_known = np.minimum.accumulate(np.where(known, frame, n)[::-1], axis=0)[::-1]
        return cls(
            ts=ts,
            points=points,
            prev_known=prev_known,
            next_known=next_known,
            shift=shift,
            first=base,
            last=base + span,
            margin_s=margin_s,
        )

    def sample(
        self,
        track: npt.NDArray[np.int64],
        t: npt.NDArray[np.float64],
        max_gap_s: float,
        until: npt.NDArray[np.float64] | None = None,
    ) -> npt.NDArray[np.float32]:
        """Each point of track `track[q]` at time `t[q]` (the track's own seconds).

        A point is its frame's value at a frame time, and linear between the known frames
        on either side when they are at most `max_gap_s` apart; otherwise (outside the track,
        or in a longer gap, or where the point is never known) it is NaN. With `until`
        (Q,), frames after `until[q]` are not used: a window ending then has not seen them
        (live they have not happened yet), so no gap is filled from them.

        Returns:
            shape (Q, NUM_POINTS, 2), pixels.
        """
        if not max_gap_s < self.margin_s:
            raise ValueError(
                f"max_gap_s: must be under the margin {self.margin_s}, got {max_gap_s}"
            )
        n = len(self.ts)
        if n == 0:
            return np.full((len(t), NUM_POINTS, 2), np.nan, np.float32)
        q = t + self.shift[track]
        inside = (q >= self.first[track] - _EPS_S) & (q <= self.last[track] + _EPS_S)
        i = np.searchsorted(self.ts, q, side="right") - 1  # the last frame at or before q
        left = np.where(i[:, None] >= 0, self.prev_known[np.maximum(i, 0)], -1)
        right = np.where(i[:, None] + 1 < n, self.next_known[np.minimum(i + 1, n - 1)], n)
        if until is not None:
            seen = np.searchsorted(self.ts, until + self.shift[track] + _EPS_S, side="right")
            right = np.where(right < seen[:, None], right, n)  # (Q, NUM_POINTS)
        t_left = self.ts[np.clip(left, 0, n - 1)]
        t_right = self.ts[np.clip(right, 0, n - 1)]
        qq = q[:, None]
        at_left = (left >= 0) & (qq - t_left <= _EPS_S)
        at_right = (right < n) & (t_right - qq <= _EPS_S)
        between = (left >= 0) & (right < n) & (t_right - t_left <= max_gap_s + _EPS_S)
        span = t_right - t_left
        weight = np.divide(qq - t_left, span, out=np.zeros_like(span), where=between & (span > 0))
        weight = weight[..., None]
        cols = np.arange(NUM_POINTS)
        lo = self.points[np.clip(left, 0, n - 1), cols]
        hi = self.points[np.clip(right, 0, n - 1), cols]
        value = np.where(
            at_left[..., None],
            lo,
            np.where(at_right[..., None], hi, lo + (hi - lo) * weight.astype(np.float32)),
        )
        ok = inside[:, None] & (at_left | at_right | between)
        return np.where(ok[..., None], value, np.float32(np.nan))
