"""Analytics: how the store is used, from the cameras' tracked people. Footfall over the
counting lines (today by hour, the range by day), people in each view and zone now, how long
visits to each zone last, where people stood (a heatmap over a camera's picture) and the
checkout queues now and through the day; for one store or camera, over today or the last 7
or 30 days. Days and hours are the store's own (the zone the stores shown share, else UTC).

Where nothing is measured yet the screen says what to draw: counting lines and zones are
drawn in Settings → Cameras and DVRs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import flet as ft

from mobile.api import analytics
from mobile.api.client import ApiClient
from mobile.api.errors import ApiError
from mobile.i18n import _
from mobile.state.account import Account
from mobile.ui import analytics_sections as sections
from mobile.ui import charts, common, ids
from mobile.ui.heatmap_view import HeatmapView
from shared.schemas.cameras import CameraPublic, ZoneKind
from shared.schemas.stores import StorePublic

TODAY, WEEK, MONTH = "today", "7d", "30d"
PRESET_DAYS = {TODAY: 1, WEEK: 7, MONTH: 30}
ALL = "all"
Figures = TypeVar("Figures")


def day_span(days: int, zone: ZoneInfo, today: date) -> tuple[datetime, datetime]:
    """From local midnight `days - 1` days before `today` to the midnight after it."""
    since = datetime.combine(today - timedelta(days=days - 1), time(), tzinfo=zone)
    return since, datetime.combine(today + timedelta(days=1), time(), tzinfo=zone)


def shared_zone(zones: set[str]) -> ZoneInfo:
    """The stores' one zone, else UTC (across zones there is no one local day)."""
    return ZoneInfo(next(iter(zones)) if len(zones) == 1 else "UTC")


