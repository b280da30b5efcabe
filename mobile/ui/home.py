"""Home: the stores and cameras the user may see, each with its status (online, or offline
since when) and its newest picture; a camera opens its live view (the server's player in a
WebView) with its recent alerts below."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

import flet as ft
import flet_webview as ftw

from mobile.api.errors import ApiError
from mobile.state.account import Account
from mobile.ui import common, ids
from mobile.ui.alerts import title
from shared.schemas.alerts import AlertPublic
from shared.schemas.cameras import CameraPublic, CameraStatus
from shared.schemas.stores import StorePublic


class HomeScreen:
    def __init__(self, account: Account, open_camera: Callable[[int], Awaitable[None]]) -> None:
        self._account, self._open_camera = account, open_camera
        self.cameras: dict[int, CameraPublic] = {}
        self.stores: dict[int, StorePublic] = {}
        self.snapshots: dict[int, bytes] = {}
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

    async def _load_snapshots(self) -> None:
        """The running cameras' newest pictures; one that has none keeps its icon."""
        client = self._account.client
        assert client is not None
        running = [c.id for c in self.cameras.values() if c.status is CameraStatus.online]
        pictures = await asyncio.gather(
            *(client.camera_snapshot(camera_id) for camera_id in running),
            return_exceptions=True,
        )
        self.snapshots = {
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

    def show(self) -> None:
        if not self.cameras:
            note = "No cameras yet. An admin adds them in Settings."
            self.control.controls = [common.empty(note)]
        else:
            rows: list[ft.Control] = []
            for store in sorted(self.stores.values(), key=lambda s: s.name):
                mine = [c for c in self.cameras.values() if c.store_id == store.id]
                if not mine:
                    continue
                rows.append(ft.Text(store.name, weight=ft.FontWeight.BOLD, size=16))
                rows += [self._row(camera) for camera in sorted(mine, key=lambda c: c.name)]
            self.control.controls = rows
        self._update()

    def _row(self, camera: CameraPublic) -> ft.Control:
        online = camera.status is CameraStatus.online
        status = (
            "online"
            if online
            else f"{camera.status.value} since {common.when(camera.status_since)}"
        )

        async def opened(_: ft.Event[ft.ListTile]) -> None:
            await self._open_camera(camera.id)

        icon = ft.Icon(
            ft.Icons.VIDEOCAM if online else ft.Icons.VIDEOCAM_OFF,
            color=ft.Colors.GREEN if online else ft.Colors.ERROR,
        )
        picture = self.snapshots.get(camera.id)
        tile = ft.ListTile(
            leading=icon
            if picture is None
            else ft.Image(
                src=picture,
                width=96,
                height=54,
                fit=ft.BoxFit.COVER,
                semantics_label=f"{camera.name}: newest picture",
            ),
            trailing=icon if picture is not None else None,
            title=ft.Text(camera.name),
            subtitle=ft.Text(status if not camera.last_error else f"{status}: {camera.last_error}"),
            on_click=opened,
        )
        return ids.tagged(ids.camera_row(camera.id), tile)

    def _update(self) -> None:
        common.redraw(self.control)


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
        self.live = ft.Container(common.loading("Starting the live view…"), height=240)
        self.recent = ft.Column([common.loading()])
        back = ft.IconButton(ft.Icons.ARROW_BACK, tooltip="Back", on_click=self._back)
        self.control = ft.Column(
            [
                ft.Row([ids.tagged(ids.BACK, back), ft.Text(camera.name, size=20)]),
                self.live,
                ft.Text("Recent alerts", weight=ft.FontWeight.BOLD),
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
            self.live.content = ft.Text(f"No live view: {exc.message}", color=ft.Colors.ERROR)
        try:
            recent = await client.alerts(camera_id=self.camera.id, limit=10)
        except ApiError as exc:
            self.recent.controls = [common.failed(exc, self.refresh)]
        else:
            self.recent.controls = [self._row(a) for a in recent.data] or [
                common.empty("No alerts from this camera.")
            ]
        common.redraw(self.control)

    def _row(self, alert: AlertPublic) -> ft.Control:
        async def opened(_: ft.Event[ft.ListTile]) -> None:
            await self._open_alert(alert.id)

        tile = ft.ListTile(
            title=ft.Text(title(alert)),
            subtitle=ft.Text(f"{common.when(alert.started_at)} · {alert.status.value}"),
            on_click=opened,
        )
        return ids.tagged(ids.alert_row(alert.id), tile)

    async def _back(self, _: ft.Event[ft.IconButton]) -> None:
        await self._on_back()
