"""Home: per store, a grid of the cameras the user may see, each with its newest picture
(renewed while Home is shown), its status (online, or offline since when) and its alerts
not reviewed yet; a camera opens its live view (the server's player in a WebView) with its
recent alerts below."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

import flet as ft
import flet_webview as ftw

from mobile.api.errors import ApiError
from mobile.i18n import _, ngettext
from mobile.state.account import Account
from mobile.ui import alert_words, common, ids
from mobile.ui.alert_words import title
from shared.schemas.alerts import AlertPublic
from shared.schemas.cameras import CameraPublic, CameraStatus
from shared.schemas.stores import StorePublic

PICTURES_EVERY_S = 10.0  # how often the grid's pictures are renewed while Home is shown
TILE_COLUMNS: dict[str | ft.ResponsiveRowBreakpoint, int | float] = {
    "xs": 6,
    "sm": 4,
    "md": 3,
    "xl": 2,
}  # of 12: two a row on phones


class HomeScreen:
    def __init__(self, account: Account, open_camera: Callable[[int], Awaitable[None]]) -> None:
        self._account, self._open_camera = account, open_camera
        self.cameras: dict[int, CameraPublic] = {}
        self.stores: dict[int, StorePublic] = {}
        self.snapshots: dict[int, bytes] = {}
        self._renewing: asyncio.Task[None] | None = None
        self.control = ft.Column([common.loading()], scroll=ft.ScrollMode.AUTO, expand=True)

    async def refresh(self) -> None:
        assert self._account.client is not None
        try:
            stores = await self._account.client.stores()
            cameras = await self._account.client.cameras()
        except ApiError as exc:
            self.control.controls = [common.failed(exc, self.refresh)]
            self._update()
            return
        self.stores = {s.id: s for s in stores.data}
        self.cameras = {c.id: c for c in cameras.data}
        self.show()
        await self._load_snapshots()
        self._renew_pictures()

    def forget(self) -> None:
        """Nothing known (another server is in use)."""
        self.pause()
        self.cameras, self.stores, self.snapshots = {}, {}, {}
        self.control.controls = [common.loading()]

    def pause(self) -> None:
        """Home is not shown: stop renewing its pictures."""
        if self._renewing is not None:
            self._renewing.cancel()
            self._renewing = None

    def _renew_pictures(self) -> None:
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew_forever(), name="home-pictures")

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(PICTURES_EVERY_S)
            with contextlib.suppress(ApiError):
                await self._load_snapshots()

    async def _load_snapshots(self) -> None:
        """The running cameras' newest pictures; one that has none keeps its icon."""
        client = self._account.client
        if client is None:
            return
        running = [c.id for c in self.cameras.values() if c.status is CameraStatus.online]
        pictures = await asyncio.gather(
            *(client.camera_snapshot(camera_id) for camera_id in running),
            return_exceptions=True,
        )
        self.snapshots |= {
            camera_id: picture
            for camera_id, picture in zip(running, pictures, strict=True)
            if isinstance(picture, bytes)
        }
        if self.snapshots:
            self.show()

    def camera_status(self, camera_id: int, status: CameraStatus, since: datetime) -> None:
        """A live `camera.status` event."""
        camera = self.cameras.get(camera_id)
        if camera is not None:
            self.cameras[camera_id] = camera.model_copy(
                update={"status": status, "status_since": since}
            )
            self.show()

    async def recount(self) -> None:
        """The cameras' alerts to review, read again from the server."""
        client = self._account.client
        if client is None or not self.cameras:
            return
        try:
            cameras = await client.cameras()
        except ApiError:
            return  # the next refresh counts again
        for camera in cameras.data:
            if camera.id in self.cameras:
                self.cameras[camera.id] = self.cameras[camera.id].model_copy(
                    update={"open_alerts": camera.open_alerts}
                )
        self.show()

    def alert_counted(self, camera_id: int, change: int) -> None:
        """A live alert event: one more (or fewer) alerts not reviewed on the camera."""
        camera = self.cameras.get(camera_id)
        if camera is not None:
            open_alerts = max(0, camera.open_alerts + change)
            self.cameras[camera_id] = camera.model_copy(update={"open_alerts": open_alerts})
            self.show()

    def show(self) -> None:
        if not self.cameras:
            note = _("No cameras yet. An admin adds them in Settings.")
            self.control.controls = [common.empty(note)]
        else:
            shown: list[ft.Control] = []
            for store in sorted(self.stores.values(), key=lambda s: s.name):
                mine = sorted(
                    (c for c in self.cameras.values() if c.store_id == store.id),
                    key=lambda c: c.name,
                )
                if mine:
                    shown += [
                        self._store_heading(store, mine),
                        ft.ResponsiveRow(
                            [self._tile(camera) for camera in mine], spacing=8, run_spacing=8
                        ),
                    ]
            self.control.controls = shown
        self._update()

    def _store_heading(self, store: StorePublic, cameras: list[CameraPublic]) -> ft.Control:
        online = sum(c.status is CameraStatus.online for c in cameras)
        waiting = sum(c.open_alerts for c in cameras)
        facts = _("{online} of {cameras} online").format(online=online, cameras=len(cameras))
        if waiting:
            facts += " · " + ngettext(
                "{n} alert to review", "{n} alerts to review", waiting
            ).format(n=waiting)
        return ids.tagged(
            ids.store_heading(store.id),
            ft.Container(
                ft.Column(
                    [
                        ft.Text(store.name, weight=ft.FontWeight.BOLD, size=18),
                        ft.Text(facts, color=common.MUTED),
                    ],
                    spacing=0,
                ),
                padding=ft.Padding.only(top=8),
            ),
        )

    def _tile(self, camera: CameraPublic) -> ft.Control:
        online = camera.status is CameraStatus.online
        if online:
            status = _("Online")
        else:
            status = _("{status} since {moment}").format(
                status=camera_status_words(camera.status), moment=common.when(camera.status_since)
            )

        async def opened(_event: ft.Event[ft.Container]) -> None:
            await self._open_camera(camera.id)

        picture = self.snapshots.get(camera.id)
        if picture is not None:
            face: ft.Control = ft.Image(
                src=picture,
                fit=ft.BoxFit.COVER,
                aspect_ratio=16 / 9,
                semantics_label=_("{camera}: newest picture").format(camera=camera.name),
            )
        else:
            face = ft.Container(
                ft.Icon(
                    ft.Icons.VIDEOCAM if online else ft.Icons.VIDEOCAM_OFF,
                    color=common.MUTED if online else ft.Colors.ERROR,
                    size=32,
                ),
                aspect_ratio=16 / 9,
                bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
                alignment=ft.Alignment.CENTER,
            )
        badges: list[ft.Control] = [
            ft.Container(
                width=10,
                height=10,
                border_radius=5,
                bgcolor=ft.Colors.GREEN if online else ft.Colors.ERROR,
            )
        ]
        if camera.open_alerts:
            badges.append(
                alert_words.chip(
                    ngettext("{n} alert", "{n} alerts", camera.open_alerts).format(
                        n=camera.open_alerts
                    ),
                    ft.Colors.RED,
                )
            )
        words = (
            status
            if not camera.last_error or online
            else _("{status}: {problem}").format(status=status, problem=camera.last_error)
        )
        card = ft.Container(
            ft.Column(
                [
                    ft.Container(face, border_radius=8, clip_behavior=ft.ClipBehavior.ANTI_ALIAS),
                    ft.Row(
                        [
                            ft.Text(
                                camera.name,
                                weight=ft.FontWeight.W_600,
                                max_lines=1,
                                overflow=ft.TextOverflow.ELLIPSIS,
                                expand=True,
                            ),
                            *badges,
                        ],
                        spacing=6,
                    ),
                    ft.Text(
                        words,
                        size=12,
                        color=common.MUTED if online else ft.Colors.ERROR,
                        max_lines=2,
                        overflow=ft.TextOverflow.ELLIPSIS,
                    ),
                ],
                spacing=4,
            ),
            padding=6,
            border_radius=10,
            bgcolor=ft.Colors.SURFACE_CONTAINER_LOW,
            ink=True,
            on_click=opened,
        )
        alerts = (
            ngettext("{n} alert to review", "{n} alerts to review", camera.open_alerts).format(
                n=camera.open_alerts
            )
            if camera.open_alerts
            else ""
        )
        said = ", ".join(part for part in (camera.name, words, alerts) if part)
        return ft.Container(ids.labelled(ids.camera_row(camera.id), said, card), col=TILE_COLUMNS)

    def _update(self) -> None:
        common.redraw(self.control)


