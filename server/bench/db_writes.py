"""What a camera costs the shared database: commits and rows written per camera and minute,
for the capacity model in docs/scale.md (not in CI):

    .venv/bin/python -m server.bench.db_writes --cameras 4 --minutes 3 \
        --database-url postgresql://postgres@127.0.0.1/test --out docs/bench/db_writes.json

A real server (`python -m server serve`, the pipeline on) on a scratch PostgreSQL database
made for the run, with `--cameras` file cameras playing the clip of people. `--threshold 0`
makes every person alert (the worst case: an incident open on every camera all the time);
the default uses the shipped model's own threshold (a store's usual day). PostgreSQL's
own counters (`pg_stat_database`: commits, rows inserted, updated, deleted) are read when
every camera is online and again `--minutes` later.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from server.bench.counter import PEOPLE_CLIP
from server.bench.server_process import ServerProcess

ADMIN_PASSWORD = "bench-admin-password-1"
COUNTERS = ("xact_commit", "tup_inserted", "tup_updated", "tup_deleted")


async def counters(dsn: str, database: str) -> dict[str, int]:
    """The database's commits and rows written, and each table's rows written."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        row = await conn.fetchrow(
            f"SELECT {', '.join(COUNTERS)} FROM pg_stat_database WHERE datname = $1", database
        )
        assert row is not None
        tables = await conn.fetch(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS written FROM pg_stat_user_tables"
        )
        found = {name: int(row[name]) for name in COUNTERS}
        return found | {f"table {t['relname']}": int(t["written"]) for t in tables}
    finally:
        await conn.close()


async def run(
    cameras: int, minutes: float, threshold: float | None, admin_dsn: str, say: Any
) -> dict[str, Any]:
    database = f"sg_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    base = admin_dsn.rsplit("/", 1)[0]
    url = base.replace("postgresql://", "postgresql+asyncpg://") + f"/{database}"
    try:
        with tempfile.TemporaryDirectory(prefix="shopguard-dbwrites-") as folder:
            settings = {
                "SHOPGUARD_DATABASE_URL": url,
                "SHOPGUARD_AUTH__INITIAL_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "SHOPGUARD_MEDIA_DIRS": json.dumps([str(PEOPLE_CLIP.parent)]),
            }
            server = ServerProcess.start(Path(folder) / "data", settings)
            try:
                await server.ready()
                return await _measure(server, cameras, minutes, threshold, base, database, say)
            finally:
                server.stop()
    finally:
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


async def _measure(
    server: ServerProcess,
    cameras: int,
    minutes: float,
    threshold: float | None,
    base: str,
    database: str,
    say: Any,
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url + "/api/v1", timeout=30) as http:
        body = {"username": "admin", "password": ADMIN_PASSWORD}
        token = (await http.post("/auth/login", json=body)).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        store = (await http.post("/stores", json={"name": "Bench"})).json()["id"]
        for n in range(cameras):
            camera = {
                "store_id": store,
                "name": f"Aisle {n + 1}",
                "source_kind": "file",
                "source_url": str(PEOPLE_CLIP),
                "threshold": threshold,
            }
            answer = await http.post("/cameras", json=camera)
            assert answer.status_code == 201, answer.text
        deadline = time.monotonic() + 300
        while True:
            listed = (await http.get("/cameras")).json()["data"]
            online = sum(1 for c in listed if c["status"] == "online")
            if online == cameras:
                break
            assert time.monotonic() < deadline, f"only {online} of {cameras} cameras online"
            await asyncio.sleep(1.0)
        dsn = base + f"/{database}"
        before = await counters(dsn, database)
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < minutes * 60:
            say(f"[db_writes] {elapsed / 60:4.1f} of {minutes} min")
            await asyncio.sleep(min(30.0, minutes * 60 - elapsed))
        after = await counters(dsn, database)
        alerts = (await http.get("/alerts", params={"limit": 200})).json()["data"]
    spent_min = (time.monotonic() - started) / 60
    per_camera_minute = {
        name: round((after[name] - before.get(name, 0)) / cameras / spent_min, 2)
        for name in after
        if after[name] != before.get(name, 0)
    }
    return {
        "cameras": cameras,
        "minutes": round(spent_min, 2),
        "threshold": threshold,
        "alerts": len(alerts),
        "per_camera_minute": per_camera_minute,
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/test")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        sys.stderr.write(line + "\n")

    result = asyncio.run(run(args.cameras, args.minutes, args.threshold, args.database_url, say))
    text = json.dumps(result, indent=2)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
