"""Don't-care bands and event figures on session timelines: alerts merged per recording,
caught episodes, false alerts, alerts that start in a band, hours with people."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.training.builders import video
from training.events import choose_threshold, event_table, session_alerts
from training.poselift import POSELIFT_FPS, load_split
from training.sessions import stitch
from training.timeline import timelines

CUTS = Path(__file__).parents[1] / "data" / "poselift_cuts"
FPS = POSELIFT_FPS


def test_bands_cover_normal_video_around_an_episode_and_never_labelled_frames() -> None:
    videos = [
        video("1_1", 300),  # 20 s of normal-only video before the clip
        video("1_2", 150, shoplifting=[(60, 90)]),  # a clip: episode 4 s..6 s
        video("1_3", 300),  # 20 s after
    ]
    (line,) = timelines(videos, stitch(videos), band_s=2.0)
    band = np.flatnonzero(line.band)
    # the clip starts at 300, its episode is 360..390: the 2 s (30 frames) around it reach
    # into neither neighbour; the clip's own normal frames keep their label
    assert band.size == 0
    (line,) = timelines(videos, stitch(videos), band_s=10.0)
    band = np.flatnonzero(line.band)
    assert band.tolist() == list(range(210, 300)) + list(range(450, 540))
    assert not line.band[300:450].any()  # the clip's frames are labelled: never in a band
    assert line.normal[:210].all() and not line.normal[360:390].any()
    (episode,) = line.episodes
    assert (episode.start, episode.end, episode.video) == (360, 390, "1_2")
    assert not episode.cut_before and not episode.cut_after


def test_a_clip_ending_inside_an_incident_marks_the_next_cut() -> None:
    """The real cut 2_311 -> 2_312: the episode ends 4 frames before the cut."""
    videos = load_split(CUTS, "Test") + load_split(CUTS, "Train")
    (line,) = timelines(videos, stitch(videos), band_s=0.5)  # 8 frames
    assert [(e.start, e.end) for e in line.episodes] == [(2, 13)]
    assert np.flatnonzero(line.band).tolist() == [17, 18, 19, 20]  # 2_312's first frames
    clipped = [video("5_1", 40, shoplifting=[(30, 40)]), video("5_2", 60)]
    (line,) = timelines(clipped, stitch(clipped), band_s=1.0)
    (episode,) = line.episodes
    assert episode.cut_after and not episode.cut_before
    assert np.flatnonzero(line.band).tolist() == list(range(40, 55))


def test_alerts_merge_across_cuts_of_one_recording_but_not_across_recordings() -> None:
    videos = [video("1_1", 900), video("1_2", 900), video("1_4", 900)]
    sessions = stitch(videos)
    lines = timelines(videos, sessions)
    scores = np.zeros(900)
    scores[850:860] = 0.9  # near the end of 1_1 ...
    after = np.zeros(900)
    after[40:50] = 0.9  # ... and 1_2's start, 12 s later: one incident
    stitched = sessions.stitch([scores, after, after])
    first = session_alerts(lines[0], stitched[0], 0.5, merge_gap_s=300)
    assert [(a.start, a.end, a.outcome) for a in first] == [(850, 950, "false")]
    apart = session_alerts(lines[0], stitched[0], 0.5, merge_gap_s=5)
    assert len(apart) == 2  # a shorter dedup window: two alerts
    table = event_table(lines, stitched, np.asarray([0.5]))
    assert table.figures().false_alerts == 2  # 1_4 is another recording: its own alert
    assert table.figures().video_hours == pytest.approx(2700 / FPS / 3600)


def test_an_alert_starting_in_a_band_is_not_a_false_alert() -> None:
    videos = [video("1_1", 150, shoplifting=[(100, 150)]), video("1_2", 6000)]
    sessions = stitch(videos)
    (line,) = timelines(videos, sessions, band_s=10.0)
    clip = np.zeros(150)
    normal = np.zeros(6000)
    normal[30:40] = 0.8  # 2 s after the cut: the incident going on (band)
    normal[5000:5010] = 0.8  # 5 minutes later: a false alert
    (stitched,) = sessions.stitch([clip, normal])
    found = session_alerts(line, stitched, 0.5, merge_gap_s=60)
    assert [a.outcome for a in found] == ["band", "false"]
    figures = event_table([line], [stitched], np.asarray([0.5]), 60).figures()
    assert (figures.episodes, figures.caught, figures.false_alerts, figures.band_alerts) == (
        1,
        0,
        1,
        1,
    )
    # the rate is over hours with people that count as normal: not the episode, not the band
    counted = 150 - 50 + 6000 - 150
    assert figures.counted_hours == pytest.approx(counted / FPS / 3600)
    assert figures.false_alerts_per_hour == pytest.approx(1 / figures.counted_hours)


def test_hours_with_people_leave_out_empty_frames() -> None:
    videos = [video("1_1", 3600, people=range(0, 900))]  # 4 minutes, 1 with someone
    (line,) = timelines(videos, stitch(videos))
    figures = event_table([line], [np.zeros(3600)], np.asarray([0.5])).figures()
    assert figures.video_hours == pytest.approx(4 / 60)
    assert figures.people_hours == pytest.approx(1 / 60)
    assert figures.counted_hours == pytest.approx(1 / 60)


def test_episode_caught_by_an_alert_that_began_before_it() -> None:
    videos = [video("1_1", 200, shoplifting=[(100, 120)])]
    (line,) = timelines(videos, stitch(videos))
    scores = np.zeros(200)
    scores[80:95] = 0.7  # fires before, merged with the short run inside
    scores[110:111] = 0.7
    (alert,) = session_alerts(line, scores, 0.5)
    assert alert.outcome == "caught"
    assert event_table([line], [scores], np.asarray([0.5, 0.8])).caught.tolist() == [[1, 0]]


def test_the_threshold_catches_most_within_the_budget_per_hour_with_people() -> None:
    hour = int(3600 * FPS)
    videos = [video("1_1", 300, shoplifting=[(100, 120)]), video("2_1", hour)]
    sessions = stitch(videos)
    lines = timelines(videos, sessions)
    clip = np.zeros(300)
    clip[100:120] = 0.6
    normal = np.zeros(hour)
    normal[1000:1010] = 0.7  # one false alarm in the hour, scoring above the episode
    stitched = sessions.stitch([clip, normal])
    assert choose_threshold(lines, stitched, max_false_per_hour=0.5) == 1.0  # nothing fits
    assert choose_threshold(lines, stitched, max_false_per_hour=1.5) == pytest.approx(0.6)


def test_criterion_averages_the_share_caught_over_budgets() -> None:
    hour = int(3600 * FPS)
    videos = [
        video("1_1", 300, shoplifting=[(100, 120)]),
        video("1_3", 300, shoplifting=[(100, 120)]),
        video("2_1", hour),
    ]
    sessions = stitch(videos)
    lines = timelines(videos, sessions)
    high, low = np.zeros(300), np.zeros(300)
    high[100:120], low[100:120] = 0.9, 0.5
    normal = np.zeros(hour)
    normal[1000:1010] = 0.6  # above the weaker episode: catching it costs 1 alert/hour
    table = event_table(lines, sessions.stitch([high, low, normal]), np.asarray([0.9, 0.5]))
    np.testing.assert_allclose(table.caught_within([0.5, 1.0, 2.0]), [0.5, 1.0, 1.0])
    assert table.criterion((0.5, 1.0, 2.0, 4.0)) == pytest.approx((0.5 + 1 + 1 + 1) / 4)
