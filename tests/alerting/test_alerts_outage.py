"""The database goes away while a person scores over the threshold: the alert recorder
waits, retries with back-off, and stores and announces the alert once the database is back
(PostgreSQL: connections refused and the open ones cut)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from server.config import Settings
from server.records.analysis import FrameAnalysis
from server.runtime import Runtime
from tests.alerting.test_alert_budget_live import alerts_of, person
from tests.analytics.test_analytics_outage import allow_connections
from tests.helpers import World

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def test_an_alert_scored_while_the_database_is_away_is_stored_when_it_returns(
    settings: Settings, client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    admin, camera_id = world.headers["admin"], world.cameras[0]
    recorder = runtime.alerts
    await allow_connections(settings, False)
    try:
        runtime.records.publish(FrameAnalysis(*person(camera_id, 701, 0.99)))
        for _ in range(300):  # the recorder has tried and is waiting to try again
            if recorder.stats.retries >= 2:
                break
            await asyncio.sleep(0.1)
        assert recorder.stats.retries >= 2 and recorder.stats.opened == 0
        assert recorder.stats.last_error
    finally:
        await allow_connections(settings, True)
    await asyncio.wait_for(recorder.drain(), timeout=60)
    assert (recorder.stats.opened, recorder.stats.dropped) == (1, 0)
    [alert] = await alerts_of(client, admin, camera_id)
    assert alert["track_ids"] == [701] and alert["peak_score"] == pytest.approx(0.99)
