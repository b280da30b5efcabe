"""Analytics and the lines-and-zones editor end to end in headless Chromium (the web app,
the real server under uvicorn): on a phone the footfall, people now, the queue, time per
zone and the heatmap's picture show the stored figures, and on a desktop the same with the
rail; an admin draws a counting line with two clicks on a running camera's picture and a
zone by its corners, saves, and the server has them. With SHOPGUARD_SCREENSHOTS=1 the
screens are saved to docs/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Page

from mobile.api.client import ApiClient
from mobile.ui import ids
from server.config import LiveConfig
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD
from tests.live.browser import chromium
from tests.live.camera import live_camera
from tests.mobile.conftest import Served
from tests.mobile.test_app_analytics import seed_analytics
from tests.mobile.test_app_browser_daily import (
    DESKTOP,
    PHONE,
    WAIT_MS,
    new_page,
    scroll_to,
    sign_in,
    wait_words,
)
from tests.mobile.web_app import by_id, running_web_app, tap, words_of

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SAVE_SHOTS = os.environ.get("SHOPGUARD_SCREENSHOTS") == "1"

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def shot(page: Page, name: str) -> None:
    if SAVE_SHOTS:
        await page.mouse.move(1, 300)  # no tooltip of what was clicked last
        await page.wait_for_timeout(1000)  # let the frame settle
        await page.screenshot(path=str(SHOTS / f"{name}.png"))


async def test_analytics_shows_the_stored_figures_on_a_phone_and_a_desktop(
    served: Served,
) -> None:
    admin = ApiClient(served.address)
    await admin.login("admin", ADMIN_PASSWORD)
    await seed_analytics(served, admin)
    await admin.aclose()
    async with chromium() as browser:
        with running_web_app() as app_url:
            page = await new_page(browser, PHONE)
            await sign_in(page, app_url, served.address, "supervisor_a", NEW_PASSWORD)
            await page.get_by_role("tab", name="Analytics").click()
            await wait_words(page, ids.ANALYTICS_FOOTFALL, "came in")
            footfall = await words_of(by_id(page, ids.ANALYTICS_FOOTFALL))
            assert "17" in footfall and "14" in footfall and "went out" in footfall, footfall
            await shot(page, "analytics-phone")

            await scroll_to(page, ids.ANALYTICS_OCCUPANCY)
            await wait_words(page, ids.ANALYTICS_OCCUPANCY, "Aisle 1 · Till queue")
            assert "3 people at" in await words_of(by_id(page, ids.ANALYTICS_OCCUPANCY))
            await scroll_to(page, ids.ANALYTICS_QUEUES)
            queues = await words_of(by_id(page, ids.ANALYTICS_QUEUES))
            assert "in the queue now" in queues and "2m" in queues, queues
            await scroll_to(page, ids.ANALYTICS_HEATMAP_PICTURE)
            picture = by_id(page, ids.ANALYTICS_HEATMAP_PICTURE)
            assert "Heatmap of Aisle 1" in await words_of(picture)
            box = await picture.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100  # drawn
            await scroll_to(page, ids.ANALYTICS_DWELL)
            assert "4 visits" in await words_of(by_id(page, ids.ANALYTICS_DWELL))

            page = await new_page(browser, DESKTOP)
            await sign_in(page, app_url, served.address, "supervisor_a", NEW_PASSWORD)
            await page.locator("[role=button]", has_text="Analytics").first.click()  # the rail
            await wait_words(page, ids.ANALYTICS_FOOTFALL, "came in")
            await shot(page, "analytics-desktop")


async def test_an_admin_draws_a_line_and_a_zone_with_clicks_and_saves_them(
    tmp_path: Path, database_url: str
) -> None:
    async with live_camera(tmp_path, database_url, LiveConfig()) as camera, chromium() as browser:
        with running_web_app() as app_url:
            page = await new_page(browser, DESKTOP)
            await sign_in(page, app_url, camera.server.http_url, "admin", ADMIN_PASSWORD)
            await page.locator("[role=button]", has_text="Settings").first.click()
            await tap(page, ids.SECTION_CAMERAS)
            await by_id(page, ids.lines_zones_button(camera.camera_id)).wait_for(timeout=WAIT_MS)
            await tap(page, ids.lines_zones_button(camera.camera_id))
            await wait_words(page, ids.LINES_ZONES_HELP, "towards its arrow")
            picture = by_id(page, ids.LINES_ZONES_PICTURE)
            for _ in range(WAIT_MS // 100):  # sized to the camera's picture: 16:9
                box = await picture.bounding_box()
                if box is not None and abs(box["height"] / box["width"] - 360 / 640) < 0.01:
                    break
                await page.wait_for_timeout(100)
            box = await picture.bounding_box()
            assert box is not None

            async def click_at(x: float, y: float) -> None:
                assert box is not None
                await page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])

            await tap(page, ids.ADD_LINE)
            await wait_words(page, ids.LINES_ZONES_HELP, "Tap one end")
            await click_at(0.15, 0.75)
            await wait_words(page, ids.LINES_ZONES_HELP, "Now tap the other end")
            await click_at(0.85, 0.75)
            await wait_words(page, ids.LINES_ZONES_RESULT, "Line added")

            await tap(page, ids.ADD_ZONE)
            corners = ((0.55, 0.15), (0.9, 0.15), (0.9, 0.6), (0.55, 0.6))
            for count, (x, y) in enumerate(corners, start=1):
                await click_at(x, y)
                await wait_words(page, ids.LINES_ZONES_HELP, f"({count} so far)")
            await tap(page, ids.DRAWING_KIND)
            await page.get_by_text("checkout queue", exact=True).last.click()
            await tap(page, ids.FINISH_ZONE)
            await wait_words(page, ids.LINES_ZONES_RESULT, "Zone added")
            await tap(page, ids.SAVE_LINES_ZONES)
            await wait_words(page, ids.LINES_ZONES_RESULT, "Saved.")
            await shot(page, "lines-zones-editor")

        saved = (await camera.http.get(f"/api/v1/cameras/{camera.camera_id}")).json()
    assert [line["name"] for line in saved["lines"]] == ["Line 1"]
    (ax, ay), (bx, by) = saved["lines"][0]["a"], saved["lines"][0]["b"]
    assert (ax, ay, bx, by) == pytest.approx((0.15, 0.75, 0.85, 0.75), abs=0.02)
    assert [(z["name"], z["kind"], len(z["polygon"])) for z in saved["zones"]] == [
        ("Zone 1", "queue", 4)
    ]
