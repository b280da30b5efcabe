"""Fuzz the whole API against its own OpenAPI schema with schemathesis, as an admin and as a
viewer: no answer may be a server error (5xx) or break the schema (undeclared status,
content type or body shape).

Run by `infra/scripts/check_api_schema.sh` (which puts it in a network namespace of its
own, so nothing the fuzzer makes up can reach past 127.0.0.1). It starts `shopguard serve`
on a free port of 127.0.0.1 with a temporary data folder (SQLite), the video pipeline off
and a known admin password; adds a store, a camera (an RTSP address on 127.0.0.1 that
nothing serves) with a test alert, a DVR and a viewer of that store; then runs
`schemathesis run` over /openapi.json once with each token and stops the server, whatever
happened. Left out:
sign-out and password changes (they end the run's own session) and, through
`schemathesis_hooks.py`, changes to the two accounts signed in. Exits 0 when both runs
found nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # the venv's: shopguard and schemathesis beside python
API = "/api/v1"
ADMIN = "admin"
ADMIN_PASSWORD = "schema-check-admin-1"
VIEWER = "schema_viewer"
VIEWER_PASSWORDS = ("schema-check-viewer-1", "schema-check-viewer-2")  # one-time, then own
CAMERA_URL = "rtsp://127.0.0.1:9/nothing-serves-this"
DVR_URL_TEMPLATE = "rtsp://127.0.0.1:9/ch{channel}"
CHECKS = (
    "not_a_server_error",  # no 5xx
    "status_code_conformance",  # every status is one the operation declares
    "content_type_conformance",  # with a declared content type
    "response_schema_conformance",  # and a body of the declared shape
)
EXCLUDED_PATHS = (f"{API}/auth/logout", f"{API}/auth/password")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
MAX_LOG_LINES = 200  # of errors and their tracebacks
TAIL_LINES = 40  # of the log, when the check failed without one
OUR_FRAME = re.compile(r'^  File "(?!.*site-packages).*/(server|shared)/')
UVICORN_COPY = "Exception in ASGI application"
SHUTDOWN = "Application shutdown complete"  # uvicorn, once the lifespan has ended
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")  # server/logs.py


def say(line: str) -> None:
    sys.stderr.write(f"[api-schema] {line}\n")
    sys.stderr.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(work: Path, port: int) -> Iterator[str]:
    """`shopguard serve` on 127.0.0.1:port until the block ends; its output in work/server.log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUARD_")}
    env |= {
        "SHOPGUARD_DATA_DIR": str(work / "data"),
        "SHOPGUARD_PIPELINE__ENABLED": "false",
        "SHOPGUARD_AUTH__INITIAL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SHOPGUARD_AUTH__PASSWORD_HASH_MEMORY_KIB": "8192",  # still Argon2id, quicker sign-in
        "SHOPGUARD_LOGS__TO_FILE": "false",
    }
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "shopguard"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=work,  # no settings file or media of the checkout's own
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, server)
        yield base
    finally:
        stop(server, log_path, failed=sys.exc_info()[0] is not None)


def wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(base_url=base, trust_env=False, timeout=5) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited ({server.returncode}) before serving")
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{API}/health").status_code == 200:
                    return
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer /health within {START_TIMEOUT_S:.0f} s")


def stop(server: subprocess.Popen[bytes], log_path: Path, *, failed: bool) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; the log's errors (all its end on failure)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            say(f"the server did not stop within {STOP_TIMEOUT_S:.0f} s of SIGTERM: killed")
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    log = log_path.read_text(errors="replace").splitlines()
    errors = error_lines(log)
    say(f"server stopped ({server.returncode}); {len(errors)} error lines in its log")
    for line in log[-TAIL_LINES:] if failed and not errors else errors[:MAX_LOG_LINES]:
        say(f"  | {line[:300]}")


def error_lines(log: list[str]) -> list[str]:
    """The log's ERROR records, each with its traceback's frames in the project and its
    last lines (uvicorn's second copy of a request's exception left out)."""
    records: list[list[str]] = []
    for line in log:
        if LOG_RECORD.match(line):
            records.append([line])
        elif records:
            records[-1].append(line)
    kept: list[str] = []
    for header, *trace in records:
        if (" ERROR " not in header and " CRITICAL " not in header) or UVICORN_COPY in header:
            continue
        ours = [i for i, line in enumerate(trace) if OUR_FRAME.match(line)]
        shown = sorted({*ours, *(i + 1 for i in ours), *range(len(trace) - 3, len(trace))})
        kept += [header, *(trace[i] for i in shown if 0 <= i < len(trace))]
    return kept


