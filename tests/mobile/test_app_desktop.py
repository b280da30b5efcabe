"""The app on a desktop-sized browser window, against the real server under uvicorn: the
navigation is a rail at the left, and an admin adds a camera in Settings after the server
has tested its source (a real video file on the server). Screenshots at this size go to
docs/screenshots/ when SHOPGUARD_SCREENSHOTS=1."""

from __future__ import annotations

import pytest

from mobile.ui import ids
from tests.helpers import ADMIN_PASSWORD
from tests.live.browser import chromium, need_chromium
from tests.mobile.conftest import Served
from tests.mobile.test_app_browser import shot
from tests.mobile.web_app import by_id, fill, open_app, running_web_app, tap, text_of
from tests.pipeline.conftest import PEOPLE_CLIP
from tests.served import observer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_desktop_rail_and_an_admin_adds_a_camera(served: Served) -> None:
    need_chromium()
    async with chromium() as browser:
        with running_web_app() as app_url:
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            page = await context.new_page()
            await open_app(page, app_url)
            await fill(page, ids.SERVER_ADDRESS, served.address)
            await fill(page, ids.USERNAME, "admin")
            await fill(page, ids.PASSWORD, ADMIN_PASSWORD)
            await tap(page, ids.SIGN_IN)
            await by_id(page, ids.camera_row(served.world.cameras[0])).wait_for(timeout=30_000)
            await shot(page, "desktop-home")
            assert await page.get_by_role("tab", name="Alerts").count() == 0  # no bottom bar

            await page.locator("[role=button]", has_text="Settings").first.click()  # the rail
            await tap(page, ids.SECTION_CAMERAS)  # unfold the section
            await tap(page, ids.ADD_CAMERA)
            await fill(page, ids.CAMERA_NAME, "Back door")
            await tap(page, ids.CAMERA_KIND)
            await page.locator("[role=button]", has_text="Video file on the server").click()
            await fill(page, ids.CAMERA_SOURCE, str(PEOPLE_CLIP))
            await tap(page, ids.CAMERA_TEST)
            await page.wait_for_function(
                f"document.querySelector(\"[flt-semantics-identifier='{ids.CAMERA_TEST_RESULT}']\")"
                "?.innerText.startsWith('Works')",
                timeout=30_000,
            )
            assert "h264 640x360" in await text_of(page, ids.CAMERA_TEST_RESULT)
            await shot(page, "desktop-camera")
            await tap(page, ids.CAMERA_SAVE)
            await by_id(page, ids.CAMERA_SAVE).wait_for(state="detached", timeout=20_000)
            admin = observer(served)
            await admin.login("admin", ADMIN_PASSWORD)
            added = next(c for c in (await admin.cameras()).data if c.name == "Back door")
            await admin.aclose()
            assert (added.source_kind.value, added.source_url) == ("file", str(PEOPLE_CLIP))
