"""The bus load benchmark runs end to end (its figures go to docs/benchmarks.md)."""

from server.bench.bus import run


async def test_the_bus_benchmark_delivers_every_event_to_both_api_instances() -> None:
    said: list[str] = []
    result = await run(20, 3.0, 2, None, said.append)

    assert result["published"] >= 20 * 3  # an analysis summary per camera per second, at least
    assert result["lost"] == {"api-1": 0, "api-2": 0}
    assert result["delivered_per_s"] >= 1.9 * result["published_per_s"]
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p95"] < 30_000
    assert all(v is not None and v > 0 for v in result["cores_per_100_cameras"].values())
