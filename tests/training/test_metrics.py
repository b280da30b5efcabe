"""Frame- and event-level figures on literal label and score arrays."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from training.metrics import event_metrics, frame_metrics, runs, threshold_for


def labels(*values: int) -> npt.NDArray[np.int8]:
    return np.asarray(values, np.int8)


def scores(*values: float) -> npt.NDArray[np.float64]:
    return np.asarray(values, np.float64)


def test_frame_metrics_pool_the_frames_of_all_videos() -> None:
    perfect = frame_metrics(
        [labels(0, 0, 1), labels(1, 0)], [scores(0.1, 0.2, 0.9), scores(0.8, 0)]
    )
    assert (perfect.auc_roc, perfect.auc_pr, perfect.eer) == (100.0, 100.0, 0.0)
    assert (perfect.frames, perfect.positive_frames) == (5, 2)
    inverted = frame_metrics([labels(1, 1, 0, 0)], [scores(0.1, 0.2, 0.8, 0.9)])
    assert inverted.auc_roc == 0.0 and inverted.eer == 1.0
    half = frame_metrics([labels(0, 1, 0, 1)], [scores(0.5, 0.5, 0.5, 0.5)])
    assert half.auc_roc == 50.0 and half.eer == 0.5
    with pytest.raises(ValueError, match="both"):
        frame_metrics([labels(0, 0)], [scores(0.1, 0.2)])
    with pytest.raises(ValueError, match="aligned"):
        frame_metrics([labels(0, 1)], [scores(0.1)])


@pytest.mark.parametrize(
    ("mask", "gap", "expected"),
    [
        ([0, 1, 1, 0, 1], 0, [(1, 3), (4, 5)]),  # two runs, one at the end
        ([0, 1, 1, 0, 1], 1, [(1, 5)]),  # a one-frame gap merged
        ([1, 0, 0, 1], 1, [(0, 1), (3, 4)]),  # a two-frame gap is not
        ([0, 0], 0, []),  # nothing
    ],
)
def test_runs(mask: list[int], gap: int, expected: list[tuple[int, int]]) -> None:
    assert runs(np.asarray(mask, bool), gap) == expected


def test_episodes_caught_and_false_alerts_per_hour() -> None:
    fps = 1.0  # one frame a second: 3600 normal frames make an hour
    truth = np.zeros(7200, np.int8)
    truth[100:110] = 1  # episode 1: caught (alert overlaps its end)
    truth[5000:5010] = 1  # episode 2: missed
    score = np.zeros(7200)
    score[108:115] = 0.9  # overlaps episode 1
    score[2000:2003] = 0.8  # false alert
    score[2500] = 0.95  # 497 frames later: a second false alert with no merging
    found = event_metrics([truth], [score], threshold=0.7, fps=fps, merge_gap_s=60)
    assert (found.episodes, found.caught, found.false_alerts) == (2, 1, 2)
    assert found.normal_hours == pytest.approx((7200 - 20) / 3600)
    assert found.false_alerts_per_hour == pytest.approx(2 / found.normal_hours)
    merged = event_metrics([truth], [score], threshold=0.7, fps=fps, merge_gap_s=600)
    assert merged.false_alerts == 1  # within the dedup window: one incident
    strict = event_metrics([truth], [score], threshold=0.92, fps=fps, merge_gap_s=60)
    assert (strict.caught, strict.false_alerts) == (0, 1)


def test_the_threshold_catches_most_episodes_within_the_false_alert_budget() -> None:
    truth = [labels(*([0] * 50 + [1] * 5 + [0] * 45)), labels(*([0] * 100))]
    first = np.zeros(100)
    first[50:55] = 0.6  # the episode scores 0.6
    second = np.zeros(100)
    second[10:12] = 0.7  # a normal video with one stronger false alarm
    budgeted = threshold_for(truth, [first, second], fps=1.0, max_false_per_hour=0.0)
    assert budgeted.false_alerts == 0 and budgeted.caught == 0  # 0.7 > 0.6: nothing fits
    generous = threshold_for(truth, [first, second], fps=1.0, max_false_per_hour=100.0)
    assert generous.caught == 1 and generous.threshold <= 0.6
