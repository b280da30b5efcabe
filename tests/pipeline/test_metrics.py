"""`/metrics` of a server analysing a real camera: the clip of real people played as a camera
through the real pipeline (pose model, tracker, behaviour model), scraped over HTTP from
uvicorn and read with prometheus_client's parser; everything the Grafana dashboard in
infra/grafana draws is among what it serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from server.bench.day_clips import Stretch, write_day_clip
from server.bench.media import FPS
from tests.conftest import make_settings
from tests.helpers import ADMIN_PASSWORD, LiveServer, login
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually, pipeline_stats
from tests.pipeline.conftest import PEOPLE_CLIP, ROOT
from tests.prometheus_text import samples, value

DASHBOARD = ROOT / "infra" / "grafana" / "shopguard.json"
DEMO_CLIP = ROOT / "media" / "demo" / "vtest.mp4"  # infra/scripts/prepare_demo.sh


def dashboard_metrics() -> set[str]:
    """The metric names the dashboard's queries and variables read."""
    text = json.dumps(json.loads(DASHBOARD.read_text()))
    return set(re.findall(r"\b((?:shopguard|process)_[a-z_]+)", text))


async def test_a_real_camera_is_measured_and_scraped_over_http(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    settings = make_settings(tmp_path / "data", database_url, pipeline=FAST)
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as api,
    ):
        api.headers.update(await login(api, "admin", ADMIN_PASSWORD))
        camera_id = await add_camera(api, await add_store(api), "Aisle 1", PEOPLE_CLIP)

        async def analysed_and_scored() -> bool:
            row = (await pipeline_stats(api)).get(camera_id)
            return (
                row is not None
                and row["frames_analysed"] >= 10
                and row["scoring"]["p50_ms"] is not None
            )

        await eventually(analysed_and_scored, within_s=30)
        # Prometheus on this machine: no token needed
        async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as prometheus:
            response = await prometheus.get("/metrics")
            relayed = await prometheus.get("/metrics", headers={"X-Forwarded-For": "192.168.1.50"})
    assert response.status_code == 200, response.text
    text = response.text
    camera = {"camera": str(camera_id)}
    assert value(text, "shopguard_camera_fps", **camera) > 0
    assert value(text, "shopguard_camera_target_fps", **camera) == 5.0
    assert value(text, "shopguard_camera_online", **camera) == 1
    assert value(text, "shopguard_camera_frames_analysed_total", **camera) >= 10
    for counter in ("frames_dropped", "frames_failed", "reconnects", "source_errors"):
        assert value(text, f"shopguard_camera_{counter}_total", **camera) >= 0, counter
    assert value(text, "shopguard_camera_queue_depth", **camera) >= 0
    for stage, least in (("pose", 10), ("tracking", 10), ("latency", 10), ("scoring", 1)):
        name = f"shopguard_camera_{stage}_seconds"
        count = value(text, f"{name}_count", **camera)
        assert count >= least, stage
        assert value(text, f"{name}_sum", **camera) > 0, stage
        buckets = [s.value for s in samples(text, f"{name}_bucket", **camera)]
        assert buckets == sorted(buckets) and buckets[-1] == count, stage
    assert value(text, "shopguard_pose_workers") == 2
    assert value(text, "shopguard_pose_frames_total") >= 10
    assert value(text, "shopguard_pose_inference_seconds_count") >= 10
    route = {"method": "GET", "route": "/api/v1/pipeline/stats", "status": "200"}
    assert value(text, "shopguard_http_request_duration_seconds_count", **route) >= 1
    assert value(text, "shopguard_http_request_duration_seconds_sum", **route) > 0
    # a request a proxy relayed is not a local reader, even from 127.0.0.1
    assert relayed.status_code == 401, relayed.text

    served = {
        name
        for family in text_string_to_metric_families(text)
        for name in (family.name, *(sample.name for sample in family.samples))
    }
    assert dashboard_metrics() - served == set()
    assert {"shopguard_camera_pose_seconds_bucket", "shopguard_push_outcomes_total"} <= (
        dashboard_metrics()
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_gated_camera_s_gated_frames_and_wakeups_are_scraped(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    if not DEMO_CLIP.is_file():
        pytest.skip(f"{DEMO_CLIP} is missing: run ./infra/scripts/prepare_demo.sh")
    clip = tmp_path / "empty_then_people.mp4"  # 3 s of the empty scene, then people
    write_day_clip(
        DEMO_CLIP, clip, (Stretch(0, 3 * FPS, False), Stretch(3 * FPS, 3 * FPS, True)), 5
    )
    pipeline = FAST.model_copy(update={"presence_gate": True})
    settings = make_settings(tmp_path / "data", database_url, pipeline=pipeline)
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as api,
    ):
        api.headers.update(await login(api, "admin", ADMIN_PASSWORD))
        camera_id = await add_camera(api, await add_store(api), "Entrance", clip)

        async def gated_and_woken() -> bool:
            row = (await pipeline_stats(api)).get(camera_id)
            return row is not None and row["frames_gated"] >= 8 and row["wakeups"] >= 1

        await eventually(gated_and_woken, within_s=40)
        before = (await pipeline_stats(api))[camera_id]
        async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as prometheus:
            response = await prometheus.get("/metrics")
        after = (await pipeline_stats(api))[camera_id]
    assert response.status_code == 200, response.text
    camera = {"camera": str(camera_id)}
    gated = value(response.text, "shopguard_camera_frames_gated_total", **camera)
    wakeups = value(response.text, "shopguard_camera_wakeups_total", **camera)
    # what the pipeline stats say, read just before and after the scrape, less the frames
    # held for a possible wake-up (the last second: 5 or 6 frames)
    held = round(pipeline.presence_lead_s * 5) + 1
    assert before["frames_gated"] - held <= gated <= after["frames_gated"] and gated >= 1
    assert before["wakeups"] <= wakeups <= after["wakeups"] and wakeups >= 1
