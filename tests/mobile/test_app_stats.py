"""The Stats screen in a real Flet session against the real server: the tiles, charts and
camera list show the numbers of known alerts, the range (today, 7 days, 30 days, picked
dates) changes them, the noisy camera is flagged, and the axes stay readable at 360 px."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import flet as ft
import flet_charts as fch
import httpx
import pytest
from flet.controls.base_control import BaseControl

from mobile.app import STATS
from mobile.ui import ids
from mobile.ui.stats import CUSTOM, MONTH, TODAY, WEEK, StatsScreen, duration
from tests.helpers import ADMIN_PASSWORD, add_alert, login
from tests.mobile.conftest import Served, until
from tests.mobile.flet_session import AppUnderTest, running_app

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TOKYO = ZoneInfo("Asia/Tokyo")
HINT = "Many false alarms: consider raising its threshold."


def walk(control: Any) -> Iterator[Any]:
    """`control` and everything inside it that is on screen."""
    yield control
    if getattr(control, "visible", True) is False:
        return
    for name in ("controls", "content"):
        child = getattr(control, name, None)
        for item in child if isinstance(child, list) else [child]:
            if isinstance(item, BaseControl):
                yield from walk(item)


def texts(control: Any) -> list[str]:
    return [str(c.value) for c in walk(control) if isinstance(c, ft.Text) and c.value]


def tagged(screen: StatsScreen, identifier: str) -> ft.Semantics:
    return next(
        c
        for c in walk(screen.control)
        if isinstance(c, ft.Semantics) and c.identifier == identifier
    )


def bar_charts(screen: StatsScreen) -> list[fch.BarChart]:
    return [c for c in walk(screen.control) if isinstance(c, fch.BarChart)]


def shows_days(screen: StatsScreen, days: int) -> Callable[[], bool]:
    return lambda: len(bar_charts(screen)[0].groups) == days


def tiles(screen: StatsScreen) -> list[str]:
    return texts(tagged(screen, ids.STATS_TOTALS))


def camera_order(screen: StatsScreen) -> list[str]:
    rows = tagged(screen, ids.STATS_CAMERAS)
    return [
        texts(row)[0] for row in walk(rows) if isinstance(row, ft.Semantics) and row is not rows
    ]


def axis_labels(axis: fch.ChartAxis | None) -> list[str]:
    assert axis is not None
    return [str(label.label.value) for label in axis.labels if isinstance(label.label, ft.Text)]


async def seed(served: Served) -> date:
    """Both stores in Tokyo; Aisle 1 (noisy) in the past week, Aisle 2 today and 20 days
    ago. Returns Tokyo's today."""
    runtime = served.server.runtime
    cam_a, cam_b = served.world.cameras
    async with httpx.AsyncClient(base_url=served.address, timeout=30) as http:
        admin = await login(http, "admin", ADMIN_PASSWORD)
        for store_id in served.world.stores:
            moved = await http.patch(
                f"/api/v1/stores/{store_id}", headers=admin, json={"timezone": "Asia/Tokyo"}
            )
            assert moved.status_code == 200, moved.text
        today = datetime.now(TOKYO).date()
        plan = [  # camera, days before today, minutes after that day's midnight, review
            (cam_a, 1, 600, "false_alarm"),
            (cam_a, 2, 600, "false_alarm"),
            (cam_a, 3, 600, "false_alarm"),
            (cam_a, 4, 600, "false_alarm"),
            (cam_a, 5, 840, "confirmed_theft"),
            (cam_a, 6, 840, "deterred"),
            (cam_b, 0, 1, "confirmed_theft"),
            (cam_b, 0, 2, None),
            (cam_b, 20, 600, "confirmed_theft"),
        ]
        for camera, days_ago, minutes, outcome in plan:
            midnight = datetime.combine(today - timedelta(days=days_ago), time(), tzinfo=TOKYO)
            started = midnight + timedelta(minutes=minutes)
            alert = await add_alert(runtime, camera, started_at=started)
            if outcome is not None:
                reviewed = await http.patch(
                    f"/api/v1/alerts/{alert.id}", headers=admin, json={"outcome": outcome}
                )
                assert reviewed.status_code == 200, reviewed.text
    return today


async def sign_in(ui: AppUnderTest, served: Served) -> None:
    login_screen = ui.app.login
    assert login_screen is not None
    ui.type(login_screen.address, served.address)
    ui.type(login_screen.username, "admin")
    ui.type(login_screen.password, ADMIN_PASSWORD)
    await ui.click(login_screen.sign_in)
    await until(lambda: ui.shows("Aisle 1"))


