"""`shopguard model eval`: rates only where there is normal video to count them over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from server.behaviour.classifier import BehaviourModel, ScoringPolicy
from server.behaviour.features import DEFAULT_SPEC
from server.behaviour.scoring import Calibration
from server.cli import app
from training.dataset import person_rows
from training.fit import Params, fit
from training.poselift import load_split

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model fitted on the two real cuts, with a threshold its clip's theft passes."""
    videos = load_split(DATA / "poselift_cuts", "Train") + load_split(
        DATA / "poselift_cuts", "Test"
    )
    params = Params(n_estimators=20, max_depth=2, min_child_weight=0.0, subsample=1.0)
    booster = fit(person_rows(videos), params, threads=1)
    path = tmp_path_factory.mktemp("model") / "model.json"
    policy = ScoringPolicy(0.0, 0.5, Calibration.identity(), min_track_age_s=0.0)  # a 1 s clip
    BehaviourModel(booster, DEFAULT_SPEC, policy, {}).save(path)
    return path


def _folder(tmp_path: Path, *, normal: bool) -> Path:
    root = tmp_path / "data"
    shutil.copytree(DATA / "poselift_cuts", root)
    if not normal:
        shutil.rmtree(root / "Train")
    return root


def _eval(data: Path, model: Path) -> dict[str, object]:
    result = CliRunner().invoke(
        app, ["model", "eval", "--data", str(data), "--model", str(model), "--json"]
    )
    assert result.exit_code == 0, result.output
    figures: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def test_eval_without_normal_video_reports_counts_and_says_rates_need_it(
    model: Path, tmp_path: Path
) -> None:
    figures = _eval(_folder(tmp_path, normal=False), model)
    assert (figures["episodes"], figures["episodes_caught"], figures["false_alerts"]) == (1, 1, 0)
    assert figures["video_minutes"] == pytest.approx(17 / 15 / 60, abs=0.001)
    assert figures["normal_only_videos"] == 0
    assert "false_alerts_per_hour" not in figures and "episodes_caught_share" not in figures
    assert "no normal-only video" in str(figures["rates"])
    assert 0 <= float(figures["auc_roc"]) <= 100  # type: ignore[arg-type]


def test_eval_with_normal_video_stitches_the_cuts_and_gives_rates(
    model: Path, tmp_path: Path
) -> None:
    figures = _eval(_folder(tmp_path, normal=True), model)
    assert figures["sessions"] == 1  # 2_311 and 2_312 are one recording
    assert figures["normal_only_videos"] == 1
    assert figures["video_minutes"] == pytest.approx(32 / 15 / 60, abs=0.001)
    assert figures["episodes_caught_share"] == 1.0
    # 2_312 lies within 10 s of the theft: a don't-care band, so nothing is left to count
    # false alerts over but the clip's own normal frames
    assert figures["counted_minutes"] == pytest.approx(6 / 15 / 60, abs=0.001)
    assert np.isfinite(float(figures["false_alerts_per_hour"]))  # type: ignore[arg-type]
    assert "rates" not in figures
