"""The app a store's staff open every day, in a real Flet session against the real server:
the feed with pictures, the alert's clips and one-tap outcomes, sharing evidence, Home's
camera grid with alerts to review, several servers on one phone, and the dark theme."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flet as ft
import flet_video as ftv
import httpx
from flet.controls.base_control import BaseControl

from mobile.api.client import ApiClient
from mobile.api.invites import create_invite
from mobile.app import ALERTS, SETTINGS
from mobile.state.preferences import MemoryPreferences
from mobile.ui.appearance import THEME_KEY
from server.app import create_app
from shared.schemas.alerts import AlertOutcome, AlertStatus
from shared.schemas.auth import Role
from shared.schemas.invites import InviteCreate
from tests.conftest import make_settings
from tests.evidence.test_share import alert_with_evidence
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD, LiveServer, login, make_world
from tests.mobile.conftest import Served, until
from tests.mobile.flet_session import AppUnderTest, running_app
from tests.mobile.test_app_screens import sign_in
from tests.served import observer


def theme_of(ui: AppUnderTest) -> ft.ThemeMode | None:
    return ui.page.theme_mode


def controls_of(control: Any) -> Iterator[BaseControl]:
    """`control` and everything under it."""
    if isinstance(control, BaseControl):
        yield control
    for name in ("controls", "content", "title", "subtitle", "leading", "trailing", "segments"):
        child = getattr(control, name, None)
        for item in child if isinstance(child, list) else [child]:
            if isinstance(item, BaseControl):
                yield from controls_of(item)


async def test_the_feed_shows_pictures_and_the_detail_plays_reviews_and_shares(
    served: Served, tmp_path: Path
) -> None:
    runtime = served.server.runtime
    made = await alert_with_evidence(
        runtime, served.world.cameras[0], tmp_path / "a", annotated=True
    )
    async with running_app() as ui, httpx.AsyncClient() as phone:
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        await ui.app.show_tab(ALERTS)
        await until(lambda: made.alert_id in ui.app.alerts.thumbnails)
        thumbnail = ui.app.alerts.thumbnails[made.alert_id]
        pictures = [c for c in controls_of(ui.app.alerts.list) if isinstance(c, ft.Image)]
        assert [p.src for p in pictures] == [thumbnail]  # the row shows it
        shown = await phone.get(thumbnail)  # as the phone loads it: no sign-in
        assert shown.headers["content-type"] == "image/jpeg" and len(shown.content) < 30_000
        assert ui.shows("Aisle 1 · Downtown · shelf-1 · just now") and ui.shows("New")
        assert ui.shows("Concealment")

        await ui.app.open_alert(made.alert_id)
        detail = ui.app.detail
        assert detail is not None
        await until(lambda: detail.links is not None)
        assert ui.shows("Involved: person 1")

        def playing() -> str:
            videos = [c for c in controls_of(detail.media) if isinstance(c, ftv.Video)]
            assert len(videos) == 1
            return str(videos[0].playlist[0].resource)

        links = detail.links
        assert links is not None and links.snapshot_url is not None
        posters = [c for c in controls_of(detail.media) if isinstance(c, ft.Image)]
        assert [p.src for p in posters] == [served.address + links.snapshot_url]
        assert not [c for c in controls_of(detail.media) if isinstance(c, ftv.Video)]
        await ui.click(detail.play)  # the snapshot is the poster until played
        assert "annotated.mp4" in playing()  # people marked, by default
        ui.session.apply_patch(detail.switch._i, {"selected": ["clean"]})
        await ui.session.dispatch_event(detail.switch._i, "change", None)
        assert "clip.mp4" in playing()  # one tap: the original
        clip = await phone.get(playing())
        assert (
            clip.headers["content-type"] == "video/mp4" and clip.content == made.files["clip.mp4"]
        )

        await ui.click(detail.share.button)
        await until(lambda: bool(detail.share.link.value))
        shared = await phone.get(str(detail.share.link.value))  # whoever gets the link
        assert shared.status_code == 200 and shared.content == made.files["clip.mp4"]
        assert hashlib.sha256(shared.content).hexdigest() in str(detail.share.facts.value)

        ui.type(detail.notes, "left without paying, staff spoke to him")
        await ui.click(detail.outcomes[AlertOutcome.confirmed_theft])
        assert detail.result.value == "Saved: Confirmed theft"

    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    stored = await admin.alert(made.alert_id)
    assert (stored.status, stored.outcome) == (AlertStatus.reviewed, AlertOutcome.confirmed_theft)
    assert stored.notes == "left without paying, staff spoke to him"
    audit = await admin._send("GET", "/audit", params={"action": "evidence.share"})
    entries = audit.json()["data"]
    assert [(e["username"], e["target_id"]) for e in entries] == [
        ("supervisor_a", str(made.alert_id))
    ]
    await admin.aclose()


async def test_home_groups_cameras_by_store_with_alerts_to_review(served: Served) -> None:
    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    camera_id = served.world.cameras[0]
    first = await admin.send_test_alert(camera_id)
    await admin.send_test_alert(camera_id)
    async with running_app() as ui:
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        await until(lambda: ui.shows("2 alerts to review"))
        assert ui.shows("Downtown") and not ui.shows("Mall") and ui.shows("2 alerts")
        assert ui.app.home.cameras[camera_id].open_alerts == 2
        await until(lambda: ui.app.link.value == "")  # the live link is up
        await admin.review(first, outcome=AlertOutcome.false_alarm)
        await until(lambda: ui.shows("1 alert to review"))  # a live event counted it
        assert ui.app.title.value == "Downtown"  # the app bar names the store
    await admin.aclose()


async def test_one_phone_switches_between_two_stores_servers(
    served: Served, tmp_path: Path
) -> None:
    other_settings = make_settings(tmp_path / "other", f"sqlite+aiosqlite:///{tmp_path}/other.db")
    async with (
        LiveServer.run(create_app(other_settings)) as other,
        httpx.AsyncClient(base_url=other.http_url, timeout=30) as http,
    ):
        await make_world(http, await login(http, "admin", ADMIN_PASSWORD))
        other_admin = ApiClient(other.http_url)
        await other_admin.login("admin", ADMIN_PASSWORD)
        await other_admin.send_test_alert(1)
        preferences = MemoryPreferences()
        async with running_app(preferences) as ui:
            await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
            await until(lambda: ui.shows("Aisle 1"))
            await ui.app.add_server()
            await sign_in(ui, other.http_url, "supervisor_a", NEW_PASSWORD)
            await until(lambda: len(ui.app.account.servers) == 2)
            await ui.app.show_tab(ALERTS)
            await until(lambda: len(ui.app.book.visible()) == 1)  # the other server's alert
            await ui.app.switch_server(served.address)  # kept signed in: no password
            await until(lambda: ui.app.account.me is not None and ui.shows("Aisle 1"))
            assert ui.app.account.me is not None
            assert ui.app.account.me.username == "supervisor_a"
            await ui.app.show_tab(ALERTS)
            await until(lambda: ui.shows("No alerts for these filters."))
        async with running_app(preferences) as ui:  # the app opened again: both kept
            await until(lambda: ui.app.account.me is not None)
            assert ui.app.account.servers == [served.address, other.http_url]
            assert ui.app.account.address == served.address
        await other_admin.aclose()


async def test_the_dark_theme_is_kept_on_the_device(served: Served) -> None:
    preferences = MemoryPreferences()
    async with running_app(preferences) as ui:
        assert theme_of(ui) is ft.ThemeMode.SYSTEM  # the system decides by default
        await sign_in(ui, served.address, "viewer_a", NEW_PASSWORD)
        await ui.app.show_tab(SETTINGS)
        await ui.select(ui.app.settings.theme, "dark")
        assert theme_of(ui) is ft.ThemeMode.DARK
    assert preferences.values[THEME_KEY] == "dark"
    async with running_app(preferences) as ui:
        assert ui.page.theme_mode is ft.ThemeMode.DARK


async def test_settings_come_in_sections_and_about_tells_versions_licences_and_figures(
    served: Served,
) -> None:
    async with running_app() as ui:
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        await ui.app.show_tab(SETTINGS)
        settings = ui.app.settings
        await until(lambda: ui.shows("App 0.1.0 · server 0.1.0"))
        for section in ("Server", "Account", "Notifications", "Appearance", "About"):
            assert ui.shows(section), section
        assert not ui.shows("Cameras and DVRs") and not ui.shows("Users and invites")  # admins'
        assert ui.shows("ShopGuard: AGPL-3.0-or-later.")
        assert ui.shows("Behaviour model trained on PoseLift (Apache-2.0).")
        figures = [t for t in ui.texts() if "thefts in held-out video" in t]
        assert figures and figures[0].startswith("Catches "), figures  # the model's own numbers
        assert settings.about.model.controls  # read from the server's active model


async def test_an_invite_link_opens_the_pairing_form_of_a_fresh_app(served: Served) -> None:
    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    invite = await create_invite(
        admin, InviteCreate(role=Role.viewer, store_ids=[served.world.stores[0]])
    )
    await admin.aclose()
    route = "/pair?" + urlsplit(invite.link).query
    async with running_app(route=route) as ui:  # the phone opened the invite's link
        assert ui.app.login is not None and ui.app.login.pairing is not None
        form = ui.app.login.pairing
        assert (form.address.value, form.code.value) == (invite.server, invite.code)
        ui.type(form.username, "new_clerk")
        ui.type(form.password, "a long own password")
        ui.type(form.repeat, "a long own password")
        await ui.click(form.join)
        await until(lambda: ui.app.account.me is not None)
        assert ui.app.account.me is not None
        assert (ui.app.account.me.username, ui.app.account.me.role) == ("new_clerk", Role.viewer)
        await until(lambda: ui.shows("Aisle 1") and not ui.shows("Aisle 2"))


def scrolled(**where: object) -> dict[str, object]:
    """A scroll notification as the client sends it."""
    return {
        "event_type": "update",
        "pixels": 0.0,
        "min_scroll_extent": 0.0,
        "max_scroll_extent": 1000.0,
        "viewport_dimension": 800.0,
    } | where


async def test_scrolling_to_the_end_loads_older_alerts_and_pulling_down_reloads(
    served: Served,
) -> None:
    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    sent = [await admin.send_test_alert(served.world.cameras[0]) for _ in range(3)]
    async with running_app() as ui:
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        await until(lambda: ui.shows("Aisle 1"))
        ui.app.alerts.page_size = 2
        await ui.app.show_tab(ALERTS)
        await until(lambda: len(ui.app.book.visible()) == 2)
        feed = ui.app.alerts.list
        await ui.session.dispatch_event(feed._i, "scroll", scrolled(pixels=10.0))  # near the top
        assert len(ui.app.book.visible()) == 2
        await ui.session.dispatch_event(feed._i, "scroll", scrolled(pixels=900.0))  # near the end
        await until(lambda: len(ui.app.book.visible()) == 3)
        assert [a.id for a in ui.app.book.visible()] == [a.id for a in reversed(sent)]

        await ui.app._stop_events()  # no live events: only a reload can show what changed
        await admin.review(sent[0], outcome=AlertOutcome.false_alarm)
        assert ui.app.book.get(sent[0].id).status is AlertStatus.new  # type: ignore[union-attr]
        pulled = scrolled(event_type="overscroll", overscroll=-40.0, velocity=-300.0)
        await ui.session.dispatch_event(feed._i, "scroll", pulled)  # pulled down at the top
        await until(lambda: sent[0].id not in [a.id for a in ui.app.book.visible()])
    await admin.aclose()
