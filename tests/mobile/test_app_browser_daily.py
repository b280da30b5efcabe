"""The app a store's staff open every day, end to end in headless Chromium (the web app, the
real server under uvicorn, alerts with real evidence): at phone size the feed with its
thumbnails, the clip playing, a one-tap outcome, sharing the evidence (the link downloads
the clip whose sha256 it gave, and the audit log names who shared it), dark mode and
Spanish; a fresh phone pairing by an invite's link, then switching between two servers;
and the same feed and detail at desktop size. With SHOPGUARD_SCREENSHOTS=1 each screen is
saved to docs/screenshots/."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image, ImageStat
from playwright.async_api import Browser, Page

from mobile.api.client import ApiClient
from mobile.api.invites import create_invite
from mobile.ui import ids
from server.app import create_app
from server.config import Settings
from shared.schemas.auth import Role
from shared.schemas.invites import InviteCreate
from tests.conftest import make_settings
from tests.evidence.test_share import Evidence, alert_with_evidence
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD, LiveServer, World, login, make_world
from tests.live.browser import chromium
from tests.mobile.web_app import by_id, fill, open_app, running_web_app, tap, words_of

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SAVE_SHOTS = os.environ.get("SHOPGUARD_SCREENSHOTS") == "1"
PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1280, "height": 800}
WAIT_MS = 30_000

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@dataclass
class Store:
    server: LiveServer
    world: World
    admin: ApiClient

    @property
    def address(self) -> str:
        return self.server.http_url


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    async with LiveServer.run(create_app(settings)) as server:
        async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
            world = await make_world(http, await login(http, "admin", ADMIN_PASSWORD))
        admin = ApiClient(server.http_url)
        await admin.login("admin", ADMIN_PASSWORD)
        try:
            yield Store(server, world, admin)
        finally:
            await admin.aclose()


async def shot(page: Page, name: str) -> None:
    if SAVE_SHOTS:
        await page.wait_for_timeout(1000)  # let the frame settle
        await page.screenshot(path=str(SHOTS / f"app-{name}.png"))


async def new_page(browser: Browser, viewport: dict[str, int]) -> Page:
    context = await browser.new_context(viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]
    return await context.new_page()


async def sign_in(page: Page, app_url: str, address: str, user: str, password: str) -> None:
    await open_app(page, app_url)
    await fill(page, ids.SERVER_ADDRESS, address)
    await fill(page, ids.USERNAME, user)
    await fill(page, ids.PASSWORD, password)
    await tap(page, ids.SIGN_IN)
    await by_id(page, ids.APP_TITLE).wait_for(timeout=WAIT_MS)


async def wait_words(page: Page, identifier: str, words: str) -> None:
    """Until the control's text (or label) holds `words`."""
    for _ in range(WAIT_MS // 100):
        target = by_id(page, identifier)
        if await target.count() and words in await words_of(target.first):
            return
        await page.wait_for_timeout(100)
    raise AssertionError(f"{identifier} never said {words!r}")


async def scroll_to(page: Page, identifier: str) -> None:
    """Scroll the screen (a finger's wheel over its middle) until the control is in view:
    Flutter builds what is off screen only when it comes into view."""
    height = (page.viewport_size or PHONE)["height"]
    for _ in range(30):
        target = by_id(page, identifier)
        box = await target.first.bounding_box() if await target.count() else None
        if box is not None and 60 <= box["y"] and box["y"] + box["height"] <= height - 90:
            return
        await page.mouse.move(180, height * 0.75)  # below any video, which takes the wheel
        await page.mouse.wheel(0, 250)
        await page.wait_for_timeout(200)
    raise AssertionError(f"{identifier} never came into view")


async def brightness(page: Page) -> float:
    """The screen's mean brightness, 0 (black) to 255 (white)."""
    picture = Image.open(io.BytesIO(await page.screenshot())).convert("L")
    return float(ImageStat.Stat(picture).mean[0])


async def test_a_phone_judges_an_alert_plays_its_clip_reviews_and_shares_it(
    store: Store, tmp_path: Path
) -> None:
    camera = store.world.cameras[0]
    made = await alert_with_evidence(store.server.runtime, camera, tmp_path / "a", annotated=True)
    await store.admin.send_test_alert(camera)  # an alert without pictures beside it
    thumbnails: list[tuple[int, str]] = []
    async with chromium() as browser, httpx.AsyncClient() as phone:
        with running_web_app() as app_url:
            page = await new_page(browser, PHONE)
            page.on(
                "response",
                lambda r: (
                    thumbnails.append((r.status, r.headers.get("content-type", "")))
                    if "thumbnail.jpg" in r.url
                    else None
                ),
            )
            await sign_in(page, app_url, store.address, "supervisor_a", NEW_PASSWORD)
            await wait_words(page, ids.APP_TITLE, "Downtown")
            await wait_words(page, ids.camera_row(camera), "2 alerts to review")
            await shot(page, "home-to-review")

            await page.get_by_role("tab", name="Alerts").click()
            row = by_id(page, ids.alert_row(made.alert_id))
            await row.wait_for(timeout=WAIT_MS)
            for _ in range(WAIT_MS // 100):  # its thumbnail, fetched by the browser
                if (200, "image/jpeg") in thumbnails:
                    break
                await page.wait_for_timeout(100)
            assert (200, "image/jpeg") in thumbnails, thumbnails
            words = await words_of(row)
            assert "Concealment" in words and "Aisle 1 · Downtown" in words, words
            assert "Very likely" in words and "New" in words, words
            await shot(page, "alerts")

            await tap(page, ids.alert_row(made.alert_id))
            await by_id(page, ids.CLIP_PLAYER).wait_for(timeout=WAIT_MS)
            await shot(page, "alert")
            await tap(page, ids.PLAY_CLIP)  # the snapshot is the poster until then
            await page.locator("video").first.wait_for(state="attached", timeout=WAIT_MS)
            await page.wait_for_function(
                "document.querySelector('video').currentTime > 0.5", timeout=WAIT_MS
            )  # the clip plays inline

            await fill(page, ids.NOTES, "left without paying")
            await tap(page, ids.outcome_button("confirmed_theft"))
            await wait_words(page, ids.REVIEW_RESULT, "Saved: Confirmed theft")

            await scroll_to(page, ids.SHARE_EVIDENCE)
            await tap(page, ids.SHARE_EVIDENCE)
            await wait_words(page, ids.SHARE_LINK, "/media/shared/")
            link = (await words_of(by_id(page, ids.SHARE_LINK))).strip().splitlines()[-1]
            await shot(page, "alert-shared")
            downloaded = await phone.get(link)
            assert downloaded.status_code == 200
            assert downloaded.content == made.files["clip.mp4"]
            sha256 = hashlib.sha256(downloaded.content).hexdigest()
            assert sha256 in await words_of(by_id(page, ids.SHARE_FACTS))
    stored = await store.admin.alert(made.alert_id)
    assert (stored.outcome, stored.notes) == ("confirmed_theft", "left without paying")
    audit = (await store.admin._send("GET", "/audit", params={"action": "evidence.share"})).json()
    assert [
        (e["username"], e["details"]["files"]["clip.mp4"]["sha256"]) for e in audit["data"]
    ] == [("supervisor_a", sha256)]


async def test_dark_mode_and_spanish_are_a_device_choice(store: Store) -> None:
    await store.admin.send_test_alert(store.world.cameras[0])
    async with chromium() as browser:
        with running_web_app() as app_url:
            page = await new_page(browser, PHONE)
            await sign_in(page, app_url, store.address, "supervisor_a", NEW_PASSWORD)
            await page.get_by_role("tab", name="Settings").click()
            await tap(page, ids.SECTION_APPEARANCE)
            light = await brightness(page)
            await tap(page, ids.THEME_MODE)
            await page.get_by_text("Dark", exact=True).last.click()
            for _ in range(50):
                if await brightness(page) < light / 2:
                    break
                await page.wait_for_timeout(100)
            assert await brightness(page) < light / 2 < 128 < light  # the screens went dark
            await shot(page, "settings-dark")

            await tap(page, ids.LANGUAGE)
            await page.get_by_text("Español", exact=True).last.click()
            await page.get_by_role("tab", name="Alertas").wait_for(timeout=WAIT_MS)
            await page.get_by_role("tab", name="Alertas").click()
            await page.get_by_text("Alerta de prueba").first.wait_for(timeout=WAIT_MS)
            await shot(page, "alerts-es-dark")

            again = await page.context.new_page()  # the app opened again on this device
            await open_app(again, app_url)
            await again.get_by_role("tab", name="Inicio").wait_for(timeout=WAIT_MS)
            for _ in range(50):  # the first frames may come before the theme
                if await brightness(again) < 128:
                    break
                await again.wait_for_timeout(100)
            assert await brightness(again) < 128


async def test_a_fresh_phone_pairs_by_invite_then_switches_servers(
    store: Store, tmp_path: Path
) -> None:
    other_settings = make_settings(tmp_path / "other", f"sqlite+aiosqlite:///{tmp_path}/o.db")
    async with LiveServer.run(create_app(other_settings)) as other:
        async with httpx.AsyncClient(base_url=other.http_url, timeout=30) as http:
            other_world = await make_world(http, await login(http, "admin", ADMIN_PASSWORD))
        async with (
            contextlib.aclosing(ApiClient(other.http_url)) as other_admin,
            chromium() as browser,
        ):
            await other_admin.login("admin", ADMIN_PASSWORD)
            await other_admin.send_test_alert(other_world.cameras[1])  # the Mall's camera
            with running_web_app() as app_url:
                invite = await create_invite(
                    store.admin,
                    InviteCreate(
                        role=Role.supervisor, store_ids=[store.world.stores[0]], app_url=app_url
                    ),
                )
                page = await new_page(browser, PHONE)
                await open_app(page, invite.link)  # the phone opened the invite's link
                await by_id(page, ids.INVITE_CODE).wait_for(timeout=WAIT_MS)
                typed = by_id(page, ids.INVITE_CODE)
                await typed.click()  # Flutter makes the field's DOM input when it has focus
                value = await typed.locator("input").first.input_value()
                assert value == invite.code  # filled in from the link
                await fill(page, ids.NEW_USERNAME, "new_clerk")
                await fill(page, ids.NEW_PASSWORD, "a long own password")
                await fill(page, ids.REPEAT_PASSWORD, "a long own password")
                await shot(page, "pairing")
                await tap(page, ids.JOIN)
                await wait_words(page, ids.APP_TITLE, "Downtown")

                await tap(page, ids.SERVER_MENU)  # a second store's server on the same phone
                await page.get_by_role("menuitem", name="Add a server").click()
                await fill(page, ids.SERVER_ADDRESS, other.http_url)
                await fill(page, ids.USERNAME, "supervisor_b")
                await fill(page, ids.PASSWORD, NEW_PASSWORD)
                await tap(page, ids.SIGN_IN)
                await wait_words(page, ids.APP_TITLE, "Mall")
                await page.get_by_role("tab", name="Alerts").click()
                await page.get_by_text("Test alert").first.wait_for(timeout=WAIT_MS)
                await shot(page, "servers")

                await tap(page, ids.SERVER_MENU)  # back to the first: still signed in
                first = page.get_by_role("menuitemcheckbox", name=urlsplit(store.address).netloc)
                await first.wait_for(timeout=WAIT_MS)
                await shot(page, "server-menu")
                await first.click()
                await wait_words(page, ids.APP_TITLE, "Downtown")


async def test_the_desktop_has_a_rail_and_the_same_feed(store: Store, tmp_path: Path) -> None:
    camera = store.world.cameras[0]
    made: Evidence = await alert_with_evidence(store.server.runtime, camera, tmp_path / "a")
    async with chromium() as browser:
        with running_web_app() as app_url:
            page = await new_page(browser, DESKTOP)
            await sign_in(page, app_url, store.address, "supervisor_a", NEW_PASSWORD)
            await page.locator("[role=button]", has_text="Alerts").first.click()  # the rail
            row = by_id(page, ids.alert_row(made.alert_id))
            await row.locator("[role=img]").first.wait_for(timeout=WAIT_MS)
            await tap(page, ids.alert_row(made.alert_id))
            await by_id(page, ids.CLIP_PLAYER).wait_for(timeout=WAIT_MS)
            await tap(page, ids.outcome_button("false_alarm"))
            await wait_words(page, ids.REVIEW_RESULT, "Saved: False alarm")
            await shot(page, "desktop-alert")


BIGGER_TEXT = """document.addEventListener('DOMContentLoaded', () => {
    document.documentElement.style.fontSize = '24px';  // the reader's text size: 150 %
});"""


async def test_text_follows_the_readers_text_size(store: Store, tmp_path: Path) -> None:
    made = await alert_with_evidence(store.server.runtime, store.world.cameras[0], tmp_path / "a")
    heights: list[float] = []
    async with chromium() as browser:
        with running_web_app() as app_url:
            for script in ("", BIGGER_TEXT):
                context = await browser.new_context(viewport=PHONE, bypass_csp=True)  # type: ignore[arg-type]
                if script:
                    await context.add_init_script(script)
                page = await context.new_page()
                await sign_in(page, app_url, store.address, "supervisor_a", NEW_PASSWORD)
                await page.get_by_role("tab", name="Alerts").click()
                row = by_id(page, ids.alert_row(made.alert_id))
                await row.wait_for(timeout=WAIT_MS)
                title = await by_id(page, ids.APP_TITLE).bounding_box()
                assert title is not None
                heights.append(title["height"])
                assert "Concealment" in await words_of(row)  # the feed still reads
                await shot(page, "alerts-large-text" if script else "alerts")
                await context.close()
    assert heights[1] > heights[0] * 1.3  # the app bar's words grew with the setting
