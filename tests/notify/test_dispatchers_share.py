"""Several servers dispatching one outbox (PostgreSQL): each push is sent once, by
whichever dispatcher takes it first; none twice, none left behind."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from server.notify.dispatcher import PushDispatcher
from server.runtime import Runtime
from server.storage.models import PushOutbox
from tests.fakes.webpush import WebPushService
from tests.helpers import World
from tests.notify.test_webpush_delivery import raise_alert, settings, subscribe

__all__ = ["settings"]

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
async def slow_service() -> AsyncIterator[WebPushService]:
    push = WebPushService(delay_s=0.2)  # rounds overlap
    async with push.running():
        yield push


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_three_dispatchers_send_each_push_exactly_once(
    client: httpx.AsyncClient, world: World, runtime: Runtime, slow_service: WebPushService
) -> None:
    for user in ("admin", "supervisor_a", "viewer_a"):
        await subscribe(client, world, slow_service, user)
    others = [
        PushDispatcher(sessionmaker=runtime.sessionmaker, notifiers=runtime.pushes.notifiers)
        for _ in range(2)
    ]
    alerts = [await raise_alert(runtime, camera) for camera in world.cameras]
    alerts += [await raise_alert(runtime, world.cameras[0], score=0.99)]  # in cooldown: none
    await asyncio.gather(*(d.dispatch_due() for d in others))  # beside the server's own
    for _ in range(100):
        async with runtime.sessionmaker() as session:
            pending = (
                await session.scalars(select(PushOutbox).where(PushOutbox.status == "pending"))
            ).all()
        if not pending:
            break
        await asyncio.sleep(0.1)
    assert not pending
    await asyncio.sleep(0.3)
    sent = Counter((name, push["alert_id"]) for name, push in slow_service.received)
    expected = {("admin", a.id) for a in alerts[:2]} | {
        (user, alerts[0].id) for user in ("supervisor_a", "viewer_a")
    }
    assert set(sent) == expected and set(sent.values()) == {1}, sent
    assert sum(d.stats.sent for d in others) + runtime.pushes.stats.sent == len(expected)
