"""One machine, real processes: PostgreSQL, Redis Streams (the bus), an S3 store, two API
instances and two workers (`shopguard serve --role api|worker`) running file cameras.

A worker killed with SIGKILL has its camera running on the other within the lease time, and
that camera's incident goes on extending its alert (no second one); WebSocket clients of
either API instance see both workers' alerts; one API instance restarted, its client
resumes on the other from its cursor; Redis stopped for 10 s while alerts happen: the
clients get every event afterwards. Throughout, each client gets each event of the shared
log once, in order, and a live view opens through an API instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
import pytest
from PIL import Image
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from shared.schemas.events import Hello
from tests.cluster.processes import Serving
from tests.conftest import PG_ADMIN_DSN
from tests.helpers import ADMIN_PASSWORD
from tests.live.client import watching
from tests.pipeline.conftest import PEOPLE_CLIP
from tests.redis_server import RedisServer
from tests.s3_server import free_port, running_s3

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

LEASE_S, HEARTBEAT_S = 4.0, 1.0
CAMERA_OPEN_S = 10.0  # a file camera's first frame on a loaded box
WITHIN_S = 120.0  # every wait polls its condition; this only bounds a failure


class Client:
    """A store manager's phone: a WebSocket that reconnects with its cursor, to the next of
    `urls` (the load balancer's choice)."""

    def __init__(self, urls: list[str], token: str) -> None:
        self.urls, self.token = urls, token
        self.seqs: list[int] = []
        self.events: list[dict[str, Any]] = []
        self.connections = 0
        self.floor: int | None = None  # the log's newest seq when it first connected
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            url = self.urls[self.connections % len(self.urls)]
            with contextlib.suppress(OSError, ConnectionClosed, TimeoutError):
                async with connect(url, open_timeout=5) as ws:
                    since = self.seqs[-1] if self.seqs else None
                    await ws.send(Hello(token=self.token, since=since).model_dump_json())
                    welcome = json.loads(await ws.recv())
                    assert welcome["kind"] == "welcome" and not welcome["resync_required"]
                    if self.floor is None:
                        self.floor = welcome["last_seq"]
                    self.connections += 1
                    async for text in ws:
                        message = json.loads(text)
                        if message.get("kind") == "event":
                            self.seqs.append(message["seq"])
                            self.events.append(message["event"])
            await asyncio.sleep(0.2)

    def alerts_created(self) -> Counter[int]:
        return Counter(e["alert"]["id"] for e in self.events if e["type"] == "alert.created")

    def statuses_of(self, camera_id: int) -> list[str]:
        return [
            e["status"]
            for e in self.events
            if e["type"] == "camera.status" and e["camera_id"] == camera_id
        ]

    def alerts_of(self, camera_id: int) -> set[int]:
        return {
            e["alert"]["id"]
            for e in self.events
            if e["type"].startswith("alert.") and e["alert"]["camera_id"] == camera_id
        }


async def until(what: str, check: Any, within_s: float = WITHIN_S) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        assert time.monotonic() < deadline, f"not within {within_s} s: {what}"
        await asyncio.sleep(0.2)


async def logged_seqs(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r["seq"] for r in await conn.fetch("SELECT seq FROM event_log ORDER BY seq")]
    finally:
        await conn.close()


def assert_each_event_once(client: Client, logged: list[int]) -> None:
    """The client got every event logged since it first connected, up to its newest, once
    each, in order."""
    assert client.seqs == sorted(set(client.seqs)), "an event twice, or out of order"
    assert client.floor is not None
    newest = client.seqs[-1]
    assert client.seqs == [seq for seq in logged if client.floor < seq <= newest]


async def test_failover_resume_and_bus_outage(tmp_path: Path, database_url: str) -> None:
    dsn = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + database_url.rsplit("/", 1)[1]
    redis = RedisServer(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    redis.start()
    with running_s3() as s3:
        env = {
            "SHOPGUARD_DATABASE_URL": database_url,
            "SHOPGUARD_REDIS__URL": redis.url,
            "SHOPGUARD_REDIS__PREFIX": f"test-{uuid.uuid4().hex[:8]}",
            "SHOPGUARD_BUS__BACKEND": "redis",
            "SHOPGUARD_EVIDENCE__BACKEND": "s3",
            "SHOPGUARD_EVIDENCE__S3__ENDPOINT": s3.endpoint,
            "SHOPGUARD_EVIDENCE__S3__SECURE": "false",
            "SHOPGUARD_EVIDENCE__S3__BUCKET": "cluster-evidence",
            "SHOPGUARD_EVIDENCE__S3__ACCESS_KEY": "shopguard-test",
            "SHOPGUARD_EVIDENCE__S3__SECRET_KEY": "shopguard-test-secret",
            "SHOPGUARD_EVIDENCE__S3__REGION": "us-east-1",
            "SHOPGUARD_CLUSTER__LEASE_S": str(LEASE_S),
            "SHOPGUARD_CLUSTER__HEARTBEAT_S": str(HEARTBEAT_S),
            "SHOPGUARD_CLUSTER__WORKER_CAPACITY": "4",
            "SHOPGUARD_AUTH__JWT_SECRET": "cluster-test-signing-key-" + "x" * 24,
            "SHOPGUARD_AUTH__INITIAL_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SHOPGUARD_AUTH__PASSWORD_HASH_MEMORY_KIB": "8192",
            "SHOPGUARD_PIPELINE__RECONCILE_INTERVAL_S": "0.5",
            "SHOPGUARD_PIPELINE__ANALYSIS_WIDTH": "320",
            "SHOPGUARD_MEDIA_DIRS": json.dumps([str(PEOPLE_CLIP.parent)]),
        }
        apis = [Serving(f"api-{n}", "api", free_port(), env, tmp_path / f"api-{n}") for n in (1, 2)]
        workers = [
            Serving(f"worker-{n}", "worker", free_port(), env, tmp_path / f"worker-{n}")
            for n in (1, 2)
        ]
        processes = [*apis, *workers]
        try:
            apis[0].start()
            apis[0].wait_ready()  # migrated once, by the first API instance
            for process in processes[1:]:
                process.start()
            for process in processes[1:]:
                process.wait_ready()
            await _scenario(apis, workers, redis, dsn)
        finally:
            for process in processes:
                process.terminate()
            redis.stop()


async def _scenario(
    apis: list[Serving], workers: list[Serving], redis: RedisServer, dsn: str
) -> None:
    api, other = apis
    base = f"{other.url}/api/v1"  # the requests go to the instance that stays up
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        body = {"username": "admin", "password": ADMIN_PASSWORD}
        token = (await http.post("/auth/login", json=body)).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        ws_urls = [f"ws://127.0.0.1:{a.port}/api/v1/ws" for a in apis]
        client = Client(ws_urls, token)  # on api-1 first, then api-2 after its restart
        steady = Client(ws_urls[::-1], token)  # on api-2 throughout
        client.start()
        steady.start()
        store = (await http.post("/stores", json={"name": "Chain 1"})).json()["id"]

        async def add_camera(name: str) -> int:
            camera = {
                "store_id": store,
                "name": name,
                "source_kind": "file",
                "source_url": str(PEOPLE_CLIP),
                "threshold": 0.0,  # everyone alerts: one incident per camera
            }
            answer = await http.post("/cameras", json=camera)
            assert answer.status_code == 201, answer.text
            camera_id: int = answer.json()["id"]
            return camera_id

        first, second = await add_camera("Aisle 1"), await add_camera("Aisle 2")

        async def holders() -> dict[int, str | None]:
            rows = (await http.get("/cluster/cameras")).json()["data"]
            return {row["camera_id"]: row["worker"] for row in rows}

        async def one_camera_each() -> bool:
            held = await holders()
            return {held.get(first), held.get(second)} == {"worker-1", "worker-2"}

        await until("each worker holds one camera", one_camera_each)

        async def both_alerted() -> bool:
            return bool(client.alerts_of(first)) and bool(client.alerts_of(second))

        await until("alerts from both workers on the WebSocket", both_alerted)
        (before,) = client.alerts_of(first)
        await _live_view_through_the_api(http, other.url, second)

        # SIGKILL the worker of the first camera: the other takes it over
        held = await holders()
        victim = next(w for w in workers if w.name == held[first])
        survivor = next(w for w in workers if w is not victim)
        victim.kill()
        killed_at = time.monotonic()

        async def taken_over() -> bool:
            return (await holders()).get(first) == survivor.name

        await until("the survivor holds the dead worker's camera", taken_over)
        takeover_s = time.monotonic() - killed_at
        assert takeover_s <= LEASE_S + 3 * HEARTBEAT_S, takeover_s
        statuses_before = len(client.statuses_of(first))

        async def online_again() -> bool:
            return "online" in client.statuses_of(first)[statuses_before:]

        await until("the camera online again on the survivor", online_again)
        online_s = time.monotonic() - killed_at  # the lease, then opening the camera
        assert online_s <= LEASE_S + 3 * HEARTBEAT_S + CAMERA_OPEN_S, online_s

        async def first_extended_again() -> bool:
            answer = (await http.get(f"/alerts/{before}")).json()
            seen = answer["last_seen_at"]
            return bool(seen) and _after(seen, time.time() - 2.0)

        await until("the taken-over incident extends its alert", first_extended_again)
        third = await add_camera("Aisle 3")  # raised after the failover

        async def third_alerted() -> bool:
            return bool(client.alerts_of(third))

        await until("an alert raised after the failover", third_alerted)

        # restart api-1: its client resumes on api-2 from its cursor
        connections = client.connections
        api.terminate()

        async def reconnected() -> bool:
            return client.connections > connections

        await until("the client resumed on the other API instance", reconnected)
        api.start()
        api.wait_ready()

        # the bus away for 10 s while a camera is added and alerts
        redis.stop()
        fourth = await add_camera("Aisle 4")
        await asyncio.sleep(10.0)  # the outage itself
        redis.start()

        async def fourth_alerted() -> bool:
            return bool(client.alerts_of(fourth))

        await until("the alert raised during the outage reaches the client", fourth_alerted)
        await asyncio.sleep(2 * HEARTBEAT_S)  # the events right behind it, too
        await client.stop()
        await steady.stop()

    logged = await logged_seqs(dsn)
    for phone in (client, steady):
        assert phone.alerts_of(first) == {before}, "the failover opened a second alert"
        created = phone.alerts_created()
        assert set(created) == {
            next(iter(phone.alerts_of(c))) for c in (first, second, third, fourth)
        }
        assert all(count == 1 for count in created.values()), created
        assert_each_event_once(phone, logged)


async def _live_view_through_the_api(http: httpx.AsyncClient, root: str, camera_id: int) -> None:
    """The API instance has no frames: it relays the snapshot, the MJPEG stream and the
    WebRTC signalling to the worker that runs the camera (the video comes from there)."""

    async def snapshot() -> bool:
        answer = await http.get(f"/cameras/{camera_id}/snapshot.jpg")
        assert answer.status_code in (200, 409), answer.text  # 409: no picture yet
        return answer.status_code == 200 and answer.content.startswith(b"\xff\xd8")

    await until("a snapshot relayed from the worker", snapshot)
    heatmap = await http.get("/analytics/heatmap.jpg", params={"camera_id": camera_id})
    assert heatmap.status_code == 200, heatmap.text
    assert heatmap.content.startswith(b"\xff\xd8")
    picture = np.asarray(Image.open(io.BytesIO(heatmap.content)).convert("L"), np.float64)
    assert picture.std() > 5  # the worker's camera picture, not the grey of no picture
    token = (await http.post(f"/cameras/{camera_id}/live-link")).json()["token"]
    url = f"/cameras/{camera_id}/live.mjpeg"
    async with http.stream("GET", url, params={"token": token}, headers={}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("multipart/x-mixed-replace")
        received = b""
        async for chunk in stream.aiter_bytes():
            received += chunk
            if b"\xff\xd9" in received:  # a whole JPEG
                break
        assert b"\xff\xd8" in received
    async with httpx.AsyncClient(base_url=root, timeout=30) as plain:
        async with watching(plain, camera_id, token) as viewer:  # a real aiortc peer
            frames = await viewer.collect(5, within_s=60)
    assert all(frame.image.shape[2] == 3 for frame in frames)


def _after(iso: str, ts: float) -> bool:
    return datetime.fromisoformat(iso).timestamp() >= ts
