"""`shopguard serve --role ...` in processes of their own, as a deployment runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from server.bench.server_process import ROOT

START_S = 120.0  # a loaded CI box: migrations, the pose model, three processes at once


@dataclass
class Serving:
    """One server process; `start` again after `kill` or `terminate` (same port)."""

    name: str
    role: str
    port: int
    env: dict[str, str]
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUARD_")}
        env |= self.env | {
            "SHOPGUARD_DATA_DIR": str(self.folder / "data"),
            "SHOPGUARD_CLUSTER__WORKER_NAME": self.name,
            "SHOPGUARD_CLUSTER__ADVERTISE_URL": self.url,  # live views relayed here
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "serve.log").open("ab") as log:
            command = ["serve", "--role", self.role, "--host", "127.0.0.1"]
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", *command, "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_S
        with httpx.Client(timeout=2) as http:
            while True:
                assert self.process is not None and self.process.poll() is None, self.log()
                assert time.monotonic() < deadline, f"{self.name} not ready: {self.log()}"
                try:
                    if http.get(f"{self.url}/api/v1/ready").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no goodbye, its leases simply stop being renewed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self, chars: int = 3000) -> str:
        path = self.folder / "serve.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""
