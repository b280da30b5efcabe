"""The analytics of one camera on made-up tracks whose answer is known: line crossings by
direction, a broken track counted once, dwell, occupancy, heatmap, minutes."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from server.analytics.camera import CameraAnalytics, CameraLayout
from server.config import AnalyticsConfig
from server.records.analytics import CameraMinute, ZoneCount
from shared.schemas.analytics import DWELL_EDGES_S, HEATMAP_COLS, HEATMAP_ROWS
from shared.schemas.cameras import CountingLine, Zone, ZoneKind
from tests.analytics.synthetic import HEIGHT, WIDTH, tracks_at, walk

T0 = 1_800_000_000.0  # a whole minute
FPS = 5.0
DOOR = CountingLine(name="Door", a=(0.0, 0.5), b=(1.0, 0.5))  # walking down the picture: in
SHELF = Zone(
    name="Shelf", kind=ZoneKind.shelf, polygon=[(0.0, 0.0), (0.4, 0.0), (0.4, 0.4), (0.0, 0.4)]
)
QUEUE = Zone(
    name="Till", kind=ZoneKind.queue, polygon=[(0.6, 0.6), (1.0, 0.6), (1.0, 1.0), (0.6, 1.0)]
)
STAFF = Zone(
    name="Back", kind=ZoneKind.ignore, polygon=[(0.6, 0.0), (1.0, 0.0), (1.0, 0.3), (0.6, 0.3)]
)


def run(
    paths: dict[int, list[tuple[float, tuple[float, float]]]],
    layout: CameraLayout,
    config: AnalyticsConfig | None = None,
) -> list[CameraMinute]:
    """Feed every frame of the tracks' paths in time order; every minute out, finished."""
    frames: dict[float, dict[int, tuple[float, float]]] = defaultdict(dict)
    for track_id, path in paths.items():
        for ts, point in path:
            frames[round(ts, 6)][track_id] = point
    analytics = CameraAnalytics(7, layout, config or AnalyticsConfig())
    minutes = [
        m
        for ts in sorted(frames)
        if (m := analytics.take(tracks_at(ts, frames[ts]), WIDTH, HEIGHT)) is not None
    ]
    last = analytics.finish()
    return minutes + ([last] if last is not None else [])


def footfall(minutes: list[CameraMinute]) -> tuple[int, int]:
    lines = [line for minute in minutes for line in minute.lines]
    return sum(line.entered for line in lines), sum(line.left for line in lines)


def zone(minutes: list[CameraMinute], name: str) -> list[ZoneCount]:
    return [z for minute in minutes for z in minute.zones if z.zone == name]


def test_crossings_count_by_direction() -> None:
    minutes = run(
        {
            1: walk((0.3, 0.1), (0.3, 0.9), T0, T0 + 4, FPS),  # down: in
            2: walk((0.7, 0.9), (0.7, 0.1), T0 + 1, T0 + 5, FPS),  # up: out
            3: walk((0.1, 0.2), (0.9, 0.3), T0, T0 + 4, FPS),  # along, never crosses
        },
        CameraLayout(lines=(DOOR,)),
    )
    assert footfall(minutes) == (1, 1)


def test_a_crossing_beyond_the_lines_end_is_not_counted() -> None:
    short = CountingLine(name="Door", a=(0.0, 0.5), b=(0.5, 0.5))
    minutes = run({1: walk((0.8, 0.1), (0.8, 0.9), T0, T0 + 4, FPS)}, CameraLayout(lines=(short,)))
    assert footfall(minutes) == (0, 0)


