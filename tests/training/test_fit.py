"""Row weights of a fit: how much the normal-only videos, the labelled clips' normal rows
and the shoplifting rows each weigh, on rows of the mini release."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from training.dataset import person_rows
from training.fit import Params, fit, predict, row_weights, training_rows
from training.poselift import load_split
from training.store_data import STORE_VIDEO_PREFIX

MINI = Path(__file__).parents[1] / "data" / "poselift_mini"


@pytest.mark.parametrize("share", [0.3, 1.0, 3.0])
def test_normal_only_videos_weigh_their_share_of_the_labelled_normal_rows(share: float) -> None:
    rows = person_rows(load_split(MINI, "Train") + load_split(MINI, "Test"))
    chosen = training_rows(rows, normal_every=3)
    weight = row_weights(rows, chosen, share)
    labelled = np.array([v.labels is not None for v in rows.videos])[rows.video[chosen]]
    positive = rows.label[chosen] == 1
    assert labelled.any() and (~labelled).any() and positive.any()
    assert weight[labelled & ~positive] == pytest.approx(1.0)
    normal_only = weight[~labelled].sum()
    assert normal_only == pytest.approx(share * (labelled & ~positive).sum(), rel=1e-5)
    assert weight[positive].sum() == pytest.approx(weight[~positive].sum(), rel=1e-5)


def test_without_labelled_normal_rows_the_normal_videos_count_one_each() -> None:
    rows = person_rows(load_split(MINI, "Train") + load_split(MINI, "Test"))
    shoplifting = (rows.label == 1) | np.array([v.labels is None for v in rows.videos])[rows.video]
    only = rows.take(shoplifting)
    chosen = training_rows(only, normal_every=1)
    weight = row_weights(only, chosen, 0.3)
    negative = only.label[chosen] == 0
    np.testing.assert_array_equal(weight[negative], 1.0)
    assert weight[~negative].sum() == pytest.approx(negative.sum(), rel=1e-5)


def test_the_share_changes_what_the_booster_learns() -> None:
    """Weighting the normal-only videos up lowers the scores of rows like theirs."""
    rows = person_rows(load_split(MINI, "Train") + load_split(MINI, "Test"))
    small = Params(n_estimators=30, max_depth=2, subsample=1.0, colsample_bytree=1.0)
    normal_only = np.array([v.labels is None for v in rows.videos])[rows.video]
    low = predict(fit(rows, Params(**{**small.row(), "normal_share": 0.1})), rows)
    high = predict(fit(rows, Params(**{**small.row(), "normal_share": 10.0})), rows)
    assert high[normal_only].mean() < low[normal_only].mean()


def test_store_rows_weigh_their_weight_times_poselifts_of_their_class() -> None:
    """A video named as the store's episodes are (`store_data.STORE_VIDEO_PREFIX`) weighs
    `store_weight` times what it would as PoseLift's; PoseLift's rows are left as they were."""
    videos = load_split(MINI, "Train") + load_split(MINI, "Test")
    labelled = next(i for i, v in enumerate(videos) if v.labels is not None)
    as_store = [
        replace(v, name=f"{STORE_VIDEO_PREFIX}c1-e{i}") if i == labelled else v
        for i, v in enumerate(videos)
    ]
    plain, store = person_rows(videos), person_rows(as_store)
    chosen = training_rows(plain, normal_every=3)
    before = row_weights(plain, chosen, 1.0)
    after = row_weights(store, chosen, 1.0, store_weight=20.0)
    mine = store.video[chosen] == labelled
    assert mine.any() and (~mine).any()
    np.testing.assert_allclose(after[mine], 20.0 * before[mine], rtol=1e-6)
    np.testing.assert_allclose(after[~mine], before[~mine], rtol=1e-6)
    with pytest.raises(ValueError, match="store_weight"):
        row_weights(store, chosen, 1.0, store_weight=0.0)
