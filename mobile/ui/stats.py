"""Stats a manager reads in ten seconds: headline tiles (alerts, share confirmed, share
false alarms, median time to review), alerts per day stacked by outcome, alerts by hour of
the day, and the cameras with the most false alarms first (those that need a higher
threshold say so), and the losses prevented and suffered (mobile.ui.losses), over today, the
last 7 or 30 days or a picked range.

Days and hours are the stores' own (the zone all visible stores share, else UTC), like the
server counts them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import flet as ft

from mobile.api.errors import ApiError
from mobile.i18n import _, ngettext
from mobile.state.account import Account
from mobile.ui import charts, common, ids, losses
from shared.schemas.losses import LossesPublic
from shared.schemas.stats import CameraHint, CameraStats, DayBucket, OutcomeCounts, StatsPublic

TODAY, WEEK, MONTH, CUSTOM = "today", "7d", "30d", "custom"
PRESET_DAYS = {TODAY: 1, WEEK: 7, MONTH: 30}
MOST_DAYS = 366  # the server's longest range
HOUR_LABEL_STEP = 3  # label 0, 3, 6... on the hour-of-day axis
# outcome field, its colour in the stacked bars (bottom up) and legend
OUTCOME_COLORS: tuple[tuple[str, ft.ColorValue], ...] = (
    ("confirmed_theft", ft.Colors.RED_400),
    ("deterred", ft.Colors.AMBER_600),
    ("false_alarm", ft.Colors.BLUE_400),
    ("unclear", ft.Colors.PURPLE_200),
    ("not_reviewed", ft.Colors.GREY_400),
)
HOUR_COLOR = ft.Colors.TEAL_400


# Formatting, in small functions the app's Babel helpers (mobile.i18n.formats) can replace.
def number(value: int) -> str:
    return str(value)


def percent(fraction: float | None) -> str:
    """`0.453` → `45%`; `—` when there is nothing to divide."""
    return "—" if fraction is None else f"{fraction:.0%}"


def duration(seconds: float | None) -> str:
    """A review time: `45 s`, `12 min`, `2.5 h`, `3.0 d`; `—` without reviews."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return _("{n} s").format(n=round(seconds))
    if seconds < 120 * 60:
        return _("{n} min").format(n=round(seconds / 60))
    if seconds < 48 * 3600:
        return _("{n} h").format(n=f"{seconds / 3600:.1f}")
    return _("{n} d").format(n=f"{seconds / 86400:.1f}")


def day_label(day: date) -> str:
    """A day under a bar, on two lines so that a week fits a phone: `Mon` over `7`."""
    return f"{day.strftime('%a')}\n{day.day}"


def hour_label(hour: int) -> str:
    return str(hour)


def range_label(first: date, last: date) -> str:
    """The days shown, both included: `1 Dec - 7 Dec` (an en dash), or one day: `7 Dec`."""
    if first == last:
        return f"{first.day} {first.strftime('%b')}"
    return f"{first.day} {first.strftime('%b')} \u2013 {last.day} {last.strftime('%b')}"


def outcome_name(field: str) -> str:
    names = {
        "confirmed_theft": _("Confirmed theft"),
        "deterred": _("Deterred"),
        "false_alarm": _("False alarm"),
        "unclear": _("Unclear"),
        "not_reviewed": _("Not reviewed"),
    }
    return names[field]


# Ranges
def preset_days(preset: str, today: date) -> tuple[date, date]:
    """The first and last day (both included) of a preset range ending today."""
    return today - timedelta(days=PRESET_DAYS[preset] - 1), today


def day_span(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From `first`'s local midnight to the midnight after `last`."""
    since = datetime.combine(first, time(), tzinfo=zone)
    return since, datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)


def shared_zone(zones: set[str]) -> ZoneInfo:
    """The stores' one zone, else UTC (across zones there is no one local day)."""
    return ZoneInfo(zones.pop() if len(zones) == 1 else "UTC")


def by_false_alarms(camera: CameraStats) -> tuple[float, int]:
    """Most false alarms first, then the busiest; unreviewed cameras last."""
    share = -1.0 if camera.share_false_alarm is None else camera.share_false_alarm
    return -share, -camera.alerts


