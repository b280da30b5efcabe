"""Evidence from the real pipeline: a camera plays a real video of people with a frame
counter drawn in its top strip; an alert's snapshot shows the deciding frame, and its clip
(an MP4 made from the camera's own packets) starts at least the pre-roll before that frame
and, as the people stay in view, follows the incident for `max_event_s` and then the
post-roll. Its annotated variant shows the same frames with the alert's person drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import numpy.typing as npt
from PIL import Image

from server.annotate.draw import ALERT_COLOUR
from server.app import create_app
from server.bench.counter import FPS, counted_video
from server.runtime import Runtime
from shared.schemas.settings import ClipSettings
from tests.conftest import make_settings
from tests.helpers import ADMIN_PASSWORD, LiveServer, login
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually
from tests.pipeline.media import frame_index

EVERYWHERE_IGNORED = [
    {"name": "All", "kind": "ignore", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}
]


async def alert_json(http: httpx.AsyncClient, alert_id: int) -> dict[str, Any]:
    response = await http.get(f"/api/v1/alerts/{alert_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_alert_gets_a_snapshot_and_a_clip_with_pre_and_post_roll(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    video = counted_video(tmp_path / "people.mp4")
    settings = make_settings(tmp_path / "data", database_url, pipeline=FAST).model_copy(
        update={"clips": ClipSettings(pre_roll_s=2.0, post_roll_s=2.0, max_event_s=1.0)}
    )
    async with (
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        http.headers.update(await login(http, "admin", ADMIN_PASSWORD))
        runtime: Runtime = server.runtime
        camera_id = await add_camera(
            http, await add_store(http), "Aisle 4", video, threshold=0.0, zones=EVERYWHERE_IGNORED
        )

        async def ring_holds_3_s() -> bool:
            ring = runtime.pipeline.ring(camera_id)
            return ring is not None and ring.span_s >= 3.0

        await eventually(ring_holds_3_s, within_s=60)
        assert runtime.alerts.stats.opened == 0  # everybody was in the ignore zone
        changed = await http.patch(f"/api/v1/cameras/{camera_id}", json={"zones": []})
        assert changed.status_code == 200, changed.text

        async def an_alert() -> bool:
            return runtime.alerts.stats.opened >= 1

        await eventually(an_alert, within_s=60)
        listed = (await http.get("/api/v1/alerts")).json()["data"]
        alert_id = listed[-1]["id"]

        async def clip_done() -> bool:
            return (await alert_json(http, alert_id))["clip_status"] in ("done", "failed")

        await eventually(clip_done, within_s=60)

        async def annotated() -> bool:
            return bool((await alert_json(http, alert_id))["has_annotated_clip"])

        await eventually(annotated, within_s=60)
        alert = await alert_json(http, alert_id)
        assert alert["clip_status"] == "done" and alert["has_clip"] and alert["has_snapshot"]
        store = runtime.clips.store
        prefix = f"{alert['store_id']}/{camera_id}/{alert_id}/"
        snapshot = store.local_path(prefix + "snapshot.jpg")
        clip = store.local_path(prefix + "clip.mp4")
        drawn = store.local_path(prefix + "annotated.mp4")
        assert snapshot is not None and clip is not None and drawn is not None

    deciding = frame_index(np.asarray(Image.open(snapshot).convert("RGB"))[..., ::-1])
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [np.asarray(f.to_ndarray(format="bgr24"), np.uint8) for f in container.decode(0)]
        assert stream.duration is not None and stream.time_base is not None
        duration = float(stream.duration * stream.time_base)
    first, last = frame_index(frames[0]), frame_index(frames[-1])
    pre, post = settings.clips.pre_roll_s * FPS, settings.clips.post_roll_s * FPS
    event = settings.clips.max_event_s * FPS  # detections go on: the clip follows them
    assert first <= deciding - pre + 1, (first, deciding)  # the pre-roll (1 frame of slack)
    assert first % 10 == 0  # cut on the camera's keyframe, not re-encoded
    assert last >= deciding + event + post - 1, (last, deciding)  # the incident, post-roll
    assert last <= deciding + event + post + 3, (last, deciding)  # ... and no more
    assert 4.9 <= duration <= 5.0 + 1.0 + 0.3, duration  # 2 s + 1 s + 2 s, up to a GOP more
    assert [frame_index(f) for f in frames] == list(range(first, last + 1))  # none lost

    # the annotated variant: the same frames, re-encoded, the alert's person drawn in red
    with av.open(str(drawn)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        marked = [np.asarray(f.to_ndarray(format="bgr24"), np.uint8) for f in container.decode(0)]
    assert [frame_index(f) for f in marked] == [frame_index(f) for f in frames]
    at = [frame_index(f) for f in frames].index(deciding)
    assert red_share(marked[at]) > red_share(frames[at]) + 0.002  # box and label added
    assert red_share(marked[0]) <= red_share(frames[0]) + 0.002  # nobody over it yet


def red_share(image_bgr: npt.NDArray[np.uint8]) -> float:
    """How much of the picture is the alert colour (within a coding error)."""
    rgb = image_bgr[..., ::-1].astype(np.int16)
    return float((np.abs(rgb - np.array(ALERT_COLOUR, np.int16)).max(axis=2) < 40).mean())


def test_counter_strip_survives_encoding(tmp_path: Path) -> None:
    """Guards the test above: the drawn counter reads back from the encoded video."""
    video = counted_video(tmp_path / "people.mp4", passes=1)
    with av.open(str(video)) as container:
        read = [
            frame_index(np.asarray(f.to_ndarray(format="bgr24"), np.uint8))
            for f in container.decode(video=0)
        ]
    assert read == list(range(60))
