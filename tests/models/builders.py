"""Behaviour model files for the model tests: the shipped model with another threshold (a
model of its own: another sha256), written where the server looks for a candidate."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

from server.behaviour.classifier import BehaviourModel
from server.behaviour.models import MODEL_FILE
from server.behaviour.registry import ModelRegistry
from server.weights import DEFAULT_WEIGHTS_DIR

SHIPPED = DEFAULT_WEIGHTS_DIR / MODEL_FILE


@functools.cache
def shipped() -> BehaviourModel:
    return BehaviourModel.load(SHIPPED)


def write_model(path: Path, threshold: float, note: str = "") -> Path:
    """The shipped model at `threshold` (its booster, spec, smoothing and calibration), its
    info marked with `note`, written to `path`."""
    model = shipped()
    info = model.info | {"note": note} if note else model.info
    policy = replace(model.policy, threshold=threshold)
    BehaviourModel(model.booster, model.spec, policy, info).save(path)
    return path


def write_candidate(data_dir: Path, threshold: float, note: str = "") -> Path:
    """A candidate in the data directory's slot, as `shopguard model train --candidate`
    would leave it (without the sha256 file: the tests that need one write it)."""
    return write_model(ModelRegistry(data_dir).candidate_path, threshold, note)
