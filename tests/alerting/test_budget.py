"""The alert budget's computation on literal tables and on recorded PoseLift scores: peaks →
alerts per day → threshold; reviews move it; bounds; too little history; the peak tracker."""

from __future__ import annotations

import numpy as np
import pytest

from server.alerting.budget import (
    DAY_S,
    PeakHistory,
    Reviews,
    alert_curve,
    alerts_per_day,
    choose,
    episodes,
    review_factor,
)
from server.alerting.peaks import FinishedTrack, PeakTracker, ScoringSpan
from server.records.analysis import FrameAnalysis
from server.records.people import NUM_KEYPOINTS, Tracks, Verdicts
from server.records.video import Frame
from shared.schemas.cameras import ThresholdSource
from tests.alerting.recorded_peaks import load_recorded_peaks

WINDOW_S = 300.0  # the dedup window


def history(rows: list[tuple[float, float, float]], days: float) -> PeakHistory:
    """Tracks as (first second, last second, peak), over `days` of scored video."""
    table = np.asarray(rows, np.float64).reshape(-1, 3)
    return PeakHistory(table[:, 0], table[:, 1], table[:, 2], days * DAY_S)


# two days of one camera: A..E alert at some threshold, F never (under the floor)
TWO_DAYS = history(
    [
        (0, 10, 0.9),  # A
        (1000, 1010, 0.8),  # B
        (2000, 2010, 0.7),  # C
        (2100, 2110, 0.65),  # D: within the dedup window of C, one alert with it
        (5000, 5010, 0.5),  # E
        (9000, 9010, 0.2),  # F: under the floor
    ],
    days=2,
)
FLOOR = 0.3


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], 0),  # nobody
        ([(0, 10)], 1),
        ([(0, 10), (310, 320)], 1),  # starts exactly a window after the last second
        ([(0, 10), (311, 320)], 2),  # a second later: a new alert
        ([(0, 1000), (500, 600), (1200, 1300)], 1),  # a long track holds the episode open
        ([(1200, 1300), (0, 10), (900, 1000)], 2),  # any order
    ],
)
def test_tracks_merge_into_alerts_as_the_dedup_merges(
    rows: list[tuple[float, float]], expected: int
) -> None:
    table = np.asarray(rows, np.float64).reshape(-1, 2)
    assert episodes(table[:, 0], table[:, 1], WINDOW_S) == expected


def test_the_curve_counts_alerts_per_day_at_each_peak_strictest_first() -> None:
    curve = alert_curve(TWO_DAYS, WINDOW_S, FLOOR)
    assert curve.thresholds.tolist() == [0.9, 0.8, 0.7, 0.65, 0.5]  # F is under the floor
    assert curve.per_day.tolist() == [0.5, 1.0, 1.5, 1.5, 2.0]  # C and D: one alert
    for threshold in (0.0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.66, 0.7, 0.75, 0.85, 0.9, 0.95, 1.0):
        assert curve.at(threshold) == alerts_per_day(TWO_DAYS, threshold, WINDOW_S), threshold
    assert curve.at(0.0) == 2.5  # below the floor too: F counts


@pytest.mark.parametrize(
    ("budget", "threshold", "per_day"),
    [
        (1.0, 0.75, 1.0),  # A, B fit; C would make 1.5: halfway between 0.8 and 0.7
        (1.5, 0.575, 1.5),  # C+D are one alert: down to halfway between D and E
        (2.0, FLOOR, 2.0),  # everything fits: the floor, never lower (F stays out)
        (100.0, FLOOR, 2.0),
        (0.4, 0.95, 0.0),  # even A alone (0.5 a day) is too many: above every peak
    ],
)
def test_the_threshold_is_the_lowest_within_budget_between_two_peaks(
    budget: float, threshold: float, per_day: float
) -> None:
    found = alert_curve(TWO_DAYS, WINDOW_S, FLOOR).threshold_for(budget)
    assert found == pytest.approx((threshold, per_day))


def test_a_lower_threshold_that_merges_alerts_is_not_taken() -> None:
    """At 0.5 the middle track joins two alerts into one (1 a day), but at 0.9 the same
    camera makes 2 a day: a budget of 1.5 stays above every peak rather than rely on it."""
    bridged = history([(0, 10, 0.9), (200, 400, 0.5), (650, 660, 0.9)], days=1)
    curve = alert_curve(bridged, WINDOW_S, FLOOR)
    assert curve.per_day.tolist() == [2.0, 1.0]
    assert curve.threshold_for(1.5) == pytest.approx((0.95, 0.0))
    assert curve.threshold_for(2.0) == pytest.approx((FLOOR, 1.0))


