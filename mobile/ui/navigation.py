"""The five places of the app: a bar at the bottom on phones, a rail at the left on wide
windows (tablets, desktops, the browser), with the unread badge on Alerts in both."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from mobile.i18n import N_, _

WIDE_PX = 840  # Material's expanded width: a rail instead of a bar
PLACES = (
    (ft.Icons.HOME_OUTLINED, N_("Home")),
    (ft.Icons.NOTIFICATIONS_OUTLINED, N_("Alerts")),
    (ft.Icons.BAR_CHART, N_("Stats")),
    (ft.Icons.INSIGHTS, N_("Analytics")),
    (ft.Icons.SETTINGS_OUTLINED, N_("Settings")),
)
ALERTS_PLACE = 1


class Navigation:
    def __init__(self, on_change: Callable[[int], Awaitable[None]]) -> None:
        self._on_change = on_change
        self.bar_alerts_icon = ft.Icon(PLACES[ALERTS_PLACE][0])
        self.rail_alerts_icon = ft.Icon(PLACES[ALERTS_PLACE][0])
        self.bar = ft.NavigationBar(
            destinations=[
                ft.NavigationBarDestination(
                    icon=self.bar_alerts_icon if i == ALERTS_PLACE else icon, label=_(label)
                )
                for i, (icon, label) in enumerate(PLACES)
            ],
            on_change=self._changed,
        )
        self.rail = ft.NavigationRail(
            destinations=[
                ft.NavigationRailDestination(
                    icon=self.rail_alerts_icon if i == ALERTS_PLACE else icon, label=_(label)
                )
                for i, (icon, label) in enumerate(PLACES)
            ],
            label_type=ft.NavigationRailLabelType.ALL,
            on_change=self._changed,
        )

    @property
    def selected(self) -> int:
        return self.bar.selected_index or 0

    @selected.setter
    def selected(self, index: int) -> None:
        self.bar.selected_index = self.rail.selected_index = index

    def badge(self, unread: int) -> None:
        for icon in (self.bar_alerts_icon, self.rail_alerts_icon):
            icon.badge = ft.Badge(label=str(unread)) if unread else None

    @property
    def unread_badge(self) -> str | None:
        badge = self.bar_alerts_icon.badge
        return badge.label if isinstance(badge, ft.Badge) else None  # type: ignore[return-value]

    def place(self, page: ft.Page, body: ft.Control) -> ft.Control:
        """`body` with the navigation for the window's width (the bar goes on the page)."""
        if (page.width or 0) >= WIDE_PX:
            page.navigation_bar = None
            return ft.Row([self.rail, ft.VerticalDivider(width=1), body], expand=True)
        page.navigation_bar = self.bar
        return body

    async def _changed(
        self, event: ft.Event[ft.NavigationBar] | ft.Event[ft.NavigationRail]
    ) -> None:
        index = event.control.selected_index or 0
        self.selected = index
        await self._on_change(index)
