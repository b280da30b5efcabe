"""The live latency benchmark runs end to end (its figures go to docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.bench.live_latency import run_width
from tests.pipeline.conftest import model_path

__all__ = ["model_path"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_the_benchmark_times_frames_to_a_viewer_process(model_path: Path) -> None:
    result = await run_width(320, [1], seconds=2.0)
    assert result["width"] == 320 and 0 < result["idle_cores"]
    (run,) = result["runs"]
    assert run["viewers"] == 1 and run["frames"] >= 5
    for path in ("capture_to_shown", "analysed_to_shown"):
        assert run[path]["n"] >= 5, run
        assert 0 < run[path]["median_ms"] <= run[path]["p95_ms"] < 5_000, run
    assert run["capture_to_shown"]["median_ms"] >= run["analysed_to_shown"]["median_ms"]
