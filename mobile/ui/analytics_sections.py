"""What each part of Analytics draws from the server's figures: footfall (today by hour,
the range by day, per line), occupancy now, dwell per zone and queues. Pure drawing: the
screen (mobile.ui.analytics) fetches and places them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import flet as ft

from mobile.i18n import _, formats, ngettext
from mobile.ui import common
from mobile.ui.analytics_charts import SMALL_HEIGHT, Group, grouped_bar_chart
from mobile.ui.charts import GRID, legend
from shared.schemas.analytics import (
    DwellPublic,
    FootfallBucket,
    FootfallPublic,
    OccupancyNow,
    OccupancyPublic,
    PlaceRef,
    QueuePublic,
    QueuesPublic,
    ZoneDwell,
)
from shared.schemas.cameras import ZoneKind

IN_COLOR = ft.Colors.TEAL_400
OUT_COLOR = ft.Colors.ORANGE_400
QUEUE_COLOR = ft.Colors.INDIGO_300
DWELL_COLOR = ft.Colors.PURPLE_300
HOURS = 24
HOUR_LABEL_STEP = 3


def kind_words(kind: ZoneKind | None) -> str:
    """A zone's kind in the app's language (None: the camera's whole view)."""
    if kind is None:
        return _("whole view")
    return {
        ZoneKind.shelf: _("shelf"),
        ZoneKind.exit: _("exit"),
        ZoneKind.checkout: _("checkout"),
        ZoneKind.queue: _("checkout queue"),
        ZoneKind.entrance: _("entrance"),
        ZoneKind.staff: _("staff only"),
        ZoneKind.ignore: _("ignored"),
        ZoneKind.other: _("other"),
    }[kind]


def place_name(place: PlaceRef) -> str:
    """`Aisle 1 · Till queue`, or `Aisle 1 · whole view`."""
    zone = place.zone or kind_words(None)
    return _("{camera} · {zone}").format(camera=place.camera_name, zone=zone)


def short_seconds(seconds: float) -> str:
    """A bin edge under a histogram bar: `5s`, `2m`, `1h`."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.0f}h"


def wait_words(seconds: float | None) -> str:
    return "—" if seconds is None else formats.duration(seconds)


def title(text: str) -> ft.Control:
    return ft.Text(text, weight=ft.FontWeight.BOLD, size=15)


def tile(value: str, caption: str) -> ft.Control:
    return ft.Container(
        ft.Column(
            [ft.Text(value, size=24, weight=ft.FontWeight.BOLD), ft.Text(caption, size=12)],
            spacing=0,
            tight=True,
        ),
        padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        border_radius=8,
        bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
    )


def tiles(*shown: ft.Control) -> ft.Control:
    return ft.ResponsiveRow(
        [ft.Container(t, col={"xs": 6, "md": 3}) for t in shown], spacing=8, run_spacing=8
    )


# footfall
def footfall(
    figures: FootfallPublic, zone: ZoneInfo, today: date, width: float
) -> list[ft.Control]:
    """Totals in and out, today by hour, the range by day, and each line's counts."""
    controls: list[ft.Control] = [
        tiles(
            tile(formats.number(figures.entered), _("came in")),
            tile(formats.number(figures.left), _("went out")),
        )
    ]
    if not figures.entered and not figures.left:
        return [*controls, common.empty(_("Nobody crossed a counting line in this range."))]
    hours = _today_by_hour(figures.by_hour, zone, today)
    controls += [
        ft.Text(_("Today by hour"), size=13),
        grouped_bar_chart(
            [
                Group(str(hour), [entered, left], _in_out(f"{hour}h", entered, left))
                for hour, (entered, left) in enumerate(hours)
            ],
            [IN_COLOR, OUT_COLOR],
            width_px=width,
            label_step=HOUR_LABEL_STEP,
        ),
        ft.Text(_("By day"), size=13),
        grouped_bar_chart(
            [
                Group(
                    formats.day_label(day := bucket.start.astimezone(zone).date()),
                    [bucket.entered, bucket.left],
                    _in_out(formats.day_label(day), bucket.entered, bucket.left),
                )
                for bucket in figures.by_day
            ],
            [IN_COLOR, OUT_COLOR],
            width_px=width,
        ),
        legend([(_("In"), IN_COLOR), (_("Out"), OUT_COLOR)]),
    ]
    controls += [
        _row(
            _("{line} ({camera})").format(line=line.line, camera=line.camera_name),
            _("{entered} in · {left} out").format(
                entered=formats.number(line.entered), left=formats.number(line.left)
            ),
        )
        for line in figures.by_line
    ]
    return controls


def _today_by_hour(
    buckets: list[FootfallBucket], zone: ZoneInfo, today: date
) -> list[tuple[int, int]]:
    """(in, out) for each hour of `today`, 0 to 23, in `zone`."""
    hours = [(0, 0)] * HOURS
    for bucket in buckets:
        local = bucket.start.astimezone(zone)
        if local.date() == today:
            entered, left = hours[local.hour]
            hours[local.hour] = (entered + bucket.entered, left + bucket.left)
    return hours


def _in_out(when: str, entered: int, left: int) -> str:
    return _("{when}: {entered} in, {left} out").format(when=when, entered=entered, left=left)


# occupancy
def occupancy(figures: OccupancyPublic) -> list[ft.Control]:
    """People in each camera's view and zone now, the whole views first."""
    if not figures.now:
        return [common.empty(_("No cameras to count people on."))]
    ordered = sorted(figures.now, key=lambda n: (n.camera_name, n.zone != "", n.zone))
    return [_row(place_name(now), _people_now(now)) for now in ordered]


def _people_now(now: OccupancyNow) -> str:
    if now.people is None:
        return _("not analysed lately")
    words = ngettext("{n} person", "{n} people", now.people).format(n=formats.number(now.people))
    if now.at is None:
        return words
    return _("{people} at {time}").format(people=words, time=formats.clock(now.at))


# dwell
def dwell(figures: DwellPublic, width: float) -> list[ft.Control]:
    """Each zone's visits, median and 90th percentile stay, and a small histogram."""
    zones = [z for z in figures.zones if z.visits]
    if not zones:
        return [common.empty(_("No visits to zones in this range."))]
    controls: list[ft.Control] = []
    for zone in sorted(zones, key=lambda z: -z.visits):
        controls += [
            _row(
                place_name(zone),
                _("{visits} · median {median} · 9 in 10 under {p90}").format(
                    visits=ngettext("{n} visit", "{n} visits", zone.visits).format(
                        n=formats.number(zone.visits)
                    ),
                    median=wait_words(zone.median_s),
                    p90=wait_words(zone.p90_s),
                ),
            ),
            _histogram(zone, figures.edges_s, width),
        ]
    return controls


def _histogram(zone: ZoneDwell, edges_s: list[float], width: float) -> ft.Control:
    """Visits by length of stay, up to the longest bin anyone reached."""
    last = max((i for i, n in enumerate(zone.histogram) if n), default=0)
    groups = [
        Group(
            short_seconds(edges_s[i]),
            [float(zone.histogram[i])],
            ngettext("{n} visit from {edge}", "{n} visits from {edge}", zone.histogram[i]).format(
                n=zone.histogram[i], edge=short_seconds(edges_s[i])
            ),
        )
        for i in range(min(last + 2, len(zone.histogram)))
    ]
    return grouped_bar_chart(groups, [DWELL_COLOR], width_px=width, height=SMALL_HEIGHT)


# queues
def queues(figures: QueuesPublic, zone: ZoneInfo, today: date, width: float) -> list[ft.Control]:
    """Each queue's length and wait now, and its length through today."""
    if not figures.queues:
        return [common.empty(_("No queue measured in this range."))]
    controls: list[ft.Control] = []
    for queue in figures.queues:
        controls += [
            ft.Text(place_name(queue), weight=ft.FontWeight.W_500),
            tiles(
                tile(_length_now(queue), _("in the queue now")),
                tile(wait_words(queue.wait_now_s), _("wait now")),
            ),
            ft.Text(_("Queue length today by hour"), size=13),
            _queue_today(queue, zone, today, width),
        ]
    return controls


def _length_now(queue: QueuePublic) -> str:
    return "—" if queue.length_now is None else formats.number(queue.length_now)


def _queue_today(queue: QueuePublic, zone: ZoneInfo, today: date, width: float) -> ft.Control:
    by_hour: dict[int, tuple[float, int, float | None]] = {}
    for bucket in queue.by_hour:
        local = bucket.start.astimezone(zone)
        if local.date() == today:
            by_hour[local.hour] = (bucket.mean_length, bucket.max_length, bucket.wait_s)
    if not by_hour:
        return common.empty(_("No queue measured today."))
    groups = []
    for hour in range(HOURS):
        mean, most, wait = by_hour.get(hour, (0.0, 0, None))
        groups.append(
            Group(
                str(hour),
                [mean],
                _("{hour}h: {mean} on average, at most {max}, wait {wait}").format(
                    hour=hour, mean=formats.number(mean, 1), max=most, wait=wait_words(wait)
                ),
            )
        )
    return grouped_bar_chart(
        groups, [QUEUE_COLOR], width_px=width, height=SMALL_HEIGHT, label_step=HOUR_LABEL_STEP
    )


def _row(name: str, facts: str) -> ft.Control:
    return ft.Container(
        ft.Column(
            [
                ft.Text(name, weight=ft.FontWeight.W_500),
                ft.Text(facts, size=12, color=common.MUTED),
            ],
            spacing=2,
        ),
        padding=ft.Padding.symmetric(vertical=6),
        border=ft.Border(bottom=ft.BorderSide(1, GRID)),
    )


def local_today(zone: ZoneInfo) -> date:
    return datetime.now(zone).date()
