"""`shopguard model train | eval | cv` end to end on a tiny slice of the real PoseLift release:
the model file it writes loads in the server, and eval prints the JSON a reviewer reads."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from server.behaviour.classifier import BehaviourModel
from server.behaviour.ensemble import Ensemble
from server.behaviour.models import load_behaviour_model
from server.cli import app
from server.weights import is_recorded
from tests.training.conftest import TINY_TEST
from training import holdout
from training.plots import main as plots_main


def test_train_writes_a_model_the_server_loads_and_eval_prints_its_figures(
    tiny: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    model_path = tmp_path / "model.json"
    trained = runner.invoke(
        app,
        [
            "model",
            "train",
            "--data",
            str(tiny),
            "--out",
            str(model_path),
            "--folds",
            "2",
            "--trials",
            "2",
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert "trial 2/2" in trained.output  # progress shown
    assert is_recorded(model_path)  # sha256 written beside it
    model = BehaviourModel.load(model_path)
    assert model.info["data"]["labelled_videos"] == len(TINY_TEST)
    assert model.info["data"]["sessions"] == 8  # 2_311-312 and 2_315-316 are recordings
    assert 0 <= model.policy.threshold <= 1
    honest = model.info["protocol"]  # the protocol's figures, with intervals
    assert honest["protocol"]["grouping"] == "session" and len(honest["folds"]) == 2
    assert {"auc_roc", "episodes_caught_share", "false_alerts_per_hour"} <= set(honest["intervals"])
    shipped_kind = load_behaviour_model(model_path)  # by default the ensemble, as shipped
    assert isinstance(shipped_kind, Ensemble) and shipped_kind.info["learner"].startswith("mean(")
    events = honest["events_at_fold_thresholds"]
    per_day = 10 * events["false_alerts"] / events["people_hours"]
    assert model.info["alerts_per_camera_day"] == round(max(1.0, per_day), 1)
    compared = tmp_path / "compared.png"  # two reports' events curves on one plot
    assert plots_main([f"a={model_path}", f"b={model_path}", "--out", str(compared)]) == 0
    assert compared.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    plots = tmp_path / "plots"
    evaluated = runner.invoke(
        app,
        [
            "model",
            "eval",
            "--data",
            str(tiny),
            "--model",
            str(model_path),
            "--json",
            "--plots",
            str(plots),
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    figures = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert 0 <= figures["auc_roc"] <= 100 and 0 <= figures["auc_pr"] <= 100
    assert 0 <= figures["eer"] <= 1
    assert figures["episodes"] >= len(TINY_TEST) - 1  # one video may hold no episode
    assert figures["threshold"] == round(model.policy.threshold, 4)
    assert figures["sessions"] == 8 and figures["counted_minutes"] > 0  # normal video: rates
    assert figures["false_alerts_per_hour"] >= 0
    for name in ("roc.png", "pr.png"):
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_xgboost_alone_writes_no_network(tiny: Path, tmp_path: Path) -> None:
    model_path = tmp_path / "alone" / "behaviour-xgb.json"
    arguments = ["model", "train", "--data", str(tiny), "--out", str(model_path)]
    result = CliRunner().invoke(
        app, [*arguments, "--folds", "2", "--no-evaluate", "--learner", "xgb"]
    )
    assert result.exit_code == 0, result.output
    assert isinstance(load_behaviour_model(model_path), BehaviourModel)
    assert sorted(p.name for p in model_path.parent.iterdir()) == [
        "behaviour-xgb.json",
        "behaviour-xgb.json.sha256",
    ]
    refused = CliRunner().invoke(app, [*arguments, "--learner", "temporal"])
    assert refused.exit_code == 1 and "one of xgb, xgb+temporal" in refused.output


def test_cv_reports_the_protocols_figures(tiny: Path) -> None:
    result = CliRunner().invoke(
        app, ["model", "cv", "--data", str(tiny), "--folds", "3", "--trials", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "outer fold 3/3" in result.output
    figures = json.loads(result.stdout[result.stdout.index("{") :])
    assert figures["protocol"]["folds"] == 3 and len(figures["folds"]) == 3
    assert {
        "auc_roc",
        "auc_pr",
        "eer",
        "criterion",
        "episodes_caught_share",
        "false_alerts_per_hour",
    } <= set(figures)
    sessions = [name for fold in figures["folds"] for name in fold["sessions"]]
    assert len(sessions) == len(set(sessions)) == 8  # each recording in one fold
    for name, found in figures["intervals"].items():
        if found["value"] is not None:
            assert found["low"] <= found["value"] <= found["high"], name


def test_eval_of_a_folder_without_poselift_files_says_what_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["model", "eval", "--data", str(tmp_path), "--model", str(tmp_path / "m.json")]
    )
    assert result.exit_code == 1
    assert "not found" in result.output  # the model file is checked first


def test_holdout_trains_without_each_folds_videos_and_evaluates_on_them(
    tiny: Path, tmp_path: Path
) -> None:
    result = holdout.run(tiny, tmp_path, folds=2, train_folds=2)
    assert [r["fold"] for r in result["folds"]] == [1, 2]
    held_out: list[str] = []
    for number, fold in enumerate(result["folds"], 1):
        seen = {p.stem for p in (tmp_path / f"fold{number}" / "seen").rglob("*.pkl")}
        assert seen and not seen & set(fold["videos"])  # never trained on what it is scored on
        model = BehaviourModel.load(tmp_path / f"fold{number}" / "behaviour-xgb.json")
        assert model.info["data"]["labelled_videos"] == len(TINY_TEST) - len(fold["videos"])
        assert fold["frames"] > 0 and 0 <= fold["eer"] <= 1
        held_out += fold["videos"]
    assert sorted(held_out) == sorted(TINY_TEST)  # every labelled video held out once
