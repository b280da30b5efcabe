"""The app's screens in process against the real server: signing in (and what a wrong
address or password says), the alert list updating from a live event with the unread
badge, review allowed for supervisors and refused to viewers, settings validation, and the
screens' error states."""

from __future__ import annotations

import flet as ft
import pytest

from mobile.app import ALERTS, SETTINGS
from mobile.state.preferences import MemoryPreferences
from mobile.ui.alert_detail import AlertDetail
from server.app import create_app
from server.config import Settings
from shared.schemas.alerts import AlertOutcome, AlertStatus
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD, LiveServer
from tests.mobile.conftest import Served, until
from tests.mobile.flet_session import AppUnderTest, running_app
from tests.s3_server import free_port
from tests.served import observer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def sign_in(ui: AppUnderTest, address: str, user: str, password: str) -> None:
    login = ui.app.login
    assert login is not None
    ui.type(login.address, address)
    ui.type(login.username, user)
    ui.type(login.password, password)
    await ui.click(login.sign_in)


async def test_sign_in_says_what_is_wrong_then_keeps_the_session(served: Served) -> None:
    preferences = MemoryPreferences()
    async with running_app(preferences) as ui:
        login = ui.app.login
        assert login is not None and ui.shows("Server address")
        ui.type(login.address, f"127.0.0.1:{free_port()}")
        await ui.click(login.check)
        assert login.result.value.startswith("nothing answers at http://127.0.0.1:")
        ui.type(login.address, served.address)
        await ui.click(login.check)
        assert login.result.value == "ShopGuard 0.1.0 answers: sign in below"
        await sign_in(ui, served.address, "admin", "not-the-password")
        assert "wrong username or password" in login.error.value
        await sign_in(ui, served.address, "admin", ADMIN_PASSWORD)
        await until(lambda: ui.shows("Aisle 1") and ui.shows("Aisle 2"))  # Home
        assert ui.page.navigation_bar is ui.app.navigation.bar
        assert ui.shows("Downtown") and ui.shows("Mall")
    async with running_app(preferences) as again:  # the app reopened: still signed in
        await until(lambda: again.shows("Aisle 1"))
        assert again.app.account.me is not None and again.app.account.me.username == "admin"


async def test_a_new_alert_appears_at_the_top_with_an_unread_badge(served: Served) -> None:
    async with running_app() as ui:
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        await until(lambda: ui.shows("Aisle 1"))
        await ui.app.show_tab(ALERTS)
        await until(lambda: ui.shows("No alerts for these filters."))
        await ui.app.show_tab(0)  # Home: the badge counts what is new
        await until(lambda: ui.app.link.value == "")  # the live link is up
        admin = observer(served)
        await admin.login("admin", ADMIN_PASSWORD)
        first = await admin.send_test_alert(served.world.cameras[0])
        await admin.send_test_alert(served.world.cameras[1])  # another store: not shown
        await until(lambda: ui.app.navigation.unread_badge is not None)
        assert ui.invoked(ui.app.attention.chime) == ["play"]  # a chime, once
        assert ui.app.navigation.unread_badge == "1"
        await ui.app.show_tab(ALERTS)
        await until(lambda: ui.shows("Test alert") and ui.shows("Aisle 1 · Downtown"))
        assert ui.app.navigation.unread_badge is None  # seen
        second = await admin.send_test_alert(served.world.cameras[0])
        await until(lambda: len(ui.app.book.visible()) == 2)
        assert [a.id for a in ui.app.book.visible()] == [second.id, first.id]  # newest first
        await admin.aclose()


