"""Alerts: a feed people judge at a glance, newest first. Each row has the snapshot, what
and where (camera, store), how long ago, the score as a level and the status; unread ones
stand out. New alerts appear at the top as they happen (the live events); pulling down at
the top reloads, scrolling to the end loads older ones (the server's cursor). Filters by
status, camera and time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import flet as ft

from mobile.api.errors import ApiError
from mobile.api.evidence import thumbnail_links, thumbnail_src
from mobile.i18n import _
from mobile.state.account import Account
from mobile.state.alerts import AlertBook, AlertFilter
from mobile.ui import alert_words, common, ids
from mobile.ui.alert_words import title
from shared.schemas.alerts import AlertPublic, AlertsPublic, AlertStatus

PAGE_SIZE = 50
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
THUMB_W, THUMB_H = 96, 54  # 16:9
NEAR_END_PX = 300  # this close to the end of the list, the next page loads
PULL_PX = 60  # pulled down this far past the top, the list reloads

Place = tuple[str, str]  # (camera name, store name)


class AlertsScreen:
    def __init__(
        self,
        account: Account,
        book: AlertBook,
        camera_names: Callable[[], dict[int, str]],
        open_alert: Callable[[int], Awaitable[None]],
        place_of: Callable[[int], Place] | None = None,
    ) -> None:
        """`place_of(camera_id)`: the camera's and its store's names."""
        self._account, self._book = account, book
        self._camera_names, self._open_alert = camera_names, open_alert
        self._place_of = place_of
        statuses = {"open": _("Not reviewed"), "all": _("All")} | {
            s.value: alert_words.status_words(s) for s in AlertStatus
        }
        self.status = common.choice(_("Status"), "open", statuses, self._filter_changed, 165)
        self.camera = common.choice(_("Camera"), "all", {}, self._filter_changed, 165)
        periods = {
            "24h": _("Last 24 hours"),
            "7d": _("Last 7 days"),
            "30d": _("Last 30 days"),
            "all": _("Any time"),
        }
        self.period = common.choice(_("Time"), "7d", periods, self._filter_changed, 165)
        self.page_size = PAGE_SIZE
        self.thumbnails: dict[int, str] = {}  # alert id → its snapshot's signed address
        self._loading_more = self._reloading = False
        self.more = ft.OutlinedButton(_("Load older alerts"), on_click=self._load_more)
        self.list = ft.ListView(spacing=4, expand=True, on_scroll=self._scrolled)
        self.list.scroll_interval = 100
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
        self.camera.options = [ft.DropdownOption(key="all", text=_("All cameras"))] + [
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
            await self._load_thumbnails(page.data)
        self._update()

    def show(self) -> None:
        """Redraw the list from the book (after a load or a live event)."""
        alerts = self._book.visible()
        if not alerts:
            self.body.controls = [common.empty(_("No alerts for these filters."))]
        else:
            self.list.controls = [self._row(alert) for alert in alerts]
            if self._book.next_cursor is not None:
                self.list.controls.append(ids.tagged(ids.LOAD_MORE, self.more))
            self.body.controls = [ids.tagged(ids.ALERT_LIST, self.list)]
        self._update()

    def _row(self, alert: AlertPublic) -> ft.Control:
        camera, store = self._place(alert.camera_id)
        unread = self._book.is_unread(alert.id)
        where = _("{camera} · {store}").format(camera=camera, store=store) if store else camera
        if alert.zone:
            where = _("{where} · {zone}").format(where=where, zone=alert.zone)

        async def opened(_event: ft.Event[ft.Container]) -> None:
            await self._open_alert(alert.id)

        status = alert_words.chip(
            alert_words.status_words(alert.status), alert_words.STATUS_COLOURS[alert.status]
        )
        if alert.outcome is not None:
            status = alert_words.chip(
                alert_words.outcome_words(alert.outcome),
                alert_words.OUTCOME_COLOURS[alert.outcome],
            )
        when = _("{where} · {when}").format(where=where, when=alert_words.ago(alert.started_at))
        level = alert_words.level(alert.peak_score).words
        heading: list[ft.Control] = [
            ft.Text(
                title(alert),
                weight=ft.FontWeight.BOLD if unread else ft.FontWeight.W_500,
                max_lines=1,
                overflow=ft.TextOverflow.ELLIPSIS,
                expand=True,
            )
        ]
        if unread:
            heading.append(
                ft.Icon(ft.Icons.CIRCLE, size=10, color=ft.Colors.PRIMARY, tooltip=_("Unread"))
            )
        facts = ft.Column(
            [
                ft.Row(heading, spacing=6),
                ft.Text(when, max_lines=2, overflow=ft.TextOverflow.ELLIPSIS, size=13),
                ft.Row([alert_words.level_bars(alert.peak_score), status], spacing=10, wrap=True),
            ],
            spacing=3,
            expand=True,
        )
        tile = ft.Container(
            ft.Row(
                [self._thumbnail(alert), facts],
                spacing=12,
                vertical_alignment=ft.CrossAxisAlignment.START,
            ),
            padding=ft.Padding.symmetric(horizontal=10, vertical=8),
            border_radius=10,
            bgcolor=ft.Colors.with_opacity(0.08, ft.Colors.PRIMARY) if unread else None,
            ink=True,
            on_click=opened,
        )
        said = ", ".join(
            part
            for part in (
                title(alert),
                _("unread") if unread else "",
                when,
                level,
                alert_words.outcome_words(alert.outcome)
                if alert.outcome
                else alert_words.status_words(alert.status),
            )
            if part
        )
        return ids.labelled(ids.alert_row(alert.id), said, tile)

    def _thumbnail(self, alert: AlertPublic) -> ft.Control:
        """The snapshot, or a placeholder while there is none (yet)."""
        address = self.thumbnails.get(alert.id)
        if address is not None:
            return ft.Container(
                ft.Image(
                    src=address,
                    width=THUMB_W,
                    height=THUMB_H,
                    fit=ft.BoxFit.COVER,
                    semantics_label=_("Snapshot"),
                ),
                border_radius=6,
                clip_behavior=ft.ClipBehavior.ANTI_ALIAS,
            )
        return ft.Container(
            ft.Icon(ft.Icons.IMAGE_OUTLINED, color=common.MUTED),
            width=THUMB_W,
            height=THUMB_H,
            border_radius=6,
            bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
            alignment=ft.Alignment.CENTER,
        )

    def _place(self, camera_id: int) -> Place:
        if self._place_of is not None:
            return self._place_of(camera_id)
        return self._camera_names().get(camera_id, _("Camera {id}").format(id=camera_id)), ""

    async def _load_thumbnails(self, alerts: list[AlertPublic]) -> None:
        """Thumbnail links of the alerts with a snapshot: listed ones carry theirs, live
        ones are asked for in one call; the rows redraw with them."""
        client = self._account.client
        if client is None:
            return
        missing: list[int] = []
        for alert in alerts:
            if alert.id in self.thumbnails or not alert.has_snapshot:
                continue
            source = thumbnail_src(client, alert)
            if source is None:
                missing.append(alert.id)
            else:
                self.thumbnails[alert.id] = source
        if missing:
            try:
                found = await thumbnail_links(client, missing)
            except ApiError:
                found = {}  # the rows keep their placeholders; a refresh asks again
            self.thumbnails |= {alert_id: src for alert_id, src in found.items() if src}
        self.show()

    async def snapshot_ready(self, alert: AlertPublic) -> None:
        """A live update: the alert's snapshot is now written."""
        if alert.has_snapshot and alert.id not in self.thumbnails:
            await self._load_thumbnails([alert])

    async def _scrolled(self, event: ft.OnScrollEvent) -> None:
        """Near the end: the next page; pulled down past the top: reload."""
        if event.pixels >= event.max_scroll_extent - NEAR_END_PX and not self._loading_more:
            if self._book.next_cursor is not None:
                await self._load_more(None)
        overscrolled = event.event_type is ft.ScrollType.OVERSCROLL and (event.overscroll or 0) < 0
        bounced = event.pixels <= event.min_scroll_extent - PULL_PX  # iOS-style physics
        if (overscrolled or bounced) and not self._reloading:
            self._reloading = True
            try:
                await self.refresh()
            finally:
                self._reloading = False

    async def _load_more(self, _event: object) -> None:
        """The next, older page for the same filters."""
        where, cursor = self._book.filter, self._book.next_cursor
        if self._loading_more or cursor is None:
            return
        assert self._account.client is not None
        self._loading_more = True
        self.more.disabled, self.more.content = True, _("Loading…")
        self._update()
        page: AlertsPublic | None = None
        try:
            page = await self._page(where, cursor)
        except ApiError as exc:
            self.more.content = _("{problem}: tap to try again").format(problem=exc.message)
        else:
            if self._book.filter == where:  # the filters did not change meanwhile
                self._book.extend(page.data, page.next_cursor)
            self.more.content = _("Load older alerts")
        finally:
            self._loading_more = False
        self.more.disabled = False
        self.show()
        if page is not None:
            await self._load_thumbnails(page.data)

    async def _page(self, where: AlertFilter, cursor: str | None = None) -> AlertsPublic:
        assert self._account.client is not None
        return await self._account.client.alerts(
            statuses=sorted(where.statuses),
            camera_id=where.camera_id,
            since=where.since,
            limit=self.page_size,
            cursor=cursor,
        )

    async def _filter_changed(self, _event: ft.Event[ft.Dropdown]) -> None:
        await self.refresh()

    def _update(self) -> None:
        common.redraw(self.control)
