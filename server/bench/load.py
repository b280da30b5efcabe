"""Many signed-in clients at once: `--clients` HTTP clients (200) for `--seconds` (30), each
asking for /api/v1/health and then the alert list, again and again, as fast as it is
answered (no pause: the server is never idle).

    .venv/bin/python -m server.bench.load [--clients 200] [--seconds 30] [--out FILE.json]
    shopguard bench load ...

The server is `python -m server serve` in a child process (uvicorn on 127.0.0.1, SQLite in
a temporary folder, the video pipeline off, everything else as shipped: INFO logging to the
console and a file, metrics on), so this process, which only drives it, does not share its
event loop. Before the clock starts an admin adds a store, 3 cameras and `--alerts` test
alerts through the API (the real alert service), 10 viewers of the store choose their
passwords, and every client signs in as one of them (a session of its own). Progress every
5 s; then per path p50/p95/p99 and errors, answers a second, the server's CPU, and the load
average (other work on the machine shows there), printed and written as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from server.bench.server_process import ROOT, ServerProcess, process_usage

PATHS = ("/api/v1/health", "/api/v1/alerts")
ADMIN_PASSWORD = "bench-admin-password-1"
VIEWERS = 10
CAMERAS = 3
TIMEOUT_S = 60.0  # a request not answered by then counts as an error
PROGRESS_S = 5.0


@dataclass(slots=True)
class Tally:
    """Every answer of the run: (path, seconds, outcome), outcome "ok" or the error."""

    rows: list[tuple[str, float, str]] = field(default_factory=list)

    def add(self, path: str, seconds: float, outcome: str) -> None:
        self.rows.append((path, seconds, outcome))


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(rows: list[tuple[str, float, str]], seconds: float) -> dict[str, Any]:
    times = sorted(s for _, s, _ in rows)
    errors = Counter(outcome for _, _, outcome in rows if outcome != "ok")
    return {
        "answers": len(rows),
        "per_s": round(len(rows) / seconds, 1),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        **{f"p{q}_ms": round(1000 * percentile(times, q), 1) for q in (50, 95, 99)},
        "max_ms": round(1000 * times[-1], 1) if times else float("nan"),
    }


async def seed(http: httpx.AsyncClient, alerts: int) -> list[tuple[str, str]]:
    """A store, cameras, test alerts and viewers; each viewer's (name, password)."""
    login = await http.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    login.raise_for_status()
    http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    store = (await http.post("/stores", json={"name": "Bench"})).json()["id"]
    cameras = []
    for n in range(CAMERAS):
        body = {
            "store_id": store,
            "name": f"Aisle {n + 1}",
            "source_kind": "rtsp",
            "source_url": f"rtsp://192.0.2.1/ch{n + 1}",  # never opened: the pipeline is off
        }
        answer = await http.post("/cameras", json=body)
        answer.raise_for_status()
        cameras.append(answer.json()["id"])
    for n in range(alerts):
        (await http.post(f"/cameras/{cameras[n % CAMERAS]}/test-alert")).raise_for_status()
    viewers = []
    for n in range(VIEWERS):
        name, first, chosen = f"viewer{n}", f"first-password-{n}", f"bench-password-{n}"
        body = {"username": name, "password": first, "role": "viewer", "store_ids": [store]}
        (await http.post("/users", json=body)).raise_for_status()
        async with httpx.AsyncClient(base_url=http.base_url, timeout=TIMEOUT_S) as own:
            token = await sign_in(own, name, first)
            change = {"current_password": first, "new_password": chosen}
            answer = await own.post(
                "/auth/password", json=change, headers={"Authorization": f"Bearer {token}"}
            )
            answer.raise_for_status()
        viewers.append((name, chosen))
    return viewers


async def sign_in(http: httpx.AsyncClient, name: str, password: str) -> str:
    answer = await http.post("/auth/login", json={"username": name, "password": password})
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


async def client(http: httpx.AsyncClient, stop_at: float, tally: Tally, think_s: float) -> None:
    """One signed-in client: health, alerts, health, alerts... until `stop_at`, pausing
    about `think_s` after each pair (0: none)."""
    if think_s:
        await asyncio.sleep(random.uniform(0, think_s))  # spread out, as phones are
    while time.monotonic() < stop_at:
        for path in PATHS:
            started = time.perf_counter()
            try:
                answer = await http.get(path)
                outcome = "ok" if answer.status_code == 200 else f"HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            tally.add(path, time.perf_counter() - started, outcome)
        if think_s:
            await asyncio.sleep(random.uniform(0.5, 1.5) * think_s)


async def report_progress(
    tally: Tally, started: float, seconds: float, say: Callable[[str], None]
) -> None:
    seen = 0
    while True:
        await asyncio.sleep(PROGRESS_S)
        rows = tally.rows[seen:]
        seen += len(rows)
        recent = sorted(s for _, s, _ in rows)
        errors = sum(1 for *_, outcome in rows if outcome != "ok")
        say(
            f"{time.monotonic() - started:4.0f}/{seconds:.0f} s: {len(rows) / PROGRESS_S:6.1f} "
            f"answers/s, p50 {1000 * percentile(recent, 50):6.0f} ms, p95 "
            f"{1000 * percentile(recent, 95):6.0f} ms, {errors} errors"
        )


