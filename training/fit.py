"""Fitting the XGBoost booster on person rows, and the bounded hyper-parameter search space.

Normal-only videos give far more rows than the labelled ones: they are thinned to every
`normal_every`-th row (consecutive rows of a track are near-duplicates 1/15 s apart) and
weighted so that together they weigh `normal_share` times what the labelled videos' normal
rows do. Left at their count (about 10 times), they taught the model to tell the long
normal videos from the short labelled clips more than normal moments from thefts, and cost
3-4 points of AUC-ROC. The positive rows are weighted so that both classes weigh the same.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass
from typing import Any

# OpenMP threads that spin while they wait slow a fit down fivefold when the cores are busy
# with other work (measured on a busy 2-core machine: 300 trees, 2 threads, 55 s spinning,
# 11 s passive). Read when xgboost's library loads, so set before it is imported (training
# never runs inside the server).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import numpy.typing as npt
import xgboost as xgb

from training.dataset import PersonRows
from training.store_data import is_store_video

SEED = 20260


@dataclass(frozen=True, slots=True)
class Params:
    """XGBoost's knobs that the search turns; the rest stay at the values in `fit`."""

    max_depth: int = 4
    learning_rate: float = 0.05
    n_estimators: int = 300
    min_child_weight: float = 5.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    normal_share: float = 1.0  # weight of the normal-only videos / the labelled ones' normal rows
    store_weight: float = 1.0  # a store episode's row / a PoseLift row of its class (`row_weights`)

    def row(self) -> dict[str, Any]:
        return asdict(self)


# the bounded search: each trial draws one value per knob
SEARCH_SPACE: dict[str, tuple[Any, ...]] = {
    "max_depth": (2, 3, 4, 5),
    "learning_rate": (0.02, 0.05, 0.1),
    "n_estimators": (150, 300, 600),
    "min_child_weight": (1.0, 5.0, 20.0),
    "subsample": (0.6, 0.8, 1.0),
    "colsample_bytree": (0.5, 0.8, 1.0),
    "reg_lambda": (1.0, 5.0, 20.0),
    "normal_share": (0.3, 1.0, 3.0),
}


def candidates(trials: int, seed: int = SEED) -> list[Params]:
    """The defaults plus `trials - 1` random draws from `SEARCH_SPACE` (deterministic)."""
    pick = random.Random(seed)
    found = [Params()]
    while len(found) < trials:
        draw = Params(**{k: pick.choice(v) for k, v in SEARCH_SPACE.items()})
        if draw not in found:
            found.append(draw)
    return found


def training_rows(rows: PersonRows, normal_every: int) -> npt.NDArray[np.bool_]:
    """Which rows to fit on: all rows of labelled videos, every `normal_every`-th of the rest."""
    labelled = np.array([v.labels is not None for v in rows.videos], bool)
    in_labelled = labelled[rows.video] if len(rows) else np.zeros(0, bool)
    return np.asarray(in_labelled | (np.arange(len(rows)) % normal_every == 0), bool)


def fit(rows: PersonRows, params: Params, *, normal_every: int = 3, threads: int = 2) -> Any:
    """A booster fitted on `rows` (binary: shoplifting frame or not)."""
    chosen = training_rows(rows, normal_every)
    x, y = rows.features[chosen], rows.label[chosen].astype(np.float32)
    if not 0 < y.sum() < len(y):
        raise ValueError("training needs rows of both classes")
    weight = row_weights(rows, chosen, params.normal_share, params.store_weight)
    data = xgb.DMatrix(x, label=y, weight=weight)
    settings = {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "tree_method": "hist",
        "max_depth": params.max_depth,
        "eta": params.learning_rate,
        "min_child_weight": params.min_child_weight,
        "subsample": params.subsample,
        "colsample_bytree": params.colsample_bytree,
        "lambda": params.reg_lambda,
        "nthread": threads,
        "seed": SEED,
    }
    return xgb.train(settings, data, num_boost_round=params.n_estimators)


def row_weights(
    rows: PersonRows,
    chosen: npt.NDArray[np.bool_],
    normal_share: float,
    store_weight: float = 1.0,
) -> npt.NDArray[np.float32]:
    """Weights of the `chosen` rows: normal-only videos' rows together `normal_share` times
    the labelled videos' normal rows (their count where there are none), positives as much
    as all normal rows together; then the rows of the store's own episodes
    (`store_data.is_store_video`) `store_weight` times their class's PoseLift rows (a few
    hundred rows among tens of thousands say little to the fit at 1)."""
    if not store_weight > 0:
        raise ValueError(f"store_weight: must be > 0, got {store_weight}")
    labelled = np.array([v.labels is not None for v in rows.videos], bool)[rows.video[chosen]]
    positive = rows.label[chosen] == 1
    normal_only = ~labelled
    weight = np.ones(len(positive), np.float32)
    labelled_normal = int((labelled & ~positive).sum())
    if normal_only.any() and labelled_normal:
        weight[normal_only] = normal_share * labelled_normal / normal_only.sum()
    weight[positive] = weight[~positive].sum() / positive.sum()
    store = np.array([is_store_video(v) for v in rows.videos], bool)[rows.video[chosen]]
    weight[store] *= np.float32(store_weight)
    return weight


def predict(booster: Any, rows: PersonRows) -> npt.NDArray[np.float64]:
    """Raw probabilities for every row, shape (N,)."""
    if len(rows) == 0:
        return np.zeros(0, np.float64)
    return np.asarray(booster.inplace_predict(rows.features), np.float64).reshape(-1)