class StatsScreen:
    def __init__(self, account: Account, camera_names: Callable[[], dict[int, str]]) -> None:
        self._account, self._camera_names = account, camera_names
        self.zone = ZoneInfo("UTC")
        self.days: tuple[date, date] | None = None  # picked dates; None: the preset's
        self.preset = WEEK
        presets = {
            TODAY: _("Today"),
            WEEK: _("Last 7 days"),
            MONTH: _("Last 30 days"),
            CUSTOM: _("Pick dates…"),
        }
        self.range = common.choice(_("Range"), WEEK, presets, self._range_changed, width=170)
        self.picker = ft.DateRangePicker(
            on_change=self._dates_picked,
            on_dismiss=self._picker_closed,
            help_text=_("Days to count"),
            save_text=_("Show"),
        )
        self.dates = ft.TextButton(
            "", icon=ft.Icons.DATE_RANGE, on_click=self._pick_dates, tooltip=_("Pick dates")
        )
        self.body = ft.Column([common.loading()], spacing=10)
        self.stats: StatsPublic | None = None
        self.losses: LossesPublic | None = None
        self.losses_problem = ""  # why the losses could not be loaded
        self.control = ft.Column(
            [
                ft.Container(  # room above: the drop-down's label rises above its border
                    ft.Row(
                        [
                            ids.tagged(ids.STATS_RANGE, self.range),
                            ids.tagged(ids.STATS_DATES, self.dates),
                        ],
                        wrap=True,
                        vertical_alignment=ft.CrossAxisAlignment.CENTER,
                    ),
                    padding=ft.Padding.only(top=8),
                ),
                self.body,
            ],
            scroll=ft.ScrollMode.AUTO,
            expand=True,
        )

    def shown_days(self, today: date) -> tuple[date, date]:
        return self.days or preset_days(self.preset, today)

    async def refresh(self) -> None:
        client = self._account.client
        assert client is not None
        try:
            stores = await client.stores()
            self.zone = shared_zone({store.timezone for store in stores.data})
            first, last = self.shown_days(datetime.now(self.zone).date())
            since, until = day_span(first, last, self.zone)
            self.stats = await client.stats(since=since, until=until, tz=self.zone.key)
            await self._load_losses(since, until)
        except ApiError as exc:
            self.body.controls = [common.failed(exc, self.refresh)]
        else:
            self.dates.content = range_label(first, last)
            self.body.controls = self._draw(self.stats)
        common.redraw(self.control)

    async def _load_losses(self, since: datetime, until: datetime) -> None:
        """The losses over the same range; the rest of Stats shows even when they fail."""
        client = self._account.client
        assert client is not None
        try:
            self.losses = await client.losses(since=since, until=until, tz=self.zone.key)
            self.losses_problem = ""
        except ApiError as exc:
            self.losses, self.losses_problem = None, exc.message

    # drawing
    def _draw(self, stats: StatsPublic) -> list[ft.Control]:
        width = self._chart_width()
        return [
            ids.tagged(ids.STATS_TOTALS, self._tiles(stats)),
            _title(_("Alerts per day")),
            self._per_day(stats.per_day, width),
            charts.legend([(outcome_name(name), color) for name, color in OUTCOME_COLORS]),
            _title(_("Alerts by hour of day")),
            self._per_hour(stats, width),
            _title(_("Cameras, most false alarms first")),
            ids.tagged(ids.STATS_CAMERAS, self._cameras(stats.per_camera)),
            ids.tagged(losses.LOSSES, ft.Column(self._losses(width), spacing=10)),
        ]

    def _losses(self, width: float) -> list[ft.Control]:
        if self.losses is not None:
            return losses.part(self.losses, width)
        problem = _("The losses could not be loaded: {problem}").format(problem=self.losses_problem)
        return [_title(_("Losses")), ft.Text(problem, color=common.MUTED)]

    def _tiles(self, stats: StatsPublic) -> ft.Control:
        reviewed = ngettext("of {n} reviewed", "of {n} reviewed", stats.reviewed).format(
            n=number(stats.reviewed)
        )
        tiles = [
            _tile(number(stats.alerts), ngettext("alert", "alerts", stats.alerts), ""),
            _tile(percent(stats.share_confirmed), _("confirmed theft"), reviewed),
            _tile(percent(stats.share_false_alarm), _("false alarms"), reviewed),
            _tile(duration(stats.median_time_to_review_s), _("median time to review"), ""),
        ]
        return ft.ResponsiveRow(
            [ft.Container(tile, col={"xs": 6, "md": 3}) for tile in tiles],
            spacing=8,
            run_spacing=8,
        )

    def _per_day(self, days: list[DayBucket], width: float) -> ft.Control:
        if not any(day.count for day in days):
            return common.empty(_("No alerts in this range."))
        bars = [
            charts.Bar(
                label=day_label(day.start.astimezone(self.zone).date()),
                segments=[
                    charts.Segment(getattr(day.outcomes, name), color)
                    for name, color in OUTCOME_COLORS
                ],
                tooltip=_day_tooltip(day, self.zone),
            )
            for day in days
        ]
        return charts.bar_chart(bars, width_px=width, label_lines=2)

    def _per_hour(self, stats: StatsPublic, width: float) -> ft.Control:
        if not stats.alerts:
            return common.empty(_("No alerts in this range."))
        bars = [
            charts.Bar(
                label=hour_label(hour.hour),
                segments=[charts.Segment(hour.count, HOUR_COLOR)],
                tooltip=ngettext(
                    "{n} alert at {hour}h", "{n} alerts at {hour}h", hour.count
                ).format(n=number(hour.count), hour=hour_label(hour.hour)),
            )
            for hour in stats.per_hour_of_day
        ]
        return charts.bar_chart(bars, width_px=width, label_step=HOUR_LABEL_STEP)

    def _cameras(self, cameras: list[CameraStats]) -> ft.Control:
        if not cameras:
            return common.empty(_("No alerts in this range."))
        names = self._camera_names()
        rows: list[ft.Control] = []
        for camera in sorted(cameras, key=by_false_alarms):
            name = (
                camera.name
                or names.get(camera.camera_id)
                or _("Camera {id}").format(id=camera.camera_id)
            )
            rows.append(ids.tagged(ids.stats_camera(camera.camera_id), _camera_row(name, camera)))
        return ft.Column(rows, spacing=0, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def _chart_width(self) -> float:
        return charts.chart_width(self.control)

    # range
    async def _range_changed(self, _event: ft.Event[ft.Dropdown]) -> None:
        if self.range.value == CUSTOM:
            self._open_picker()
            return
        self.preset, self.days = self.range.value or WEEK, None
        await self.refresh()

    async def _pick_dates(self, _event: ft.Event[ft.TextButton]) -> None:
        self._open_picker()

    def _open_picker(self) -> None:
        today = datetime.now(self.zone).date()
        first, last = self.shown_days(today)
        self.picker.first_date = datetime.combine(today - timedelta(days=MOST_DAYS - 1), time())
        self.picker.last_date = datetime.combine(today, time())
        self.picker.start_value = datetime.combine(first, time())
        self.picker.end_value = datetime.combine(last, time())
        if not self.picker.open:
            self.control.page.show_dialog(self.picker)

    async def _picker_closed(self, _event: ft.Event[ft.DialogControl]) -> None:
        self.picker.open = False
        if self.days is None:  # closed without picking: the preset still shows
            self.range.value = self.preset
            common.redraw(self.range)

    async def _dates_picked(self, _event: ft.Event[ft.DateRangePicker]) -> None:
        start, end = self.picker.start_value, self.picker.end_value
        if not isinstance(start, datetime) or not isinstance(end, datetime):
            return  # nothing chosen
        # the picker's days as the person saw them, whatever offset the client sent
        first, last = sorted((start.date(), end.date()))
        self.days = (max(first, last - timedelta(days=MOST_DAYS - 1)), last)
        self.range.value = CUSTOM
        await self.refresh()


def _title(text: str) -> ft.Control:
    return ft.Text(text, weight=ft.FontWeight.BOLD, size=15)


def _tile(value: str, caption: str, note: str) -> ft.Control:
    return ft.Container(
        ft.Column(
            [
                ft.Text(value, size=24, weight=ft.FontWeight.BOLD),
                ft.Text(caption, size=12),
                ft.Text(note, size=11, color=common.MUTED, visible=bool(note)),
            ],
            spacing=0,
        ),
        padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        border_radius=8,
        bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
    )


def _day_tooltip(day: DayBucket, zone: ZoneInfo) -> str:
    """The day's alerts by outcome, one line each (only those it has)."""
    label = day_label(day.start.astimezone(zone).date()).replace("\n", " ")
    lines = [
        ngettext("{day}: {n} alert", "{day}: {n} alerts", day.count).format(
            day=label, n=number(day.count)
        )
    ]
    lines += [
        _("{outcome}: {n}").format(outcome=outcome_name(name), n=number(count))
        for name, count in _nonzero(day.outcomes)
    ]
    return "\n".join(lines)


def _nonzero(outcomes: OutcomeCounts) -> list[tuple[str, int]]:
    return [
        (name, getattr(outcomes, name)) for name, _c in OUTCOME_COLORS if getattr(outcomes, name)
    ]


def _camera_row(name: str, camera: CameraStats) -> ft.Control:
    facts = [
        ngettext("{n} alert", "{n} alerts", camera.alerts).format(n=number(camera.alerts)),
        _("{share} confirmed").format(share=percent(camera.share_confirmed)),
        _("{share} false alarms").format(share=percent(camera.share_false_alarm)),
    ]
    hint = camera.hint is CameraHint.raise_threshold
    return ft.Container(
        ft.Column(
            [
                ft.Text(name, weight=ft.FontWeight.BOLD),
                ft.Row(
                    [ft.Text(fact, size=12, color=common.MUTED) for fact in facts],
                    wrap=True,
                    spacing=12,
                ),
                ft.Row(
                    [
                        ft.Icon(ft.Icons.TUNE, size=16, color=ft.Colors.ORANGE_700),
                        ft.Text(
                            _("Many false alarms: consider raising its threshold."),
                            size=12,
                            color=ft.Colors.ORANGE_700,
                            expand=True,
                        ),
                    ],
                    spacing=6,
                    visible=hint,
                ),
            ],
            spacing=2,
        ),
        padding=ft.Padding.symmetric(vertical=8),
        border=ft.Border(bottom=ft.BorderSide(1, charts.GRID)),
    )
