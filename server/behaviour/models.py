"""A behaviour model as the server knows it: one loading function, one scorer, one identity.

Everything that loads a behaviour model to score with goes through `load_behaviour_model`,
scores a camera's tracks with `new_scorer`, and names the model by `model_identity`: the
sha256 of its file, or of its files once a model is more than one (an ensemble: the
XGBoost file and, beside it, the temporal network's files it names: `ensemble.py`). The
identity tags what a model leaves behind (track peaks, shadow alerts),
so it must not change when a model's files move.

Example:
    >>> loaded = LoadedModel.load(Path("weights/behaviour-xgb.json"))
    >>> loaded.identity[:12], loaded.model.policy.threshold
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from server.behaviour.classifier import MODEL_NAME, BehaviourModel
from server.behaviour.ensemble import Ensemble, load_track_model, member_files
from server.behaviour.scorer import BehaviourScorer
from server.weights import sha256_of, sha_path

MODEL_FILE = MODEL_NAME  # a model's main file: the one a model is found and loaded by
AnyModel = BehaviourModel | Ensemble


def model_files(path: Path) -> list[Path]:
    """The files of the model whose main file is `path` (those present), with the sha256
    files written beside them: what moves when the model moves."""
    present = [f for f in [path, *member_files(path)] if f.is_file()]
    return present + [sha_path(f) for f in present if sha_path(f).is_file()]


def model_identity(path: Path) -> str:
    """The sha256 of the model's file; for an ensemble, of its files' names and sha256s."""
    files = [path, *(f for f in member_files(path) if f.is_file())]
    if len(files) == 1:
        return sha256_of(path)
    listing = "".join(f"{f.name} {sha256_of(f)}\n" for f in files)
    return hashlib.sha256(listing.encode()).hexdigest()


def load_behaviour_model(path: Path) -> AnyModel:
    """The model whose main file is `path`; `ModelError` says what is wrong with it."""
    return load_track_model(path)


def new_scorer(model: AnyModel) -> BehaviourScorer:
    """A scorer of one camera's tracks with `model` (it keeps their recent scores)."""
    return BehaviourScorer(model)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A loaded behaviour model, its identity and where its main file is."""

    model: AnyModel
    identity: str
    path: Path

    @classmethod
    def load(cls, path: Path) -> LoadedModel:
        return cls(load_behaviour_model(path), model_identity(path), path)

    def moved(self, path: Path) -> LoadedModel:
        """The same model, its files now at `path`."""
        return LoadedModel(self.model, self.identity, path)
