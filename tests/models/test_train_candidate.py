"""`shopguard model train --candidate` writes into the data directory's candidate slot (the
one `--config` names), where the server finds it, with its sha256, ready for the shadow."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.behaviour.ensemble import Ensemble
from server.behaviour.models import LoadedModel
from server.behaviour.registry import ModelRegistry
from server.cli import app
from server.weights import is_recorded
from tests.models.builders import SHIPPED

RELEASE = Path(__file__).parents[3] / "shared" / "data" / "poselift"
VIDEOS = {"Train": ("2_96", "3_277"), "Test": ("2_311", "5_299", "1_293")}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A PoseLift-layout folder with 2 normal-only and 3 labelled videos."""
    if not RELEASE.is_dir():
        message = f"{RELEASE} is missing (../shared/data/poselift beside the repository)"
        if os.environ.get("SHOPGUARD_TEST_REQUIRE_POSELIFT") == "1":
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path / "poselift"
    files = [("Train", n, "pkl") for n in VIDEOS["Train"]]
    files += [(f, n, s) for n in VIDEOS["Test"] for f, s in (("Test", "pkl"), ("GT", "npy"))]
    for folder, name, suffix in files:
        (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(RELEASE / folder / f"{name}.{suffix}", root / folder / f"{name}.{suffix}")
    return root


def test_train_writes_a_candidate_into_the_data_directory(tiny: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config = tmp_path / "shopguard.yaml"
    config.write_text(f"data_dir: {data_dir}\n", encoding="utf-8")
    shipped = SHIPPED.read_bytes()
    arguments = ["--config", str(config), "model", "train", "--data", str(tiny)]
    result = CliRunner().invoke(app, [*arguments, "--candidate", "--folds", "2", "--no-evaluate"])
    assert result.exit_code == 0, result.output
    registry = ModelRegistry(data_dir)
    candidate = registry.candidate()
    assert candidate is not None and candidate.path == data_dir / "models" / "candidate" / (
        "behaviour-xgb.json"
    )
    assert is_recorded(candidate.path)  # its sha256 beside it, as the server checks
    loaded = LoadedModel.load(candidate.path)
    assert loaded.model.info["data"]["labelled_videos"] == 3
    assert isinstance(loaded.model, Ensemble)  # the shipped kind: the network beside it
    assert is_recorded(candidate.path.with_name("behaviour-tcn.onnx"))
    assert SHIPPED.read_bytes() == shipped  # --out's default is left alone

    promoted = registry.promote(loaded.identity)  # the whole ensemble moves, and loads
    assert isinstance(promoted.model, Ensemble)
    assert promoted.path.with_name("behaviour-tcn.onnx").is_file()
    assert promoted.identity == loaded.identity