async def run(
    clients: int,
    seconds: float,
    alerts: int,
    say: Callable[[str], None],
    *,
    profile: Path | None = None,
    server_env: dict[str, str] | None = None,
    think_s: float = 0.0,
) -> dict[str, Any]:
    """`server_env`: more SHOPGUARD_* settings for the server (to try one)."""
    load_at_start = os.getloadavg()  # before this bench adds its own
    folder = Path(tempfile.mkdtemp(prefix="shopguard-load-"))
    settings = {
        "SHOPGUARD_PIPELINE__ENABLED": "false",
        "SHOPGUARD_AUTH__INITIAL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        # sign-in is not measured: cheaper Argon2 makes the 200 sign-ins before the clock
        # take seconds, not a minute
        "SHOPGUARD_AUTH__PASSWORD_HASH_MEMORY_KIB": "8192",
    } | (server_env or {})
    wrap = ["-m", "cProfile", "-o", str(profile)] if profile is not None else None
    server = ServerProcess.start(folder, settings, wrap=wrap)
    try:
        await server.ready()
        say(f"server {server.base_url} (pid {server.process.pid}), data in {folder}")
        async with httpx.AsyncClient(base_url=f"{server.base_url}/api/v1", timeout=60) as http:
            viewers = await seed(http, alerts)
            say(f"seeded {alerts} alerts, {VIEWERS} viewers; {clients} clients signing in")
            signing_in = asyncio.Semaphore(4)  # Argon2 runs on a few threads anyway

            async def session(n: int) -> str:
                async with signing_in:
                    return await sign_in(http, *viewers[n % len(viewers)])

            tokens = await asyncio.gather(*(session(n) for n in range(clients)))
        async with contextlib.AsyncExitStack() as stack:
            tls = ssl.create_default_context()  # one for all: each client would load its own
            https = [
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=server.base_url,
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=TIMEOUT_S,
                        verify=tls,
                    )
                )
                for token in tokens
            ]
            for http in https:  # connected before the clock starts, as a phone's app is
                (await http.get(PATHS[0])).raise_for_status()
            result = await measure(server, https, seconds, think_s, say)
    finally:
        server.stop()
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "clients": clients,
        "think_s": think_s,
        "alerts_listed": alerts,
        "server_env": server_env or {},
        "cores": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        **result,
    }


async def measure(
    server: ServerProcess,
    https: list[httpx.AsyncClient],
    seconds: float,
    think_s: float,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """The timed run: every client at once for `seconds`."""
    load_before = os.getloadavg()
    before, me_before = server.usage(), process_usage(os.getpid()).cpu_s
    tally = Tally()
    started = time.monotonic()
    say(f"{len(https)} clients for {seconds:.0f} s (load average {load_before[0]:.2f})")
    progress = asyncio.create_task(report_progress(tally, started, seconds, say))
    await asyncio.gather(*(client(h, started + seconds, tally, think_s) for h in https))
    progress.cancel()
    wall = time.monotonic() - started
    usage = server.usage()
    load_after = os.getloadavg()
    me_cpu = process_usage(os.getpid()).cpu_s - me_before
    return {
        "seconds": round(wall, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "server_cores": round((usage.cpu_s - before.cpu_s) / wall, 2),
        "server_event_loop_cores": round((usage.main_cpu_s - before.main_cpu_s) / wall, 2),
        "server_threads": usage.threads,
        "driver_cores": round(me_cpu / wall, 2),
        "all": summary(tally.rows, wall),
        **{path: summary([r for r in tally.rows if r[0] == path], wall) for path in PATHS},
    }


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def lines(result: dict[str, Any]) -> list[str]:
    """The result as a few readable lines."""
    out = [
        f"{result['clients']} clients, {result['seconds']} s, commit {result['commit']}, "
        f"server {result['server_cores']} cores ({result['server_event_loop_cores']} its event "
        f"loop), driver {result['driver_cores']} cores, "
        f"load average {result['load_average_before'][0]} -> {result['load_average_after'][0]}"
    ]
    for path in ("all", *PATHS):
        s = result[path]
        out.append(
            f"{path:<16} {s['answers']:6d} answers ({s['per_s']}/s)  p50 {s['p50_ms']} ms  "
            f"p95 {s['p95_ms']} ms  p99 {s['p99_ms']} ms  max {s['max_ms']} ms  "
            f"errors {s['errors']} {s['error_kinds'] or ''}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--alerts", type=int, default=30, help="test alerts in the list (30)")
    parser.add_argument(
        "--think-s", type=float, default=0.0, help="each client's pause between pairs (0)"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument(
        "--profile", type=Path, default=None, help="run the server under cProfile into FILE"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="SHOPGUARD_X=Y",
        help="a setting for the server, to try one (repeat)",
    )
    args = parser.parse_args(argv)
    server_env = dict(item.split("=", 1) for item in args.server_env)

    def say(line: str) -> None:
        sys.stderr.write(f"[load] {line}\n")
        sys.stderr.flush()

    profile = (
        args.profile.resolve() if args.profile is not None else None
    )  # the server's cwd differs
    result = asyncio.run(
        run(
            args.clients,
            args.seconds,
            args.alerts,
            say,
            profile=profile,
            server_env=server_env,
            think_s=args.think_s,
        )
    )
    for line in lines(result):
        say(line)
    text = json.dumps(result, indent=2)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
