"""The live latency benchmark runs end to end, with Chromium as the viewer (its figures go to
docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from server.bench.live_latency import run_width
from tests.live.browser import need_chromium
from tests.pipeline.conftest import model_path

__all__ = ["model_path"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_the_benchmark_times_frames_shown_in_a_browser(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_chromium()
    loopback = lambda use_ipv4, use_ipv6: ["127.0.0.1"]  # noqa: E731  as the bench's main
    monkeypatch.setattr("aioice.ice.get_host_addresses", loopback)
    shot = tmp_path / "player.png"
    result = await run_width(320, [1], seconds=2.0, screenshot=shot)
    assert result["width"] == 320 and 0 < result["idle_cores"]
    (run,) = result["runs"]
    assert run["viewers"] == 1 and run["frames"] >= 5 and run["frame_width"] == [320]
    for path in ("server_added", "analysed_to_shown", "capture_to_shown"):
        assert run[path]["n"] >= 5, run
        assert 0 < run[path]["median_ms"] <= run[path]["p95_ms"] < 5_000, run
    assert (
        run["server_added"]["median_ms"]
        <= run["analysed_to_shown"]["median_ms"]
        <= run["capture_to_shown"]["median_ms"]
    )
    with Image.open(shot) as picture:
        assert picture.size == (360, 740)  # the player as a phone shows it
