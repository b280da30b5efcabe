"""Live view latency and cost: from a frame's capture to the viewer's decoded frame, and the
server's CPU per viewer, at two picture sizes.

    .venv/bin/python -m server.bench.live_latency [--widths 640,1280] [--viewers 1,2]
        [--seconds 10] [--out FILE.json]

A real server (uvicorn on 127.0.0.1, SQLite in a temporary folder) runs one file camera:
the repository's pedestrian clip at 10 fps with a frame counter drawn into its pixels,
analysed (pose, tracking, scoring) at 10 fps. Viewers are real aiortc peers, each in its
own process (`server.bench.live_viewer`), reading the counter of every frame they decode.
For each frame: capture → shown (the whole path, pose analysis included) and analysed →
shown (what the live view adds: drawing, encoding, the network, decoding). The server's CPU
is its process's CPU time over the window, less the same window with nobody watching.
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
import av
import httpx
import numpy as np
from pydantic import SecretStr

from server.app import create_app
from server.bench.alert_latency import PASSWORD, serve
from server.bench.counter import read_counter, stamp_counter
from server.config import AuthConfig, LiveConfig, PipelineConfig, Settings
from server.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "tests" / "data" / "vtest_people.mp4"  # 640x360, 10 fps, real pedestrians
FPS = 10


def counted_video(path: Path, passes: int = 6) -> Path:
    """The clip forwards and backwards (no jumps), its frame number in the top strip."""
    with av.open(str(CLIP)) as source:
        frames = [
            np.asarray(f.to_ndarray(format="bgr24"), np.uint8) for f in source.decode(video=0)
        ]
    sequence = [f for n in range(passes) for f in (frames if n % 2 == 0 else frames[::-1])]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.codec_context.options = {"preset": "ultrafast", "x264-params": "keyint=10"}
        for index, image in enumerate(sequence):
            image = image.copy()
            stamp_counter(image, index)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    return path


def loopback_only() -> None:
    """Everything stays on 127.0.0.1: aioice skips that address unless it is given it."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 1),
    }


async def run_width(width: int, viewer_counts: list[int], seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shopguard-live-bench-") as folder:
        video = counted_video(Path(folder) / "counted.mp4")
        settings = Settings(
            data_dir=Path(folder) / "data",
            pipeline=PipelineConfig(),
            auth=AuthConfig(initial_admin_password=SecretStr(PASSWORD)),
            live=LiveConfig(width=width, fps=FPS, max_viewers_per_camera=8),
        )
        app = create_app(settings)
        server, task, port = await serve(app)  # uvicorn runs the app's lifespan: one runtime
        try:
            runtime: Runtime = app.state.runtime
            return await measure(
                runtime, f"http://127.0.0.1:{port}", video, width, viewer_counts, seconds
            )
        finally:
            server.should_exit = True
            await task


async def measure(
    runtime: Runtime, url: str, video: Path, width: int, viewer_counts: list[int], seconds: float
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
        last = None
        while True:
            frame = runtime.live.frames.latest(camera)
            if frame is not None and frame.captured_at != last:
                counter = read_counter(frame.image)
                captures.setdefault(counter, []).append((frame.captured_at, frame.taken_at))
                last = frame.captured_at
            await asyncio.sleep(0.003)

    noting = asyncio.create_task(note())
    while await runtime.live.frames.next_after(camera, -float("inf"), 1.0) is None:
        pass  # the camera is starting
    await asyncio.sleep(3.0)  # warm up
    idle = await cpu_share(seconds)
    sys.stdout.write(f"  {width} wide: server CPU with nobody watching {idle:.2f} cores\n")
    results: dict[str, Any] = {"width": width, "idle_cores": round(idle, 3), "runs": []}
    for count in viewer_counts:
        command = ["-m", "server.bench.live_viewer", url, str(camera), link, str(seconds + 4)]
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, *command, stdout=asyncio.subprocess.PIPE
            )
            for _ in range(count)
        ]
        await asyncio.sleep(3.0)  # connected and flowing
        busy = await cpu_share(seconds)
        outputs = [await p.communicate() for p in procs]
        capture_to_shown, analysed_to_shown, frames = [], [], 0
        for stdout, _ in outputs:
            for counter, arrived in json.loads(stdout):
                frames += 1
                before = [c for c in captures.get(counter, []) if c[0] <= arrived]
                if before:
                    captured, analysed = before[-1]
                    capture_to_shown.append(arrived - captured)
                    analysed_to_shown.append(arrived - analysed)
        shown, added = percentiles(capture_to_shown), percentiles(analysed_to_shown)
        run: dict[str, Any] = {
            "viewers": count,
            "frames": frames,
            "fps_per_viewer": round(frames / count / (seconds + 4), 2),
            "capture_to_shown": shown,
            "analysed_to_shown": added,
            "server_cores": round(busy, 3),
            "cores_per_viewer": round((busy - idle) / count, 3),
        }
        results["runs"].append(run)
        sys.stdout.write(
            f"  {count} viewer(s): capture->shown median {shown['median_ms']} ms"
            f" (p95 {shown['p95_ms']}), analysed->shown median {added['median_ms']} ms"
            f" (p95 {added['p95_ms']}), {run['cores_per_viewer']:.2f} cores per viewer,"
            f" {run['fps_per_viewer']} fps each\n"
        )
        sys.stdout.flush()
        await asyncio.sleep(2.0)
    noting.cancel()
    return results


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
        results.append(await run_width(width, args.viewers, args.seconds))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--widths", type=lambda s: [int(w) for w in s.split(",")], default=[640, 1280]
    )
    parser.add_argument("--viewers", type=lambda s: [int(v) for v in s.split(",")], default=[1, 2])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    results = asyncio.run(main_async(args))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
