"""Bootstrap over sessions: deterministic, drawn within strata, intervals around the point,
and frame AUCs recomputed under a resample's weights."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from training.bootstrap import interval, resample_weights
from training.figures import Ranked


def test_resamples_draw_each_stratum_to_its_own_size_and_repeat_with_the_seed() -> None:
    strata = np.asarray([1, 0, 0, 1, 0, 0, 0], np.int64)
    weights = resample_weights(strata, resamples=200, seed=7)
    assert weights.shape == (200, 7)
    np.testing.assert_array_equal(weights[:, strata == 1].sum(axis=1), 2)
    np.testing.assert_array_equal(weights[:, strata == 0].sum(axis=1), 5)
    assert (weights != 1).any()  # sessions drawn twice or left out
    np.testing.assert_array_equal(weights, resample_weights(strata, resamples=200, seed=7))
    assert not np.array_equal(weights, resample_weights(strata, resamples=200, seed=8))


def test_interval_of_a_weighted_mean_holds_the_point_and_narrows_with_more_sessions() -> None:
    rng = np.random.default_rng(0)

    def width(sessions: int) -> float:
        values = rng.normal(10.0, 2.0, sessions)
        weights = resample_weights(np.zeros(sessions, np.int64), resamples=500, seed=1)
        found = interval(lambda w: float(w @ values / w.sum()), weights)
        assert found.point == pytest.approx(values.mean())
        assert found.low < found.point < found.high
        again = interval(lambda w: float(w @ values / w.sum()), weights)
        assert again == found  # same weights, same interval
        return found.high - found.low

    assert width(200) < width(10)


def test_resamples_where_the_figure_is_undefined_are_left_out() -> None:
    weights = resample_weights(np.zeros(3, np.int64), resamples=100, seed=2)

    def first_session_needed(w: np.ndarray) -> float:
        return float(w[0]) if w[0] else float("nan")

    found = interval(first_session_needed, weights)
    assert found.point == 1.0 and found.low >= 1.0
    assert interval(lambda w: float("nan"), weights).row() == {
        "value": None,
        "low": None,
        "high": None,
    }


def test_weighted_aucs_match_scikit_learn_with_ties_and_sessions_left_out() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.3).astype(np.float64)
    s = np.round(rng.random(400) * 0.5 + 0.4 * y, 1)  # coarse: many tied scores
    ranked = Ranked(y, s)
    for _ in range(5):
        w = rng.integers(0, 3, 400).astype(np.float64)  # drawn 0, 1 or 2 times
        assert ranked.auc_roc(w) == pytest.approx(roc_auc_score(y, s, sample_weight=w) * 100)
        assert ranked.auc_pr(w) == pytest.approx(
            average_precision_score(y, s, sample_weight=w) * 100
        )
    assert np.isnan(ranked.auc_roc(np.where(y == 1, 0.0, 1.0)))  # no shoplifting drawn