@pytest.mark.parametrize(("rejoin_s", "expected"), [(2.0, (1, 0)), (0.0, (0, 0))])
def test_a_track_broken_at_the_line_counts_once(rejoin_s: float, expected: tuple[int, int]) -> None:
    """The tracker loses a person just above the line and finds them again, under a new id,
    just below it 0.6 s later: one person, one crossing (with stitching off: none, as the
    new id never crossed)."""
    before = walk((0.5, 0.1), (0.5, 0.47), T0, T0 + 2, FPS)
    after = walk((0.5, 0.53), (0.5, 0.9), T0 + 2.6, T0 + 4.6, FPS)
    minutes = run(
        {1: before, 2: after},
        CameraLayout(lines=(DOOR,)),
        AnalyticsConfig(rejoin_s=rejoin_s),
    )
    assert footfall(minutes) == expected


def test_a_track_broken_after_crossing_is_not_counted_twice() -> None:
    before = walk((0.5, 0.1), (0.5, 0.6), T0, T0 + 2, FPS)
    after = walk((0.52, 0.62), (0.5, 0.9), T0 + 2.4, T0 + 4, FPS)
    minutes = run({1: before, 2: after}, CameraLayout(lines=(DOOR,)))
    assert footfall(minutes) == (1, 0)


def test_stepping_back_over_the_line_at_once_counts_neither_way() -> None:
    over = walk((0.5, 0.4), (0.5, 0.56), T0, T0 + 0.6, FPS)
    back = walk((0.5, 0.56), (0.5, 0.4), T0 + 0.8, T0 + 1.4, FPS)
    minutes = run({1: over + back}, CameraLayout(lines=(DOOR,)))
    assert footfall(minutes) == (0, 0)
    # out and back again, slowly: both crossings count
    slow_back = walk((0.5, 0.56), (0.5, 0.4), T0 + 4.0, T0 + 4.6, FPS)
    assert footfall(run({1: over + slow_back}, CameraLayout(lines=(DOOR,)))) == (1, 1)


def test_dwell_per_zone_is_each_visits_length() -> None:
    """One person stands at the shelf 30 s, another 8 s; a third walks through the till
    queue in 2 s."""
    stay = [(T0 + i / FPS, (0.2, 0.2)) for i in range(int(30 * FPS) + 1)]
    short = [(T0 + 10 + i / FPS, (0.3, 0.3)) for i in range(int(8 * FPS) + 1)]
    through = walk((0.5, 0.8), (0.9, 0.8), T0 + 5, T0 + 7, FPS)
    minutes = run({1: stay, 2: short, 3: through}, CameraLayout(zones=(SHELF, QUEUE)))
    shelf = zone(minutes, "Shelf")
    assert sum(z.exits for z in shelf) == 2 and sum(z.entries for z in shelf) == 2
    assert sum(z.dwell_sum_s for z in shelf) == pytest.approx(38.0)
    hist = np.sum([z.dwell_hist for z in shelf], axis=0)
    assert hist[DWELL_EDGES_S.index(30)] == 1  # 30 s: the [30, 45) bin
    assert hist[DWELL_EDGES_S.index(5)] == 1  # 8 s: the [5, 10) bin
    till = zone(minutes, "Till")
    assert sum(z.exits for z in till) == 1
    assert 1.0 <= sum(z.dwell_sum_s for z in till) <= 2.0  # the part of the walk inside
    assert {z.kind for z in till} == {"queue"}


def test_a_visit_goes_on_through_a_short_absence() -> None:
    """Out of the zone for 1 s (under the 3 s grace): still one visit, of the whole span."""
    inside = [(T0 + i / FPS, (0.2, 0.2)) for i in range(0, 51)]  # 0..10 s
    away = [(T0 + 10 + i / FPS, (0.5, 0.5)) for i in range(1, 5)]
    back = [(T0 + 11 + i / FPS, (0.2, 0.2)) for i in range(0, 46)]  # 11..20 s
    minutes = run({1: inside + away + back}, CameraLayout(zones=(SHELF,)))
    shelf = zone(minutes, "Shelf")
    assert sum(z.exits for z in shelf) == 1
    assert sum(z.dwell_sum_s for z in shelf) == pytest.approx(20.0)


