"""Loss value end to end in headless Chromium (the web app, the real server under uvicorn, an
alert with real evidence): at phone size a supervisor reviews a theft, types the goods'
value in the store's currency and saves it; the server holds it, and Stats' Losses adds it
to what was recorded before. With SHOPGUARD_SCREENSHOTS=1 the two screens are saved to
docs/screenshots/alert-value.png and stats-losses.png."""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page

from mobile.api.client import ApiClient
from mobile.ui import ids, losses
from mobile.ui.alert_detail import GOODS_FACT, GOODS_VALUE, SAVE_GOODS
from server.storage.models import utcnow
from shared.schemas.alerts import AlertOutcome
from tests.evidence.test_share import alert_with_evidence
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD, add_alert
from tests.live.browser import chromium
from tests.mobile.conftest import Served
from tests.mobile.test_app_browser_daily import PHONE, new_page, sign_in
from tests.mobile.web_app import by_id, fill, running_web_app, tap, words_of
from tests.served import observer

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SAVE_SHOTS = os.environ.get("SHOPGUARD_SCREENSHOTS") == "1"
WAIT_MS = 30_000

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def shot(page: Page, name: str) -> None:
    if SAVE_SHOTS:
        await page.wait_for_timeout(1000)  # let the frame settle
        await page.screenshot(path=str(SHOTS / f"{name}.png"))


async def wait_words(page: Page, identifier: str, words: str) -> str:
    """Until the control's text (or label) holds `words`; what it says then."""
    said = ""
    for _ in range(WAIT_MS // 100):
        target = by_id(page, identifier)
        if await target.count():
            said = await words_of(target.first)
            if words in said:
                return said
        await page.wait_for_timeout(100)
    raise AssertionError(f"{identifier} never said {words!r}; it said {said!r}")


async def scroll_to(page: Page, identifier: str) -> None:
    """Scroll the screen (a finger's wheel over its lower part) until the control is in
    view: Flutter builds what is off screen only when it comes into view."""
    height = PHONE["height"]
    for _ in range(40):
        target = by_id(page, identifier)
        box = await target.first.bounding_box() if await target.count() else None
        if box is not None and 60 <= box["y"] and box["y"] + box["height"] <= height - 90:
            return
        await page.mouse.move(180, height * 0.75)  # below any video, which takes the wheel
        await page.mouse.wheel(0, 200)
        await page.wait_for_timeout(200)
    raise AssertionError(f"{identifier} never came into view")


async def earlier_values(served: Served, admin: ApiClient) -> None:
    """What the store recorded before: a recovered theft and a deterred incident."""
    camera = served.world.cameras[0]
    for days_ago, outcome, value, recovered in (
        (3, AlertOutcome.confirmed_theft, "120.00", True),
        (2, AlertOutcome.deterred, "35.50", None),
    ):
        alert = await add_alert(
            served.runtime, camera, started_at=utcnow() - timedelta(days=days_ago)
        )
        fresh = await admin.alert(alert.id)
        await admin.review_goods(
            fresh, outcome=outcome, goods_value=Decimal(value), goods_recovered=recovered
        )


async def test_a_supervisor_records_a_theft_value_and_stats_count_it(
    served: Served, tmp_path: Path
) -> None:
    async with (
        httpx.AsyncClient(base_url=served.address, timeout=30) as http,
        contextlib.aclosing(observer(served)) as admin,
    ):
        await admin.login("admin", ADMIN_PASSWORD)
        assert admin.tokens is not None
        changed = await http.patch(
            f"/api/v1/stores/{served.world.stores[0]}",
            headers={"Authorization": f"Bearer {admin.tokens.access_token}"},
            json={"currency": "EUR"},
        )
        assert changed.status_code == 200, changed.text
        await earlier_values(served, admin)
        made = await alert_with_evidence(served.runtime, served.world.cameras[0], tmp_path / "a")

        async with chromium() as browser:
            with running_web_app() as app_url:
                page = await new_page(browser, PHONE)
                await sign_in(page, app_url, served.address, "supervisor_a", NEW_PASSWORD)
                await page.get_by_role("tab", name="Alerts").click()
                await by_id(page, ids.alert_row(made.alert_id)).wait_for(timeout=WAIT_MS)
                await tap(page, ids.alert_row(made.alert_id))
                await by_id(page, ids.CLIP_PLAYER).wait_for(timeout=WAIT_MS)

                await tap(page, ids.outcome_button("confirmed_theft"))
                await wait_words(page, ids.REVIEW_RESULT, "Saved: Confirmed theft")
                await scroll_to(page, GOODS_VALUE)
                label = await words_of(by_id(page, GOODS_VALUE).first)
                assert "Value of the stolen goods" in label, label
                await fill(page, GOODS_VALUE, "249.90")
                await scroll_to(page, SAVE_GOODS)
                await tap(page, SAVE_GOODS)
                await wait_words(page, ids.REVIEW_RESULT, "Saved: the goods' value")
                await scroll_to(page, GOODS_FACT)
                await wait_words(page, GOODS_FACT, "Stolen goods: €249.90, not recovered")
                await page.mouse.move(180, PHONE["height"] * 0.75)
                await page.mouse.wheel(0, 160)  # the value, the switch and Save in view
                await shot(page, "alert-value")

                stored = await admin.alert(made.alert_id)
                assert (stored.outcome, stored.goods_value, stored.goods_recovered) == (
                    AlertOutcome.confirmed_theft,
                    Decimal("249.90"),
                    False,
                )
                assert stored.currency == "EUR"

                await page.get_by_role("tab", name="Stats").click()
                euros = losses.loss_totals("EUR")
                await scroll_to(page, euros)
                said = await wait_words(page, euros, "€249.90")
                # prevented: 120.00 recovered + 35.50 at risk; lost: this theft
                assert "€155.50" in said and "1 theft not recovered" in said, said
                assert "1 deterred · 1 recovered" in said, said
                store = losses.loss_store(served.world.stores[0])
                await scroll_to(page, store)
                said = await wait_words(page, store, "Prevented: €155.50")
                assert "Lost: €249.90" in said and "Downtown" in said, said
                await scroll_to(page, losses.loss_months("EUR"))
                await shot(page, "stats-losses")