class AnalyticsScreen:
    def __init__(self, account: Account) -> None:
        self._account = account
        self.stores: list[StorePublic] = []
        self.cameras: list[CameraPublic] = []
        self.zone = ZoneInfo("UTC")
        self.store = common.choice(_("Store"), ALL, {ALL: _("All stores")}, self._filtered)
        self.store_line = ids.tagged(ids.ANALYTICS_STORE, self.store)  # for several stores
        self.camera = common.choice(_("Camera"), ALL, {ALL: _("All cameras")}, self._filtered)
        presets = {TODAY: _("Today"), WEEK: _("Last 7 days"), MONTH: _("Last 30 days")}
        self.range = common.choice(_("Range"), WEEK, presets, self._filtered, width=160)
        self.heatmap = HeatmapView()
        stretch = ft.CrossAxisAlignment.STRETCH
        self.footfall = ft.Column([], spacing=8, horizontal_alignment=stretch)
        self.occupancy = ft.Column([], spacing=0, horizontal_alignment=stretch)
        self.dwell = ft.Column([], spacing=4, horizontal_alignment=stretch)
        self.queues = ft.Column([], spacing=8, horizontal_alignment=stretch)
        self.body = ft.Column([common.loading()], spacing=10)
        self.control = ft.Column(
            [
                ft.Container(  # room above: the drop-down's label rises above its border
                    ft.Row(
                        [
                            self.store_line,
                            ids.tagged(ids.ANALYTICS_CAMERA, self.camera),
                            ids.tagged(ids.ANALYTICS_RANGE, self.range),
                        ],
                        wrap=True,
                        run_spacing=12,
                    ),
                    padding=ft.Padding.only(top=8),
                ),
                self.body,
            ],
            scroll=ft.ScrollMode.AUTO,
            expand=True,
        )

    # what is shown
    @property
    def store_id(self) -> int | None:
        return None if self.store.value in (None, ALL) else int(str(self.store.value))

    @property
    def camera_id(self) -> int | None:
        return None if self.camera.value in (None, ALL) else int(str(self.camera.value))

    def cameras_shown(self) -> list[CameraPublic]:
        return [
            c
            for c in self.cameras
            if (self.store_id is None or c.store_id == self.store_id)
            and (self.camera_id is None or c.id == self.camera_id)
        ]

    def window(self, today: date) -> analytics.Window:
        since, until = day_span(PRESET_DAYS[self.range.value or WEEK], self.zone, today)
        return analytics.Window(
            since, until, self.zone.key, store_id=self.store_id, camera_id=self.camera_id
        )

    async def refresh(self) -> None:
        client = self._account.client
        assert client is not None
        try:
            self.stores = (await client.stores()).data
            self.cameras = (await client.cameras()).data
        except ApiError as exc:
            self.body.controls = [common.failed(exc, self.refresh)]
            common.redraw(self.control)
            return
        self._fill_filters()
        shown_stores = [s for s in self.stores if self.store_id in (None, s.id)]
        self.zone = shared_zone({s.timezone for s in shown_stores})
        today = datetime.now(self.zone).date()
        window, width, cameras = self.window(today), self._width(), self.cameras_shown()
        footfall, occupancy, dwell, queues, _heatmap = await asyncio.gather(
            self._fetch(analytics.footfall, window),
            self._fetch(analytics.occupancy, window),
            self._fetch(analytics.dwell, window),
            self._fetch(analytics.queues, window),
            self.heatmap.show(
                client,
                window,
                cameras[0] if cameras else None,
                width,
                more_cameras=len(cameras) > 1,
            ),
        )
        self._place(
            self.footfall,
            footfall,
            lambda f: sections.footfall(f, self.zone, today, width),
            None if any(c.lines for c in cameras) else self._to_draw("line"),
        )
        self._place(self.occupancy, occupancy, sections.occupancy, None)
        self._place(
            self.dwell,
            dwell,
            lambda d: sections.dwell(d, width),
            None if any(c.zones for c in cameras) else self._to_draw("zone"),
        )
        has_queue = any(z.kind is ZoneKind.queue for c in cameras for z in c.zones)
        self._place(
            self.queues,
            queues,
            lambda q: sections.queues(q, self.zone, today, width),
            None if has_queue else self._to_draw("queue"),
        )
        self.body.controls = [
            self._section(ids.ANALYTICS_FOOTFALL, _("Footfall"), self.footfall),
            self._section(ids.ANALYTICS_OCCUPANCY, _("People here now"), self.occupancy),
            self._section(ids.ANALYTICS_QUEUES, _("Checkout queues"), self.queues),
            self._section(ids.ANALYTICS_DWELL, _("Time spent per zone"), self.dwell),
            self._section(ids.ANALYTICS_HEATMAP, _("Where people stood"), self.heatmap.control),
        ]
        common.redraw(self.control)

    # drawing
    async def _fetch(
        self,
        call: Callable[[ApiClient, analytics.Window], Awaitable[Figures]],
        window: analytics.Window,
    ) -> Figures | ApiError:
        assert self._account.client is not None
        try:
            return await call(self._account.client, window)
        except ApiError as exc:
            return exc

    def _place(
        self,
        column: ft.Column,
        figures: Figures | ApiError,
        draw: Callable[[Figures], list[ft.Control]],
        nothing_drawn: str | None,
    ) -> None:
        """The section's figures; what to draw first if nothing is; or what went wrong."""
        if isinstance(figures, ApiError):
            column.controls = [common.failed(figures, self.refresh)]
        elif nothing_drawn is not None:
            column.controls = [common.empty(nothing_drawn)]
        else:
            column.controls = draw(figures)

    def _to_draw(self, what: str) -> str:
        """What to draw where, for admins; who can, for others."""
        admin = self._account.is_admin
        if what == "line":
            return (
                _(
                    "No counting line yet. Draw one across the door in Settings → Cameras and "
                    "DVRs → Lines and zones to count people coming in and going out."
                )
                if admin
                else _("No counting line yet: an admin draws one in Settings.")
            )
        if what == "queue":
            return (
                _(
                    "No queue zone yet. Draw a zone of kind “checkout queue” where people wait "
                    "in Settings → Cameras and DVRs → Lines and zones."
                )
                if admin
                else _("No queue zone yet: an admin draws one in Settings.")
            )
        return (
            _(
                "No zones yet. Draw zones (shelves, checkout, entrance) in Settings → Cameras "
                "and DVRs → Lines and zones to see how long people stay in each."
            )
            if admin
            else _("No zones yet: an admin draws them in Settings.")
        )

    @staticmethod
    def _section(identifier: str, heading: str, content: ft.Control) -> ft.Control:
        return ids.tagged(
            identifier,
            ft.Column(
                [sections.title(heading), content],
                spacing=6,
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            ),
        )

    def _fill_filters(self) -> None:
        stores = {ALL: _("All stores")} | {str(s.id): s.name for s in self.stores}
        if self.store.value not in stores:
            self.store.value = ALL
        self.store.options = [ft.DropdownOption(key=k, text=t) for k, t in stores.items()]
        self.store_line.visible = len(self.stores) > 1
        in_store = [c for c in self.cameras if self.store_id in (None, c.store_id)]
        cameras = {ALL: _("All cameras")} | {str(c.id): c.name for c in in_store}
        if self.camera.value not in cameras:
            self.camera.value = ALL
        self.camera.options = [ft.DropdownOption(key=k, text=t) for k, t in cameras.items()]

    def _width(self) -> float:
        return charts.chart_width(self.control)

    async def _filtered(self, _event: ft.Event[ft.Dropdown]) -> None:
        self.body.controls = [common.loading()]
        common.redraw(self.control)
        await self.refresh()
