"""A real ShopGuard server in a child process, as a store runs it (`python -m server serve`),
for the benchmarks that must not share its event loop or its GIL: started on a free port of
127.0.0.1 with its settings in the environment, read from /proc while it runs, stopped with
SIGINT (an orderly shutdown). Its console output goes to `server.out` in its data folder.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

import server

ROOT = Path(server.__file__).resolve().parents[1]  # the checkout whose server runs
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class ProcessUsage:
    """One reading of a process from /proc (Linux)."""

    rss_mb: float
    open_files: int  # file descriptors: files, sockets, pipes
    threads: int
    cpu_s: float  # user + system since start, all threads
    main_cpu_s: float  # the same, of the main thread (the event loop's)


def process_usage(pid: int) -> ProcessUsage:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return ProcessUsage(
        rss_mb=int(status["VmRSS"].split()[0]) / 1024,
        open_files=len(os.listdir(f"/proc/{pid}/fd")),
        threads=int(status["Threads"]),
        cpu_s=_cpu_s(f"/proc/{pid}/stat"),
        main_cpu_s=_cpu_s(f"/proc/{pid}/task/{pid}/stat"),
    )


def _cpu_s(stat_file: str) -> float:
    with open(stat_file, encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(slots=True)
class ServerProcess:
    process: subprocess.Popen[bytes]
    base_url: str  # http://127.0.0.1:PORT
    data_dir: Path

    @classmethod
    def start(
        cls, data_dir: Path, settings: dict[str, str], *, wrap: list[str] | None = None
    ) -> ServerProcess:
        """`settings`: SHOPGUARD_* variables (the caller's own are dropped); `wrap`: a
        command the server runs under (`["-m", "cProfile", "-o", FILE]`)."""
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUARD_")}
        env |= {"SHOPGUARD_DATA_DIR": str(data_dir)} | settings
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, *(wrap or []), "-m", "server", "serve"]
        with open(data_dir / "server.out", "ab") as out:
            process = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(process, f"http://127.0.0.1:{port}", data_dir)

    async def ready(self, timeout_s: float = 120.0) -> None:
        """Wait until /api/v1/health answers (migrations and the first admin are done)."""
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited ({self.output_tail()})")
                try:
                    if (await http.get("/api/v1/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start ({self.output_tail()})")
                await asyncio.sleep(0.2)

    def usage(self) -> ProcessUsage:
        return process_usage(self.process.pid)

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGINT, as Ctrl-C; killed if it has not gone after `timeout_s`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def output_tail(self, lines: int = 20) -> str:
        text = (self.data_dir / "server.out").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])
