"""Analytics in a real Flet session against the real server: the section shows the figures
stored from the video pipeline's minutes (footfall today and by day, people now, the queue's
length and wait, time spent per zone, the heatmap's picture), says what to draw where
nothing is measured, and an admin draws a counting line and a queue zone on a camera's
picture in Settings and saves them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import flet as ft
import flet.canvas as cv
import numpy as np
import pytest
from PIL import Image

from mobile.api.client import ApiClient
from mobile.app import ANALYTICS, SETTINGS
from mobile.ui import ids
from mobile.ui.analytics import AnalyticsScreen
from mobile.ui.lines_zones import LinesZonesEditor
from mobile.ui.lines_zones_drawing import in_side, jpeg_size
from server.records.analytics import WHOLE_VIEW, CameraMinute, LineCount, ZoneCount
from server.runtime import Runtime
from server.storage.analytics import save_minute
from shared.schemas.analytics import DWELL_EDGES_S, HEATMAP_COLS, HEATMAP_ROWS
from shared.schemas.cameras import CameraUpdate, CountingLine, Zone, ZoneKind
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD
from tests.mobile.conftest import Served, until
from tests.mobile.flet_session import AppUnderTest, running_app
from tests.mobile.test_app_screens import sign_in
from tests.mobile.test_app_stats import walk
from tests.served import observer

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FRONT_DOOR = CountingLine(name="Front door", a=(0.2, 0.8), b=(0.8, 0.8))
TILL_QUEUE = Zone(
    name="Till queue", kind=ZoneKind.queue, polygon=[(0.6, 0.1), (0.9, 0.1), (0.9, 0.5)]
)
SHELF = Zone(name="Shelf A", kind=ZoneKind.shelf, polygon=[(0.1, 0.1), (0.4, 0.1), (0.4, 0.5)])


def texts_of(screen: AnalyticsScreen, identifier: str) -> list[str]:
    tagged = next(
        c
        for c in walk(screen.control)
        if isinstance(c, ft.Semantics) and c.identifier == identifier
    )
    return [str(c.value) for c in walk(tagged) if isinstance(c, ft.Text) and c.value]


def zone_count(
    zone: str, kind: ZoneKind | None, people: int, exits: int = 0, dwell_s: float = 0.0
) -> ZoneCount:
    """A minute of 60 analysed seconds with `people` in the zone throughout, `exits` visits
    ending in it that lasted `dwell_s` each."""
    hist = [0] * len(DWELL_EDGES_S)
    if exits:
        hist[max(i for i, edge in enumerate(DWELL_EDGES_S) if edge <= dwell_s)] = exits
    return ZoneCount(
        zone=zone,
        kind=kind.value if kind else None,
        seconds=60.0,
        occupancy_sum=60.0 * people,
        occupancy_max=people,
        entries=exits,
        exits=exits,
        dwell_sum_s=dwell_s * exits,
        dwell_hist=tuple(hist),
    )


async def save(runtime: Runtime, store_id: int, minute: CameraMinute) -> None:
    async with runtime.sessionmaker() as session:
        await save_minute(session=session, store_id=store_id, minute=minute)
        await session.commit()


async def seed_analytics(served: Served, admin: ApiClient) -> None:
    """Aisle 1 (Downtown) with the front door's line, the till's queue and a shelf; its last
    complete minute: 12 in and 9 out, 3 queueing (2 served after 2 minutes each), 2 at the
    shelf (4 visits of 40 s ended); yesterday 5 in and 5 out."""
    camera_id, store_id = served.world.cameras[0], served.world.stores[0]
    await admin.update_camera(
        camera_id, CameraUpdate(lines=[FRONT_DOOR], zones=[TILL_QUEUE, SHELF])
    )
    heat = np.zeros((HEATMAP_ROWS, HEATMAP_COLS), np.float32)
    heat[10:14, 20:26] = 30.0  # people stood by the till
    last_minute = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    await save(
        served.runtime,
        store_id,
        CameraMinute(
            camera_id=camera_id,
            minute_ts=last_minute.timestamp(),
            zones=(
                zone_count(WHOLE_VIEW, None, 5),
                zone_count("Till queue", ZoneKind.queue, 3, exits=2, dwell_s=120.0),
                zone_count("Shelf A", ZoneKind.shelf, 2, exits=4, dwell_s=40.0),
            ),
            lines=(LineCount("Front door", entered=12, left=9),),
            heat=heat,
        ),
    )
    await save(
        served.runtime,
        store_id,
        CameraMinute(
            camera_id=camera_id,
            minute_ts=(last_minute - timedelta(days=1)).timestamp(),
            zones=(zone_count(WHOLE_VIEW, None, 1),),
            lines=(LineCount("Front door", entered=5, left=5),),
            heat=np.zeros((HEATMAP_ROWS, HEATMAP_COLS), np.float32),
        ),
    )


async def signed_in_admin(served: Served) -> ApiClient:
    admin = observer(served)
    await admin.login("admin", ADMIN_PASSWORD)
    return admin


@SQLITE
async def test_analytics_shows_the_stored_figures(served: Served) -> None:
    admin = await signed_in_admin(served)
    await seed_analytics(served, admin)
    async with running_app() as ui:
        await sign_in(ui, served.address, "supervisor_a", NEW_PASSWORD)
        await ui.app.show_tab(ANALYTICS)
        screen = ui.app.analytics
        await until(lambda: screen.heatmap.picture is not None)

        footfall = texts_of(screen, ids.ANALYTICS_FOOTFALL)
        assert footfall[:5] == ["Footfall", "17", "came in", "14", "went out"], footfall
        assert "Front door (Aisle 1)" in footfall and "17 in · 14 out" in footfall
        occupancy = texts_of(screen, ids.ANALYTICS_OCCUPANCY)
        assert "Aisle 1 · Till queue" in occupancy and "Aisle 1 · Shelf A" in occupancy
        assert any(t.startswith("3 people at ") for t in occupancy), occupancy
        assert any(t.startswith("5 people at ") for t in occupancy), occupancy  # whole view
        queues = texts_of(screen, ids.ANALYTICS_QUEUES)
        assert queues[:6] == [
            "Checkout queues",
            "Aisle 1 · Till queue",
            "3",
            "in the queue now",
            "2m",
            "wait now",
        ], queues
        dwell = texts_of(screen, ids.ANALYTICS_DWELL)
        assert "Aisle 1 · Shelf A" in dwell and any(t.startswith("4 visits") for t in dwell)
        picture = screen.heatmap.picture
        assert picture is not None and isinstance(picture.src, bytes)
        assert jpeg_size(picture.src) is not None  # the server's JPEG, shown from memory

        await ui.select(screen.range, "today")  # yesterday's crossings drop out
        await until(lambda: texts_of(screen, ids.ANALYTICS_FOOTFALL)[1:2] == ["12"])
        assert [option.text for option in screen.camera.options] == ["All cameras", "Aisle 1"]
    await admin.aclose()


@SQLITE
async def test_analytics_says_what_to_draw_when_nothing_is_measured(served: Served) -> None:
    async with running_app() as ui:
        await sign_in(ui, served.address, "admin", ADMIN_PASSWORD)
        await ui.app.show_tab(ANALYTICS)
        screen = ui.app.analytics
        await until(lambda: bool(texts_of(screen, ids.ANALYTICS_HEATMAP)[1:]))
        assert ui.shows("No counting line yet. Draw one across the door in Settings → Cameras")
        assert ui.shows("No queue zone yet. Draw a zone of kind “checkout queue”")
        assert ui.shows("No zones yet. Draw zones (shelves, checkout, entrance)")
        assert ui.shows("Nobody was seen on this camera in this range.")
        assert ui.shows("Aisle 1 (pick a camera above to see another)")
        await ui.select(screen.store, str(served.world.stores[1]))  # the Mall
        assert [option.text for option in screen.camera.options] == ["All cameras", "Aisle 2"]
        await ui.select(screen.camera, str(served.world.cameras[1]))
        await until(lambda: texts_of(screen, ids.ANALYTICS_HEATMAP)[1:2] == ["Aisle 2"])
    async with running_app() as ui:
        await sign_in(ui, served.address, "viewer_a", NEW_PASSWORD)
        await ui.app.show_tab(ANALYTICS)
        await until(lambda: ui.shows("No counting line yet: an admin draws one in Settings."))


def shapes_of(editor: LinesZonesEditor) -> list[type[cv.Shape]]:
    return [type(shape) for shape in editor.canvas.shapes]


async def tap(ui: AppUnderTest, editor: LinesZonesEditor, x: float, y: float) -> None:
    """A finger on the picture at fractions (x, y) of it."""
    where = {"x": x * editor.width, "y": y * editor.height}
    await ui.session.dispatch_event(editor.surface._i, "tap_down", {"l": where, "k": "touch"})


@SQLITE
async def test_an_admin_draws_a_line_and_a_queue_zone_and_saves_them(served: Served) -> None:
    camera_id = served.world.cameras[0]
    async with running_app() as ui:
        await sign_in(ui, served.address, "admin", ADMIN_PASSWORD)
        await ui.app.show_tab(SETTINGS)
        admin_list = ui.app.settings.cameras
        await until(lambda: camera_id in admin_list.camera_rows)
        await ui.click(admin_list.camera_rows[camera_id].lines_zones)
        editor = admin_list.form
        assert isinstance(editor, LinesZonesEditor)
        await until(lambda: ui.shows("No picture from this camera yet"))  # the pipeline is off
        assert ui.shows("No lines or zones yet.")

        await ui.click(editor.add_line)
        assert ui.shows("Tap one end of the line, then the other.")
        ui.type(editor.name, "Front door")
        await tap(ui, editor, 0.2, 0.7)
        assert ui.shows("Now tap the other end.")
        await tap(ui, editor, 0.8, 0.7)
        assert [line.name for line in editor.lines] == ["Front door"]
        assert shapes_of(editor).count(cv.Line) == 4  # the line, the arrow and its head
        assert ui.shows("Line added: Save to keep it.")

        await ui.click(editor.add_zone)
        ui.type(editor.name, "Till queue")
        await ui.select(editor.kind, ZoneKind.queue.value)
        for x, y in ((0.6, 0.1), (0.9, 0.1), (0.9, 0.5), (0.6, 0.5)):
            await tap(ui, editor, x, y)
        assert ui.shows("Tap the zone's corners one by one (4 so far), then Finish zone.")
        await ui.click(editor.finish)
        assert ui.shows("zone: checkout queue")

        await ui.click(editor.add_zone)  # one more, then deleted
        await tap(ui, editor, 0.1, 0.1)
        await ui.click(editor.finish)
        assert ui.shows("Tap at least 3 corners first.")
        await ui.click(editor.cancel_drawing)
        await ui.click(editor.save)
        await until(lambda: ui.shows("Saved."))

    admin = await signed_in_admin(served)
    camera = next(c for c in (await admin.cameras()).data if c.id == camera_id)
    assert [line.name for line in camera.lines] == ["Front door"]
    assert [*camera.lines[0].a, *camera.lines[0].b] == pytest.approx([0.2, 0.7, 0.8, 0.7])
    assert [(zone.name, zone.kind, len(zone.polygon)) for zone in camera.zones] == [
        ("Till queue", ZoneKind.queue, 4)
    ]
    await admin.aclose()


def item_buttons(editor: LinesZonesEditor) -> dict[str, ft.IconButton]:
    """The list's buttons now (the list is drawn again after each change), by tooltip."""
    return {str(c.tooltip): c for c in walk(editor.items) if isinstance(c, ft.IconButton)}


