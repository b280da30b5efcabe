"""Pairing by invite in the app against the real server: an admin invites someone in the
admin control and sees the code, the link and its QR code; a fresh app joins with the code,
chooses its own password and is signed in as the new user, with the invite's role and stores;
the same code then fails in words; an invite's link opens the pairing form filled in; a
revoked invite leaves the list and stops working."""

from __future__ import annotations

import base64
import io

import flet as ft
import pytest
import zxingcpp
from PIL import Image

from mobile.state.preferences import MemoryPreferences
from mobile.ui.invites_admin import InvitesAdmin
from mobile.ui.login import LoginScreen
from mobile.ui.pairing import Invitation, PairingForm, invitation_in_route
from shared.schemas.auth import Role
from shared.schemas.invites import InviteCreated
from tests.helpers import ADMIN_PASSWORD
from tests.mobile.conftest import Served, until
from tests.mobile.flet_session import AppUnderTest, running_app
from tests.mobile.test_app_screens import sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MARIA_PASSWORD = "marias-own-password"


async def invites_control(ui: AppUnderTest, served: Served) -> InvitesAdmin:
    """The admin control on the admin's page, as Settings → Users places it."""
    await sign_in(ui, served.address, "admin", ADMIN_PASSWORD)
    await until(lambda: ui.shows("Aisle 1"))
    admin = InvitesAdmin(ui.app.account)
    ui.page.controls = [ft.Column([admin.control], scroll=ft.ScrollMode.AUTO, expand=True)]
    ui.page.update()
    await admin.refresh()
    await until(lambda: ui.shows("No pending invites."))
    return admin


async def invite_maria(ui: AppUnderTest, admin: InvitesAdmin, store_id: int) -> InviteCreated:
    await ui.select(admin.role, Role.supervisor.value)
    await ui.toggle(admin.store_boxes[store_id], True)
    ui.type(admin.note, "Maria")
    await ui.click(admin.create)
    await until(lambda: admin.created is not None)
    assert admin.created is not None
    return admin.created


def shown_qr(admin: InvitesAdmin) -> str:
    """What a phone's camera reads off the QR image on the admin's screen."""
    images = [c for c in _walk(admin.shown) if isinstance(c, ft.Image)]
    assert len(images) == 1
    png = base64.b64decode(str(images[0].src))
    found = zxingcpp.read_barcode(Image.open(io.BytesIO(png)))
    assert found is not None
    return found.text


def _walk(control: ft.Control) -> list[ft.Control]:
    found = [control]
    for child in getattr(control, "controls", None) or []:
        found += _walk(child)
    content = getattr(control, "content", None)
    if isinstance(content, ft.Control):
        found += _walk(content)
    return found


async def pair(ui: AppUnderTest, address: str, code: str, name: str, repeat: str) -> PairingForm:
    """On a fresh app's sign-in screen: I have an invite, then fill the form and join."""
    login = ui.app.login
    assert login is not None
    await ui.click(login.have_invite)
    pairing = login.pairing
    assert pairing is not None and ui.shows("Join with an invite")
    ui.type(pairing.address, address)
    ui.type(pairing.code, code)
    ui.type(pairing.username, name)
    ui.type(pairing.password, MARIA_PASSWORD)
    ui.type(pairing.repeat, repeat)
    await ui.click(pairing.join)
    return pairing


