"""The app: sign-in, then Home, Alerts, Stats, Analytics and Settings under a navigation bar
and an app bar naming the store (or server) in use, with a menu to switch servers; the live
events keep the alerts (and the unread badge) current. `main` is Flet's entry point.

A route `/alerts/<id>` (a push notification's deep link, or a browser address) opens that
alert once signed in.
"""

from __future__ import annotations

import asyncio
import re

import flet as ft

from mobile.api.errors import ApiError
from mobile.api.events import Event, EventStream, LinkState
from mobile.i18n import _
from mobile.i18n.choice import choose_language
from mobile.state.account import Account
from mobile.state.alerts import AlertBook
from mobile.state.preferences import DevicePreferences, Preferences
from mobile.state.push import PushRegistration, PushTokens, platform_tokens
from mobile.ui import common, ids
from mobile.ui.alert_detail import AlertDetail
from mobile.ui.alerts import AlertsScreen
from mobile.ui.analytics import AnalyticsScreen
from mobile.ui.appearance import Appearance
from mobile.ui.attention import Attention
from mobile.ui.home import CameraScreen, HomeScreen
from mobile.ui.language_choice import LanguageChoice
from mobile.ui.login import LoginScreen
from mobile.ui.navigation import Navigation
from mobile.ui.pairing import invitation_in_route
from mobile.ui.servers import ServerList, ServerMenu, place_name
from mobile.ui.settings import SettingsScreen
from mobile.ui.stats import StatsScreen
from shared.schemas.alerts import AlertPublic, AlertStatus
from shared.schemas.events import AlertCreated, AlertUpdated, CameraStatusChanged

HOME, ALERTS, STATS, ANALYTICS, SETTINGS = range(5)
ALERT_ROUTE = re.compile(r"^/alerts/(\d+)$")