async def test_numbers_follow_the_range_and_the_noisy_camera_is_flagged(served: Served) -> None:
    today = await seed(served)
    cam_a, cam_b = served.world.cameras
    async with running_app() as ui:
        await sign_in(ui, served)
        screen = ui.app.stats
        await ui.app.show_tab(STATS)
        await until(lambda: screen.stats is not None)
        assert screen.stats is not None and screen.stats.timezone == "Asia/Tokyo"

        # the last 7 days (the default): 8 alerts, 7 reviewed, 2 confirmed, 4 false alarms
        week = (today - timedelta(days=6)).strftime("%-d %b")
        assert screen.dates.content == f"{week} \u2013 {today.strftime('%-d %b')}"
        assert tiles(screen) == [
            "8",
            "alerts",
            "29%",
            "confirmed theft",
            "of 7 reviewed",
            "57%",
            "false alarms",
            "of 7 reviewed",
            screen_duration(screen),
            "median time to review",
        ]
        per_day, per_hour = bar_charts(screen)
        assert len(per_day.groups) == 7  # one bar a day, today last
        assert [g.rods[0].to_y for g in per_day.groups] == [1, 1, 1, 1, 1, 1, 2]
        # each day stacked by outcome: 6 days ago deterred, 5 confirmed, 4..1 false alarms
        colors = [[item.color for item in g.rods[0].stack_items] for g in per_day.groups]
        assert colors[:6] == [
            [ft.Colors.AMBER_600],
            [ft.Colors.RED_400],
            *[[ft.Colors.BLUE_400]] * 4,
        ]
        assert colors[6] == [ft.Colors.RED_400, ft.Colors.GREY_400]  # today: one not reviewed
        assert "Confirmed theft" in ui.texts() and "Not reviewed" in ui.texts()  # the legend
        assert [g.rods[0].to_y for g in per_hour.groups] == [
            {0: 2, 10: 4, 14: 2}.get(hour, 0) for hour in range(24)
        ]
        # the noisy camera first, with its hint; the other without
        assert camera_order(screen) == ["Aisle 1", "Aisle 2"]
        noisy = texts(tagged(screen, ids.stats_camera(cam_a)))
        assert noisy == ["Aisle 1", "6 alerts", "17% confirmed", "67% false alarms", HINT]
        calm = texts(tagged(screen, ids.stats_camera(cam_b)))
        assert calm == ["Aisle 2", "2 alerts", "100% confirmed", "0% false alarms"]

        # today: Aisle 2's two alerts, one confirmed
        await ui.select(screen.range, TODAY)
        await until(lambda: tiles(screen)[0] == "2")
        assert tiles(screen)[2:5] == ["100%", "confirmed theft", "of 1 reviewed"]
        assert camera_order(screen) == ["Aisle 2"]
        assert not ui.shows(HINT)
        assert screen.dates.content == today.strftime("%-d %b")

        # 30 days: the alert 20 days ago joins
        await ui.select(screen.range, MONTH)
        await until(lambda: tiles(screen)[0] == "9")
        assert tiles(screen)[2:6] == ["38%", "confirmed theft", "of 8 reviewed", "50%"]
        per_day, _ = bar_charts(screen)
        assert len(per_day.groups) == 30
        assert ui.shows(HINT)

        # the date picker closed without a choice: still the last 30 days
        await ui.select(screen.range, CUSTOM)
        assert screen.picker.open
        ui.session.apply_patch(screen.picker._i, {"open": False})  # as the client closes it
        await ui.session.dispatch_event(screen.picker._i, "dismiss", None)
        assert screen.range.value == MONTH and tiles(screen)[0] == "9"

        # picked dates: just the day 20 days ago
        await ui.select(screen.range, CUSTOM)
        assert screen.picker.open and screen.picker in ui.page._dialogs.controls
        picked = datetime.combine(today - timedelta(days=20), time())
        ui.session.apply_patch(screen.picker._i, {"start_value": picked, "end_value": picked})
        await ui.session.dispatch_event(screen.picker._i, "change", None)
        await until(lambda: tiles(screen)[0] == "1")
        assert camera_order(screen) == ["Aisle 2"]
        assert screen.dates.content == picked.strftime("%-d %b")
        assert screen.range.value == CUSTOM

        await ui.select(screen.range, WEEK)  # back to a preset
        await until(lambda: tiles(screen)[0] == "8")


def screen_duration(screen: StatsScreen) -> str:
    """The median review time as the screen words it, from the server's figure: these
    alerts were reviewed hours to days after they began."""
    assert screen.stats is not None and screen.stats.median_time_to_review_s is not None
    assert screen.stats.median_time_to_review_s > 3600
    return duration(screen.stats.median_time_to_review_s)


async def test_axes_are_whole_numbers_and_labels_do_not_crowd(served: Served) -> None:
    await seed(served)
    async with running_app(size=(360, 800)) as ui:
        await sign_in(ui, served)
        screen = ui.app.stats
        await ui.app.show_tab(STATS)
        await until(lambda: screen.stats is not None)
        for preset, days, day_labels in ((WEEK, 7, 7), (MONTH, 30, 8)):
            await ui.select(screen.range, preset)
            await until(shows_days(screen, days))
            per_day, per_hour = bar_charts(screen)
            for chart in (per_day, per_hour):
                ticks = axis_labels(chart.left_axis)
                assert ticks and all(tick.isdigit() for tick in ticks), ticks  # no "0.5"
                assert chart.max_y == int(ticks[-1])  # the top is a labelled whole number
                assert chart.left_axis is not None and chart.left_axis.label_size >= 7 * len(
                    ticks[-1]
                )
                rods = [g.rods[0] for g in chart.groups]
                assert all(rod.width is not None and 2 <= rod.width <= 22 for rod in rods)
                assert chart.group_alignment == ft.MainAxisAlignment.SPACE_EVENLY  # off the edges
            # a week: every day labelled, as weekday over day; a month: about every 4th day
            bottom = axis_labels(per_day.bottom_axis)
            assert len(bottom) == day_labels, bottom
            assert all(len(label.splitlines()) == 2 for label in bottom)
            # hours of the day: every 3rd hour
            assert axis_labels(per_hour.bottom_axis) == [str(h) for h in range(0, 24, 3)]