def camera_status_words(status: CameraStatus) -> str:
    return {
        CameraStatus.connecting: _("Connecting"),
        CameraStatus.online: _("Online"),
        CameraStatus.degraded: _("Degraded"),
        CameraStatus.offline: _("Offline"),
        CameraStatus.disabled: _("Switched off"),
    }[status]


class CameraScreen:
    """One camera: its live view, and its recent alerts."""

    def __init__(
        self,
        account: Account,
        camera: CameraPublic,
        open_alert: Callable[[int], Awaitable[None]],
        on_back: Callable[[], Awaitable[None]],
    ) -> None:
        self._account, self.camera = account, camera
        self._open_alert, self._on_back = open_alert, on_back
        self.live = ft.Container(common.loading(_("Starting the live view…")), height=240)
        self.recent = ft.Column([common.loading()])
        back = ft.IconButton(ft.Icons.ARROW_BACK, tooltip=_("Back"), on_click=self._back)
        self.control = ft.Column(
            [
                ft.Row([ids.tagged(ids.BACK, back), ft.Text(camera.name, size=20)]),
                self.live,
                ft.Text(_("Recent alerts"), weight=ft.FontWeight.BOLD),
                self.recent,
            ],
            scroll=ft.ScrollMode.AUTO,
            expand=True,
        )

    async def refresh(self) -> None:
        client = self._account.client
        assert client is not None
        try:
            link = await client.live_link(self.camera.id)
            self.live.content = ftw.WebView(url=client.address + link.url, expand=True)
        except ApiError as exc:
            self.live.content = ft.Text(
                _("No live view: {problem}").format(problem=exc.message), color=ft.Colors.ERROR
            )
        try:
            recent = await client.alerts(camera_id=self.camera.id, limit=10)
        except ApiError as exc:
            self.recent.controls = [common.failed(exc, self.refresh)]
        else:
            self.recent.controls = [self._row(a) for a in recent.data] or [
                common.empty(_("No alerts from this camera."))
            ]
        common.redraw(self.control)

    def _row(self, alert: AlertPublic) -> ft.Control:
        async def opened(_event: ft.Event[ft.ListTile]) -> None:
            await self._open_alert(alert.id)

        tile = ft.ListTile(
            title=ft.Text(title(alert)),
            subtitle=ft.Text(
                _("{when} · {status}").format(
                    when=alert_words.ago(alert.started_at),
                    status=alert_words.status_words(alert.status),
                )
            ),
            on_click=opened,
        )
        return ids.tagged(ids.alert_row(alert.id), tile)

    async def _back(self, _event: ft.Event[ft.IconButton]) -> None:
        await self._on_back()