async def test_an_admin_invites_and_a_fresh_app_joins_with_the_code(served: Served) -> None:
    store_a = served.world.stores[0]
    async with running_app() as ui:
        admin = await invites_control(ui, served)
        created = await invite_maria(ui, admin, store_a)
        await until(lambda: ui.shows(created.code) and ui.shows("Maria"))
        assert ui.shows(created.link) and ui.shows("Invite created: it is shown this once.")
        assert created.link.startswith(f"{served.address}/pair?code=")  # no web app: the server
        assert shown_qr(admin) == created.link
        assert [i.id for i in admin.pending] == [created.id] and created.id in admin.revokes
        assert (created.role, created.store_ids) == (Role.supervisor, [store_a])

    preferences = MemoryPreferences()  # a new phone
    async with running_app(preferences) as ui:
        pairing = await pair(ui, served.address, created.code, "maria", "a-different-one")
        assert pairing.error.value == "The two passwords are not the same."
        ui.type(pairing.repeat, MARIA_PASSWORD)
        await ui.click(pairing.join)
        await until(lambda: ui.app.account.me is not None)
        me = ui.app.account.me
        assert me is not None
        assert (me.username, me.role, me.store_ids) == ("maria", Role.supervisor, [store_a])
        await until(lambda: ui.shows("Aisle 1"))  # Home: store A's camera, not store B's
        assert not ui.shows("Aisle 2") and ui.app.login is None
        assert pairing.password.value == "" and pairing.repeat.value == ""

    async with running_app(preferences) as ui:  # the phone, opened again: still signed in
        await until(lambda: ui.shows("Aisle 1"))
        assert ui.app.account.me is not None and ui.app.account.me.username == "maria"

    async with running_app() as ui:  # another phone, the same code
        pairing = await pair(
            ui, served.address, created.code.lower(), "maria_again", MARIA_PASSWORD
        )
        await until(lambda: pairing.error.value != "Joining…")
        assert pairing.error.value == "This invite has been used already: ask for a new one."
        assert ui.app.account.me is None and ui.shows("Join with an invite")
        assert not pairing.join.disabled


async def test_an_invite_link_opens_the_pairing_form_filled_in(served: Served) -> None:
    async with running_app() as ui:
        ui.connection.page_url = "ws://shop.example:8550"  # the admin uses the web app there
        admin = await invites_control(ui, served)
        created = await invite_maria(ui, admin, served.world.stores[1])
        assert created.link.startswith("http://shop.example:8550/pair?code=")
        assert shown_qr(admin) == created.link

    invitation = invitation_in_route(created.link)
    assert invitation == Invitation(server=served.address, code=created.code)
    route = created.link.removeprefix("http://shop.example:8550")
    assert invitation_in_route(route) == invitation  # the app's route, as a web app gets it
    assert invitation_in_route("/alerts/3") is None

    async with running_app() as ui:
        login = LoginScreen(ui.app.account, ui.app.show_main, invitation)
        ui.page.controls = [login.control]
        ui.page.update()
        pairing = login.pairing
        assert pairing is not None and ui.shows("Join with an invite")
        assert (pairing.address.value, pairing.code.value) == (served.address, created.code)
        ui.type(pairing.username, "maria_b")
        ui.type(pairing.password, MARIA_PASSWORD)
        ui.type(pairing.repeat, MARIA_PASSWORD)
        await ui.click(pairing.join)
        await until(lambda: ui.shows("Aisle 2"))
        me = ui.app.account.me
        assert me is not None and (me.username, me.store_ids) == ("maria_b", [created.store_ids[0]])


async def test_a_revoked_invite_leaves_the_list_and_stops_working(served: Served) -> None:
    async with running_app() as ui:
        admin = await invites_control(ui, served)
        created = await invite_maria(ui, admin, served.world.stores[0])
        await until(lambda: created.id in admin.revokes)
        await ui.click(admin.revokes[created.id])
        await until(lambda: ui.shows("Invite revoked: its code no longer works."))
        assert admin.pending == [] and ui.shows("No pending invites.")
        assert not ui.shows(created.code)  # the revoked code is no longer on screen

    async with running_app() as ui:
        pairing = await pair(ui, served.address, created.code, "too_late", MARIA_PASSWORD)
        await until(lambda: pairing.error.value != "Joining…")
        assert pairing.error.value == "This invite was withdrawn: ask for a new one."
        await ui.click(pairing.back)
        login = ui.app.login
        assert login is not None and login.pairing is None and ui.shows("Sign in")