def test_a_top_peak_of_one_caps_the_threshold_at_one() -> None:
    certain = history([(0, 10, 1.0), (5000, 5010, 1.0)], days=1)
    threshold, per_day = alert_curve(certain, WINDOW_S, FLOOR).threshold_for(1.0)
    assert (threshold, per_day) == (1.0, 2.0)  # never above 1, and it says so honestly


@pytest.mark.parametrize(
    ("real", "false_alarms", "factor"),
    [
        (0, 0, 1.0),  # no reviews: the admin's budget
        (0, 1, 0.8),  # one false alarm moves it a little: (0+2)/(1+4) / 0.5
        (0, 4, 0.5),
        (0, 10, 2 / 14 / 0.5),
        (0, 40, 0.25),  # nearly all false: a quarter, no less
        (4, 4, 1.0),  # half real: the budget as set
        (2, 10, 0.5),
        (6, 10, 8 / 20 / 0.5),  # confirmed thefts relax it back towards the budget...
        (10, 0, 1.0),  # ...never past it
    ],
)
def test_reviews_make_the_budget_stricter_with_false_alarms(
    real: int, false_alarms: int, factor: float
) -> None:
    assert review_factor(Reviews(real, false_alarms)) == pytest.approx(factor)


@pytest.mark.parametrize(
    ("manual", "budget", "days", "reviews", "source", "threshold", "expected", "aimed"),
    [
        # the camera's own threshold wins; alerts per day still shown with enough history
        (0.45, 1.0, 2, Reviews(), ThresholdSource.manual, 0.45, 2.0, None),
        # budgets off: the global (or model's) threshold
        (None, None, 2, Reviews(), ThresholdSource.model, 0.6, 1.5, None),
        # a budget under a day of history: still learning, on the fallback, nothing promised
        (None, 1.0, 0.5, Reviews(), ThresholdSource.learning, 0.6, None, 1.0),
        (None, 1.0, 2, Reviews(), ThresholdSource.budget, 0.75, 1.0, 1.0),
        # 4 false alarms of 4 reviews halve the budget: one alert in two days
        (None, 1.0, 2, Reviews(0, 4), ThresholdSource.budget, 0.85, 0.5, 0.5),
        # the same with 4 thefts confirmed as well: back to the full budget
        (None, 1.0, 2, Reviews(4, 4), ThresholdSource.budget, 0.75, 1.0, 1.0),
    ],
)
def test_the_threshold_in_force_by_precedence(
    manual: float | None,
    budget: float | None,
    days: float,
    reviews: Reviews,
    source: ThresholdSource,
    threshold: float,
    expected: float | None,
    aimed: float | None,
) -> None:
    scaled = PeakHistory(
        TWO_DAYS.first_seen, TWO_DAYS.last_seen, TWO_DAYS.peak, TWO_DAYS.observed_s * days / 2
    )
    curve = alert_curve(scaled, WINDOW_S, FLOOR)
    chosen = choose(
        manual=manual, budget_per_day=budget, fallback=0.6, curve=curve, reviews=reviews
    )
    assert (chosen.source, chosen.budget_per_day) == (source, aimed)
    assert chosen.threshold == pytest.approx(threshold)
    assert chosen.expected_per_day == (None if expected is None else pytest.approx(expected))
    assert chosen.days_observed == pytest.approx(days)
    recorded = source in (ThresholdSource.manual, ThresholdSource.budget)
    assert chosen.rule == (chosen.threshold if recorded else None)


def test_without_any_history_a_budget_is_learning() -> None:
    chosen = choose(manual=None, budget_per_day=3.0, fallback=None, curve=None, reviews=Reviews())
    assert (chosen.source, chosen.threshold, chosen.expected_per_day) == (
        ThresholdSource.learning,
        None,
        None,
    )
    assert chosen.days_observed == 0.0


def test_a_quiet_camera_stays_at_the_floor() -> None:
    quiet = alert_curve(PeakHistory.empty(observed_s=3 * DAY_S), WINDOW_S, FLOOR)
    assert quiet.threshold_for(3.0) == (FLOOR, 0.0)


