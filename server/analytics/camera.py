"""One camera's analytics: each analysed frame's tracks in, one `CameraMinute` out per
minute. Counting goes by person (`TrackStitcher`), so a track that breaks and resumes
counts once; people whose feet are in an `ignore` zone are not counted at all."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from server.analytics.feet import foot_points
from server.analytics.heatmap import HeatGrid
from server.analytics.lines import LineCounter
from server.analytics.presence import ZonePresence
from server.analytics.stitching import TrackStitcher
from server.config import AnalyticsConfig
from server.records.analytics import WHOLE_VIEW, CameraMinute, LineCount, ZoneCount
from server.records.people import Tracks
from shared.schemas.cameras import CountingLine, Zone, ZoneKind

FIRST_STEP_S = 0.2  # what a camera's first frame stands for
MAX_STEP_S = 3.0  # a frame stands for at most this long (a stalled camera adds nothing)


@dataclass(frozen=True, slots=True)
class CameraLayout:
    """What an admin drew on the camera: its zones and counting lines."""

    zones: tuple[Zone, ...] = ()
    lines: tuple[CountingLine, ...] = ()

    @classmethod
    def of(cls, zones: Sequence[object], lines: Sequence[object]) -> CameraLayout:
        """From the camera row's JSON."""
        return cls(
            tuple(Zone.model_validate(z) for z in zones),
            tuple(CountingLine.model_validate(line) for line in lines),
        )


class CameraAnalytics:
    """Example:
    analytics = CameraAnalytics(camera_id, layout, config)
    for analysis in frames:
        if (minute := analytics.take(analysis.tracks, width, height)) is not None:
            publish(minute)
    last = analytics.finish()  # the camera stopped: every visit ends, the minute is out
    """

    def __init__(self, camera_id: int, layout: CameraLayout, config: AnalyticsConfig) -> None:
        self.camera_id = camera_id
        self.layout = layout
        self._config = config
        self._stitcher = TrackStitcher(
            rejoin_s=config.rejoin_s, rejoin_distance=config.rejoin_distance
        )
        counted = [z for z in layout.zones if z.kind is not ZoneKind.ignore]
        self._zones = [(z, _prepared(z)) for z in counted]
        self._ignored = [_prepared(z) for z in layout.zones if z.kind is ZoneKind.ignore]
        self._view = ZonePresence(config.leave_grace_s)
        self._presence = [ZonePresence(config.leave_grace_s) for _ in counted]
        self._lines = [LineCounter(line, config.bounce_s) for line in layout.lines]
        self._heat = HeatGrid()
        self._minute: float | None = None
        self._last_ts: float | None = None

    def take(self, tracks: Tracks, width: int, height: int) -> CameraMinute | None:
        """Count one analysed frame; the minute before it when this frame starts a new one."""
        ts = tracks.ts
        minute = math.floor(ts / 60) * 60.0
        done = None
        if self._minute is not None and minute != self._minute:
            done = self._minute_out()
        self._minute = minute
        points = foot_points(tracks, width, height)
        keep = self._counted(points)
        points, ids = points[keep], tracks.track_id[keep]
        people = self._stitcher.people(ts, ids, points)
        step = (
            FIRST_STEP_S if self._last_ts is None else min(max(ts - self._last_ts, 0), MAX_STEP_S)
        )
        self._last_ts = ts
        self._heat.take(step, points)
        self._view.take(ts, people, step)
        for (_, shape), presence in zip(self._zones, self._presence, strict=True):
            inside = shapely.contains_xy(shape, points[:, 0], points[:, 1]) if len(points) else []
            presence.take(ts, [p for p, hit in zip(people, inside, strict=True) if hit], step)
        listed = [(float(x), float(y)) for x, y in points.tolist()]
        gone = self._stitcher.forget(ts)
        for counter in self._lines:
            counter.take(ts, people, listed)
            counter.settle(ts)
            counter.forget(gone)
        return done

    def finish(self) -> CameraMinute | None:
        """End every visit and count every held crossing; the current minute, if any."""
        if self._minute is None:
            return None
        self._view.flush()
        for presence in self._presence:
            presence.flush()
        for counter in self._lines:
            counter.flush()
        done = self._minute_out()
        self._minute = None
        return done

    @property
    def rejoined(self) -> int:
        """New track ids taken as a person already seen."""
        return self._stitcher.rejoined

    def _counted(self, points: np.ndarray) -> np.ndarray:
        keep = np.ones(len(points), bool)
        for shape in self._ignored:
            if len(points):
                keep &= ~shapely.contains_xy(shape, points[:, 0], points[:, 1])
        return keep

    def _minute_out(self) -> CameraMinute:
        assert self._minute is not None
        zones = [_count(WHOLE_VIEW, None, self._view)]
        zones += [
            _count(zone.name, zone.kind.value, presence)
            for (zone, _), presence in zip(self._zones, self._presence, strict=True)
        ]
        lines = [LineCount(c.line.name, *c.counted()) for c in self._lines]
        for presence in (self._view, *self._presence):
            presence.reset()
        return CameraMinute(
            camera_id=self.camera_id,
            minute_ts=self._minute,
            zones=tuple(zones),
            lines=tuple(lines),
            heat=self._heat.take_out(),
        )


def _prepared(zone: Zone) -> shapely.Polygon:
    shape = shapely.Polygon(zone.polygon)
    shapely.prepare(shape)
    return shape


def _count(name: str, kind: str | None, presence: ZonePresence) -> ZoneCount:
    return ZoneCount(
        zone=name,
        kind=kind,
        seconds=presence.seconds,
        occupancy_sum=presence.occupancy_sum,
        occupancy_max=presence.occupancy_max,
        entries=presence.entries,
        exits=presence.exits,
        dwell_sum_s=presence.dwell_sum_s,
        dwell_hist=tuple(presence.dwell_hist),
    )
