"""Alerts: newest first, new ones appear at the top as they happen (from the live events),
filters by status, camera and time, and the unread ones in bold."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import flet as ft

from mobile.api.errors import ApiError
from mobile.state.account import Account
from mobile.state.alerts import AlertBook, AlertFilter
from mobile.ui import common, ids
from shared.schemas.alerts import AlertPublic, AlertsPublic, AlertStatus

STATUS_COLOURS = {
    AlertStatus.new: ft.Colors.RED,
    AlertStatus.acknowledged: ft.Colors.ORANGE,
    AlertStatus.reviewed: ft.Colors.GREEN,
}
PAGE_SIZE = 50
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def title(alert: AlertPublic) -> str:
    return alert.event_type.replace("_", " ").capitalize()


class AlertsScreen:
    def __init__(
        self,
        account: Account,
        book: AlertBook,
        camera_names: Callable[[], dict[int, str]],
        open_alert: Callable[[int], Awaitable[None]],
    ) -> None:
        self._account, self._book = account, book
        self._camera_names, self._open_alert = camera_names, open_alert
        statuses = {"open": "Not reviewed", "all": "All"} | {
            s.value: s.value.capitalize() for s in AlertStatus
        }
        self.status = common.choice("Status", "open", statuses, self._filter_changed)
        self.camera = common.choice("Camera", "all", {}, self._filter_changed)
        periods = {
            "24h": "Last 24 hours",
            "7d": "Last 7 days",
            "30d": "Last 30 days",
            "all": "Any time",
        }
        self.period = common.choice("Time", "7d", periods, self._filter_changed)
        self.page_size = PAGE_SIZE
        self.more = ft.OutlinedButton("Load older alerts", on_click=self._load_more)
        self.list = ft.ListView(spacing=2, expand=True)
        self.body = ft.Column([common.loading()], expand=True)
        self.control = ft.Column(
            [
                ft.Row(
                    [
                        ids.tagged(ids.ALERT_STATUS_FILTER, self.status),
                        ids.tagged(ids.ALERT_CAMERA_FILTER, self.camera),
                        ids.tagged(ids.ALERT_TIME_FILTER, self.period),
                    ],
                    wrap=True,
                ),
                self.body,
            ],
            expand=True,
        )

    def current_filter(self) -> AlertFilter:
        statuses: frozenset[AlertStatus] = frozenset()
        if self.status.value == "open":
            statuses = frozenset({AlertStatus.new, AlertStatus.acknowledged})
        elif self.status.value in {s.value for s in AlertStatus}:
            statuses = frozenset({AlertStatus(self.status.value)})
        camera = int(self.camera.value) if self.camera.value not in (None, "all") else None
        period = PERIODS.get(self.period.value or "")
        since = datetime.now(UTC) - period if period else None
        return AlertFilter(statuses=statuses, camera_id=camera, since=since)

    async def refresh(self) -> None:
        """Reload from the server for the current filters."""
        names = self._camera_names()
        self.camera.options = [ft.DropdownOption(key="all", text="All cameras")] + [
            ft.DropdownOption(key=str(camera_id), text=name) for camera_id, name in names.items()
        ]
        where = self._book.filter = self.current_filter()
        self.body.controls = [common.loading()]
        self._update()
        assert self._account.client is not None
        try:
            page = await self._page(where)
        except ApiError as exc:
            self.body.controls = [common.failed(exc, self.refresh)]
        else:
            self._book.replace(page.data, page.next_cursor)
            self.show()
        self._update()

    def show(self) -> None:
        """Redraw the list from the book (after a load or a live event)."""
        alerts = self._book.visible()
        if not alerts:
            self.body.controls = [common.empty("No alerts for these filters.")]
        else:
            self.list.controls = [self._row(alert) for alert in alerts]
            if self._book.next_cursor is not None:
                self.list.controls.append(ids.tagged(ids.LOAD_MORE, self.more))
            self.body.controls = [ids.tagged(ids.ALERT_LIST, self.list)]
        self._update()

    def _row(self, alert: AlertPublic) -> ft.Control:
        camera = self._camera_names().get(alert.camera_id, f"Camera {alert.camera_id}")
        unread = self._book.is_unread(alert.id)
        zone = f" · {alert.zone}" if alert.zone else ""

        async def opened(_: ft.Event[ft.ListTile]) -> None:
            await self._open_alert(alert.id)

        tile = ft.ListTile(
            leading=ft.Icon(ft.Icons.WARNING_AMBER, color=STATUS_COLOURS[alert.status]),
            title=ft.Text(
                f"{title(alert)} — {camera}",
                weight=ft.FontWeight.BOLD if unread else ft.FontWeight.NORMAL,
            ),
            subtitle=ft.Text(
                f"{common.when(alert.started_at)}{zone} · score {alert.peak_score:.2f}"
                f" · {alert.status.value}"
            ),
            on_click=opened,
        )
        return ids.tagged(ids.alert_row(alert.id), tile)

    async def _load_more(self, _: object) -> None:
        """The next, older page for the same filters."""
        where, cursor = self._book.filter, self._book.next_cursor
        assert self._account.client is not None and cursor is not None
        self.more.disabled, self.more.content = True, "Loading…"
        self._update()
        try:
            page = await self._page(where, cursor)
        except ApiError as exc:
            self.more.content = f"{exc.message}: tap to try again"
        else:
            if self._book.filter == where:  # the filters did not change meanwhile
                self._book.extend(page.data, page.next_cursor)
            self.more.content = "Load older alerts"
        self.more.disabled = False
        self.show()

    async def _page(self, where: AlertFilter, cursor: str | None = None) -> AlertsPublic:
        assert self._account.client is not None
        return await self._account.client.alerts(
            statuses=sorted(where.statuses),
            camera_id=where.camera_id,
            since=where.since,
            limit=self.page_size,
            cursor=cursor,
        )

    async def _filter_changed(self, _: ft.Event[ft.Dropdown]) -> None:
        await self.refresh()

    def _update(self) -> None:
        common.redraw(self.control)
