"""A long run with everything moving, to see whether the server's memory, open files,
threads and event-loop tasks stay flat (not in CI: it takes an hour):

    .venv/bin/python -m server.bench.soak [--minutes 60] [--sample-s 60] [--out FILE.json]
    shopguard bench soak --minutes 60

The server is `python -m server serve` in a child process, as a store runs it (the video
pipeline on, SQLite, default settings), with 4 file cameras playing the clip of people
(tests/data/vtest_people.mp4, a copy each in its data folder's media/). Meanwhile:

- camera 1 is disabled through the API for 1 minute in every 4;
- camera 2's file disappears for 1 minute in every 5 (it fails, retries, comes back);
- an admin raises a test alert through the API every 2 minutes (stored, announced, put in
  the push outbox), beside any real alert the model raises;
- 4 WebSocket event clients stay connected, the oldest replaced by a new one every 20 s;
- an MJPEG live view is open 20 s in every minute, and a WebRTC viewer (aiortc, receiving
  and decoding) another 20 s, on cameras 3 and 4 in turn;
- every camera's snapshot is asked for every 10 s.

Every `--sample-s` it reads the server's memory (RSS), open files and threads from /proc, and
its event loop's tasks, live viewers, WebSocket clients and cameras online from /metrics
(loopback needs no token). The JSON is rewritten after each sample; at the end, per series,
the change per hour after the first `--warmup-min` minutes (a straight-line fit), and a PNG
plot beside the JSON (matplotlib, when installed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from websockets.asyncio.client import ClientConnection, connect

from server.bench.counter import PEOPLE_CLIP
from server.bench.server_process import ServerProcess

ADMIN_PASSWORD = "soak-admin-password-1"
CAMERAS = 4
TOKEN_MAX_AGE_S = 600.0  # signs in again before the access token's 15 minutes run out
SERIES = ("rss_mb", "open_files", "threads", "event_loop_tasks")


@dataclass(slots=True)
class Driver:
    """What the soak does to the server, and what it answered."""

    server: ServerProcess
    http: httpx.AsyncClient  # the admin's, on /api/v1
    cameras: list[int] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)  # "activity: outcome"
    signed_in_at: float | None = None  # monotonic; None: not yet

    async def sign_in(self) -> str:
        """The admin's access token, signing in again when it is getting old."""
        if self.signed_in_at is None or time.monotonic() - self.signed_in_at > TOKEN_MAX_AGE_S:
            body = {"username": "admin", "password": ADMIN_PASSWORD}
            answer = await self.http.post("/auth/login", json=body)
            answer.raise_for_status()
            self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
            self.signed_in_at = time.monotonic()
        return self.http.headers["Authorization"].removeprefix("Bearer ")

    def note(self, activity: str, outcome: str) -> None:
        self.outcomes[f"{activity}: {outcome}"] += 1

    async def call(self, activity: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        await self.sign_in()
        answer = await self.http.request(method, path, **kwargs)
        self.note(activity, "ok" if answer.is_success else f"HTTP {answer.status_code}")
        return answer


async def every(period_s: float, action: Callable[[int], Awaitable[None]], driver: Driver) -> None:
    """`action(n)` every `period_s`, n = 0, 1, ...; a failure is counted and the next goes on."""
    n = 0
    while True:
        started = time.monotonic()
        try:
            await action(n)
        except (httpx.HTTPError, OSError, TimeoutError) as exc:
            driver.note(getattr(action, "__name__", "action"), type(exc).__name__)
        n += 1
        await asyncio.sleep(max(0.0, period_s - (time.monotonic() - started)))


async def camera_off_and_on(driver: Driver) -> None:
    camera = driver.cameras[0]

    async def toggle(_: int) -> None:
        await driver.call("camera off", "PATCH", f"/cameras/{camera}", json={"enabled": False})
        await asyncio.sleep(60)
        await driver.call("camera on", "PATCH", f"/cameras/{camera}", json={"enabled": True})

    await asyncio.sleep(60)
    await every(240, toggle, driver)


async def file_gone_and_back(driver: Driver, path: Path) -> None:
    hidden = path.with_suffix(".gone")

    async def vanish(_: int) -> None:
        _move(path, hidden)
        driver.note("file", "gone")
        await asyncio.sleep(60)
        _move(hidden, path)
        driver.note("file", "back")

    await asyncio.sleep(90)
    try:
        await every(300, vanish, driver)
    finally:
        _move(hidden, path, missing_ok=True)


def _move(source: Path, target: Path, *, missing_ok: bool = False) -> None:
    try:
        source.rename(target)
    except FileNotFoundError:
        if not missing_ok:
            raise


async def test_alerts(driver: Driver) -> None:
    async def alert(n: int) -> None:
        camera = driver.cameras[2 + n % 2]  # cameras that stay on
        await driver.call("test alert", "POST", f"/cameras/{camera}/test-alert")

    await every(120, alert, driver)


async def snapshots(driver: Driver) -> None:
    async def ask(_: int) -> None:
        for camera in driver.cameras:
            await driver.call("snapshot", "GET", f"/cameras/{camera}/snapshot.jpg")

    await every(10, ask, driver)


async def event_clients(driver: Driver) -> None:
    """4 WebSocket clients, the oldest replaced every 20 s; each reads until it is closed."""
    url = driver.server.base_url.replace("http", "ws", 1) + "/api/v1/ws"
    open_ones: list[tuple[ClientConnection, asyncio.Task[None]]] = []

    async def read(ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):  # closed, by us or by the server
            async for _ in ws:
                pass

    async def replace(_: int) -> None:
        while len(open_ones) >= 4:
            ws, reader = open_ones.pop(0)
            await ws.close()
            await reader
            driver.note("websocket", "closed")
        while len(open_ones) < 4:
            ws = await connect(url)
            await ws.send(json.dumps({"kind": "hello", "token": await driver.sign_in()}))
            welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
            driver.note("websocket", "welcome" if welcome.get("kind") == "welcome" else "refused")
            open_ones.append((ws, asyncio.create_task(read(ws))))

    try:
        await every(20, replace, driver)
    finally:
        for ws, reader in open_ones:
            await ws.close()
            await reader


async def live_link(driver: Driver, camera: int) -> str | None:
    answer = await driver.call("live link", "POST", f"/cameras/{camera}/live-link")
    return str(answer.json()["token"]) if answer.is_success else None


async def mjpeg_views(driver: Driver) -> None:
    async def watch(n: int) -> None:
        camera = driver.cameras[2 + n % 2]
        token = await live_link(driver, camera)
        if token is None:
            return
        path = f"/cameras/{camera}/live.mjpeg"
        parts, ends = 0, time.monotonic() + 20
        async with driver.http.stream("GET", path, params={"token": token}) as stream:
            driver.note("mjpeg", "ok" if stream.is_success else f"HTTP {stream.status_code}")
            async for chunk in stream.aiter_bytes():
                parts += chunk.count(b"Content-Type: image/jpeg")
                if time.monotonic() > ends:
                    break
        driver.outcomes["mjpeg: parts"] += parts

    await every(60, watch, driver)


async def webrtc_views(driver: Driver) -> None:
    async def watch(n: int) -> None:
        camera = driver.cameras[3 - n % 2]
        token = await live_link(driver, camera)
        if token is None:
            return
        pc = RTCPeerConnection()
        frames = 0

        async def pull(track: MediaStreamTrack) -> None:
            nonlocal frames
            with contextlib.suppress(MediaStreamError):
                while True:
                    await track.recv()
                    frames += 1

        pulls: list[asyncio.Task[None]] = []
        pc.on("track", lambda track: pulls.append(asyncio.create_task(pull(track))))
        try:
            pc.addTransceiver("video", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            answer = await driver.http.post(
                f"/cameras/{camera}/webrtc",
                json={"sdp": pc.localDescription.sdp, "type": "offer"},
                headers={"Authorization": f"Bearer {token}"},
            )
            driver.note("webrtc", "ok" if answer.is_success else f"HTTP {answer.status_code}")
            if answer.is_success:
                await pc.setRemoteDescription(RTCSessionDescription(**answer.json()))
                await asyncio.sleep(20)
        finally:
            await pc.close()
            for task in pulls:
                task.cancel()
            await asyncio.gather(*pulls, return_exceptions=True)
        driver.outcomes["webrtc: frames"] += frames

    await asyncio.sleep(30)  # between the MJPEG views
    await every(60, watch, driver)


def metric_sums(text: str) -> dict[str, float]:
    """Each metric's value summed over its labels, from the Prometheus text format."""
    sums: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        with contextlib.suppress(ValueError):
            sums[name] = sums.get(name, 0.0) + float(value)
    return sums


async def sample(driver: Driver, started: float, last: dict[str, Any] | None) -> dict[str, Any]:
    usage = driver.server.usage()
    metrics = metric_sums((await driver.http.get(f"{driver.server.base_url}/metrics")).text)
    alerts = (await driver.call("alert count", "GET", "/alerts", params={"limit": 1})).json()
    now = time.monotonic()
    cpu = None
    if last is not None:
        cpu = round((usage.cpu_s - last["cpu_s"]) / (now - started - 60 * last["t_min"]), 2)
    return {
        "t_min": round((now - started) / 60, 2),
        "rss_mb": round(usage.rss_mb, 1),
        "open_files": usage.open_files,
        "threads": usage.threads,
        "event_loop_tasks": int(metrics.get("shopguard_event_loop_tasks", -1)),
        "live_viewers": int(metrics.get("shopguard_live_viewers", -1)),
        "ws_clients": int(metrics.get("shopguard_ws_clients", -1)),
        "cameras_online": int(metrics.get("shopguard_camera_online", -1)),
        "alerts": alerts["count"],
        "cpu_s": round(usage.cpu_s, 1),
        "cores": cpu,
        "load_average": round(os.getloadavg()[0], 2),
    }


def trends(samples: list[dict[str, Any]], warmup_min: float) -> dict[str, dict[str, float]]:
    """Per series after the warm-up: first, last, max, and the least-squares slope per hour."""
    kept = [s for s in samples if s["t_min"] >= warmup_min]
    out: dict[str, dict[str, float]] = {}
    if len(kept) < 2:
        return out
    for name in SERIES:
        xs = [s["t_min"] / 60 for s in kept]
        ys = [float(s[name]) for s in kept]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        var = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0
        out[name] = {
            "first": ys[0],
            "last": ys[-1],
            "max": max(ys),
            "per_hour": round(slope, 2),
        }
    return out


def plot(samples: list[dict[str, Any]], path: Path, title: str) -> bool:
    """The four series against time as a PNG; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    t = [s["t_min"] for s in samples]
    figure, axes = plt.subplots(2, 2, figsize=(10, 6), sharex=True)
    labels = {
        "rss_mb": "memory (RSS, MB)",
        "open_files": "open files",
        "threads": "threads",
        "event_loop_tasks": "event loop tasks",
    }
    for ax, name in zip(axes.flat, SERIES, strict=True):
        ax.plot(t, [s[name] for s in samples], marker=".")
        ax.set_title(labels[name], fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("minutes")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


async def run(
    minutes: float, sample_s: float, warmup_min: float, out: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="shopguard-soak-"))
    media = folder / "media"
    media.mkdir(parents=True)
    clips = [media / f"people-{n + 1}.mp4" for n in range(CAMERAS)]
    for clip in clips:
        shutil.copyfile(PEOPLE_CLIP, clip)
    server = ServerProcess.start(folder, {"SHOPGUARD_AUTH__INITIAL_ADMIN_PASSWORD": ADMIN_PASSWORD})
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes": minutes,
        "sample_s": sample_s,
        "cameras": CAMERAS,
        "cores": os.cpu_count(),
        "samples": [],
    }
    tasks: list[asyncio.Task[None]] = []
    try:
        await server.ready()
        async with httpx.AsyncClient(base_url=f"{server.base_url}/api/v1", timeout=30) as http:
            driver = Driver(server, http)
            await driver.sign_in()
            store = (await http.post("/stores", json={"name": "Soak"})).json()["id"]
            for n, clip in enumerate(clips):
                body = {
                    "store_id": store,
                    "name": f"Aisle {n + 1}",
                    "source_kind": "file",
                    "source_url": str(clip),
                }
                answer = await http.post("/cameras", json=body)
                answer.raise_for_status()
                driver.cameras.append(answer.json()["id"])
            say(f"server {server.base_url} (pid {server.process.pid}), data in {folder}")
            started = time.monotonic()
            tasks = [
                asyncio.create_task(work)
                for work in (
                    camera_off_and_on(driver),
                    file_gone_and_back(driver, clips[1]),
                    test_alerts(driver),
                    snapshots(driver),
                    event_clients(driver),
                    mjpeg_views(driver),
                    webrtc_views(driver),
                )
            ]
            samples: list[dict[str, Any]] = result["samples"]
            while True:
                samples.append(await sample(driver, started, samples[-1] if samples else None))
                s = samples[-1]
                say(
                    f"{s['t_min']:6.1f} min: RSS {s['rss_mb']} MB, {s['open_files']} files, "
                    f"{s['threads']} threads, {s['event_loop_tasks']} tasks, "
                    f"{s['live_viewers']} viewers, {s['ws_clients']} ws, "
                    f"{s['cameras_online']} cameras online, {s['alerts']} alerts, "
                    f"{s['cores']} cores, load {s['load_average']}"
                )
                result["trends"] = trends(samples, warmup_min)
                result["outcomes"] = dict(sorted(driver.outcomes.items()))
                _write(out, result)
                if server.process.poll() is not None:
                    raise RuntimeError(f"the server exited: {server.output_tail()}")
                if time.monotonic() - started >= 60 * minutes:
                    break
                await asyncio.sleep(sample_s)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        result["server_exit"] = server.stop()
        result["server_log_errors"] = _log_errors(folder)
    result["plot"] = plot(result["samples"], out.with_suffix(".png"), _title(result))
    _write(out, result)
    return result


def _write(out: Path, result: dict[str, Any]) -> None:
    out.write_text(json.dumps(result, indent=2) + "\n")


def _log_errors(folder: Path) -> dict[str, int]:
    """ERROR lines in the server's log files, by logger."""
    found: Counter[str] = Counter()
    for log in sorted((folder / "logs").glob("shopguard.log*")):
        for line in log.read_text(errors="replace").splitlines():
            parts = line.split(" ", 4)
            if len(parts) > 3 and parts[2] == "ERROR":
                found[parts[3]] += 1
    return dict(found)


def _title(result: dict[str, Any]) -> str:
    return (
        f"ShopGuard soak: {result['cameras']} file cameras, cameras dropping and returning, "
        f"alerts, viewers coming and going ({result['when'][:16]} UTC, "
        f"{result['cores']} cores)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--sample-s", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--warmup-min", type=float, default=5.0, help="left out of the trends")
    parser.add_argument("--out", type=Path, default=Path("data/bench/soak.json"))
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        sys.stderr.write(f"[soak] {line}\n")
        sys.stderr.flush()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args.minutes, args.sample_s, args.warmup_min, args.out, say))
    for name, trend in result.get("trends", {}).items():
        say(
            f"{name}: {trend['first']} -> {trend['last']} (max {trend['max']}), "
            f"{trend['per_hour']:+} per hour after the warm-up"
        )
    say(f"outcomes: {result.get('outcomes')}")
    say(f"server exit {result['server_exit']}, log errors {result['server_log_errors']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
