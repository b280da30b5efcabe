"""Analytics and the lines-and-zones editor end to end in headless Chromium (the web app,
the real server under uvicorn): on a phone the footfall, people now, the queue, time per
zone and the heatmap (its heat drawn where it was stored) show the stored figures, and on a
desktop the same with the rail; an admin draws a counting line with two clicks on a running
camera's picture and a zone by its corners, saves, the server has them, and the heatmap
shows over that camera's picture. With SHOPGUARD_SCREENSHOTS=1 the screens are saved to
docs/screenshots/."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.async_api import FloatRect, Page

from mobile.ui import ids
from server.config import LiveConfig
from server.records.analytics import CameraMinute
from shared.schemas.analytics import HEATMAP_COLS, HEATMAP_ROWS
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD
from tests.live.browser import chromium
from tests.live.camera import live_camera
from tests.mobile.conftest import Served
from tests.mobile.test_app_analytics import save, seed_analytics
from tests.mobile.test_app_browser_daily import (
    DESKTOP,
    PHONE,
    WAIT_MS,
    new_page,
    sign_in,
    wait_words,
)
from tests.mobile.web_app import by_id, running_web_app, tap, words_of
from tests.served import observer

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SAVE_SHOTS = os.environ.get("SHOPGUARD_SCREENSHOTS") == "1"

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def shot(page: Page, name: str) -> None:
    if SAVE_SHOTS:
        await page.mouse.move(1, 300)  # no tooltip of what was clicked last
        await page.wait_for_timeout(1000)  # let the frame settle
        await page.screenshot(path=str(SHOTS / f"{name}.png"))


async def scroll_to_top(page: Page, identifier: str, top: float = 70) -> None:
    """Scroll (the wheel over the screen's middle) until the control's top is `top` px
    down the screen, give or take a little, or the screen's end is reached."""
    before = None
    for _ in range(30):
        box = await by_id(page, identifier).first.bounding_box()
        if box is not None and (abs(box["y"] - top) <= 12 or box["y"] == before):
            return
        before = None if box is None else box["y"]
        await page.mouse.move(180, 400)
        await page.mouse.wheel(0, 250 if box is None else box["y"] - top)
        await page.wait_for_timeout(300)
    raise AssertionError(f"{identifier} never came to the top")


async def top_in_view(page: Page, identifier: str) -> bool:
    """The control's first lines are on the phone's screen, above the navigation bar."""
    box = await by_id(page, identifier).first.bounding_box()
    return box is not None and 0 <= box["y"] <= PHONE["height"] - 160


Cells = tuple[slice, slice]  # rows, columns of the heatmap's grid


async def red_share(page: Page, picture_box: FloatRect, cells: Cells) -> float:
    """The share of pixels that are clearly red (heat) over `cells` of the picture."""
    rows, cols = cells
    cell_w, cell_h = picture_box["width"] / HEATMAP_COLS, picture_box["height"] / HEATMAP_ROWS
    clip: FloatRect = {
        "x": picture_box["x"] + cols.start * cell_w,
        "y": picture_box["y"] + rows.start * cell_h,
        "width": (cols.stop - cols.start) * cell_w,
        "height": (rows.stop - rows.start) * cell_h,
    }
    picture = Image.open(io.BytesIO(await page.screenshot(clip=clip))).convert("RGB")
    r, g, b = np.asarray(picture, np.int16).transpose(2, 0, 1)
    return float(np.mean((r > 170) & (g < 110) & (b < 110)))


ON_THE_PATH: Cells = (slice(14, 19), slice(8, 16))
NEAR_ITS_MIDDLE: Cells = (slice(15, 18), slice(10, 14))


def heat_on_the_path(camera_id: int) -> CameraMinute:
    """A minute five minutes ago with people standing on the path in front of the camera."""
    heat = np.zeros((HEATMAP_ROWS, HEATMAP_COLS), np.float32)
    heat[ON_THE_PATH] = 30.0
    minute = (datetime.now(UTC) - timedelta(minutes=5)).replace(second=0, microsecond=0)
    return CameraMinute(
        camera_id=camera_id, minute_ts=minute.timestamp(), zones=(), lines=(), heat=heat
    )


async def test_analytics_shows_the_stored_figures_on_a_phone_and_a_desktop(
    served: Served,
) -> None:
    admin = observer(served)
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

            await scroll_to_top(page, ids.ANALYTICS_OCCUPANCY)  # now, the queue, the dwell
            await wait_words(page, ids.ANALYTICS_OCCUPANCY, "Aisle 1 · Till queue")
            assert "3 people at" in await words_of(by_id(page, ids.ANALYTICS_OCCUPANCY))
            queues = await words_of(by_id(page, ids.ANALYTICS_QUEUES))
            assert "3 in the queue now" in queues and "2m wait now" in queues, queues
            await wait_words(page, ids.ANALYTICS_DWELL, "4 visits")
            for shown in (ids.ANALYTICS_OCCUPANCY, ids.ANALYTICS_QUEUES, ids.ANALYTICS_DWELL):
                assert await top_in_view(page, shown), shown
            await shot(page, "analytics-phone-more")

            await scroll_to_top(page, ids.ANALYTICS_HEATMAP)  # all of the picture in view
            picture = by_id(page, ids.ANALYTICS_HEATMAP_PICTURE)
            assert "Heatmap of Aisle 1" in await words_of(picture)
            box = await picture.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100  # drawn
            await wait_words(page, ids.ANALYTICS_HEATMAP, "in view in all")
            by_the_till = (slice(11, 13), slice(21, 25))  # the middle of seed_analytics' heat
            assert await red_share(page, box, by_the_till) > 0.5  # the heat, drawn

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
            item = await by_id(page, ids.drawn_item(0)).bounding_box()
            assert item is not None and item["width"] <= box["width"] + 1  # buttons by names
            await shot(page, "lines-zones-editor")

            saved = (await camera.http.get(f"/api/v1/cameras/{camera.camera_id}")).json()
            await save(camera.runtime, saved["store_id"], heat_on_the_path(camera.camera_id))
            page = await new_page(browser, PHONE)
            await sign_in(page, app_url, camera.server.http_url, "admin", ADMIN_PASSWORD)
            await page.get_by_role("tab", name="Analytics").click()
            await wait_words(page, ids.ANALYTICS_FOOTFALL, "came in")
            await scroll_to_top(page, ids.ANALYTICS_HEATMAP)
            await wait_words(page, ids.ANALYTICS_HEATMAP, "in view in all")
            heatmap = await by_id(page, ids.ANALYTICS_HEATMAP_PICTURE).bounding_box()
            assert heatmap is not None and heatmap["height"] > 150  # the camera's 16:9 picture
            assert await red_share(page, heatmap, NEAR_ITS_MIDDLE) > 0.5  # the heat, drawn
            assert await red_share(page, heatmap, (slice(2, 6), slice(2, 6))) < 0.1  # not
            await shot(page, "analytics-heatmap")

    assert [line["name"] for line in saved["lines"]] == ["Line 1"]
    (ax, ay), (bx, by) = saved["lines"][0]["a"], saved["lines"][0]["b"]
    assert (ax, ay, bx, by) == pytest.approx((0.15, 0.75, 0.85, 0.75), abs=0.02)
    assert [(z["name"], z["kind"], len(z["polygon"])) for z in saved["zones"]] == [
        ("Zone 1", "queue", 4)
    ]
