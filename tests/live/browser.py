"""Debian's Chromium, driven by Playwright, for the player page tests (started as the live
benchmarks start it). Requests that leave 127.0.0.1 are aborted.
Skips without Chromium, or fails under SHOPGUARD_TEST_REQUIRE_BROWSER=1."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Route

from server.bench.chromium import CHROMIUM
from server.bench.chromium import chromium as launch_chromium

REQUIRE_BROWSER = os.environ.get("SHOPGUARD_TEST_REQUIRE_BROWSER") == "1"


def need_chromium() -> None:
    if shutil.which(CHROMIUM) is None:
        reason = f"no {CHROMIUM}: run infra/scripts/install_test_tools.sh as root"
        if REQUIRE_BROWSER:
            pytest.fail(f"SHOPGUARD_TEST_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


async def _local_only(route: Route) -> None:
    host = route.request.url.split("/")[2].split(":")[0] if "//" in route.request.url else ""
    if host in ("127.0.0.1", "localhost") or not route.request.url.startswith("http"):
        await route.continue_()
    else:
        await route.abort()


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    need_chromium()
    async with launch_chromium() as browser:
        yield browser


async def local_page(browser: Browser):  # type: ignore[no-untyped-def]
    # bypass_csp: Playwright evaluates its checks as strings, which the page's CSP forbids
    context = await browser.new_context(viewport={"width": 360, "height": 800}, bypass_csp=True)
    await context.route("**/*", _local_only)
    return await context.new_page()
