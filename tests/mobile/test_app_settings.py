"""Settings in the app against the real server: an admin adds a camera after testing its
source, edits, switches off and deletes cameras, adds a DVR; anyone chooses which alerts push
to their phones; retention is validated and saved."""

from __future__ import annotations

import asyncio

import pytest

from mobile.api.client import ApiClient
from mobile.app import SETTINGS
from mobile.state.preferences import MemoryPreferences
from mobile.ui.camera_admin import CameraAdmin
from mobile.ui.camera_form import CameraForm
from mobile.ui.dvr_form import DvrForm
from shared.schemas.devices import PushPlatform
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD
from tests.mobile.conftest import Served, until
from tests.mobile.flet_session import AppUnderTest, running_app
from tests.mobile.test_app_screens import sign_in
from tests.pipeline.conftest import PEOPLE_CLIP
from tests.served import observer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def open_settings(ui: AppUnderTest, served: Served, user: str, password: str) -> None:
    await sign_in(ui, served.address, user, password)
    await until(lambda: ui.shows("Aisle 1"))
    await ui.app.show_tab(SETTINGS)
    await until(lambda: ui.shows("Notifications"))


async def admin_section(ui: AppUnderTest, served: Served) -> CameraAdmin:
    """Settings → Cameras and DVRs, as the admin."""
    await open_settings(ui, served, "admin", ADMIN_PASSWORD)
    await until(lambda: ui.shows("Cameras and DVRs"))
    return ui.app.settings.cameras


async def server_cameras(served: Served) -> dict[str, dict[str, object]]:
    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    cameras = {c.name: c.model_dump() for c in (await admin.cameras()).data}
    await admin.aclose()
    return cameras


async def test_an_admin_adds_a_camera_after_testing_its_source(served: Served) -> None:
    async with running_app() as ui:
        admin = await admin_section(ui, served)
        await ui.click(admin.add_camera)
        form = admin.form
        assert isinstance(form, CameraForm) and ui.shows("Add a camera")
        ui.type(form.name, "Back door")
        await ui.select(form.kind, "file")
        ui.type(form.source_url, str(PEOPLE_CLIP.parent / "no-such-video.mp4"))
        await ui.click(form.test)
        await until(lambda: form.test_result.value != "Connecting…")
        assert form.test_result.value.startswith("Does not work: no such file on the server")
        ui.type(form.source_url, str(PEOPLE_CLIP))
        await ui.click(form.test)
        await until(lambda: form.test_result.value.startswith("Works: h264 640x360"))
        ui.type(form.threshold, "2")
        await ui.click(form.save)
        assert form.result.value == "Alert threshold: Input should be less than or equal to 1"
        ui.type(form.threshold, "0.7")
        await ui.click(form.save)
        await until(lambda: admin.form is None and ui.shows("Back door"))
        saved = (await server_cameras(served))["Back door"]
        assert (saved["source_url"], saved["threshold"]) == (str(PEOPLE_CLIP), 0.7)


async def test_an_admin_edits_switches_off_and_deletes_cameras(served: Served) -> None:
    aisle_1, aisle_2 = served.world.cameras
    async with running_app() as ui:
        admin = await admin_section(ui, served)
        await until(lambda: aisle_1 in admin.camera_rows)
        await ui.click(admin.camera_rows[aisle_1].edit)
        form = admin.form
        assert isinstance(form, CameraForm)
        assert form.source_url.value == "rtsp://user:***@10.0.0.2/ch1"  # shown masked
        ui.type(form.name, "Aisle 1 north")
        await ui.click(form.save)
        await until(lambda: admin.form is None and ui.shows("Aisle 1 north"))
        await ui.toggle(admin.camera_rows[aisle_2].switch, False)
        await until(lambda: ui.shows("disabled"))
        cameras = await server_cameras(served)
        assert cameras["Aisle 1 north"]["source_url"] == "rtsp://user:***@10.0.0.2/ch1"
        assert cameras["Aisle 2"]["enabled"] is False

        client = ui.app.account.client
        assert client is not None
        await client.send_test_alert(aisle_1)  # a camera with alerts is kept
        await ui.click(admin.camera_rows[aisle_1].delete)
        assert admin.dialog is not None and admin.dialog.open  # asks first
        await ui.click(admin.dialog.actions[0])
        await until(lambda: "alerts" in (admin.result.value or ""))
        assert "Aisle 1 north" in await server_cameras(served)
        await ui.click(admin.camera_rows[aisle_2].delete)
        await ui.click(admin.dialog.actions[0])
        await until(lambda: aisle_2 not in admin.camera_rows)
        assert "Aisle 2" not in await server_cameras(served)


