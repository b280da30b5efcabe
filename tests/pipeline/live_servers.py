"""Live cameras for tests: a GStreamer RTSP server in a subprocess, an MJPEG-over-HTTP server.

Both are real servers on 127.0.0.1 that a `CameraSource` reads like a camera on the LAN.
The RTSP one can be killed and restarted on the same port, or frozen with SIGSTOP (its TCP
connections stay open but carry nothing), as cameras and DVRs do in the field.
"""

from __future__ import annotations

import functools
import http.server
import os
import select
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

GST_PYTHON = Path("/usr/bin/python3")  # Debian's python3-gi imports only under this one
RTSP_SCRIPT = Path(__file__).with_name("rtsp_server.py")
REQUIRE_RTSP = os.environ.get("SHOPGUARD_TEST_REQUIRE_RTSP") == "1"


@functools.cache
def rtsp_unavailable() -> str | None:
    """Why the RTSP test server cannot run here, or None when it can."""
    hint = "run infra/scripts/install_test_tools.sh as root"
    if not GST_PYTHON.is_file():
        return f"{GST_PYTHON} is missing ({hint})"
    try:
        done = subprocess.run(
            [GST_PYTHON, RTSP_SCRIPT, "--check"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{RTSP_SCRIPT.name} --check did not run: {exc}"
    if done.returncode != 0:
        reason = (done.stdout + done.stderr).strip().splitlines() or ["no reason given"]
        return f"{reason[-1]} ({hint})"
    return None


class _Running:
    """`with server:` starts it and stops it, whatever happens inside."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RtspServer(_Running):
    """`rtsp_server.py` serving `video` in a loop at rtsp://127.0.0.1:{port}/{name}.

    The first `start()` picks a free port; later ones reuse it, like a camera that reboots.

    Example:
        with RtspServer(clip) as server:
            source = CameraSource(1, server.url(), PacketRing(10.0)); server.stop()
    """

    def __init__(self, video: Path, name: str = "cam", port: int = 0) -> None:
        self.video = video
        self.name = name
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def url(self, credentials: str | None = None) -> str:
        """The stream's address, with `user:password@` when `credentials` is given."""
        user_info = f"{credentials}@" if credentials else ""
        return f"rtsp://{user_info}127.0.0.1:{self.port}/{self.name}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 20.0) -> None:
        """Start serving and return once it listens; raises RuntimeError with its stderr."""
        if self._process is not None:
            raise RuntimeError("the RTSP server is already started")
        self._log = tempfile.TemporaryFile()
        command: list[str | Path] = [GST_PYTHON, RTSP_SCRIPT, self.video, "--port", str(self.port)]
        self._process = subprocess.Popen(
            [*command, "--name", self.name], stdout=subprocess.PIPE, stderr=self._log
        )
        stdout = self._process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout_s
        line = b""
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            if select.select([stdout], [], [], 0.1)[0]:
                chunk = stdout.readline()
                if not chunk:  # the server exited
                    break
                line += chunk
        if not line.startswith(b"READY "):
            failure = self._stderr() or f"no READY within {timeout_s:g}s"
            self.stop()
            raise RuntimeError(f"RTSP server on port {self.port} did not start: {failure}")
        self.port = int(line.split()[1])

    def stop(self) -> None:
        """Kill the server at once (no RTSP teardown), as a power cut would; idempotent."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.kill()  # SIGKILL also ends a SIGSTOPped process
            process.wait(10)
            if process.stdout is not None:
                process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open, nothing is sent or answered."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Undo `pause()` (SIGCONT)."""
        self._signal(signal.SIGCONT)

    def _signal(self, signum: signal.Signals) -> None:
        if self._process is None or self._process.poll() is not None:
            raise RuntimeError("the RTSP server is not running")
        self._process.send_signal(signum)

    def _stderr(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace").strip()


class MjpegServer(_Running):
    """Serves `jpegs` in a loop as `multipart/x-mixed-replace` at `fps`, like an IP camera.

    Any path answers with the stream; each client gets its own loop from the first image.

    Example:
        with MjpegServer(jpeg_frames(clip), fps=10.0) as server:
            source = CameraSource(1, server.url, PacketRing(10.0))
    """

    BOUNDARY = "shopguardframe"

    def __init__(self, jpegs: list[bytes], fps: float = 10.0) -> None:
        if not jpegs:
            raise ValueError("jpegs: at least one image is needed")
        self.jpegs = jpegs
        self.fps = fps
        self.clients = 0  # connections served so far
        self._stopped = threading.Event()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = False  # `stop()` joins the streaming threads
        self._thread = threading.Thread(target=self._server.serve_forever, name="mjpeg-server")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/stream"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, end every stream and wait for their threads."""
        self._stopped.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 5.0  # a client that stops reading cannot hold `stop()` for long

            def do_GET(self) -> None:
                server.clients += 1
                self.send_response(200)
                self.send_header(
                    "Content-Type", f"multipart/x-mixed-replace; boundary={server.BOUNDARY}"
                )
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                interval, due, index = 1.0 / server.fps, time.monotonic(), 0
                while not server._stopped.wait(max(0.0, due - time.monotonic())):
                    jpeg = server.jpegs[index % len(server.jpegs)]
                    part = (
                        f"--{server.BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(jpeg)}\r\n\r\n"
                    ).encode()
                    try:
                        self.wfile.write(part + jpeg + b"\r\n")
                        self.wfile.flush()
                    except OSError:
                        return  # the client went away or stopped reading
                    index, due = index + 1, due + interval

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the tests assert on what the client sees

        return Handler
