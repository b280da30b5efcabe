"""Progress of long backup and restore work: stages, each with bytes done out of a total."""

from __future__ import annotations

import sys
from typing import Any, Protocol

import typer


class Progress(Protocol):
    def stage(self, label: str, total: int | None) -> None:
        """A new stage begins (`total` bytes, or None when its size is unknown)."""
        ...

    def advance(self, done: int) -> None:
        """`done` more bytes of the current stage are through."""
        ...

    def close(self) -> None:
        """The work is over (or failed): end any bar."""
        ...


class _Silent:
    def stage(self, label: str, total: int | None) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def close(self) -> None:
        pass


NO_PROGRESS: Progress = _Silent()


class TerminalProgress:
    """A bar per stage on stderr (typer's, which is click's: no bar, one line, off a
    terminal), so stdout keeps only the result."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._pending = 0
        self._step = 1

    def stage(self, label: str, total: int | None) -> None:
        self.close()
        if total is None:
            typer.echo(f"{label}…", err=True)
            return
        self._bar = typer.progressbar(length=max(total, 1), label=label, file=sys.stderr)
        self._bar.__enter__()
        self._step = max(total // 500, 1 << 20)  # redraw every 0.2% or MB, not every read

    def advance(self, done: int) -> None:
        self._pending += done
        if self._bar is not None and self._pending >= self._step:
            self._bar.update(self._pending)
            self._pending = 0

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(self._pending)
            self._bar.__exit__(None, None, None)
            self._bar = None
        self._pending = 0