@SQLITE
async def test_the_editor_deletes_and_turns_round_what_was_saved(served: Served) -> None:
    camera_id = served.world.cameras[0]
    admin = await signed_in_admin(served)
    await admin.update_camera(camera_id, CameraUpdate(lines=[FRONT_DOOR], zones=[SHELF]))
    async with running_app() as ui:
        await sign_in(ui, served.address, "admin", ADMIN_PASSWORD)
        await ui.app.show_tab(SETTINGS)
        admin_list = ui.app.settings.cameras
        await until(lambda: camera_id in admin_list.camera_rows)
        assert ui.shows("Lines and zones (1, 1)")
        await ui.click(admin_list.camera_rows[camera_id].lines_zones)
        editor = admin_list.form
        assert isinstance(editor, LinesZonesEditor)
        await until(lambda: ui.shows("Front door") and ui.shows("zone: shelf"))
        assert list(item_buttons(editor)) == [
            "Swap in and out of Front door",
            "Delete Front door",
            "Delete Shelf A",
        ]
        await ui.click(item_buttons(editor)["Swap in and out of Front door"])
        await ui.click(item_buttons(editor)["Delete Shelf A"])
        assert list(item_buttons(editor)) == ["Swap in and out of Front door", "Delete Front door"]
        await ui.click(editor.save)
        await until(lambda: ui.shows("Saved."))
        await ui.click(editor.back)
        await until(lambda: ui.shows("Lines and zones (1, 0)"))
    camera = next(c for c in (await admin.cameras()).data if c.id == camera_id)
    assert [(line.a, line.b) for line in camera.lines] == [(FRONT_DOOR.b, FRONT_DOOR.a)]
    assert camera.zones == []
    await admin.aclose()


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0.2, 0.5), (0.8, 0.5), (0.0, 1.0)),  # drawn left to right: in is down the picture
        ((0.8, 0.5), (0.2, 0.5), (0.0, -1.0)),  # right to left: up
        ((0.5, 0.1), (0.5, 0.9), (-1.0, 0.0)),  # top to bottom: in is to the left
    ],
)
def test_the_arrow_points_to_the_right_hand_side_of_a_to_b(
    a: tuple[float, float], b: tuple[float, float], expected: tuple[float, float]
) -> None:
    assert in_side(a, b, 640, 360) == pytest.approx(expected)


def test_a_jpegs_size_is_read_from_its_header() -> None:
    made = io.BytesIO()
    Image.new("RGB", (64, 36)).save(made, "JPEG")
    assert jpeg_size(made.getvalue()) == (64, 36)
    assert jpeg_size(b"not a picture") is None
