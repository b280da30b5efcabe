"""The bus under load: `--cameras` simulated cameras (500) publish through Redis Streams to
2 API instances for `--seconds` (30).

    .venv/bin/python -m server.bench.bus [--cameras 500] [--seconds 30] [--out FILE.json]

Every camera publishes a status every 5 s, an analysis summary every second and, now and
then, an alert (one per camera per 10 minutes on average), each stamped with the time it
was published. The cameras are split between `--workers` processes (2), each publishing
through its own `RedisStreamsBus` as a camera worker does; 2 more processes play the API
instances: each tails the three topics (a broadcast reader: every instance sees every
event) and measures each record's delivery latency, from the publisher's call to its own
receipt. Redis is Debian's `redis-server`, started here in a temporary folder with the
append-only file fsynced every second (the usual production setting), unless `--redis-url`
names one. Progress every 5 s; then events/s, p50/p95/p99 delivery latency, lost and
duplicated records, and CPU per 100 cameras of the publishers, the readers and Redis (from
/proc), printed and written as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from pydantic import BaseModel

from server.bench.load import percentile
from server.bench.server_process import free_port, process_usage
from server.bus import BusUnavailable, RedisStreamsBus, Topic

STATUS_EVERY_S = 5.0
ANALYSIS_EVERY_S = 1.0
ALERT_EVERY_S = 600.0  # on average, per camera
PROGRESS_S = 5.0  # the parent's lines
CHILD_PROGRESS_S = 1.0  # what the children tell it
DRAIN_S = 30.0  # after the publishers stop, the readers' time to receive the rest
READERS = ("api-1", "api-2")


class CameraStatus(BaseModel):
    camera_id: str
    seq: int
    sent_at: float
    state: str = "online"
    fps: float = 5.0
    dropped_frames: int = 0


class TrackScore(BaseModel):
    track_id: int
    score: float
    xyxy: tuple[float, float, float, float]


class AnalysisSummary(BaseModel):
    camera_id: str
    seq: int
    sent_at: float
    frames: int = 5
    people: int = 3
    tracks: list[TrackScore]


class Alert(BaseModel):
    camera_id: str
    seq: int
    sent_at: float
    alert_id: str
    zone: str = "aisle-3"
    probability: float = 0.91


STATUS = Topic(name="camera.status", model=CameraStatus)
ANALYSIS = Topic(name="analysis", model=AnalysisSummary)
ALERTS = Topic(name="alerts", model=Alert)
TOPICS: tuple[Topic[Any], ...] = (STATUS, ANALYSIS, ALERTS)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def emit(**fields: Any) -> None:
    """One JSON line to the parent."""
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


# the camera worker: publishes for its cameras


def record(kind: int, camera: str, seq: int) -> tuple[Topic[Any], BaseModel]:
    now = time.time()
    if kind == 0:
        return STATUS, CameraStatus(camera_id=camera, seq=seq, sent_at=now)
    if kind == 1:
        tracks = [
            TrackScore(track_id=seq * 3 + i, score=random.random(), xyxy=(10.0, 20.0, 110.0, 320.0))
            for i in range(3)
        ]
        return ANALYSIS, AnalysisSummary(camera_id=camera, seq=seq, sent_at=now, tracks=tracks)
    return ALERTS, Alert(camera_id=camera, seq=seq, sent_at=now, alert_id=f"{camera}-{seq}")


async def run_worker(url: str, prefix: str, cameras: list[str], seconds: float) -> None:
    bus = RedisStreamsBus(url, prefix=prefix)
    every = (STATUS_EVERY_S, ANALYSIS_EVERY_S)
    start = time.monotonic()
    due = [(start + random.uniform(0, every[k]), k, cam) for cam in cameras for k in (0, 1)]
    due += [(start + random.expovariate(1 / ALERT_EVERY_S), 2, cam) for cam in cameras]
    heapq.heapify(due)
    published, refused, seq = Counter[str](), 0, 0
    cpu_before, next_progress = cpu_s(), start + CHILD_PROGRESS_S
    while (now := time.monotonic()) < start + seconds:
        while due and due[0][0] <= now:
            at, kind, camera = heapq.heappop(due)
            seq += 1
            topic, item = record(kind, camera, seq)
            try:
                bus.publish_nowait(topic, item)
                published[topic.name] += 1
            except BusUnavailable:  # counted; the camera goes on
                refused += 1
            step = every[kind] if kind < 2 else random.expovariate(1 / ALERT_EVERY_S)
            heapq.heappush(due, (at + step, kind, camera))
        if now >= next_progress:
            emit(progress=True, published=sum(published.values()))
            next_progress += CHILD_PROGRESS_S
        await asyncio.sleep(0.01)
    wall = time.monotonic() - start
    await bus.close()  # writes what is still buffered
    emit(
        done=True,
        published=dict(published),
        refused=refused,
        seconds=wall,
        cpu_s=cpu_s() - cpu_before,
    )


# the API instance: tails every topic, measures delivery latency


async def run_reader(url: str, prefix: str) -> None:
    bus = RedisStreamsBus(url, prefix=prefix)
    starts = [await bus.last_id(topic) for topic in TOPICS]
    latencies: list[float] = []
    seen = Counter[tuple[str, str, int]]()
    expected: list[int] = []

    async def tail(topic: Topic[Any], after: str) -> None:
        async for _, item in bus.tail(topic, after=after):
            latencies.append(time.time() - item.sent_at)
            seen[(topic.name, item.camera_id, item.seq)] += 1

    async def read_expected() -> None:
        line = await asyncio.to_thread(sys.stdin.readline)
        expected.append(int(line.split()[1]) if line.startswith("expect") else 0)

    tails = [asyncio.create_task(tail(t, a)) for t, a in zip(TOPICS, starts, strict=True)]
    told = asyncio.create_task(read_expected())
    cpu_before = cpu_s()
    emit(ready=True)
    next_progress = time.monotonic() + CHILD_PROGRESS_S
    drain_until = float("inf")
    while time.monotonic() < drain_until:
        if told.done() and drain_until == float("inf"):
            drain_until = time.monotonic() + DRAIN_S
        if expected and len(seen) >= expected[0]:
            break
        if time.monotonic() >= next_progress:
            recent = sorted(latencies[-2000:])
            emit(progress=True, received=len(latencies), p50_ms=1000 * percentile(recent, 50))
            next_progress += CHILD_PROGRESS_S
        await asyncio.sleep(0.05)
    cpu = cpu_s() - cpu_before
    for task in tails:
        task.cancel()
    await asyncio.gather(*tails, return_exceptions=True)
    await bus.close()
    duplicates = sum(n - 1 for n in seen.values())
    emit(done=True, received=len(latencies), unique=len(seen), duplicates=duplicates,
         cpu_s=cpu, latencies_ms=[round(1000 * x, 2) for x in latencies])  # fmt: skip


# the parent: Redis, the children, the report


class Child:
    """A child process of this module, speaking JSON lines on stdout."""

    def __init__(self, name: str, args: list[str]) -> None:
        self.name, self.last, self.done = name, dict[str, Any](), dict[str, Any]()
        self.ready, self.ended = asyncio.Event(), asyncio.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.bench.bus", "--child", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await asyncio.to_thread(self.process.stdout.readline):
            message = json.loads(line)
            self.last = message
            if message.get("ready"):
                self.ready.set()
            if message.get("done"):
                self.done = message
        self.ended.set()

    def wait(self) -> None:
        self.process.wait(30)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()

    def tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(redis.RedisError):
            if client.ping():
                break
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    client.close()
    return process, f"redis://127.0.0.1:{port}/0"


async def run(
    cameras: int, seconds: float, workers: int, redis_url: str | None, say: Callable[[str], None]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-bus-") as folder:
        redis_process, url = (None, redis_url) if redis_url else start_redis(Path(folder))
        prefix = f"bench-bus-{os.getpid()}"
        try:
            return await _measure(cameras, seconds, workers, url, prefix, redis_process, say)
        finally:
            if redis_process is not None:
                redis_process.terminate()
                redis_process.wait(30)
            else:
                client = redis.Redis.from_url(url)
                client.delete(*[f"{prefix}:{t.name}" for t in TOPICS])
                client.close()


async def _measure(
    cameras: int,
    seconds: float,
    workers: int,
    url: str,
    prefix: str,
    redis_process: subprocess.Popen[bytes] | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    base = ["--redis-url", url, "--prefix", prefix]
    readers = [Child(name, ["reader", *base]) for name in READERS]
    async with asyncio.timeout(60):  # a reader that crashed never gets ready
        await asyncio.gather(*(r.ready.wait() for r in readers))
    redis_cpu = process_usage(redis_process.pid).cpu_s if redis_process else 0.0
    load_before, started = os.getloadavg(), time.monotonic()
    names = [f"store-{i // 10:03d}/cam-{i % 10}" for i in range(cameras)]
    shares = [names[i::workers] for i in range(workers)]
    publishers = [
        Child(f"worker-{i + 1}", ["worker", *base, "--seconds", str(seconds), "--cameras", *share])
        for i, share in enumerate(shares)
    ]
    publishing = asyncio.gather(*(p.ended.wait() for p in publishers))
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(publishing), PROGRESS_S)
            break
        published = sum(
            sum(p.done["published"].values()) if p.done else p.last.get("published", 0)
            for p in publishers
        )
        say(
            f"t={time.monotonic() - started:5.1f}s published {published}  "
            + "  ".join(
                f"{r.name} got {r.last.get('received', 0)} (p50 {r.last.get('p50_ms', 0):.1f} ms)"
                for r in readers
            )
        )
    publish_s = max(p.done["seconds"] for p in publishers)
    total = sum(sum(p.done["published"].values()) for p in publishers)
    for r in readers:
        r.tell(f"expect {total}")
    await asyncio.gather(*(r.ended.wait() for r in readers))
    if failed := [c.name for c in (*readers, *publishers) if not c.done]:
        raise RuntimeError(f"ended without a result: {failed}")
    wall = time.monotonic() - started
    redis_cpu_s = process_usage(redis_process.pid).cpu_s - redis_cpu if redis_process else None
    for child in [*readers, *publishers]:
        child.wait()
    per_100 = cameras / 100
    publisher_cpu = sum(p.done["cpu_s"] for p in publishers)
    reader_cpu = [r.done["cpu_s"] for r in readers]
    latencies = sorted(x for r in readers for x in r.done["latencies_ms"])
    by_topic = Counter[str]()
    for p in publishers:
        by_topic.update(p.done["published"])
    return {
        "cameras": cameras,
        "workers": workers,
        "readers": len(readers),
        "seconds": round(publish_s, 1),
        "published": total,
        "published_by_topic": dict(by_topic),
        "refused": sum(p.done["refused"] for p in publishers),
        "published_per_s": round(total / publish_s, 1),
        "delivered_per_s": round(sum(r.done["received"] for r in readers) / publish_s, 1),
        "lost": {r.name: total - r.done["unique"] for r in readers},
        "duplicates": {r.name: r.done["duplicates"] for r in readers},
        "latency_ms": {f"p{q}": percentile(latencies, q) for q in (50, 95, 99)}
        | {"max": latencies[-1] if latencies else None},
        "cpu_s": {
            "publishers": round(publisher_cpu, 2),
            "readers": [round(x, 2) for x in reader_cpu],
            "redis": round(redis_cpu_s, 2) if redis_cpu_s is not None else None,
        },
        "cores_per_100_cameras": {
            "publishers": round(publisher_cpu / publish_s / per_100, 4),
            "each_reader": round(max(reader_cpu) / wall / per_100, 4),
            "redis": round(redis_cpu_s / publish_s / per_100, 4)
            if redis_cpu_s is not None
            else None,
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "redis": "own redis-server, appendfsync everysec" if redis_process else "given",
        "cpus": os.cpu_count(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def lines(result: dict[str, Any]) -> list[str]:
    lat, cores = result["latency_ms"], result["cores_per_100_cameras"]
    return [
        f"{result['cameras']} cameras, {result['workers']} publishers, {result['readers']} API "
        f"instances, {result['seconds']} s: published {result['published']} "
        f"({result['published_per_s']}/s), delivered {result['delivered_per_s']}/s in all",
        f"delivery latency p50 {lat['p50']} ms  p95 {lat['p95']} ms  p99 {lat['p99']} ms  "
        f"max {lat['max']} ms; lost {result['lost']}, duplicates {result['duplicates']}, "
        f"refused {result['refused']}",
        f"cores per 100 cameras: publishers {cores['publishers']}, each API instance "
        f"{cores['each_reader']}, Redis {cores['redis']}; load average "
        f"{result['load_average_before'][0]} -> {result['load_average_after'][0]}",
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cameras", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2, help="publishing processes (2)")
    parser.add_argument("--redis-url", default=None, help="use this Redis, not our own")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        sys.stderr.write(f"[bus] {line}\n")
        sys.stderr.flush()

    result = asyncio.run(run(args.cameras, args.seconds, args.workers, args.redis_url, say))
    for line in lines(result):
        say(line)
    text = json.dumps(result, indent=2)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


def child_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=("worker", "reader"))
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--cameras", nargs="*", default=[])
    args = parser.parse_args(argv)
    if args.role == "worker":
        asyncio.run(run_worker(args.redis_url, args.prefix, args.cameras, args.seconds))
    else:
        asyncio.run(run_reader(args.redis_url, args.prefix))
    return 0


if __name__ == "__main__":
    sys.exit(main())