async def test_supervisors_review_and_viewers_only_read(served: Served) -> None:
    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    alert = await admin.send_test_alert(served.world.cameras[0])
    await admin.aclose()
    async with running_app() as ui:
        await sign_in(ui, served.address, "viewer_a", NEW_PASSWORD)
        await until(lambda: ui.shows("Aisle 1"))
        await ui.app.open_alert(alert.id)
        assert ui.shows("Viewers can read alerts; supervisors review them.")
        assert isinstance(ui.app.detail, AlertDetail) and not ui.shows("What happened?")
    async with running_app(route=f"/alerts/{alert.id}") as ui:  # as a push opens it
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        await until(lambda: ui.app.detail is not None)
        detail = ui.app.detail
        assert detail is not None and detail.alert.id == alert.id
        assert ui.shows("What happened?")
        ui.type(detail.notes, "staff restocking")
        await ui.click(detail.outcomes[AlertOutcome.false_alarm])  # one tap
        assert detail.result.value == "Saved: False alarm"
        assert detail.alert.status is AlertStatus.reviewed
        assert (detail.alert.outcome, detail.alert.notes) == (
            AlertOutcome.false_alarm,
            "staff restocking",
        )
        assert ui.shows("False alarm") and ui.shows("by supervisor_a")


async def test_settings_refuse_bad_numbers_and_save_good_ones(served: Served) -> None:
    async with running_app() as ui:
        await sign_in(ui, served.address, "admin", ADMIN_PASSWORD)
        await until(lambda: ui.shows("Aisle 1"))
        await ui.app.show_tab(SETTINGS)
        settings = ui.app.settings
        await until(lambda: ui.shows("Detection and evidence"))
        ui.type(settings.dedup, "soon")
        await ui.click(settings.save)
        assert settings.saved.value == "the dedup window must be a number"
        ui.type(settings.dedup, "5")
        await ui.click(settings.save)
        assert settings.saved.value.startswith("Dedup window (s): Input should be greater")
        ui.type(settings.dedup, "600")
        await ui.click(settings.save)
        assert settings.saved.value == "Saved"
        client = ui.app.account.client
        assert client is not None
        assert (await client.settings()).detection.dedup_window_s == 600


async def test_a_server_that_goes_away_shows_an_error_and_a_retry(settings: Settings) -> None:
    async with running_app() as ui:
        async with LiveServer.run(create_app(settings)) as server:
            await sign_in(ui, server.http_url, "admin", ADMIN_PASSWORD)
            await until(lambda: ui.shows("No cameras yet. An admin adds them in Settings."))
        await ui.app.show_tab(ALERTS)  # the server has stopped
        assert ui.shows("Try again")
        assert ui.shows("Check that the server is on and this device is on the store's network.")
        await until(lambda: ui.app.link.value.startswith("nothing answers at"))  # the live link too


async def test_older_alerts_load_a_page_at_a_time(served: Served) -> None:
    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    sent = [await admin.send_test_alert(served.world.cameras[0]) for _ in range(5)]
    await admin.aclose()
    async with running_app() as ui:
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        await until(lambda: ui.shows("Aisle 1"))
        ui.app.alerts.page_size = 2
        await ui.app.show_tab(ALERTS)
        await until(lambda: len(ui.app.book.visible()) == 2)
        newest_first = [a.id for a in reversed(sent)]
        assert [a.id for a in ui.app.book.visible()] == newest_first[:2]
        more = ui.app.alerts.more
        assert ui.shows("Load older alerts")
        await ui.click(more)
        assert [a.id for a in ui.app.book.visible()] == newest_first[:4]
        await ui.click(more)
        assert [a.id for a in ui.app.book.visible()] == newest_first
        assert not ui.shows("Load older alerts")  # nothing older


async def test_an_open_alert_follows_changes_made_elsewhere(served: Served) -> None:
    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    alert = await admin.send_test_alert(served.world.cameras[0])
    async with running_app(route=f"/alerts/{alert.id}") as ui:
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        await until(lambda: ui.app.detail is not None and ui.shows("I'm on it"))
        await until(lambda: ui.app.link.value == "")  # the live link is up
        await admin.review(alert, status=AlertStatus.acknowledged)  # someone else, elsewhere
        await until(lambda: not ui.shows("I'm on it"))
        assert ui.shows("Seen") and ui.shows("Seen by admin") and ui.shows("What happened?")
    await admin.aclose()


