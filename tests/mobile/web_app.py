"""The app as a web app (Flet's web server, offline: no CDN) in a subprocess, and helpers to
drive it in Chromium through Flutter's accessibility tree: controls are found by their
`Semantics` identifier (`[flt-semantics-identifier=…]`)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
from playwright.async_api import Locator, Page

from tests.s3_server import free_port


@contextlib.contextmanager
def running_web_app() -> Iterator[str]:
    """The app's address; it stops on exit."""
    port = free_port()
    env = dict(os.environ, FLET_FORCE_WEB_SERVER="1", FLET_WEB_NO_CDN="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "mobile", "--web", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start (exit {process.poll()})")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:  # it waits for its sessions to end
            process.kill()
            process.wait()


async def open_app(page: Page, url: str) -> None:
    """Load the app and turn on Flutter's accessibility tree (off until asked for)."""
    await page.goto(url)
    await page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
    await page.evaluate("document.querySelector('flt-semantics-placeholder').click()")


def by_id(page: Page, identifier: str) -> Locator:
    return page.locator(f"[flt-semantics-identifier='{identifier}']")


async def fill(page: Page, identifier: str, text: str) -> None:
    """Type into a text field. Flutter attaches its editing state to the DOM input a moment
    after the click and may overwrite what came before: check that the text stayed."""
    field = by_id(page, identifier).locator("input, textarea").first
    for _ in range(5):
        await field.click()
        await field.fill(text)
        await page.wait_for_timeout(250)
        if await field.input_value() == text:
            return
    raise AssertionError(f"{identifier} did not keep {text!r}")


async def tap(page: Page, identifier: str) -> None:
    target = by_id(page, identifier)
    inner = target.locator("[role=button], [flt-tappable]").first
    await (inner if await inner.count() else target).click()


async def words_of(locator: Locator) -> str:
    """What a screen reader says for it: its text and its nodes' labels."""
    return str(
        await locator.evaluate(
            "(e) => [e.getAttribute('aria-label') || '', e.innerText,"
            " ...Array.from(e.querySelectorAll('[aria-label]'))"
            ".map((n) => n.getAttribute('aria-label'))].join('\\n')"
        )
    )


async def text_of(page: Page, identifier: str) -> str:
    return (await by_id(page, identifier).inner_text()).strip()
