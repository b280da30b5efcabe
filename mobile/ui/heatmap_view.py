"""Where people stood on one camera: the server's heatmap blended over the camera's newest
picture (fetched with the sign-in, shown from memory), with the time people spent in view."""

from __future__ import annotations

import flet as ft

from mobile.api import analytics
from mobile.api.client import ApiClient
from mobile.api.errors import ApiError
from mobile.i18n import _, formats
from mobile.ui import common, ids
from shared.schemas.cameras import CameraPublic

MAX_WIDTH_PX = 640.0


class HeatmapView:
    def __init__(self) -> None:
        self.picture: ft.Image | None = None  # the heatmap shown, once loaded
        self.control = ft.Column([], spacing=6)

    async def show(
        self,
        client: ApiClient,
        window: analytics.Window,
        camera: CameraPublic | None,
        width: float,
        *,
        more_cameras: bool = False,
    ) -> None:
        """`camera`'s heatmap; `more_cameras`: others could be picked instead."""
        self.picture = None
        if camera is None:
            self.control.controls = [common.empty(_("No cameras to show."))]
            return
        try:
            figures = await analytics.heatmap(client, window, camera.id)
            jpeg = (
                await analytics.heatmap_jpeg(client, window, camera.id)
                if figures.person_seconds
                else b""
            )
        except ApiError as exc:
            self.control.controls = [ft.Text(exc.message, color=ft.Colors.ERROR)]
            return
        name = (
            _("{camera} (pick a camera above to see another)").format(camera=camera.name)
            if more_cameras
            else camera.name
        )
        caption = ft.Text(name, weight=ft.FontWeight.W_500)
        if not figures.person_seconds:
            self.control.controls = [
                caption,
                common.empty(_("Nobody was seen on this camera in this range.")),
            ]
            return
        shown = min(width, MAX_WIDTH_PX)
        self.picture = ft.Image(src=jpeg, width=shown, fit=ft.BoxFit.CONTAIN, border_radius=6)
        label = _("Heatmap of {camera}: where people stood").format(camera=camera.name)
        self.control.controls = [
            caption,
            ids.labelled(ids.ANALYTICS_HEATMAP_PICTURE, label, self.picture),
            ft.Text(
                _("People spent {time} in view in all; red: where they stood longest.").format(
                    time=formats.duration(figures.person_seconds)
                ),
                size=12,
                color=common.MUTED,
            ),
        ]