async def test_an_admin_adds_a_dvr_as_a_camera_per_channel(served: Served) -> None:
    async with running_app() as ui:
        admin = await admin_section(ui, served)
        await ui.click(admin.add_dvr)
        form = admin.form
        assert isinstance(form, DvrForm)
        ui.type(form.name, "Back office")
        ui.type(form.template, "rtsp://admin:pw@10.9.9.9/ch1")
        ui.type(form.channels, "2")
        await ui.click(form.save)
        assert form.result.value == "URL templates must contain {channel}"
        ui.type(form.template, "rtsp://admin:pw@10.9.9.9/ch{channel}")
        await ui.click(form.save)
        await until(lambda: admin.form is None and ui.shows("Back office ch2"))
        assert ui.shows("DVR Back office")
        cameras = await server_cameras(served)
        assert cameras["Back office ch1"]["source_url"] == "rtsp://admin:***@10.9.9.9/ch1"
        (dvr_id,) = admin.dvr_deletes
        await ui.click(admin.dvr_deletes[dvr_id])
        assert admin.dialog is not None
        await ui.click(admin.dialog.actions[0])
        await until(lambda: not ui.shows("Back office ch1"))


async def test_anyone_chooses_which_alerts_push_and_when(served: Served) -> None:
    async with running_app() as ui:
        await open_settings(ui, served, "supervisor_a", NEW_PASSWORD)
        assert not ui.shows("Cameras and DVRs")  # admins only
        notes = ui.app.settings.notifications
        assert notes.enabled.value is True and notes.all_stores.value is True
        await ui.toggle(notes.all_cameras, False)
        (aisle_1,) = notes.camera_boxes  # a supervisor of one store sees its one camera
        await ui.toggle(notes.camera_boxes[aisle_1], False)
        await ui.click(notes.save)
        assert notes.result.value.startswith("tick at least one store and one camera")
        await ui.toggle(notes.camera_boxes[aisle_1], True)
        await ui.toggle(notes.quiet, True)
        ui.type(notes.quiet_start, "25:00")
        await ui.click(notes.save)
        assert "is not a time of day" in notes.result.value
        ui.type(notes.quiet_start, "22:30")
        await ui.click(notes.save)
        assert notes.result.value == "Saved"
        client = ui.app.account.client
        assert client is not None
        saved = await client.preferences()
        assert saved.camera_ids == [aisle_1] and saved.store_ids is None
        assert saved.quiet_hours is not None
        assert (saved.quiet_hours.start, saved.quiet_hours.end) == ("22:30", "07:00")


async def test_retention_is_checked_and_saved(served: Served) -> None:
    async with running_app() as ui:
        await open_settings(ui, served, "admin", ADMIN_PASSWORD)
        settings = ui.app.settings
        await until(lambda: ui.shows("Evidence retention"))
        assert settings.unreviewed_days.value == "30"
        ui.type(settings.unreviewed_days, "a month")
        await ui.click(settings.save)
        assert settings.saved.value == "the days to keep alerts must be a whole number"
        ui.type(settings.unreviewed_days, "0")
        await ui.click(settings.save)
        assert settings.saved.value == (
            "Keep unreviewed and false alarms (days): Input should be greater than or equal to 1"
        )
        ui.type(settings.unreviewed_days, "90")
        ui.type(settings.disk_cap, "120")
        await ui.click(settings.save)
        assert settings.saved.value == "Saved"
        client = ui.app.account.client
        assert client is not None
        retention = (await client.settings()).retention
        assert (retention.unreviewed_days, retention.disk_cap_gb) == (90, 120.0)


class PhoneTokens:
    """The platform's push token source (FCM here): outside the app, so a small real class
    hands out what the OS would."""

    platform = PushPlatform.fcm

    def __init__(self, token: str | None) -> None:
        self.current = token

    async def token(self) -> str | None:
        return self.current


async def test_a_phone_registers_for_pushes_and_stops_on_sign_out(served: Served) -> None:
    preferences = MemoryPreferences()
    tokens = PhoneTokens("fcm-token-of-this-phone-0001")
    async with running_app(preferences, push_tokens=tokens) as ui:
        await open_settings(ui, served, "supervisor_a", NEW_PASSWORD)
        client = ui.app.account.client
        assert client is not None
        (device,) = (await client.devices()).data
        assert (device.platform, device.name) == (PushPlatform.fcm, "ShopGuard app (android)")
        assert ui.shows("This device receives pushes.")
        await ui.click(ui.app.settings.sign_out)
        await until(lambda: ui.app.login is not None)
    again = ApiClient(served.address)
    await again.login("supervisor_a", NEW_PASSWORD)
    assert (await again.devices()).count == 0  # the phone stopped getting this user's alerts
    await again.aclose()
    assert "shopguard.push_device" not in preferences.values


async def test_without_a_token_source_a_browser_opens_the_servers_push_page(
    served: Served,
) -> None:
    async with running_app() as ui:  # the web app: no token source of its own
        await open_settings(ui, served, "viewer_a", NEW_PASSWORD)
        assert ui.shows("alerts are pushed through the server's push page")
        client = ui.app.account.client
        assert client is not None and (await client.devices()).count == 0
        opening = asyncio.create_task(ui.click(ui.app.settings.browser_push))
        await until(lambda: "launch_url" in [name for _, name in ui.connection.invoked])
        opening.cancel()  # the browser would open the page in a new tab
        await asyncio.gather(opening, return_exceptions=True)
    refused = PhoneTokens(None)  # the user said no to notifications
    async with running_app(push_tokens=refused) as ui:
        await open_settings(ui, served, "viewer_a", NEW_PASSWORD)
        assert ui.shows("not registered for pushes: pushes are not allowed on this device")
