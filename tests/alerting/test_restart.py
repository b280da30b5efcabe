"""Killed at the worst moment: `shopguard serve` in its own process, killed (SIGKILL) right
after it announced an alert, while that alert's clip is being recorded. After a restart
the alert is there, its clip job failed with the reason, and the same incident goes on
extending that alert instead of opening another."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from server.evidence.worker import RESTARTED
from shared.schemas.events import Hello
from tests.helpers import ADMIN_PASSWORD
from tests.pipeline.conftest import PEOPLE_CLIP
from tests.test_cli import free_port


@contextmanager
def serving(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[str]]:
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(timeout=2) as http:
            while True:
                assert process.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                try:
                    if http.get(f"http://127.0.0.1:{port}/api/v1/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


async def first_alert(port: int, token: str) -> dict[str, Any]:
    async with connect(f"ws://127.0.0.1:{port}/api/v1/ws") as ws:
        await ws.send(Hello(token=token).model_dump_json())
        await ws.recv()  # welcome
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            event = message.get("event") or {}
            if event.get("type") == "alert.created":
                alert: dict[str, Any] = event["alert"]
                return alert


def test_an_alert_outlives_a_kill_and_its_incident_goes_on(
    tmp_path: Path, database_url: str, model_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUARD_")}
    env.update(
        SHOPGUARD_DATA_DIR=str(tmp_path / "data"),
        SHOPGUARD_DATABASE_URL=database_url,
        SHOPGUARD_AUTH__PASSWORD_HASH_MEMORY_KIB="8192",
        SHOPGUARD_AUTH__INITIAL_ADMIN_PASSWORD=ADMIN_PASSWORD,
        SHOPGUARD_PIPELINE__RECONCILE_INTERVAL_S="0.5",
        SHOPGUARD_MEDIA_DIRS=json.dumps([str(PEOPLE_CLIP.parent)]),  # where the clip lies
    )
    port, log = free_port(), tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}/api/v1"
    with serving(env, port, log) as process, httpx.Client(base_url=base, timeout=30) as http:
        login = http.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        token = login.json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        store = http.post("/stores", json={"name": "Corner"}).json()["id"]
        camera = {
            "store_id": store,
            "name": "Aisle 1",
            "source_kind": "file",
            "source_url": str(PEOPLE_CLIP),
            "threshold": 0.0,
        }
        assert http.post("/cameras", json=camera).status_code == 201
        alert = asyncio.run(first_alert(port, token))
        process.send_signal(signal.SIGKILL)  # decided and announced; the clip is under way
        process.wait(timeout=10)
    with serving(env, port, log), httpx.Client(base_url=base, timeout=30) as http:
        login = http.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        after = http.get(f"/alerts/{alert['id']}").json()
        assert after["id"] == alert["id"] and after["camera_id"] == alert["camera_id"]
        assert after["clip_status"] == "failed"  # marked at start-up, not left hanging
        assert RESTARTED in log.read_text()
        deadline = time.monotonic() + 20
        while http.get(f"/alerts/{alert['id']}").json()["last_seen_at"] == after["last_seen_at"]:
            assert time.monotonic() < deadline, "the incident did not extend its alert"
            time.sleep(0.2)
        rows = http.get("/alerts", params={"limit": 200}).json()["data"]
    keys = Counter((a["camera_id"], a["zone"], a["event_type"]) for a in rows)
    assert keys[(alert["camera_id"], alert["zone"], alert["event_type"])] == 1, keys
