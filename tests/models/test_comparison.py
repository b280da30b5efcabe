"""The before/after figures of one camera, from literal spans and alerts (Unix seconds)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.alerting.comparison import (
    OVERLAP_SLACK_S,
    Comparison,
    Day,
    Interval,
    LiveAlert,
    Overlap,
    compare,
)

T0 = datetime(2026, 12, 10, 8, 0, tzinfo=UTC).timestamp()  # 08:00 UTC
H = 3600.0


def at(start_h: float, end_h: float) -> Interval:
    return Interval(T0 + start_h * H, T0 + end_h * H)


def test_nothing_scored_compares_nothing() -> None:
    assert compare([], [LiveAlert(at(1, 1.1), "confirmed_theft")], [at(1, 1.1)]) == Comparison()


def test_reviewed_alerts_the_candidate_also_raised_and_its_own() -> None:
    spans = [at(0, 10)]
    live = [
        LiveAlert(at(1, 1.01), "confirmed_theft"),  # the candidate raised it too
        LiveAlert(at(2, 2.01), "deterred"),  # real as well; the candidate missed it
        LiveAlert(at(3, 3.01), "false_alarm"),  # the candidate raised it too
        LiveAlert(at(4, 4.01), "false_alarm"),  # the candidate stayed quiet: a gain
        LiveAlert(at(5, 5.01), "unclear"),  # reviewed, but neither real nor false
        LiveAlert(at(6, 6.01)),  # not reviewed
        LiveAlert(at(20, 20.01), "confirmed_theft"),  # outside the time compared
    ]
    shadow = [
        # starts inside the real alert's span
        Interval(T0 + 1 * H + 10, T0 + 1 * H + 60),
        # ends just within the slack before the false alarm starts
        Interval(T0 + 3 * H - 100, T0 + 3 * H - OVERLAP_SLACK_S + 1),
        # near no real alert
        at(8, 8.01),
    ]
    found = compare(spans, live, shadow)
    assert (found.active, found.candidate, found.candidate_only) == (6, 3, 1)
    assert found.confirmed == Overlap(reviewed=2, also_raised=1)
    assert found.false_alarms == Overlap(reviewed=2, also_raised=1)
    assert found.scored_s == 10 * H
    assert found.per_day(found.active) == pytest.approx(6 / (10 / 24))


def test_just_outside_the_overlap_slack_is_not_the_same_incident() -> None:
    live = [LiveAlert(at(1, 1.01), "false_alarm")]
    shadow = [Interval(T0 + 1.01 * H + OVERLAP_SLACK_S + 1, T0 + 1.02 * H)]
    found = compare([at(0, 2)], live, shadow)
    assert found.false_alarms == Overlap(reviewed=1, also_raised=0)
    assert found.candidate_only == 1


def test_days_split_at_utc_midnight_and_no_rate_under_an_hour() -> None:
    spans = [at(14, 18), at(18.5, 18.9)]  # 22:00 to 02:00 UTC, then 02:30 to 02:54
    live = [LiveAlert(at(15, 15.1)), LiveAlert(at(17, 17.1))]  # 23:00 and 01:00
    shadow = [at(17.5, 17.6)]  # 01:30
    found = compare(spans, live, shadow)
    assert found.days == [
        Day(date(2026, 12, 10), 2 * H, 1, 0),
        Day(date(2026, 12, 11), pytest.approx(2.4 * H), 1, 1),  # type: ignore[arg-type]
    ]
    assert compare([at(0, 0.5)], live, shadow).per_day(1) is None  # half an hour scored
