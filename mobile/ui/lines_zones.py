"""Settings → Cameras → Lines and zones (admins): the camera's newest picture with its
counting lines and zones drawn over it. Add a line by tapping its two ends (people crossing
towards the arrow count as coming in; swap turns it round), add a zone by tapping its
corners then Finish zone, with a name and a kind; delete one; Save sends them all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft
import flet.canvas as cv
from pydantic import ValidationError

from mobile.api.errors import ApiError
from mobile.i18n import _
from mobile.state.account import Account
from mobile.ui import common, forms, ids
from mobile.ui.analytics_sections import kind_words
from mobile.ui.lines_zones_drawing import (
    DEFAULT_ASPECT,
    KIND_COLORS,
    LINE_COLOR,
    Point,
    jpeg_size,
    shapes,
)
from shared.schemas.cameras import (
    MAX_LINES,
    CameraPublic,
    CameraUpdate,
    CountingLine,
    Zone,
    ZoneKind,
)

LINE, ZONE = "line", "zone"
MAX_ZONES = 32
PICTURE_WIDTH = 640  # pixels asked of the server
MAX_SHOWN_PX = 640.0
MARGINS_PX = 24
Done = Callable[[], Awaitable[None]]


class LinesZonesEditor:
    def __init__(self, account: Account, camera: CameraPublic, on_done: Done) -> None:
        self._account, self.camera, self._on_done = account, camera, on_done
        self.lines: list[CountingLine] = list(camera.lines)
        self.zones: list[Zone] = list(camera.zones)
        self.drawing: str | None = None  # LINE or ZONE while one is being drawn
        self.draft: list[Point] = []
        self.width, self.height = MAX_SHOWN_PX, MAX_SHOWN_PX * DEFAULT_ASPECT
        self.picture: ft.Control = self._grey()
        self.canvas = cv.Canvas(shapes=[], width=self.width, height=self.height)
        self.stack = ft.Stack([self.picture, self.canvas], width=self.width, height=self.height)
        self.surface = ft.GestureDetector(
            content=self.stack,
            on_tap_down=self._tapped,
            exclude_from_semantics=True,  # a tap's place matters: no semantic tap without one
            mouse_cursor=ft.MouseCursor.PRECISE,
        )
        self.picture_note = ft.Text("", size=12, color=common.MUTED)
        self.help = ft.Text("", size=13, width=self.width)
        self.add_line = ft.OutlinedButton(
            _("Add line"), icon=ft.Icons.SHOW_CHART, on_click=self._start_line
        )
        self.add_zone = ft.OutlinedButton(
            _("Add zone"), icon=ft.Icons.PENTAGON_OUTLINED, on_click=self._start_zone
        )
        self.name = ft.TextField(label=_("Name"), width=220, dense=True)
        self.kind = common.choice(
            _("Kind"),
            ZoneKind.shelf.value,
            {kind.value: kind_words(kind) for kind in ZoneKind},
            self._kind_chosen,
            width=200,
        )
        self.kind_line = ids.tagged(ids.DRAWING_KIND, self.kind)
        self.finish = ft.FilledButton(_("Finish zone"), on_click=self._finish_zone)
        self.finish_line = ids.tagged(ids.FINISH_ZONE, self.finish)
        self.cancel_drawing = ft.TextButton(_("Cancel drawing"), on_click=self._stop_drawing)
        self.drawing_panel = ft.Row(
            [
                ids.tagged(ids.DRAWING_NAME, self.name),
                self.kind_line,
                self.finish_line,
                ids.tagged(ids.CANCEL_DRAWING, self.cancel_drawing),
            ],
            wrap=True,
            run_spacing=8,
            visible=False,
        )
        self.items = ft.Column([], spacing=0, width=self.width)  # buttons beside the names
        self.save = ft.FilledButton(_("Save"), icon=ft.Icons.SAVE, on_click=self._save)
        self.back = ft.TextButton(_("Back"), on_click=self._back)
        self.result = ft.Text("")
        self.control = ft.Column(
            [
                ft.Text(
                    _("Lines and zones: {camera}").format(camera=camera.name),
                    weight=ft.FontWeight.BOLD,
                    size=18,
                ),
                self.picture_note,
                ft.Semantics(  # a node of its own, whatever the picture inside does
                    identifier=ids.LINES_ZONES_PICTURE,
                    label=_("The camera's picture with its lines and zones"),
                    container=True,
                    image=True,
                    content=self.surface,
                ),
                ids.tagged(ids.LINES_ZONES_HELP, self.help),
                ft.Row(
                    [
                        ids.tagged(ids.ADD_LINE, self.add_line),
                        ids.tagged(ids.ADD_ZONE, self.add_zone),
                    ],
                    wrap=True,
                ),
                self.drawing_panel,
                self.items,
                ft.Row([ids.tagged(ids.SAVE_LINES_ZONES, self.save), self.back], wrap=True),
                ids.tagged(ids.LINES_ZONES_RESULT, self.result),
            ],
            scroll=ft.ScrollMode.AUTO,
            expand=True,
            spacing=10,
        )
        self._redraw()

    async def refresh(self) -> None:
        """Fetch the camera's newest picture and size the drawing to it."""
        client = self._account.client
        assert client is not None
        self.width = self._shown_width()
        try:
            jpeg = await client.camera_snapshot(self.camera.id, width=PICTURE_WIDTH)
        except ApiError as exc:
            self.picture_note.value = (
                _(
                    "No picture from this camera yet: it shows once the camera is running. "
                    "You can still draw on the grey area."
                )
                if exc.status == 409
                else exc.message
            )
            self.height = self.width * DEFAULT_ASPECT
            self.picture = self._grey()
        else:
            size = jpeg_size(jpeg)
            aspect = size[1] / size[0] if size else DEFAULT_ASPECT
            self.height = self.width * aspect
            self.picture = ft.Image(
                src=jpeg, width=self.width, height=self.height, fit=ft.BoxFit.FILL
            )
            self.picture_note.value = _("Tap the picture to draw; the arrow shows the way in.")
        self.stack.controls = [self.picture, self.canvas]
        self.stack.width, self.stack.height = self.width, self.height
        self.canvas.width, self.canvas.height = self.width, self.height
        self.help.width = self.items.width = self.width  # as wide as the picture
        self._redraw()

    # drawing
    async def _start_line(self, _event: object) -> None:
        if len(self.lines) >= MAX_LINES:
            forms.refuse(
                self.result, self.control, _("A camera has at most {n} lines.").format(n=MAX_LINES)
            )
            return
        self._start(LINE, self._free_name(_("Line {n}"), [line.name for line in self.lines]))

    async def _start_zone(self, _event: object) -> None:
        if len(self.zones) >= MAX_ZONES:
            forms.refuse(
                self.result, self.control, _("A camera has at most {n} zones.").format(n=MAX_ZONES)
            )
            return
        self._start(ZONE, self._free_name(_("Zone {n}"), [zone.name for zone in self.zones]))

    def _start(self, what: str, name: str) -> None:
        self.drawing, self.draft = what, []
        self.name.value = name
        self.result.value = ""
        self._redraw()

    async def _tapped(self, event: ft.TapEvent[ft.GestureDetector]) -> None:
        if self.drawing is None or event.local_position is None:
            return
        point = (
            _fraction(event.local_position.x / self.width),
            _fraction(event.local_position.y / self.height),
        )
        self.draft.append(point)
        if self.drawing == LINE and len(self.draft) == 2:
            self._add_line()
        self._redraw()

    def _add_line(self) -> None:
        a, b = self.draft
        try:
            line = CountingLine(name=forms.text(self.name) or _("Line"), a=a, b=b)
        except ValidationError:
            forms.say(self.result, _("Too short: tap two ends further apart."), ok=False)
            self.draft = []
            return
        self.lines.append(line)
        self._done_drawing(_("Line added: Save to keep it."))

    async def _finish_zone(self, _event: object) -> None:
        if len(self.draft) < 3:
            forms.refuse(self.result, self.control, _("Tap at least 3 corners first."))
            return
        try:
            zone = Zone(
                name=forms.text(self.name) or _("Zone"),
                kind=ZoneKind(self.kind.value or ZoneKind.shelf.value),
                polygon=self.draft[:64],
            )
        except ValidationError as exc:
            forms.refuse(self.result, self.control, forms.first_problem(exc, {"name": _("Name")}))
            return
        self.zones.append(zone)
        self._done_drawing(_("Zone added: Save to keep it."))
        self._redraw()

    def _done_drawing(self, words: str) -> None:
        self.drawing, self.draft = None, []
        forms.say(self.result, words, ok=True)

    async def _stop_drawing(self, _event: object) -> None:
        self.drawing, self.draft = None, []
        self._redraw()

    async def _kind_chosen(self, _event: ft.Event[ft.Dropdown]) -> None:
        return None  # read when the zone is finished

    # the list
    def _items(self) -> list[ft.Control]:
        if not self.lines and not self.zones:
            return [common.empty(_("No lines or zones yet."))]
        rows: list[ft.Control] = []
        for index, line in enumerate(self.lines):
            rows.append(
                self._item(
                    len(rows),
                    LINE_COLOR,
                    line.name,
                    _("counting line"),
                    self._delete_line(index),
                    swap=self._swap_line(index),
                )
            )
        for index, zone in enumerate(self.zones):
            rows.append(
                self._item(
                    len(rows),
                    KIND_COLORS[zone.kind],
                    zone.name,
                    _("zone: {kind}").format(kind=kind_words(zone.kind)),
                    self._delete_zone(index),
                )
            )
        return rows

    def _item(
        self,
        position: int,
        color: str,
        name: str,
        what: str,
        delete: Callable[[object], Awaitable[None]],
        swap: Callable[[object], Awaitable[None]] | None = None,
    ) -> ft.Control:
        buttons: list[ft.Control] = []
        if swap is not None:
            buttons.append(
                ft.IconButton(
                    ft.Icons.SWAP_VERT,
                    tooltip=_("Swap in and out of {name}").format(name=name),
                    on_click=swap,
                )
            )
        buttons.append(
            ft.IconButton(
                ft.Icons.DELETE_OUTLINE,
                tooltip=_("Delete {name}").format(name=name),
                on_click=delete,
            )
        )
        row = ft.Row(
            [
                ft.Container(width=14, height=14, bgcolor=color, border_radius=3),
                ft.Column(
                    [
                        ft.Text(name, weight=ft.FontWeight.W_500),
                        ft.Text(what, size=12, color=common.MUTED),
                    ],
                    spacing=0,
                    expand=True,
                ),
                *buttons,
            ],
            vertical_alignment=ft.CrossAxisAlignment.CENTER,
        )
        return ids.tagged(ids.drawn_item(position), row)

    def _delete_line(self, index: int) -> Callable[[object], Awaitable[None]]:
        async def delete(_event: object) -> None:
            del self.lines[index]
            self._redraw()

        return delete

    def _delete_zone(self, index: int) -> Callable[[object], Awaitable[None]]:
        async def delete(_event: object) -> None:
            del self.zones[index]
            self._redraw()

        return delete

    def _swap_line(self, index: int) -> Callable[[object], Awaitable[None]]:
        async def swap(_event: object) -> None:
            line = self.lines[index]
            self.lines[index] = line.model_copy(update={"a": line.b, "b": line.a})
            self._redraw()

        return swap

    # saving
    async def _save(self, _event: object) -> None:
        client = self._account.client
        assert client is not None
        change = CameraUpdate(lines=self.lines, zones=self.zones)
        self.save.disabled = True
        common.redraw(self.control)
        try:
            self.camera = await client.update_camera(self.camera.id, change)
        except ApiError as exc:
            forms.say(self.result, exc.message, ok=False)
        else:
            self.lines, self.zones = list(self.camera.lines), list(self.camera.zones)
            forms.say(self.result, _("Saved."), ok=True)
        self.save.disabled = False
        self._redraw()

    async def _back(self, _event: object) -> None:
        await self._on_done()

    # plumbing
    def _redraw(self) -> None:
        self.canvas.shapes = shapes(
            self.lines, self.zones, self.draft, self.width, self.height, in_word=_("in")
        )
        drawing = self.drawing is not None
        self.drawing_panel.visible = drawing
        self.kind_line.visible = self.finish_line.visible = self.drawing == ZONE
        self.add_line.disabled = self.add_zone.disabled = drawing
        if self.drawing == LINE:
            self.help.value = (
                _("Tap one end of the line, then the other.")
                if not self.draft
                else _("Now tap the other end.")
            )
        elif self.drawing == ZONE:
            self.help.value = _(
                "Tap the zone's corners one by one ({n} so far), then Finish zone."
            ).format(n=len(self.draft))
        else:
            self.help.value = _(
                "People crossing a line towards its arrow count as coming in. Zones measure "
                "how many people are in them and how long they stay."
            )
        self.items.controls = self._items()
        common.redraw(self.control)

    def _shown_width(self) -> float:
        try:
            width = self.control.page.width or MAX_SHOWN_PX
        except RuntimeError:  # not on the page yet
            width = MAX_SHOWN_PX
        return min(float(width) - MARGINS_PX, MAX_SHOWN_PX)

    @staticmethod
    def _grey() -> ft.Control:
        """Where the picture goes while there is none: filling the stack."""
        return ft.Container(bgcolor=ft.Colors.GREY_700, left=0, top=0, right=0, bottom=0)

    @staticmethod
    def _free_name(pattern: str, taken: list[str]) -> str:
        n = 1
        while pattern.format(n=n) in taken:
            n += 1
        return pattern.format(n=n)


def _fraction(value: float) -> float:
    return min(max(value, 0.0), 1.0)
