"""Live view latency and cost: from a frame's capture to the moment a browser shows it, and
the server's CPU per viewer, at two picture sizes.

    .venv/bin/python -m server.bench.live_latency [--widths 640,1280] [--viewers 1,2]
        [--seconds 10] [--out FILE.json] [--screenshot FILE.png]

A real server (uvicorn on 127.0.0.1, SQLite in a temporary folder) runs one file camera:
the repository's pedestrian clip at 10 fps with a frame counter drawn into its pixels,
analysed (pose, tracking, scoring) at 10 fps. Viewers are the server's player page in
headless Chromium (`server.bench.live_viewer`), reading the counter of every frame they
present. For each frame: added by the server (analysis handed it over → its last packet
reached the browser: drawing, encoding, sending), analysed → shown (plus the browser's
decoding) and capture → shown (the whole path, pose analysis included). The server's CPU is
its process's CPU time over the window, less the same window with nobody watching.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aioice.ice
import httpx
from pydantic import SecretStr

from server.app import create_app
from server.bench.alert_latency import PASSWORD, serve
from server.bench.chromium import chromium
from server.bench.counter import FPS, counted_video, read_counter
from server.bench.live_viewer import (
    ShownFrame,
    close_viewer,
    frames_shown,
    open_viewer,
    restart_count,
)
from server.config import AuthConfig, LiveConfig, PipelineConfig, Settings
from server.runtime import Runtime


def loopback_only() -> None:
    """Everything stays on 127.0.0.1: aioice skips that address unless it is given it."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(v for v in values if v == v)  # NaN: not reported by the browser
    if not ordered:
        return {"n": 0}
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 1),
    }


