"""Where behaviour models live: a candidate in the data directory is promoted, restored and
discarded on disk, a broken one is refused with the loader's reason and nothing moves, and
only the active and the previous model are kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from server.behaviour.models import MODEL_FILE, LoadedModel, model_identity
from server.behaviour.registry import CONFIGURED, ModelRegistry, Slots
from server.errors import Conflict, NotFound
from server.weights import record_sha, sha256_of
from shared.schemas.models import ModelRole, ModelSource
from tests.models.builders import SHIPPED, write_candidate, write_model


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_without_promotions_the_shipped_model_is_active_and_nothing_else_exists(
    data_dir: Path,
) -> None:
    registry = ModelRegistry(data_dir)
    active = registry.active()
    assert (active.role, active.source, active.path) == (
        ModelRole.active,
        ModelSource.shipped,
        SHIPPED,
    )
    assert registry.candidate() is None and registry.previous() is None
    assert registry.candidate_signature() is None
    with pytest.raises(NotFound, match="no candidate model: train one with `shopguard model"):
        registry.promote()
    with pytest.raises(NotFound, match="no previous model to go back to"):
        registry.restore()
    with pytest.raises(NotFound):
        registry.discard()


def test_a_promoted_candidate_becomes_active_and_restore_goes_back_and_forth(
    data_dir: Path, tmp_path: Path
) -> None:
    configured = write_model(tmp_path / "mine.json", 0.9)
    configured_bytes = configured.read_bytes()
    registry = ModelRegistry(data_dir, configured)
    assert registry.active().source is ModelSource.configured
    candidate = write_candidate(data_dir, 0.2, "retrained on the store's reviews")
    record_sha(candidate)  # as training leaves it
    identity = sha256_of(candidate)
    signature = registry.candidate_signature()
    assert signature is not None and {name for name, _, _ in signature} == {
        MODEL_FILE,
        MODEL_FILE + ".sha256",
    }

    promoted = registry.promote(identity)
    assert promoted.identity == identity == model_identity(promoted.path)
    assert promoted.model.policy.threshold == 0.2
    assert promoted.path == data_dir / "models" / "kept" / identity / MODEL_FILE
    assert (promoted.path.parent / (MODEL_FILE + ".sha256")).is_file()  # moved whole
    assert registry.candidate() is None and not candidate.parent.exists()
    assert registry.slots() == Slots(active=identity, previous=CONFIGURED)
    active = registry.active()
    assert (active.source, active.path) == (ModelSource.promoted, promoted.path)
    previous = registry.previous()
    assert previous is not None and previous.path == configured
    assert configured.read_bytes() == configured_bytes  # never touched

    back = registry.restore()
    assert back.path == configured and back.model.policy.threshold == 0.9
    assert registry.slots() == Slots(active=CONFIGURED, previous=identity)
    forth = registry.restore()  # the promoted model is still kept: forward again
    assert forth.identity == identity and registry.active().path == promoted.path


@pytest.mark.parametrize(
    ("damage", "sha_first", "reason"),
    [
        # not a model file at all (its sha256 recorded: what was written is read)
        (lambda p: p.write_text("{not json"), False, "is not JSON"),
        # changed after training wrote its sha256
        (lambda p: p.write_text(p.read_text().replace('"threshold": 0.2', '"threshold": 0.1')),
         True, "does not match its sha256 (changed or damaged)"),
        # a model file of another format
        (lambda p: p.write_text(json.dumps({"format": "shopguard.behaviour/0"})), False,
         "format 'shopguard.behaviour/0', expected shopguard.behaviour/1"),
    ],
)  # fmt: skip
def test_a_broken_candidate_is_refused_with_the_reason_and_nothing_moves(
    data_dir: Path, damage: Callable[[Path], object], sha_first: bool, reason: str
) -> None:
    registry = ModelRegistry(data_dir)
    candidate = write_candidate(data_dir, 0.2)
    if sha_first:
        record_sha(candidate)
    damage(candidate)
    if not sha_first:
        record_sha(candidate)
    with pytest.raises(Conflict, match="the candidate model is refused: behaviour model") as exc:
        registry.promote()
    assert reason in exc.value.message
    assert registry.candidate() is not None  # still there, to be looked at or discarded
    assert registry.slots() == Slots() and registry.active().path == SHIPPED
    assert not (data_dir / "models" / "kept").exists()


def test_promoting_only_the_candidate_that_was_looked_at(data_dir: Path) -> None:
    registry = ModelRegistry(data_dir)
    looked_at = sha256_of(write_candidate(data_dir, 0.2))
    write_candidate(data_dir, 0.25)  # training wrote another since
    with pytest.raises(Conflict, match="it was replaced; read GET /api/v1/models again"):
        registry.promote(looked_at)
    assert registry.slots() == Slots() and registry.candidate() is not None


def test_only_the_active_and_the_previous_models_are_kept(data_dir: Path) -> None:
    registry = ModelRegistry(data_dir)
    identities = []
    for threshold in (0.2, 0.3, 0.4):
        write_candidate(data_dir, threshold)
        identities.append(registry.promote().identity)
    kept = data_dir / "models" / "kept"
    assert {p.name for p in kept.iterdir()} == set(identities[1:])
    assert registry.slots() == Slots(active=identities[2], previous=identities[1])
    assert LoadedModel.load(registry.active().path).model.policy.threshold == 0.4


def test_a_discarded_candidate_is_gone(data_dir: Path) -> None:
    registry = ModelRegistry(data_dir)
    write_candidate(data_dir, 0.2)
    registry.discard()
    assert registry.candidate() is None and registry.candidate_signature() is None
    assert [p.name for p in (data_dir / "models").iterdir()] == []  # nothing left aside
