"""PoseLift rows scored by a model file as the server loads it (`server/behaviour/models.py`):
the XGBoost alone, or the ensemble (the temporal network's windows rebuilt from the rows'
tracks, `training/temporal/rows.py`, run with ONNX Runtime as live).

Example:
    >>> model = load_behaviour_model(Path("weights/behaviour-xgb.json"))
    >>> raw = row_scores(model, rows)   # (N,) raw scores, before smoothing and calibration
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from server.behaviour.classifier import BehaviourModel
from server.behaviour.ensemble import Ensemble
from training.dataset import PersonRows
from training.fit import predict
from training.temporal.rows import RowTracks

CHUNK = 8192  # windows made and scored at once


def xgboost_of(model: BehaviourModel | Ensemble) -> BehaviourModel:
    """The model's XGBoost (its features spec says how rows are cut)."""
    return model.xgb if isinstance(model, Ensemble) else model


def row_scores(model: BehaviourModel | Ensemble, rows: PersonRows) -> npt.NDArray[np.float64]:
    """Each row's raw score, shape (N,): its window ending at its frame."""
    raw = predict(xgboost_of(model).booster, rows)
    if not isinstance(model, Ensemble):
        return raw
    tracks = RowTracks.of(rows)
    temporal = np.zeros(len(rows), np.float64)
    for lo in range(0, len(rows), CHUNK):
        which = np.arange(lo, min(lo + CHUNK, len(rows)))
        temporal[which] = model.temporal.raw_scores(tracks.inputs(which, model.temporal.spec))
    return model.member_scores(raw, temporal)
