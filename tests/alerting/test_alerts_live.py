"""From a real video to stored, announced, pushed alerts: the real pipeline (pose,
tracking, the shipped behaviour model) on a clip of real people, uvicorn on 127.0.0.1, a
WebSocket client, the database the alerts land in, and local Web Push, FCM and APNs
services that the real client libraries send to. The people's track peaks and the time
scored are stored for the cameras' alert budgets when the server stops."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from server.alerting import thresholds
from server.app import create_app
from server.config import PushConfig
from server.storage.db import make_engine
from server.storage.models import Alert, ScoredSpan, TrackPeak
from shared.schemas.events import AlertCreated, EventEnvelope, Hello, Welcome
from tests.conftest import make_settings
from tests.fakes.apns import ApnsService
from tests.fakes.fcm import FcmService
from tests.fakes.webpush import WebPushService
from tests.helpers import ADMIN_PASSWORD, LiveServer, login
from tests.pipeline.app_helpers import FAST, add_camera, add_store, eventually
from tests.pipeline.conftest import PEOPLE_CLIP

HALVES = [
    {"name": "Left", "kind": "shelf", "polygon": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]},
    {"name": "Right", "kind": "shelf", "polygon": [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]},
]


async def receive(ws: ClientConnection, timeout_s: float = 20.0) -> dict[str, Any]:
    """The next message that is not a keep-alive ping."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
        if message.get("kind") != "ping":
            return message


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_people_in_view_open_one_alert_per_key_announced_on_the_websocket(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    push, fcm, apns = WebPushService(), FcmService(), ApnsService(tmp_path)
    async with (
        push.running(),
        fcm.running(),
        apns.running(),
    ):
        providers = PushConfig(
            allow_private_endpoints=True,  # the local fakes
            fcm_service_account=fcm.service_account(tmp_path / "firebase.json"),
            fcm_endpoint=fcm.endpoint_base,
            apns_key_file=apns.key_file(),
            apns_key_id=apns.key_id,
            apns_team_id=apns.team_id,
            apns_topic=apns.topic,
            apns_endpoint=f"127.0.0.1:{apns.port}",
            apns_ca_file=tmp_path / "ca.pem",
        )
        settings = make_settings(tmp_path / "data", database_url, pipeline=FAST).model_copy(
            update={"push": providers}
        )
        async with LiveServer.run(create_app(settings)) as server:
            await _alerts_from_the_pipeline(server, push, fcm, apns)
        facts = thresholds.ModelFacts.read(thresholds.model_path(settings))
        assert facts is not None
        engine = make_engine(database_url)
        try:
            async with engine.connect() as conn:
                peaks = (await conn.execute(select(TrackPeak.model, TrackPeak.peak))).all()
                spans = (await conn.execute(select(ScoredSpan.model))).all()
        finally:
            await engine.dispose()
        assert peaks and {model for model, _ in peaks} == {facts.identity}
        assert all(0.0 <= peak <= 1.0 for _, peak in peaks)
        assert spans and {model for (model,) in spans} == {facts.identity}


async def _alerts_from_the_pipeline(
    server: LiveServer, push: WebPushService, fcm: FcmService, apns: ApnsService
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
        headers = await login(http, "admin", ADMIN_PASSWORD)
        http.headers.update(headers)
        store_id = await add_store(http)
        devices = [  # the admin's browser, Android phone and iPhone
            {"platform": "webpush", "token": push.endpoint("browser"),
             "keys": push.subscribe("browser").keys},
            {"platform": "fcm", "token": "fcm-token-android-phone"},
            {"platform": "apns", "token": "a1b2c3d4e5f6iphone"},
        ]  # fmt: skip
        for body in devices:
            assert (await http.post("/api/v1/devices", json=body)).status_code == 201
        token = headers["Authorization"].removeprefix("Bearer ")
        async with connect(server.ws_url, open_timeout=10) as ws:
            await ws.send(Hello(token=token).model_dump_json())
            Welcome.model_validate(await receive(ws))
            # threshold 0: every tracked person is a detection, every scoring (0.4 s)
            camera_id = await add_camera(
                http, store_id, "Aisle 1", PEOPLE_CLIP, threshold=0.0, zones=HALVES
            )
            created: list[AlertCreated] = []
            while not created:
                envelope = EventEnvelope.model_validate(await receive(ws))
                if isinstance(envelope.event, AlertCreated):
                    created.append(envelope.event)
            first = created[0].alert
            assert first.camera_id == camera_id and first.event_type == "concealment"
            assert first.zone in {"Left", "Right", ""} and 0.0 <= first.peak_score <= 1.0
            stored = await http.get(f"/api/v1/alerts/{first.id}")
            assert stored.status_code == 200 and stored.json()["zone"] == first.zone

            recorder = server.runtime.alerts

            async def extended_a_few_times() -> bool:
                return recorder.stats.extended >= 3

            await eventually(extended_a_few_times, within_s=20)
        await recorder.drain()
        async with server.runtime.sessionmaker() as session:
            rows = (await session.scalars(select(Alert))).all()
        keys = Counter((a.camera_id, a.zone, a.event_type) for a in rows)
        assert keys and set(keys.values()) == {1}, keys  # exactly one alert per dedup key
        assert recorder.stats.opened == len(rows) and recorder.stats.dropped == 0
        grown = [a for a in rows if a.last_seen_at > a.started_at]
        assert grown  # later detections extended the open alerts instead of adding rows

        async def pushed() -> bool:
            return len(push.received) + len(fcm.received) + len(apns.received) >= 3

        await eventually(pushed, within_s=10)
        await asyncio.sleep(0.5)
    # one push per device: the camera's first alert (its others fall in the push cooldown)
    first_id = min(a.id for a in rows)
    assert [(name, p["alert_id"]) for name, p in push.received] == [("browser", first_id)]
    assert [(m["token"], m["data"]["alert_id"]) for m in fcm.received] == [
        ("fcm-token-android-phone", str(first_id))
    ]
    assert [(token, m["alert_id"]) for token, m in apns.received] == [
        ("a1b2c3d4e5f6iphone", first_id)
    ]
