"""Where behaviour models live: the active one, a candidate waiting in shadow, the previous one.

    <data_dir>/models/
      candidate/behaviour-xgb.json (+ .sha256)   `shopguard model train --candidate` writes it
      kept/<identity>/behaviour-xgb.json          promoted models: the active and the previous
      slots.json                                  {"active": <identity> | "configured",
                                                   "previous": <identity> | "configured" | null}

"configured" is the file the settings name (`pipeline.behaviour_model`, else
weights/behaviour-xgb.json shipped with ShopGuard): the active model until a promotion.
Promoting checks that the candidate loads, moves its folder into `kept/` (one rename) and
then replaces `slots.json` (written beside it and renamed over it), so a crash at any point
leaves a whole model active: the old one until the pointer is replaced, the new one after.
Restoring swaps active and previous the same way. Only what the pointer names is kept.

A candidate that does not load is refused with the loader's reason (`ModelError`); nothing
here touches the active model's file. File work only: callers run it in a thread.

Example:
    >>> registry = ModelRegistry.of(settings)
    >>> registry.active().path, registry.candidate()
    >>> loaded = registry.promote()   # NotFound without a candidate, Conflict if it is broken
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from server.behaviour.models import MODEL_FILE, LoadedModel, model_files
from server.config import Settings
from server.errors import Conflict, ModelError, NotFound
from server.weights import DEFAULT_WEIGHTS_DIR
from shared.schemas.models import ModelRole, ModelSource

logger = logging.getLogger(__name__)

MODELS_DIR = "models"
CANDIDATE_DIR = "candidate"
KEPT_DIR = "kept"
SLOTS_FILE = "slots.json"
CONFIGURED = "configured"
NO_CANDIDATE = "no candidate model: train one with `shopguard model train --candidate`"

Signature = tuple[tuple[str, int, int], ...]  # (name, mtime ns, size) of a slot's files


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A model's main file and what it is to the server."""

    role: ModelRole
    source: ModelSource
    path: Path


@dataclass(frozen=True, slots=True)
class Slots:
    """What `slots.json` says: an identity under `kept/`, or `CONFIGURED`."""

    active: str = CONFIGURED
    previous: str | None = None


class ModelRegistry:
    """The model files of one data directory."""

    def __init__(self, data_dir: Path, configured: Path | None = None) -> None:
        """`configured`: the settings' behaviour model file (None: the shipped one)."""
        self.root = data_dir / MODELS_DIR
        self.configured = configured or DEFAULT_WEIGHTS_DIR / MODEL_FILE
        self._configured_source = ModelSource.configured if configured else ModelSource.shipped

    @classmethod
    def of(cls, settings: Settings) -> ModelRegistry:
        return cls(settings.data_dir, settings.pipeline.behaviour_model)

    @property
    def candidate_path(self) -> Path:
        """Where training writes a candidate (`shopguard model train --candidate`)."""
        return self.root / CANDIDATE_DIR / MODEL_FILE

    # -- reading ---------------------------------------------------------------------------

    def slots(self) -> Slots:
        path = self.root / SLOTS_FILE
        if not path.is_file():
            return Slots()
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            return Slots(str(document["active"]), _optional(document.get("previous")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.error("%s is unreadable (%s): the configured model is active", path, exc)
            return Slots()

    def active(self) -> ModelFile:
        return self._file(self.slots().active, ModelRole.active)

    def previous(self) -> ModelFile | None:
        previous = self.slots().previous
        return None if previous is None else self._file(previous, ModelRole.previous)

    def candidate(self) -> ModelFile | None:
        """The candidate slot's model, when its main file is there (loadable or not)."""
        path = self.candidate_path
        return ModelFile(ModelRole.candidate, ModelSource.trained, path) if path.is_file() else None

    def candidate_signature(self) -> Signature | None:
        """What changes when training writes the candidate again (None: there is none)."""
        if not self.candidate_path.is_file():
            return None
        found = []
        for file in model_files(self.candidate_path):
            try:
                stat = file.stat()
            except FileNotFoundError:  # replaced meanwhile: the next look sees the new one
                continue
            found.append((file.name, stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    # -- changing --------------------------------------------------------------------------

    def promote(self, expected: str | None = None) -> LoadedModel:
        """Make the candidate the active model (the active one becomes the previous); the
        candidate as loaded, now under `kept/`. `expected`: its identity, when only that
        candidate may be promoted (not one written since the caller looked)."""
        candidate = self.candidate()
        if candidate is None:
            raise NotFound(NO_CANDIDATE)
        loaded = _load(candidate.path, "candidate")
        if expected is not None and loaded.identity != expected:
            raise Conflict(
                f"the candidate model is now {loaded.identity[:12]}…, not {expected[:12]}…: "
                "it was replaced; read GET /api/v1/models again"
            )
        kept = self.root / KEPT_DIR / loaded.identity
        kept.parent.mkdir(parents=True, exist_ok=True)
        if kept.is_dir():  # promoted before (then restored away from): the same bytes
            _remove(candidate.path.parent, self.root)
        else:
            os.replace(candidate.path.parent, kept)
        slots = self.slots()
        self._write(Slots(loaded.identity, slots.active))
        return loaded.moved(kept / MODEL_FILE)

    def restore(self) -> LoadedModel:
        """Make the previous model active again (the active one becomes the previous)."""
        slots = self.slots()
        if slots.previous is None:
            raise NotFound("no previous model to go back to")
        loaded = _load(self._file(slots.previous, ModelRole.previous).path, "previous")
        self._write(Slots(slots.previous, slots.active))
        return loaded

    def discard(self) -> None:
        """Delete the candidate."""
        if self.candidate() is None:
            raise NotFound(NO_CANDIDATE)
        _remove(self.candidate_path.parent, self.root)

    def _file(self, ref: str, role: ModelRole) -> ModelFile:
        if ref == CONFIGURED:
            return ModelFile(role, self._configured_source, self.configured)
        return ModelFile(role, ModelSource.promoted, self.root / KEPT_DIR / ref / MODEL_FILE)

    def _write(self, slots: Slots) -> None:
        """Replace `slots.json` atomically, then delete kept models it no longer names."""
        path = self.root / SLOTS_FILE
        partial = path.with_name(path.name + ".partial")
        with partial.open("w", encoding="utf-8") as out:
            json.dump({"active": slots.active, "previous": slots.previous}, out)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
        named = {slots.active, slots.previous}
        kept = self.root / KEPT_DIR
        for folder in kept.iterdir() if kept.is_dir() else ():
            if folder.name not in named:
                _remove(folder, self.root)


def _load(path: Path, what: str) -> LoadedModel:
    try:
        return LoadedModel.load(path)
    except ModelError as exc:
        raise Conflict(f"the {what} model is refused: {exc.message}") from exc


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def _remove(folder: Path, root: Path) -> None:
    """Delete a folder: renamed aside first, so that it is gone at once and whole."""
    aside = root / f".removing-{uuid.uuid4().hex}"
    os.replace(folder, aside)
    shutil.rmtree(aside, ignore_errors=True)
