"""The realistic-day bench's picture: from the bench's own JSON, latency per mix and the CPU
by stage with the gate off and on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from server.bench.day_plot import plot, run_of, stage_cores

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "bench" / "pipeline-day.json"  # the committed run


def test_the_cpu_by_stage_adds_up_to_the_run_s_threads() -> None:
    run = {"cores_by_thread": {"pose": 0.9, "camera": 0.4, "tracking": 0.14, "asyncio": 0.01}}
    assert stage_cores(run) == pytest.approx([0.9, 0.4, 0.14, 0.0, 0.01])


def test_the_committed_run_plots(tmp_path: Path) -> None:
    results = json.loads(RESULTS.read_text())
    assert run_of(results, 50.0, 16) is not None  # the count the issue asks for
    assert run_of(results, 50.0, 99) is None
    out = tmp_path / "day.png"
    plot(results, results, 16, out)
    with Image.open(out) as picture:
        assert picture.format == "PNG" and picture.size == (1100, 420)
