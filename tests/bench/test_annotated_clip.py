"""The annotated clip benchmark runs end to end (its figures go to docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.bench.annotated_clip import measure
from tests.pipeline.conftest import PEOPLE_CLIP


def test_the_benchmark_annotates_and_times_a_clip(tmp_path: Path) -> None:
    found = measure(PEOPLE_CLIP, (1920, 1080), 1.0, tmp_path)
    assert found["clip_s"] == pytest.approx(1.0, abs=0.15)
    assert found["encoded_width"] == 1280  # capped
    assert 0 < found["cpu_s"] and 0 < found["wall_s"] and found["bytes"] > 10_000
    # the ratio is of the unrounded times; cpu_s is rounded to 10 ms (0.22 s: 2% off)
    per_clip_s = found["cpu_s"] / found["clip_s"]
    assert found["cpu_s_per_clip_s"] == pytest.approx(per_clip_s, rel=0.02, abs=0.01)
