"""A training script's report: the same JSON on stdout and in `--out` (its folder made)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.report_out import emit


def test_the_report_is_printed_and_written_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = {"auc_roc": 81.38, "folds": [1, 2]}
    out = tmp_path / "new" / "report.json"
    emit(report, out)
    printed = capsys.readouterr().out
    assert json.loads(printed) == report == json.loads(out.read_text(encoding="utf-8"))
    emit(report, None)
    assert json.loads(capsys.readouterr().out) == report
