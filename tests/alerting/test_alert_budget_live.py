"""An alert budget through the real server (both backends): recorded track peaks of a camera
in its database, a budget set through the API, the threshold and expected alerts per day
the camera shows, the alert recorder holding people to that threshold (scored frames handed
to the pipeline's sink as the camera loop hands them), and reviews moving it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from server.alerting.budget import alert_curve
from server.alerting.recorder import RULES_EVERY_S
from server.records.analysis import FrameAnalysis
from server.records.people import NUM_KEYPOINTS, Tracks, Verdicts
from server.records.video import Frame
from server.runtime import Runtime
from server.storage.models import TrackPeak
from tests.alerting.recorded_peaks import seed_recording
from tests.helpers import World, add_alert

CAMERAS = "/api/v1/cameras"
WINDOW_S = 300.0  # the default dedup window


async def camera_json(client: httpx.AsyncClient, headers: dict[str, str], camera_id: int) -> Any:
    response = await client.get(f"{CAMERAS}/{camera_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def person(camera_id: int, track_id: int, score: float) -> tuple[Frame, Tracks, Verdicts]:
    """One scored frame of the camera, now, with one person scoring `score`."""
    now = time.time()
    ids = np.asarray([track_id], np.int64)
    keypoints = np.full((1, NUM_KEYPOINTS, 2), 32.0, np.float32)
    tracks = Tracks(
        ts=now,
        track_id=ids,
        xyxy=np.asarray([[8, 8, 56, 120]], np.float32),
        keypoints=keypoints,
        keypoint_conf=np.ones((1, NUM_KEYPOINTS), np.float32),
        score=np.ones(1, np.float32),
    )
    scores = np.asarray([score], np.float32)
    frame = Frame(camera_id, np.zeros((128, 64, 3), np.uint8), now, 0)
    return frame, tracks, Verdicts(now, ids, scores, scores, 0.6)


async def alerts_of(client: httpx.AsyncClient, headers: dict[str, str], camera_id: int) -> Any:
    response = await client.get(f"/api/v1/alerts?camera_id={camera_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_a_budget_sets_the_threshold_the_recorder_alerts_at(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    admin, camera_id = world.headers["admin"], world.cameras[0]
    facts = runtime.thresholds.facts
    assert facts is not None
    learning = await camera_json(client, admin, camera_id)
    assert learning["alert_budget_per_day"] is None
    assert (learning["threshold_source"], learning["scored_days"]) == ("learning", 0.0)
    assert learning["effective_threshold"] == round(facts.threshold, 4)  # the model's, so far
    assert learning["expected_alerts_per_day"] is None
    assert learning["aimed_alerts_per_day"] == facts.budget_per_day

    history = await seed_recording(runtime, camera_id)
    curve = alert_curve(history, WINDOW_S, facts.floor)
    budget_t, budget_per_day = curve.threshold_for(3.0)
    assert facts.floor < budget_t < 0.5 and budget_per_day == 3.0  # what the recording gives
    saved = await client.patch(
        "/api/v1/settings", headers=admin, json={"detection": {"alert_budget_per_day": 3}}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["detection"]["alert_budget_per_day"] == 3.0
    shown = await camera_json(client, admin, camera_id)  # the change refreshed the histories
    assert shown["threshold_source"] == "budget"
    assert shown["effective_threshold"] == round(budget_t, 4)
    assert shown["expected_alerts_per_day"] == 3.0
    assert (shown["aimed_alerts_per_day"], shown["review_factor"]) == (3.0, 1.0)
    assert shown["scored_days"] == pytest.approx(2.0, abs=0.01)
    listed = (await client.get(CAMERAS, headers=world.headers["viewer_a"])).json()["data"]
    assert [c for c in listed if c["id"] == camera_id] == [shown]  # everyone sees it

    await asyncio.sleep(RULES_EVERY_S + 0.5)  # the recorder reads camera rules every 3 s
    publish = runtime.records.publish  # as the camera's chain would
    publish(
        FrameAnalysis(*person(camera_id, 501, budget_t - 0.03))
    )  # just under: nobody is alerted
    await runtime.alerts.drain()
    assert await alerts_of(client, admin, camera_id) == []
    publish(FrameAnalysis(*person(camera_id, 502, budget_t + 0.03)))  # just over: an alert
    await runtime.alerts.drain()
    (alert,) = await alerts_of(client, admin, camera_id)
    assert alert["peak_score"] == pytest.approx(budget_t + 0.03, abs=1e-6)
    assert alert["track_ids"] == [502]

    # the camera's own budget wins over the global one: 1 a day is under what even the top
    # peaks make, so the threshold goes above every recorded peak
    own = await client.patch(
        f"{CAMERAS}/{camera_id}", headers=admin, json={"alert_budget_per_day": 1}
    )
    assert own.status_code == 200, own.text
    strict_t, strict_per_day = curve.threshold_for(1.0)
    assert strict_t > history.peak.max() and strict_per_day == 0.0
    assert own.json()["alert_budget_per_day"] == 1.0
    assert own.json()["effective_threshold"] == round(strict_t, 4)
    assert own.json()["expected_alerts_per_day"] == 0.0
    await asyncio.sleep(RULES_EVERY_S + 0.5)
    # would have been an alert before
    publish(FrameAnalysis(*person(camera_id, 503, strict_t - 0.03)))
    await runtime.alerts.drain()
    (same,) = await alerts_of(client, admin, camera_id)
    assert (same["id"], same["track_ids"], same["peak_score"]) == (
        alert["id"],
        [502],
        alert["peak_score"],
    )

    # the scored people's peaks reach the database with the model's identity
    assert await runtime.thresholds.flush(everything=True) == 3
    async with runtime.sessionmaker() as session:
        live = await session.scalars(
            select(TrackPeak.peak)
            .where(TrackPeak.camera_id == camera_id, TrackPeak.track_id < 100_000)
            .order_by(TrackPeak.track_id)
        )
        assert list(live) == pytest.approx([budget_t - 0.03, budget_t + 0.03, strict_t - 0.03])
        models = await session.scalars(select(func.distinct(TrackPeak.model)))
        assert list(models) == [facts.identity]


async def test_manual_threshold_wins_and_budgets_can_be_switched_off(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    admin, camera_id = world.headers["admin"], world.cameras[0]
    facts = runtime.thresholds.facts
    assert facts is not None
    history = await seed_recording(runtime, camera_id)
    curve = alert_curve(history, WINDOW_S, facts.floor)
    await runtime.thresholds.refresh()  # the periodic refresh, now
    assert (await camera_json(client, admin, camera_id))["threshold_source"] == "budget"

    manual = await client.patch(
        f"{CAMERAS}/{camera_id}", headers=admin, json={"threshold": 0.36, "alert_budget_per_day": 2}
    )
    assert manual.status_code == 200, manual.text
    body = manual.json()
    assert (body["threshold_source"], body["effective_threshold"]) == ("manual", 0.36)
    assert body["expected_alerts_per_day"] == curve.at(0.36)  # what the admin's choice costs
    assert body["aimed_alerts_per_day"] is None

    other = world.cameras[1]  # no threshold or budget of its own
    switched = await client.patch(
        "/api/v1/settings",
        headers=admin,
        json={"detection": {"budget_thresholds": False, "threshold": 0.7}},
    )
    assert switched.status_code == 200, switched.text
    off = await camera_json(client, admin, other)
    assert (off["threshold_source"], off["effective_threshold"]) == ("model", 0.7)
    cleared = await client.patch(f"{CAMERAS}/{camera_id}", headers=admin, json={"threshold": None})
    # its own budget still applies with the global default switched off
    assert cleared.json()["threshold_source"] == "budget"
    assert cleared.json()["effective_threshold"] == round(curve.threshold_for(2.0)[0], 4)


async def test_false_alarms_make_a_camera_stricter_and_thefts_relax_it(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    admin, camera_id = world.headers["admin"], world.cameras[0]
    facts = runtime.thresholds.facts
    assert facts is not None
    history = await seed_recording(runtime, camera_id)
    curve = alert_curve(history, WINDOW_S, facts.floor)
    saved = await client.patch(
        "/api/v1/settings", headers=admin, json={"detection": {"alert_budget_per_day": 3}}
    )
    assert saved.status_code == 200, saved.text
    await runtime.thresholds.refresh()
    before = await camera_json(client, admin, camera_id)
    assert before["effective_threshold"] == round(curve.threshold_for(3.0)[0], 4)

    async def review(outcome: str, count: int) -> None:
        for _ in range(count):
            alert = await add_alert(runtime, camera_id, started_at=datetime.now(UTC))
            reviewed = await client.patch(
                f"/api/v1/alerts/{alert.id}",
                headers=world.headers["supervisor_a"],
                json={"status": "reviewed", "outcome": outcome},
            )
            assert reviewed.status_code == 200, reviewed.text

    await review("false_alarm", 4)
    await runtime.thresholds.refresh()
    stricter = await camera_json(client, admin, camera_id)
    assert stricter["review_factor"] == 0.5  # (0 + 2) / (4 + 4), over half
    assert stricter["aimed_alerts_per_day"] == 1.5
    assert stricter["effective_threshold"] == round(curve.threshold_for(1.5)[0], 4)
    assert stricter["effective_threshold"] > before["effective_threshold"]

    await review("confirmed_theft", 4)
    await runtime.thresholds.refresh()
    relaxed = await camera_json(client, admin, camera_id)
    assert (relaxed["review_factor"], relaxed["aimed_alerts_per_day"]) == (1.0, 3.0)
    assert relaxed["effective_threshold"] == before["effective_threshold"]