async def test_the_chime_is_a_device_choice(served: Served) -> None:
    preferences = MemoryPreferences()
    async with running_app(preferences) as ui:
        await sign_in(ui, served.address, "admin", ADMIN_PASSWORD)
        await until(lambda: ui.shows("Aisle 1"))
        await ui.app.show_tab(SETTINGS)
        sound = ui.app.settings.sound
        await until(lambda: ui.shows("Sound for new alerts on this device"))
        assert sound.value is True
        await ui.toggle(sound, False)
        await until(lambda: ui.app.link.value == "")  # the live link is up
        client = ui.app.account.client
        assert client is not None
        await client.send_test_alert(served.world.cameras[0])
        await until(lambda: ui.app.book.unread == 1)
        assert ui.invoked(ui.app.attention.chime) == []  # silent on this device
    assert preferences.values["sound"] == "off"
    async with running_app(preferences) as again:  # remembered
        assert again.app.attention.sound_on is False


async def test_a_wide_window_gets_a_rail_and_a_narrow_one_the_bar(served: Served) -> None:
    async with running_app(size=(1280, 800)) as ui:
        assert ui.page.navigation_bar is None  # the sign-in screen has neither
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        await until(lambda: ui.shows("Aisle 1"))
        rail = ui.app.navigation.rail
        assert ui.page.navigation_bar is None and _on_page(ui.page, rail)
        ui.session.apply_patch(rail._i, {"selected_index": ALERTS})  # Alerts, from the rail
        await ui.session.dispatch_event(rail._i, "change", None)
        assert ui.app.navigation.selected == ALERTS
        await until(lambda: ui.shows("No alerts for these filters."))
        await ui.resize(360, 800)  # narrowed: the bar, on the same screen
        assert ui.page.navigation_bar is ui.app.navigation.bar and not _on_page(ui.page, rail)
        assert ui.app.navigation.bar.selected_index == ALERTS
        assert ui.shows("No alerts for these filters.")


def _on_page(page: ft.Page, wanted: ft.Control) -> bool:
    def walk(control: object) -> bool:
        if control is wanted:
            return True
        for name in ("controls", "content"):
            child = getattr(control, name, None)
            children = child if isinstance(child, list) else [child] if child else []
            if any(walk(c) for c in children):
                return True
        return False

    return any(walk(c) for c in page.controls)


async def test_filters_by_status_camera_and_time(served: Served) -> None:
    aisle_1, aisle_2 = served.world.cameras
    async with running_app() as ui:
        await sign_in(ui, served.address, "admin", ADMIN_PASSWORD)
        await until(lambda: ui.shows("Aisle 2"))
        client = ui.app.account.client
        assert client is not None
        first = await client.send_test_alert(aisle_1)
        second = await client.send_test_alert(aisle_2)
        await client.review(second, status=AlertStatus.acknowledged)
        await ui.app.show_tab(ALERTS)
        screen = ui.app.alerts

        def shown() -> list[int]:
            return [a.id for a in ui.app.book.visible()]

        await until(lambda: shown() == [second.id, first.id])  # not reviewed yet: both
        await ui.select(screen.camera, str(aisle_2))
        assert shown() == [second.id]
        await ui.select(screen.camera, "all")
        await ui.select(screen.status, "acknowledged")
        assert shown() == [second.id]
        await ui.select(screen.status, "new")
        assert shown() == [first.id]
        await ui.select(screen.period, "24h")
        assert shown() == [first.id]
        await ui.select(screen.status, "open")
        await until(lambda: ui.app.link.value == "")  # the live link is up
        current = await client.alert(first.id)
        await client.review(current, outcome=AlertOutcome.deterred)  # reviewed elsewhere
        await until(lambda: shown() == [second.id])  # leaves the open list at once
