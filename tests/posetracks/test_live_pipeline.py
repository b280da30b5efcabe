"""The real pipeline (pose model, tracker, behaviour model) on a clip of real people: the
pose-track sink keeps what it tracks, a reviewed alert keeps its people, a missed theft is
marked over the last seconds, and shutdown writes what was still buffered."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager

from server.app import create_app
from server.runtime import Runtime
from tests.conftest import make_settings
from tests.helpers import LIFESPAN_S
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually
from tests.pipeline.conftest import PEOPLE_CLIP, admin_client
from tests.posetracks.people import assert_rows_equal
from tests.posetracks.test_labelled_episodes import episode_file


async def test_the_pipelines_people_become_kept_poses_and_labelled_episodes(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    settings = make_settings(tmp_path / "data", database_url, pipeline=FAST)
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S),
        admin_client(app) as api,
    ):
        runtime: Runtime = app.state.runtime
        recorder = runtime.pose_tracks.recorder
        store_id = await add_store(api)
        # threshold 0: every tracked person is a detection
        camera_id = await add_camera(api, store_id, "Aisle 1", PEOPLE_CLIP, threshold=0.0)
        alerts: list[dict[str, Any]] = []

        async def alerted() -> bool:
            alerts[:] = (await api.get("/api/v1/alerts")).json()["data"]
            return bool(alerts) and recorder.stats.rows > 20

        await eventually(alerted, within_s=60)
        alert = alerts[-1]
        response = await api.patch(
            f"/api/v1/alerts/{alert['id']}", json={"outcome": "confirmed_theft"}
        )
        assert response.status_code == 200, response.text
        [episode] = (await api.get("/api/v1/labelled-episodes")).json()["data"]
        assert (episode["alert_id"], episode["label"]) == (alert["id"], "theft")
        # the alert's people only grow while it goes on: read them after the episode was kept
        now_alert = (await api.get(f"/api/v1/alerts/{alert['id']}")).json()
        assert episode["track_ids"] and set(episode["track_ids"]) <= set(now_alert["track_ids"])
        assert episode["poses"] > 0 and episode["frames"] > 0
        _, kept, _ = await episode_file(runtime, episode["id"])
        # the same poses as the sink holds for that span (later frames may since have come)
        start = datetime.fromisoformat(episode["kept_from"]).timestamp()
        held = await recorder.read(camera_id, start, float(kept.frame_ts[-1]))
        assert_rows_equal(kept, held.of_tracks(episode["track_ids"]))
        assert kept.keypoints.shape[1:] == (17, 2) and (kept.keypoint_conf > 0).any()

        now = time.time()
        mark = {
            "start": datetime.fromtimestamp(now - 2.5, UTC).isoformat(),
            "end": datetime.fromtimestamp(now, UTC).isoformat(),
        }
        response = await api.post(f"/api/v1/cameras/{camera_id}/missed-thefts", json=mark)
        assert response.status_code == 201, response.text
        assert response.json()["track_ids"] and response.json()["poses"] > 0
    # the server stopped: every frame the sink took is in a chunk on disk
    on_disk = recorder.read_stored(camera_id, 0, time.time() + 60)
    assert on_disk.frames == recorder.stats.frames > 0 and len(on_disk) == recorder.stats.rows
