"""Debian's Chromium driven by Playwright (a dev dependency), headless, with the flags WebRTC
needs on loopback; shared by the live benchmarks and the browser tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from playwright.async_api import Browser, async_playwright

CHROMIUM = "/usr/bin/chromium"
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--enable-unsafe-swiftshader",  # software WebGL, which Flutter's web renderer draws with
]
LOOPBACK_WEBRTC = [
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=HEADLESS + LOOPBACK_WEBRTC
        )
        try:
            yield browser
        finally:
            await browser.close()
