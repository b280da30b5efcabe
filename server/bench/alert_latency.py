"""From the deciding frame to the store owner: how long until the WebSocket event, and
until the push request reaches the push service.

    .venv/bin/python -m server.bench.alert_latency [--alerts 40] [--database-url URL]

(`--database-url` must name a scratch database: the bench creates its tables there.)

A real server (uvicorn on 127.0.0.1, SQLite in a temporary folder unless a URL is given)
with the pipeline off; each alert starts as a scored frame published exactly as a camera's
chain publishes it (a `FrameAnalysis` on the runtime's `RecordHub`), on its own camera so dedup and
the push cooldown let every one through. A WebSocket client timestamps `alert.created`; a
local Web Push service timestamps each push request (the server encrypts and sends it
through pywebpush as for a browser). Prints median and p95 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import connect

from server.app import create_app
from server.config import AuthConfig, PipelineConfig, PushConfig, Settings
from server.records.analysis import FrameAnalysis
from server.records.people import NUM_KEYPOINTS, Tracks, Verdicts
from server.records.video import Frame
from server.runtime import Runtime
from shared.schemas.events import Hello

PASSWORD = "bench-admin-password-1"


async def serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task, server.servers[0].sockets[0].getsockname()[1]


def subscription_keys() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {"p256dh": _b64(public), "auth": _b64(os.urandom(16))}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def scored_frame(camera_id: int) -> tuple[Frame, Tracks, Verdicts]:
    now = time.time()
    keypoints = np.full((1, NUM_KEYPOINTS, 2), 32.0, np.float32)
    tracks = Tracks(
        ts=now,
        track_id=np.asarray([1], np.int64),
        xyxy=np.asarray([[8, 8, 56, 60]], np.float32),
        keypoints=keypoints,
        keypoint_conf=np.full((1, NUM_KEYPOINTS), 0.9, np.float32),
        score=np.asarray([0.9], np.float32),
    )
    score = np.asarray([0.9], np.float32)
    verdicts = Verdicts(now, tracks.track_id.copy(), score, score, 0.6)
    return Frame(camera_id, np.zeros((64, 64, 3), np.uint8), now, 0), tracks, verdicts


async def run(alerts: int, database_url: str | None) -> dict[str, Any]:
    pushes: dict[int, float] = {}

    async def push(request: Request) -> Response:
        arrived = time.perf_counter()
        pushes[int(request.path_params["camera"])] = arrived
        await request.body()
        return Response(status_code=201)

    folder = Path(tempfile.mkdtemp(prefix="shopguard-bench-"))
    settings = Settings(
        data_dir=folder,
        database_url=database_url,
        pipeline=PipelineConfig(enabled=False),
        push=PushConfig(cooldown_s=0.0, allow_private_endpoints=True),  # the local receiver
        auth=AuthConfig(initial_admin_password=SecretStr(PASSWORD)),
        log_level="WARNING",
    )
    receiver_app = Starlette(routes=[Route("/push/{camera}", push, methods=["POST"])])
    receiver, receiver_task, receiver_port = await serve(receiver_app)
    app = create_app(settings)
    server, task, port = await serve(app)
    base = f"http://127.0.0.1:{port}/api/v1"
    created: dict[int, float] = {}
    decided: dict[int, float] = {}
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            login = await http.post("/auth/login", json={"username": "admin", "password": PASSWORD})
            token = login.json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            store = (await http.post("/stores", json={"name": "Bench"})).json()["id"]
            cameras = []
            for n in range(alerts):
                body = {
                    "store_id": store,
                    "name": f"Aisle {n + 1}",
                    "source_kind": "rtsp",
                    "source_url": f"rtsp://192.0.2.1/ch{n + 1}",  # never opened: pipeline off
                }
                cameras.append((await http.post("/cameras", json=body)).json()["id"])
            runtime: Runtime = app.state.runtime
            async with connect(f"ws://127.0.0.1:{port}/api/v1/ws") as ws:
                await ws.send(Hello(token=token).model_dump_json())
                await ws.recv()  # welcome
                sys.stderr.write(f"[bench] {alerts} alerts, one camera each\n")
                for number, camera in enumerate(cameras, 1):
                    device = {
                        "platform": "webpush",
                        "token": f"http://127.0.0.1:{receiver_port}/push/{camera}",
                        "keys": subscription_keys(),
                    }
                    devices = [d["id"] for d in (await http.get("/devices")).json()["data"]]
                    for old in devices:  # one device: each push names its camera
                        await http.delete(f"/devices/{old}")
                    await http.post("/devices", json=device)
                    await asyncio.sleep(0.05)
                    decided[camera] = time.perf_counter()
                    runtime.records.publish(FrameAnalysis(*scored_frame(camera)))  # as a camera
                    while camera not in created:
                        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        event = message.get("event", {})
                        if event.get("type") == "alert.created":
                            created[event["alert"]["camera_id"]] = time.perf_counter()
                    for _ in range(300):
                        if camera in pushes:
                            break
                        await asyncio.sleep(0.01)
                    if number % 10 == 0:
                        sys.stderr.write(f"[bench] {number}/{alerts}\n")
    finally:
        server.should_exit = receiver.should_exit = True
        await task
        await receiver_task
    to_ws = [1000 * (created[c] - decided[c]) for c in decided if c in created]
    to_push = [1000 * (pushes[c] - decided[c]) for c in decided if c in pushes]

    def summary(values: list[float]) -> dict[str, float | int]:
        ordered = sorted(values)
        return {
            "n": len(values),
            "median_ms": round(statistics.median(ordered), 1) if ordered else float("nan"),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1)
            if ordered
            else float("nan"),
        }

    return {
        "database": "sqlite" if database_url is None else database_url.split(":", 1)[0],
        "to_websocket": summary(to_ws),
        "to_push_request": summary(to_push),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--alerts", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    logging.getLogger("server.evidence").setLevel(logging.CRITICAL)  # pipeline off: no clips
    result = asyncio.run(run(args.alerts, args.database_url))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
