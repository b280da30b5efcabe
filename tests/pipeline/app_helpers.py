"""Helpers for pipeline tests that run the real app: fast retry settings, camera routes,
polling."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.config import PipelineConfig

FAST = PipelineConfig(
    open_timeout_s=3.0,
    read_timeout_s=2.0,
    stall_timeout_s=3.0,
    backoff_base_s=0.1,
    backoff_cap_s=0.4,
    backoff_jitter=0.0,
    reconcile_interval_s=0.5,
    # every frame analysed, so a stage's test sees each one; the gate (on by default) has
    # its own tests on the real pipeline (test_presence, test_metrics, test_gated_frames)
    presence_gate=False,
)


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 15.0) -> None:
    """Poll `check` every 0.1 s until it holds; fail after `within_s`."""
    for _ in range(int(within_s * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"not within {within_s}s: {check}")


async def add_camera(
    api: httpx.AsyncClient, store_id: int, name: str, path: Path, **fields: Any
) -> int:
    """Create a file camera playing `path` (plus any other camera fields); its id."""
    body = {"store_id": store_id, "name": name, "source_kind": "file", "source_url": str(path)}
    response = await api.post("/api/v1/cameras", json=body | fields)
    assert response.status_code == 201, response.text
    camera_id: int = response.json()["id"]
    return camera_id


async def add_store(api: httpx.AsyncClient) -> int:
    response = await api.post("/api/v1/stores", json={"name": "Downtown"})
    assert response.status_code == 201, response.text
    store_id: int = response.json()["id"]
    return store_id


async def camera_json(api: httpx.AsyncClient, camera_id: int) -> dict[str, Any]:
    response = await api.get(f"/api/v1/cameras/{camera_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def has_status(api: httpx.AsyncClient, camera_id: int, *statuses: str) -> bool:
    return (await camera_json(api, camera_id))["status"] in statuses


async def pipeline_body(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.get("/api/v1/pipeline/stats")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["count"] == len(body["cameras"])
    return body


async def pipeline_stats(api: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    body = await pipeline_body(api)
    assert body["enabled"] is True
    return {row["camera_id"]: row for row in body["cameras"]}
