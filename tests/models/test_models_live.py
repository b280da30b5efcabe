"""A candidate model in shadow beside the active one, through the real server: the pipeline
(pose, tracking, the behaviour models) on a clip of real people. The active model (the
shipped booster at threshold 0.99) raises nothing; the candidate (the same booster at 0.0:
everybody scored is a detection) runs in shadow, so its would-be alerts are counted and no
alert, push or clip comes of them. Promoting it through the API makes every camera score
with it at its next scoring, without a restart: its threshold is on the verdicts and real
alerts follow; restoring goes back. A broken candidate is refused with its reason and the
active model keeps scoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from server.app import create_app
from server.behaviour.live import CameraScorers
from server.runtime import Runtime
from server.storage.models import Alert, PushOutbox, ShadowAlert
from server.weights import record_sha, sha256_of
from tests.conftest import make_settings
from tests.helpers import LIFESPAN_S, error_of
from tests.models.builders import write_candidate, write_model
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually
from tests.pipeline.conftest import PEOPLE_CLIP, admin_client


async def count(runtime: Runtime, table: Any) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def models(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.get("/api/v1/models")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_a_candidate_counts_in_shadow_is_promoted_live_and_restored(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    active_file = write_model(tmp_path / "active.json", 0.99)
    data_dir = tmp_path / "data"
    candidate_file = write_candidate(data_dir, 0.0, "a store's retrained model")
    record_sha(candidate_file)  # as `shopguard model train --candidate` leaves it
    candidate = sha256_of(candidate_file)
    pipeline = FAST.model_copy(update={"behaviour_model": active_file})
    app = create_app(make_settings(data_dir, database_url, pipeline=pipeline))
    async with (
        LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S),
        admin_client(app) as api,
    ):
        runtime: Runtime = app.state.runtime
        camera_id = await add_camera(api, await add_store(api), "Aisle 1", PEOPLE_CLIP)

        # in shadow: would-be alerts counted, nothing raised
        async def counted() -> bool:  # and a few seconds scored
            shadow, runner = runtime.models.shadow, runtime.pipeline.runners.get(camera_id)
            return (
                shadow is not None
                and shadow.stats.opened >= 1
                and runner is not None
                and isinstance(runner.detector, CameraScorers)
                and runner.detector.shadow_time.count >= 5
            )

        await eventually(counted, within_s=60)
        runner = runtime.pipeline.runners[camera_id]
        verdicts = runner.worker.verdicts
        assert verdicts is not None and verdicts.threshold == 0.99  # the active model's
        body = await models(api)
        assert body["candidate"]["identity"] == candidate and body["candidate"]["error"] is None
        shadow = body["shadow"]
        assert shadow["identity"] == candidate and shadow["running"] is True
        [row] = shadow["cameras"]
        assert row["camera_id"] == camera_id and row["candidate_alerts"] >= 1
        assert row["active_alerts"] == 0 and row["scored_hours"] > 0 and shadow["since"]
        assert row["candidate_threshold"]["effective_threshold"] == 0.0
        assert row["active_threshold"]["effective_threshold"] == 0.99
        assert row["shadow_scoring"]["p50_ms"] is not None
        assert runtime.alerts.stats.opened == 0
        assert await count(runtime, Alert) == 0 and await count(runtime, PushOutbox) == 0
        assert await count(runtime, ShadowAlert) >= 1
        stats = (await api.get("/api/v1/pipeline/stats")).json()["cameras"][0]
        print(  # noqa: T201 - the measured cost, for the record (pytest -s)
            f"\nshadow scoring p50/p95 {row['shadow_scoring']['p50_ms']}/"
            f"{row['shadow_scoring']['p95_ms']} ms per scored frame; all scoring "
            f"{stats['scoring']['p50_ms']}/{stats['scoring']['p95_ms']} ms; pose "
            f"{stats['pose']['p50_ms']} ms"
        )

        # promoted: the same camera task scores with the candidate, and alerts follow
        promoted = await api.post("/api/v1/models/candidate/promote", json={"identity": candidate})
        assert promoted.status_code == 200, promoted.text
        assert promoted.json()["active"]["identity"] == candidate

        async def scored_by(threshold: float) -> bool:
            latest = runner.worker.verdicts
            return latest is not None and latest.threshold == threshold

        await eventually(lambda: scored_by(0.0), within_s=20)

        async def alerted() -> bool:
            return await count(runtime, Alert) >= 1

        await eventually(alerted, within_s=30)
        assert runtime.pipeline.runners[camera_id] is runner  # the same camera task
        assert runner.task is not None and not runner.task.done()
        assert runtime.models.shadow is None and runtime.models.live.pair.candidate is None
        assert runtime.thresholds.facts is not None
        assert runtime.thresholds.facts.identity == candidate

        # restored: back to the model that was active
        restored = await api.post("/api/v1/models/previous/restore")
        assert restored.status_code == 200, restored.text
        assert restored.json()["active"]["identity"] == sha256_of(active_file)
        await eventually(lambda: scored_by(0.99), within_s=20)

        # a broken candidate: refused with its reason, the active model scores on
        broken = runtime.models.registry.candidate_path
        broken.parent.mkdir(parents=True, exist_ok=True)
        broken.write_text("{ half a model")
        await runtime.models.check_candidate()
        body = await models(api)
        assert body["candidate"]["error"].startswith(f"behaviour model {broken} is not JSON")
        assert body["shadow"] is None and runtime.models.shadow is None
        refused = await api.post("/api/v1/models/candidate/promote")
        assert refused.status_code == 409
        assert error_of(refused)["message"].startswith(
            f"the candidate model is refused: behaviour model {broken} is not JSON"
        )
        analysed = runner.worker.analysed.count

        async def still_scoring() -> bool:
            return runner.worker.analysed.count > analysed + 5 and await scored_by(0.99)

        await eventually(still_scoring, within_s=20)