@pytest.mark.parametrize("budget", [0.5, 1.0, 3.0, 10.0, 30.0])
def test_on_recorded_scores_the_threshold_keeps_the_budget_and_no_lower_one_does(
    budget: float,
) -> None:
    """The shipped model's track peaks on PoseLift, replayed as a camera's two days."""
    recorded = load_recorded_peaks()
    day = 2.5 * 3600.0  # the recording (1.75 h) is a day's people; a day apart
    first = np.concatenate([recorded.first_s, recorded.first_s + DAY_S])
    last = np.concatenate([recorded.last_s, recorded.last_s + DAY_S])
    peaks = np.concatenate([recorded.peak, recorded.peak])
    two_days = PeakHistory(first, last, peaks, 2 * DAY_S)
    assert recorded.length_s < day
    floor = 0.3
    curve = alert_curve(two_days, WINDOW_S, floor)
    threshold, per_day = curve.threshold_for(budget)
    assert floor <= threshold <= 1.0
    assert per_day == alerts_per_day(two_days, threshold, WINDOW_S) <= budget
    stricter = curve.thresholds[curve.thresholds >= threshold]
    assert all(alerts_per_day(two_days, t, WINDOW_S) <= budget for t in stricter)
    looser = curve.thresholds[curve.thresholds < threshold]
    if looser.size:  # the next peak down would break the budget
        assert alerts_per_day(two_days, float(looser.max()), WINDOW_S) > budget
    else:
        assert threshold == floor
    for t in np.linspace(0.0, 1.0, 41):  # the curve agrees with counting afresh
        assert curve.at(float(t)) == pytest.approx(alerts_per_day(two_days, float(t), WINDOW_S))


# -- the peak tracker (the pipeline sink) ------------------------------------------------


def f32(score: float) -> float:
    """A score as the pipeline carries it (float32)."""
    return float(np.float32(score))


def scored(
    camera: int, ts: float, people: dict[int, float | None]
) -> tuple[Frame, Tracks, Verdicts | None]:
    """A frame with `people` (track id → score; None: seen, not scored this frame; a frame
    where nobody has a score has no verdicts)."""
    ids = np.asarray(sorted(people), np.int64)
    n = len(ids)
    frame = Frame(camera, np.zeros((8, 8, 3), np.uint8), ts, 0)
    tracks = Tracks(
        ts=ts,
        track_id=ids,
        xyxy=np.zeros((n, 4), np.float32),
        keypoints=np.zeros((n, NUM_KEYPOINTS, 2), np.float32),
        keypoint_conf=np.ones((n, NUM_KEYPOINTS), np.float32),
        score=np.ones(n, np.float32),
    )
    if all(s is None for s in people.values()) and people:
        return frame, tracks, None
    score = np.asarray([people[i] or 0.0 for i in sorted(people)], np.float32)
    return frame, tracks, Verdicts(ts, ids, score, score, 0.6)


def test_the_tracker_keeps_each_tracks_peak_until_it_is_gone() -> None:
    tracker = PeakTracker(gone_after_s=5.0, span_gap_s=30.0)
    frames = [
        scored(1, 100.0, {7: 0.2, 8: 0.1}),
        scored(1, 100.4, {7: None, 8: None}),  # seen between scorings: still there
        scored(1, 100.8, {7: 0.7, 8: 0.05}),
        scored(2, 100.8, {7: 0.4}),  # the same id on another camera is another person
        scored(1, 101.2, {7: 0.3}),  # 8 left
        scored(1, 103.0, {}),  # nobody: scored all the same
    ]
    for frame in frames:
        tracker.take(FrameAnalysis(*frame))
    assert tracker.live_tracks == 3
    early = tracker.collect(now=105.0)  # 8 last seen 100.8: not gone for 5 s yet
    assert early.tracks == []
    assert early.spans == [ScoringSpan(1, 100.0, 103.0), ScoringSpan(2, 100.8, 100.8)]
    later = tracker.collect(now=106.0)
    assert later.tracks == [
        FinishedTrack(1, 8, 100.0, 100.8, f32(0.1)),
        FinishedTrack(2, 7, 100.8, 100.8, f32(0.4)),
    ]
    assert later.spans == []  # nothing scored since
    rest = tracker.collect(now=106.0, everything=True)  # the server stops
    assert rest.tracks == [FinishedTrack(1, 7, 100.0, 101.2, f32(0.7))]
    assert tracker.live_tracks == 0


def test_a_pause_in_scoring_starts_a_new_span() -> None:
    tracker = PeakTracker(gone_after_s=5.0, span_gap_s=30.0)
    for ts in (0.0, 10.0, 40.0, 71.0, 80.0):  # 40 → 71: a 31 s gap (camera reconnecting)
        tracker.take(FrameAnalysis(*scored(3, ts, {})))
    assert tracker.collect(now=80.0).spans == [
        ScoringSpan(3, 0.0, 40.0),
        ScoringSpan(3, 71.0, 80.0),
    ]
    tracker.take(FrameAnalysis(*scored(3, 90.0, {})))
    assert tracker.collect(now=90.0).spans == [ScoringSpan(3, 71.0, 90.0)]  # it grows
