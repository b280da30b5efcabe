"""The `shopguard` command as an admin uses it: real processes on a real database."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SHOPGUARD = [sys.executable, "-m", "server"]


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SHOPGUARD, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUARD_")}
    env.update(
        SHOPGUARD_DATA_DIR=str(tmp_path / "data"),
        SHOPGUARD_DATABASE_URL=database_url,
        SHOPGUARD_AUTH__PASSWORD_HASH_MEMORY_KIB="8192",
    )
    return env


def one_time_password(output: str) -> str:
    match = re.search(r"one-time password(?: for '[^']+')?: (\S+)", output)
    assert match, output
    return match.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(cli_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`shopguard serve` in its own process: (base URL, the admin's printed password)."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*SHOPGUARD, "serve", "--port", str(port)],
            env=cli_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "Uvicorn running" not in log_path.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        text = log_path.read_text()
        assert "Uvicorn running" in text, text
        yield f"http://127.0.0.1:{port}", one_time_password(text)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_first_admin_store_camera_and_viewer(served: tuple[str, str], tmp_path: Path) -> None:
    """The README promise: health answers, the printed admin signs in and sets up a store."""
    base, password = served
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/api/v1/health").json()["status"] == "ok"
        tokens = http.post("/api/v1/auth/login", json={"username": "admin", "password": password})
        assert tokens.status_code == 200
        assert tokens.json()["must_change_password"] is True
        admin = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        assert http.get("/api/v1/stores", headers=admin).status_code == 403
        changed = http.post(
            "/api/v1/auth/password",
            headers=admin,
            json={"current_password": password, "new_password": "a-better-password"},
        )
        assert changed.status_code == 204
        store = http.post("/api/v1/stores", headers=admin, json={"name": "Corner shop"})
        assert store.status_code == 201
        entrance = {"store_id": store.json()["id"], "name": "Entrance", "source_kind": "file"}
        elsewhere = http.post(
            "/api/v1/cameras",
            headers=admin,
            json=entrance | {"source_url": "/srv/video/entrance.mp4"},
        )
        assert elsewhere.status_code == 422 and "media folder" in elsewhere.text
        media = tmp_path / "data" / "media" / "entrance.mp4"  # always a media folder
        camera = http.post(
            "/api/v1/cameras", headers=admin, json=entrance | {"source_url": str(media)}
        )
        assert camera.status_code == 201
        viewer = http.post(
            "/api/v1/users",
            headers=admin,
            json={
                "username": "clerk",
                "password": "clerk-password",
                "role": "viewer",
                "store_ids": [store.json()["id"]],
            },
        )
        assert viewer.status_code == 201


def test_user_commands(cli_env: dict[str, str]) -> None:
    created = run_cli(cli_env, "user", "create", "maria", "--role", "supervisor")
    assert created.returncode == 0, created.stderr
    assert "created supervisor 'maria'" in created.stdout

    duplicate = run_cli(cli_env, "user", "create", "maria")
    assert duplicate.returncode == 1
    assert "username 'maria' is taken" in duplicate.stderr

    reset = run_cli(cli_env, "user", "reset-password", "maria")
    assert reset.returncode == 0, reset.stderr
    assert one_time_password(reset.stdout) != one_time_password(created.stdout)

    disabled = run_cli(cli_env, "user", "disable", "maria")
    assert disabled.returncode == 0, disabled.stderr
    listing = run_cli(cli_env, "user", "list")
    assert re.search(r"maria\s+supervisor\s+disabled", listing.stdout), listing.stdout

    missing = run_cli(cli_env, "user", "disable", "nobody")
    assert missing.returncode == 1
    assert "no user named 'nobody'" in missing.stderr


def test_db_upgrade_is_idempotent(cli_env: dict[str, str]) -> None:
    for _ in range(2):
        result = run_cli(cli_env, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "database is up to date" in result.stdout


def test_invalid_settings_exit_with_a_message(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "SHOPGUARD_DETECTION__THRESHOLD": "7"}
    result = run_cli(env, "db", "upgrade")
    assert result.returncode == 2
    assert "invalid settings" in result.stderr
    assert "threshold" in result.stderr


def test_unreachable_database_is_a_clear_error(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "SHOPGUARD_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/shopguard"}
    result = run_cli(env, "user", "list")
    assert result.returncode == 1
    assert result.stderr.startswith("error: database unavailable")
    assert "Traceback" not in result.stderr


def test_serve_without_database_exits_with_a_masked_reason(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "SHOPGUARD_DATABASE_URL": "postgresql://shop:hunter2@127.0.0.1:1/shop"}
    result = run_cli(env, "serve", "--port", str(free_port()))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "cannot open the database at postgresql+asyncpg://shop:***@127.0.0.1:1/shop" in output
    assert "hunter2" not in output