def test_occupancy_is_people_in_the_zone_per_frame() -> None:
    """Three people at the shelf for the whole first minute, one of them also the next half."""
    a = [(T0 + i / FPS, (0.1, 0.1)) for i in range(int(90 * FPS))]
    b = [(T0 + i / FPS, (0.2, 0.2)) for i in range(int(60 * FPS))]
    c = [(T0 + i / FPS, (0.3, 0.1)) for i in range(int(60 * FPS))]
    minutes = run({1: a, 2: b, 3: c}, CameraLayout(zones=(SHELF,)))
    assert [m.minute_ts for m in minutes] == [T0, T0 + 60]
    first, second = (zone([m], "Shelf")[0] for m in minutes)
    assert (first.occupancy_mean, first.occupancy_max) == pytest.approx((3.0, 3))
    assert (second.occupancy_mean, second.occupancy_max) == pytest.approx((1.0, 1))
    assert (first.seconds, second.seconds) == pytest.approx((60.0, 30.0))  # 300 and 150 frames
    assert minutes[0].zones[0].zone == "" and minutes[0].zones[0].occupancy_mean == pytest.approx(
        3.0
    )


def test_heatmap_holds_the_seconds_people_stood_in_each_cell() -> None:
    """One person stands 10 s at (0.25, 0.5), another walks across the top in 4 s."""
    stand = [(T0 + i / FPS, (0.25, 0.5)) for i in range(int(10 * FPS))]
    across = walk((0.05, 0.1), (0.95, 0.1), T0, T0 + 4, FPS)
    minutes = run({1: stand, 2: across}, CameraLayout())
    heat = np.sum([m.heat for m in minutes], axis=0)
    assert heat.shape == (HEATMAP_ROWS, HEATMAP_COLS)
    standing_cell = heat[int(0.5 * HEATMAP_ROWS), int(0.25 * HEATMAP_COLS)]
    assert standing_cell == pytest.approx(10.0, abs=0.01)  # 50 frames of 0.2 s
    assert heat.sum() == pytest.approx(10.0 + 4.2, abs=0.01)  # 21 frames of the walk
    top_row = heat[int(0.1 * HEATMAP_ROWS)]
    assert (top_row > 0).sum() == 21  # a cell for each frame of the walk (cells are narrower)


def test_people_in_an_ignore_zone_are_not_counted() -> None:
    staff = [(T0 + i / FPS, (0.8, 0.1)) for i in range(int(20 * FPS))]
    minutes = run({1: staff}, CameraLayout(zones=(STAFF,)))
    view = zone(minutes, "")
    assert sum(z.occupancy_max for z in view) == 0 and sum(z.entries for z in view) == 0
    assert float(np.sum([m.heat for m in minutes])) == 0.0
    assert not zone(minutes, "Back")  # an ignore zone is not measured


def test_occupancy_is_weighted_by_time_not_frames() -> None:
    """Two people for the first half minute at 5 fps, then an empty scene checked every
    2 s (as a presence gate does): one person on average, not 1.8 (frames' average)."""
    busy = {
        1: [(T0 + i / FPS, (0.1, 0.1)) for i in range(int(30 * FPS))],
        2: [(T0 + i / FPS, (0.2, 0.2)) for i in range(int(30 * FPS))],
    }
    analytics = CameraAnalytics(7, CameraLayout(zones=(SHELF,)), AnalyticsConfig())
    frames = sorted({ts for path in busy.values() for ts, _ in path})
    for ts in frames:
        people = {tid: p for tid, path in busy.items() for t, p in path if t == ts}
        analytics.take(tracks_at(ts, people), WIDTH, HEIGHT)
    for ts in range(30, 60, 2):
        analytics.take(tracks_at(T0 + ts, {}), WIDTH, HEIGHT)
    minute = analytics.finish()
    assert minute is not None
    # analysed: 30 s busy, then the first check 0.2 s after and 14 more 2 s apart: 58.2 s
    assert minute.seconds == pytest.approx(58.2)
    assert minute.zones[0].occupancy_mean == pytest.approx(60 / 58.2)  # 2 people for 30 s
