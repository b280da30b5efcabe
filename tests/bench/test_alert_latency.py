"""The alert latency benchmark runs end to end (its figures go to docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from server.bench.alert_latency import run


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_the_benchmark_times_every_alert_to_websocket_and_push() -> None:
    result = await run(3, None)
    assert result["to_websocket"]["n"] == 3 and result["to_push_request"]["n"] == 3
    for path in ("to_websocket", "to_push_request"):
        assert 0 < result[path]["median_ms"] <= result[path]["p95_ms"] < 30_000
