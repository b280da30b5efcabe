"""Fixtures of the training tests: a small slice of the real PoseLift release."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

RELEASE = Path(__file__).parents[3] / "shared" / "data" / "poselift"
TINY_TRAIN = ("2_96", "2_315", "2_312", "3_277")  # short normal-only videos
TINY_TEST = ("2_311", "2_316", "5_299", "2_305", "1_293", "3_287")  # short labelled ones


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PoseLift-layout folder with 4 normal-only and 6 labelled videos of the release."""
    if not RELEASE.is_dir():
        message = f"{RELEASE} is missing (../shared/data/poselift beside the repository)"
        if os.environ.get("SHOPGUARD_TEST_REQUIRE_POSELIFT") == "1":
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("poselift")
    for folder, names, suffix in (
        ("Train", TINY_TRAIN, "pkl"),
        ("Test", TINY_TEST, "pkl"),
        ("GT", TINY_TEST, "npy"),
    ):
        (root / folder).mkdir()
        for name in names:
            shutil.copyfile(
                RELEASE / folder / f"{name}.{suffix}", root / folder / f"{name}.{suffix}"
            )
    return root