async def run_width(
    width: int, viewer_counts: list[int], seconds: float, screenshot: Path | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shopguard-live-bench-") as folder:
        video = counted_video(Path(folder) / "counted.mp4", passes=6)
        settings = Settings(
            data_dir=Path(folder) / "data",
            pipeline=PipelineConfig(),
            auth=AuthConfig(initial_admin_password=SecretStr(PASSWORD)),
            live=LiveConfig(
                width=width,
                fps=FPS,
                max_viewers_per_camera=8,
                max_views_per_user=8,  # every bench viewer is the admin
                max_views_per_user_camera=8,
            ),
            media_dirs=[Path(folder)],
        )
        app = create_app(settings)
        server, task, port = await serve(app)  # uvicorn runs the app's lifespan: one runtime
        try:
            runtime: Runtime = app.state.runtime
            return await measure(
                runtime,
                f"http://127.0.0.1:{port}",
                video,
                width,
                viewer_counts,
                seconds,
                screenshot,
            )
        finally:
            server.should_exit = True
            await task


async def measure(
    runtime: Runtime,
    url: str,
    video: Path,
    width: int,
    viewer_counts: list[int],
    seconds: float,
    screenshot: Path | None,
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url) as http:
        token = (
            await http.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        store = (await http.post("/api/v1/stores", json={"name": "Bench"})).json()["id"]
        camera = (
            await http.post(
                "/api/v1/cameras",
                json={
                    "store_id": store,
                    "name": "Aisle 4",
                    "source_kind": "file",
                    "source_url": str(video),
                    "analysis_fps": FPS,
                },
            )
        ).json()["id"]
        link = (await http.post(f"/api/v1/cameras/{camera}/live-link")).json()["token"]
    captures: dict[int, list[tuple[float, float]]] = {}  # counter -> (captured, analysed)

    async def note() -> None:
        last = -float("inf")
        while True:
            frame = await runtime.live.frames.next_after(camera, last, 1.0)
            if frame is not None:
                counter = read_counter(frame.image)
                captures.setdefault(counter, []).append((frame.captured_at, frame.taken_at))
                last = frame.captured_at

    noting = asyncio.create_task(note())
    while await runtime.live.frames.next_after(camera, -float("inf"), 1.0) is None:
        pass  # the camera is starting
    await asyncio.sleep(3.0)  # warm up
    idle = await cpu_share(seconds)
    sys.stdout.write(f"  {width} wide: server CPU with nobody watching {idle:.2f} cores\n")
    results: dict[str, Any] = {"width": width, "idle_cores": round(idle, 3), "runs": []}
    async with chromium() as browser:
        for count in viewer_counts:
            pages = [await open_viewer(browser, url, camera, link) for _ in range(count)]
            await asyncio.sleep(2.0)  # flowing
            for page in pages:
                await restart_count(page)
            busy = await cpu_share(seconds)
            shown = [frame for page in pages for frame in await frames_shown(page)]
            for page in pages:
                await close_viewer(page)
            run = summarise(shown, captures, count, seconds, busy, idle)
            results["runs"].append(run)
            report(run)
            await asyncio.sleep(2.0)
        if screenshot is not None:  # the player as a phone shows it
            page = await open_viewer(browser, url, camera, link, width=360, height=740)
            await asyncio.sleep(1.0)
            await page.screenshot(path=str(screenshot))
            await close_viewer(page)
            sys.stdout.write(f"  wrote {screenshot}\n")
    noting.cancel()
    return results


def summarise(
    shown: list[ShownFrame],
    captures: dict[int, list[tuple[float, float]]],
    viewers: int,
    seconds: float,
    busy: float,
    idle: float,
) -> dict[str, Any]:
    """Each shown frame matched to its capture by its counter (the latest capture of that
    counter before the frame arrived)."""
    server_added, analysed_to_shown, capture_to_shown = [], [], []
    for frame in shown:
        before = [c for c in captures.get(frame.counter, []) if c[0] <= frame.shown]
        if not before:
            continue
        captured, analysed = before[-1]
        server_added.append(frame.received - analysed)
        analysed_to_shown.append(frame.shown - analysed)
        capture_to_shown.append(frame.shown - captured)
    return {
        "viewers": viewers,
        "frames": len(shown),
        "matched": len(capture_to_shown),
        "frame_width": sorted({frame.width for frame in shown}),
        "fps_per_viewer": round(len(shown) / viewers / seconds, 2),
        "server_added": percentiles(server_added),
        "analysed_to_shown": percentiles(analysed_to_shown),
        "capture_to_shown": percentiles(capture_to_shown),
        "server_cores": round(busy, 3),
        "cores_per_viewer": round((busy - idle) / viewers, 3),
    }


def report(run: dict[str, Any]) -> None:
    added, shown, whole = run["server_added"], run["analysed_to_shown"], run["capture_to_shown"]
    sys.stdout.write(
        f"  {run['viewers']} viewer(s), {run['fps_per_viewer']} fps each:"
        f" added by the server median {added['median_ms']} ms (p95 {added['p95_ms']}),"
        f" analysed->shown {shown['median_ms']} (p95 {shown['p95_ms']}),"
        f" capture->shown {whole['median_ms']} (p95 {whole['p95_ms']}),"
        f" {run['cores_per_viewer']:.2f} cores per viewer\n"
    )
    sys.stdout.flush()


async def cpu_share(seconds: float) -> float:
    """Cores this process used over the next `seconds`."""
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    return (time.process_time() - cpu) / (time.monotonic() - wall)


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    loopback_only()
    results = []
    for width in args.widths:
        sys.stdout.write(f"live view at {width} wide ...\n")
        sys.stdout.flush()
        shot = args.screenshot if width == args.widths[0] else None
        results.append(await run_width(width, args.viewers, args.seconds, shot))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--widths", type=lambda s: [int(w) for w in s.split(",")], default=[640, 1280]
    )
    parser.add_argument("--viewers", type=lambda s: [int(v) for v in s.split(",")], default=[1, 2])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--screenshot", type=Path, default=None, help="PNG of the player at phone size"
    )
    args = parser.parse_args(argv)
    results = asyncio.run(main_async(args))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