class ShopGuardApp:
    def __init__(
        self, page: ft.Page, preferences: Preferences, push_tokens: PushTokens | None = None
    ) -> None:
        self.page = page
        self.account = Account(preferences)
        self.push = PushRegistration(self.account, preferences, push_tokens)
        self.account.before_sign_out.append(self.push.unregister)
        self.attention = Attention(page, preferences)
        self.book = AlertBook()
        self.link = ft.Text("", size=12)  # the live link's trouble, if any
        self.link_line = ids.tagged(ids.LINK_STATE, self.link)
        self.link_line.visible = False
        self._shown: tuple[ft.Control, bool] | None = None
        self._signed_in = False
        self.title = ft.Text("ShopGuard", max_lines=1, overflow=ft.TextOverflow.ELLIPSIS)
        self.appearance = Appearance(page, preferences)
        self._make_screens()
        self.detail: AlertDetail | None = None
        self.login: LoginScreen | None = None
        self._events: asyncio.Task[None] | None = None
        self._wanted_alert = self._alert_in_route(page.route)
        self._invitation = invitation_in_route(page.route)  # an invite's link opened the app

    def _make_screens(self) -> None:
        """The screens, in the language in force (they take their words when made)."""
        self.navigation = Navigation(self.show_tab)
        self.home = HomeScreen(self.account, self.open_camera)
        self.alerts = AlertsScreen(
            self.account, self.book, self.camera_names, self.open_alert, self.place_of
        )
        self.servers = ServerMenu(self.account, self.switch_server, self.add_server)
        self.stats = StatsScreen(self.account, self.camera_names)
        self.analytics = AnalyticsScreen(self.account)
        self.language = LanguageChoice(self.page, self.account.preferences, self._language_changed)
        self.settings = SettingsScreen(
            self.account,
            self.attention,
            self.push,
            self.show_login,
            self.appearance,
            ServerList(self.account, self.switch_server, self.add_server),
            self.language,
        )

    async def _language_changed(self) -> None:
        """Another language chosen in Settings: the screens are made again in it."""
        self.home.pause()
        self._make_screens()
        await self.home.refresh()
        self._name_the_place()
        self._badge()
        await self.show_tab(SETTINGS)

    async def start(self) -> None:
        self.page.title = "ShopGuard"
        self.page.on_route_change = self._route_changed
        self.page.on_resize = self._resized
        await self.appearance.load()
        await self.attention.load()
        if self._invitation is not None:  # a new person pairs, even on a used phone
            await self.account.load()
            await self.show_login()
        elif await self.account.load():
            try:
                await self.account.resume()
            except ApiError as exc:
                await self.show_login(exc.message)
                return
            await self.show_main()
        else:
            await self.show_login()

    # screens
    async def show_login(self, message: str = "", *, address: str | None = None) -> None:
        await self._stop_events()
        self._signed_in = False
        invitation, self._invitation = self._invitation, None
        self.login = LoginScreen(self.account, self.show_main, invitation)
        if address is not None:
            self.login.address.value = address
        self.login.error.value = message
        self._show(self.login.control, with_link=False)

    async def switch_server(self, address: str) -> None:
        """Use another of this device's servers: its alerts, cameras and stats."""
        await self._stop_events()
        self.book.reset()
        self.alerts.thumbnails.clear()
        self.home.forget()
        if await self.account.switch(address):
            try:
                await self.account.resume()
            except ApiError as exc:
                await self.show_login(exc.message, address=address)
                return
            await self.show_main()
        else:
            await self.show_login(address=address)

    async def add_server(self) -> None:
        """Sign in to one more server (the others keep their sign-ins)."""
        await self.show_login(address="")

    async def show_main(self) -> None:
        self.login = None
        self._signed_in = True
        self._events = asyncio.create_task(self._run_events())
        platform = self.page.platform.value if self.page.platform else "unknown"
        route = self.page.route
        await self.push.register(name=f"ShopGuard app ({platform})")
        await self.home.refresh()
        self._name_the_place()
        if self._wanted_alert is None and self.page.route != route:
            self._wanted_alert = self._alert_in_route(self.page.route)  # a tap meanwhile
        if self._wanted_alert is not None:
            wanted, self._wanted_alert = self._wanted_alert, None
            await self.open_alert(wanted)
        else:
            await self.show_tab(HOME)

    async def show_tab(self, index: int) -> None:
        self.navigation.selected = index
        self.detail = None
        screen = (self.home, self.alerts, self.stats, self.analytics, self.settings)[index]
        self._show(screen.control)
        if index == ALERTS:
            self.book.mark_read()
            self._badge()
        await screen.refresh()

    async def open_alert(self, alert_id: int) -> None:
        assert self.account.client is not None
        alert = self.book.get(alert_id)
        if alert is None:
            try:
                alert = await self.account.client.alert(alert_id)
            except ApiError as exc:
                problem = _("Alert {id}: {problem}").format(id=alert_id, problem=exc.message)
                self.link.value, self.link_line.visible = problem, True
                self.page.update()
                return
        self.book.mark_read(alert_id)
        self._badge()
        self.navigation.selected = ALERTS
        place = self.place_of(alert.camera_id)
        self.detail = AlertDetail(
            self.account, alert, place, self._alert_changed, self._back_to_alerts
        )
        self._show(self.detail.control)
        await self.detail.refresh()

    async def open_camera(self, camera_id: int) -> None:
        camera = self.home.cameras[camera_id]
        screen = CameraScreen(self.account, camera, self.open_alert, self._back_home)
        self._show(screen.control)
        await screen.refresh()

    def camera_names(self) -> dict[int, str]:
        return {c.id: c.name for c in self.home.cameras.values()}

    def place_of(self, camera_id: int) -> tuple[str, str]:
        """The camera's and its store's names."""
        camera = self.home.cameras.get(camera_id)
        if camera is None:
            return _("Camera {id}").format(id=camera_id), ""
        store = self.home.stores.get(camera.store_id)
        return camera.name, store.name if store is not None else ""

    # live events
    async def _run_events(self) -> None:
        assert self.account.client is not None
        stream = EventStream(
            self.account.client,
            on_event=self._on_event,
            on_state=self._on_link,
            on_resync=self._on_resync,
        )
        await stream.run()

    async def _on_event(self, event: Event) -> None:
        if isinstance(event, CameraStatusChanged):
            self.home.camera_status(event.camera_id, event.status, event.since)
            return
        await self._count_open(event)
        changed = self.book.apply(event)
        if event.alert.has_snapshot:
            await self.alerts.snapshot_ready(event.alert)
        if isinstance(event, AlertCreated):
            self.attention.new_alert()
            if self.navigation.selected == ALERTS and self.detail is None:
                self.book.mark_read(event.alert.id)
        self._badge()
        if changed and self.detail is None:
            self.alerts.show()
        if (
            isinstance(event, AlertUpdated)
            and self.detail
            and self.detail.alert.id == event.alert.id
        ):
            await self.detail.changed_elsewhere(event.alert)
        self.page.update()

    async def _on_link(self, state: LinkState, text: str) -> None:
        self.link.value = "" if state is LinkState.live else text
        self.link_line.visible = state is not LinkState.live
        self.link.color = ft.Colors.ERROR if state is LinkState.offline else None
        if state is LinkState.signed_out:
            await self.show_login(text)
            return
        self.page.update()

    async def _on_resync(self) -> None:
        if self.navigation.selected == ALERTS and self.detail is None:
            await self.alerts.refresh()

    # plumbing
    def _show(self, control: ft.Control, *, with_link: bool = True) -> None:
        self._shown = (control, with_link)
        if control is not self.home.control:
            self.home.pause()
        screen = ft.Container(control, padding=ft.Padding.only(top=8), expand=True)  # labels
        shown: list[ft.Control] = [self.link_line, screen] if with_link else [screen]
        body: ft.Control = ft.Column(shown, expand=True, spacing=0)
        if self._signed_in:
            body = self.navigation.place(self.page, body)
            self.page.appbar = ft.AppBar(
                title=ids.tagged(ids.APP_TITLE, self.title),
                actions=[self.servers.control],
                center_title=False,
            )
        else:
            self.page.navigation_bar = None
            self.page.appbar = None
        self.page.controls = [ft.SafeArea(body, expand=True)]  # bounded: screens scroll
        self.page.update()

    async def _resized(self, _: ft.PageResizeEvent) -> None:
        """A window made wider or narrower: the rail or the bar, around the same screen."""
        if self._shown is not None:
            control, with_link = self._shown
            self._show(control, with_link=with_link)

    async def _count_open(self, event: AlertCreated | AlertUpdated) -> None:
        """Home's counts of alerts to review follow the live events."""
        alert, before = event.alert, self.book.get(event.alert.id)
        if isinstance(event, AlertCreated) and alert.status is not AlertStatus.reviewed:
            self.home.alert_counted(alert.camera_id, +1)
        elif isinstance(event, AlertUpdated) and alert.status is AlertStatus.reviewed:
            if before is None:  # not loaded here: ask the server
                await self.home.recount()
            elif before.status is not AlertStatus.reviewed:
                self.home.alert_counted(alert.camera_id, -1)

    def _name_the_place(self) -> None:
        """The app bar names what the user looks after: the store, or the server."""
        self.title.value = place_name(self.home.stores.values(), self.account.address)
        self.servers.draw()
        self.settings.servers.draw()
        common.redraw(self.title)

    def _badge(self) -> None:
        self.navigation.badge(self.book.unread)

    async def _alert_changed(self, alert: AlertPublic) -> None:
        self.book.apply(AlertUpdated(alert=alert))

    async def _back_to_alerts(self) -> None:
        await self.show_tab(ALERTS)

    async def _back_home(self) -> None:
        await self.show_tab(HOME)

    async def _route_changed(self, event: ft.RouteChangeEvent) -> None:
        invitation = invitation_in_route(event.route)
        if invitation is not None:
            self._invitation = invitation
            await self.show_login(address=invitation.server or None)
            return
        alert_id = self._alert_in_route(event.route)
        if alert_id is not None and self.account.me is not None:
            await self.open_alert(alert_id)

    @staticmethod
    def _alert_in_route(route: str | None) -> int | None:
        match = ALERT_ROUTE.match(route or "")
        return int(match.group(1)) if match else None

    async def close(self) -> None:
        await self._stop_events()
        await self.attention.close()

    async def _stop_events(self) -> None:
        if self._events is not None:
            self._events.cancel()
            await asyncio.gather(self._events, return_exceptions=True)
            self._events = None


async def main(page: ft.Page) -> None:
    preferences = DevicePreferences()
    await choose_language(page, preferences)  # before the screens: they take their words
    await ShopGuardApp(page, preferences, platform_tokens(page)).start()
