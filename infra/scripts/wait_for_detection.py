"""Wait until a running server's demo camera tracks people and scores their behaviour.

The waiting half of `infra/scripts/check_first_run.sh` (CI's first step), run with
`.venv/bin/python` once `./infra/scripts/run.sh` serves. It signs in as the first admin with the
one-time password from `<data dir>/initial_admin_password.txt`, replaces that password with a
random one (the server allows nothing else before), finds "Demo camera" and polls
`GET /api/v1/pipeline/stats` until that camera reports people > 0 and a behaviour score in
the same reading. Exits 0 then, 1 with the reason otherwise. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_CAMERA = "Demo camera"  # server/demo.py
ADMIN = "admin"  # the first admin's default username (auth.initial_admin_username)
PASSWORD_FILE = "initial_admin_password.txt"
POLL_S = 5.0
DOWN_POLLS = 3  # readings in a row without an answer before the server counts as gone


class CheckFailed(Exception):
    """The server answered, but not with what a working first start shows."""


class SignedOut(CheckFailed):
    """HTTP 401: the token expired or its session ended."""


class ServerDown(Exception):
    """The server did not answer at all."""


def say(line: str) -> None:
    sys.stderr.write(f"[first-run] {line}\n")  # beside check_first_run.sh's own lines
    sys.stderr.flush()


@dataclass
class Api:
    """JSON over HTTP to `<base>/api/v1`, signed in as one user."""

    base: str
    token: str | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer (None for an empty one); CheckFailed on an error status."""
        headers = {"Content-Type": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base}/api/v1{path}", data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            failure = SignedOut if exc.code == 401 else CheckFailed
            raise failure(f"{method} {path}: HTTP {exc.code} {_error_message(exc)}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise ServerDown(f"{method} {path}: no answer ({exc})") from exc
        return json.loads(raw) if raw else None

    def sign_in(self, password: str) -> bool:
        """Sign in as the admin; True when the password must be changed first."""
        self.token = None
        pair = self.call("POST", "/auth/login", {"username": ADMIN, "password": password})
        self.token = pair["access_token"]
        return bool(pair["must_change_password"])


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read())["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return exc.reason


def sign_in_first_admin(api: Api, data_dir: Path) -> str:
    """Sign in with the one-time password, replacing it if required; return the password now."""
    path = data_dir / PASSWORD_FILE
    if not path.is_file():
        raise CheckFailed(
            f"{path} not found: this check signs in as the first admin of a fresh data directory"
        )
    password = path.read_text(encoding="utf-8").strip()
    if api.sign_in(password):
        new_password = secrets.token_urlsafe(18)
        body = {"current_password": password, "new_password": new_password}
        api.call("POST", "/auth/password", body)
        say("signed in as the first admin and replaced its one-time password, as required")
        password = new_password
        api.sign_in(password)  # changing the password ends the admin's sessions
    return password


def demo_camera_id(api: Api) -> int:
    cameras = api.call("GET", "/cameras")["data"]
    for camera in cameras:
        if camera["name"] == DEMO_CAMERA:
            return int(camera["id"])
    names = ", ".join(repr(c["name"]) for c in cameras) or "none"
    raise CheckFailed(
        f'the server has no "{DEMO_CAMERA}" (cameras: {names}): was the demo clip prepared? '
        "(infra/scripts/prepare_demo.sh says why not in run.sh's output)"
    )


def camera_row(stats: dict[str, Any], camera_id: int) -> dict[str, Any] | None:
    """The camera's pipeline counters; CheckFailed when the pipeline cannot ever score."""
    for error in (stats["analysis_error"], stats["behaviour_error"]):
        if error is not None:
            raise CheckFailed(error)
    if not stats["enabled"]:
        raise CheckFailed("the server runs no cameras (pipeline disabled)")
    rows = [row for row in stats["cameras"] if row["camera_id"] == camera_id]
    return rows[0] if rows else None


def wait_for_scored_people(api: Api, password: str, camera_id: int, deadline: float) -> None:
    """Poll the pipeline stats until the camera shows people and a score in one reading."""
    started = time.monotonic()
    unanswered = 0
    while True:
        elapsed = time.monotonic() - started
        try:
            stats = api.call("GET", "/pipeline/stats")
        except ServerDown:
            unanswered += 1
            if unanswered >= DOWN_POLLS:
                raise
            stats = None
        except SignedOut:
            api.sign_in(password)  # the access token expired: sign in again
            continue
        if stats is not None:
            unanswered = 0
            row = camera_row(stats, camera_id)
            if row is None:
                say(f"{elapsed:5.0f} s  camera {camera_id} not running yet")
            else:
                score = row["top_score"]
                shown = "none" if score is None else f"{score:.2f}"
                say(
                    f"{elapsed:5.0f} s  status {row['status']}  fps {row['fps']:.1f}  "
                    f"people {row['people']}  top score {shown}"
                )
                if row["people"] > 0 and score is not None:
                    return
        if time.monotonic() >= deadline:
            raise CheckFailed("the demo camera never showed people tracked and scored in time")
        time.sleep(POLL_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server's address")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="the server's data")
    parser.add_argument("--timeout-s", type=float, default=600, help="give up after this long")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout_s
    api = Api(args.url.rstrip("/"))
    try:
        password = sign_in_first_admin(api, args.data_dir)
        camera_id = demo_camera_id(api)
        say(f'polling the pipeline stats of "{DEMO_CAMERA}" (id {camera_id}) every {POLL_S:.0f} s')
        wait_for_scored_people(api, password, camera_id, deadline)
    except (CheckFailed, ServerDown) as exc:
        say(f"error: {exc}")
        return 1
    say(f'"{DEMO_CAMERA}" tracks people and scores their behaviour')
    return 0


if __name__ == "__main__":
    sys.exit(main())
