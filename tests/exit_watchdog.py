"""After the last test: the summary is flushed, and if the process is still alive a minute
later (a thread a test left running, such as an unclosed aiosqlite connection, which is not a
daemon), every thread's stack is printed and the process exits with pytest's status instead
of hanging CI."""

from __future__ import annotations

import faulthandler
import os
import sys
import threading

import pytest

GRACE_S = 60.0
_status = {"code": 0}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _status["code"] = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    threading.Thread(target=_exit_if_hung, name="exit-watchdog", daemon=True).start()


def _exit_if_hung() -> None:
    threading.Event().wait(GRACE_S)
    stuck = [t.name for t in threading.enumerate() if not t.daemon and t.is_alive()]
    sys.stderr.write(
        f"\nexit-watchdog: still running {GRACE_S:.0f} s after the tests ended; "
        f"non-daemon threads: {', '.join(stuck)}; their stacks:\n"
    )
    sys.stderr.flush()
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    sys.stdout.flush()
    os._exit(_status["code"])