def prepare(base: str) -> tuple[str, str, list[int]]:
    """A store with a camera, a test alert on it, a DVR of two channels and a viewer (so
    that ids 1 and 2 exist); the admin's and the viewer's tokens and user ids."""
    with httpx.Client(base_url=f"{base}{API}", trust_env=False, timeout=30) as client:
        admin = {"Authorization": f"Bearer {sign_in(client, ADMIN, ADMIN_PASSWORD)}"}
        store = post(client, "/stores", admin, {"name": "Schema store"})
        camera = post(
            client,
            "/cameras",
            admin,
            {
                "store_id": store["id"],
                "name": "Schema camera",
                "source_kind": "rtsp",
                "source_url": CAMERA_URL,
            },
        )
        post(client, f"/cameras/{camera['id']}/test-alert", admin, {})
        dvr = {"store_id": store["id"], "name": "Schema DVR", "channels": 2}
        post(client, "/dvrs", admin, dvr | {"url_template": DVR_URL_TEMPLATE})
        viewer = post(
            client,
            "/users",
            admin,
            {
                "username": VIEWER,
                "password": VIEWER_PASSWORDS[0],
                "role": "viewer",
                "store_ids": [store["id"]],
            },
        )
        pending = {"Authorization": f"Bearer {sign_in(client, VIEWER, VIEWER_PASSWORDS[0])}"}
        change = {"current_password": VIEWER_PASSWORDS[0], "new_password": VIEWER_PASSWORDS[1]}
        client.post("/auth/password", headers=pending, json=change).raise_for_status()
        viewer_token = sign_in(client, VIEWER, VIEWER_PASSWORDS[1])
        me = client.get("/auth/me", headers=admin).raise_for_status().json()
        return admin["Authorization"], f"Bearer {viewer_token}", [me["id"], viewer["id"]]


def sign_in(client: httpx.Client, username: str, password: str) -> str:
    answer = client.post("/auth/login", json={"username": username, "password": password})
    token: str = answer.raise_for_status().json()["access_token"]
    return token


def post(
    client: httpx.Client, path: str, headers: dict[str, str], body: dict[str, object]
) -> dict[str, object]:
    answer: dict[str, object] = (
        client.post(path, headers=headers, json=body).raise_for_status().json()
    )
    return answer


def fuzz(base: str, who: str, authorization: str, args: argparse.Namespace, work: Path) -> int:
    """One schemathesis run over the whole schema with this token; its exit status."""
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: {authorization}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
        "--request-timeout",
        "20",
        "--no-color",
        "--suppress-health-check",
        "all",  # a slow answer or a filtered case is no finding here
    ]
    for path in EXCLUDED_PATHS:
        command += ["--exclude-path", path]
    if args.reports is not None:
        command += ["--report", "junit", "--report-junit-path", str(args.reports / f"{who}.xml")]
    env = os.environ | {
        "PYTHONPATH": str(HERE),
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "SHOPGUARD_SCHEMA_KEEP_USERS": ",".join(str(i) for i in args.keep_users),
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }
    say(f"schemathesis as the {who}: {args.max_examples} examples an operation at most")
    started = time.monotonic()
    status = subprocess.run(command, env=env, cwd=work, check=False).returncode
    say(f"schemathesis as the {who}: exit {status} after {time.monotonic() - started:.0f} s")
    return status or still_signed_in(base, who, authorization)


def still_signed_in(base: str, who: str, authorization: str) -> int:
    """0 when the token still works as it did (the run did not end or limit its session,
    which would have left the rest of it testing refusals only); 1 otherwise."""
    with httpx.Client(base_url=f"{base}{API}", trust_env=False, timeout=30) as client:
        answer = client.get("/auth/me", headers={"Authorization": authorization})
    if answer.status_code == 200 and not answer.json()["must_change_password"]:
        return 0
    say(f"error: the {who}'s session ended or changed during the run: {answer.text[:200]}")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=30, help="Per operation and phase.")
    parser.add_argument("--seed", type=int, default=16, help="Same seed, same cases.")
    parser.add_argument("--workers", type=int, default=2, help="Requests in flight.")
    parser.add_argument(
        "--only", choices=("viewer", "admin"), default=None, help="One run, not both."
    )
    parser.add_argument(
        "--reports",
        type=Path,
        default=None,
        help="Folder for JUnit reports (admin.xml, viewer.xml).",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="shopguard-schema-") as tmp:
        work = Path(tmp)
        if args.reports is not None:
            args.reports = args.reports.resolve()
            args.reports.mkdir(parents=True, exist_ok=True)
        with serving(work, free_port()) as base:
            admin, viewer, args.keep_users = prepare(base)
            say(f"serving at {base}; admin, store, camera and viewer ready")
            statuses = [
                fuzz(base, who, token, args, work)
                for who, token in (("viewer", viewer), ("admin", admin))
                if args.only in (None, who)
            ]
        stopped = SHUTDOWN in (work / "server.log").read_text(errors="replace")
    took = time.monotonic() - started
    if not stopped:
        say("error: the server did not complete its shutdown")
    if any(statuses) or not stopped:
        say(f"failed after {took:.0f} s: see the failures above")
        return 1
    say(f"passed in {took:.0f} s: no server error, no schema violation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
