"""The app's tests run against the real server under uvicorn on 127.0.0.1 (SQLite, the
pipeline off), with two stores, their cameras and a supervisor and viewer for each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.served import Served, served

__all__ = ["Served", "served"]  # the fixture, for every test of the app


async def until(check: Callable[[], bool], within_s: float = 10.0) -> None:
    """Wait for `check` to hold (polled every 50 ms); fail after `within_s`."""
    for _ in range(int(within_s * 20)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {within_s} s")
