"""Settings → Cameras and DVRs (admins): every camera with its status, its threshold in force
(own, from its alert budget, or learning) and the alerts a day it gives, an on/off switch,
edit and delete, and its counting lines and zones drawn on its picture; DVRs with their
channels; Add camera and Add DVR open their forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import flet as ft

from mobile.api.errors import ApiError
from mobile.i18n import _, ngettext
from mobile.state.account import Account
from mobile.ui import common, forms, ids
from mobile.ui.camera_form import CameraForm, threshold_in_force
from mobile.ui.dvr_form import DvrForm
from mobile.ui.lines_zones import LinesZonesEditor
from shared.schemas.cameras import CameraPublic, CameraStatus, DvrPublic
from shared.schemas.stores import StorePublic

OpenForm = Callable[[ft.Control], None]


def status_words(status: CameraStatus) -> str:
    """A camera's connection state in the app's language."""
    return {
        CameraStatus.connecting: _("connecting"),
        CameraStatus.online: _("online"),
        CameraStatus.degraded: _("degraded"),
        CameraStatus.offline: _("offline"),
        CameraStatus.disabled: _("disabled"),
    }[status]


@dataclass
class CameraRow:
    """What a camera's row offers."""

    switch: ft.Switch
    edit: ft.IconButton
    delete: ft.IconButton
    lines_zones: ft.TextButton


class CameraAdmin:
    def __init__(
        self, account: Account, open_form: OpenForm, on_closed: Callable[[], Awaitable[None]]
    ) -> None:
        self._account, self._open_form, self._on_closed = account, open_form, on_closed
        self.stores: list[StorePublic] = []
        self.cameras: list[CameraPublic] = []
        self.dvrs: list[DvrPublic] = []
        self.form: CameraForm | DvrForm | LinesZonesEditor | None = None
        self.camera_rows: dict[int, CameraRow] = {}
        self.dvr_deletes: dict[int, ft.IconButton] = {}
        self.dialog: ft.AlertDialog | None = None
        self.result = ft.Text("")
        self.add_camera = ft.Button(_("Add camera"), icon=ft.Icons.ADD, on_click=self._add_camera)
        self.add_dvr = ft.Button(_("Add DVR"), icon=ft.Icons.ADD, on_click=self._add_dvr)
        self.control = ft.Column([common.loading()])

    async def refresh(
        self, seen: tuple[list[StorePublic], list[CameraPublic]] | None = None
    ) -> None:
        """Draw the lists; `seen` is the stores and cameras just loaded, if any."""
        client = self._account.client
        assert client is not None
        try:
            if seen is None:
                seen = (await client.stores()).data, (await client.cameras()).data
            self.stores, self.cameras = seen
            self.dvrs = (await client.dvrs()).data
        except ApiError as exc:
            self.control.controls = [common.failed(exc, self.refresh)]
            common.redraw(self.control)
            return
        self.camera_rows, self.dvr_deletes = {}, {}
        rows: list[ft.Control] = [ft.Text(_("Cameras and DVRs"), weight=ft.FontWeight.BOLD)]
        if not self.stores:
            rows.append(common.empty(_("No stores yet: add one on the server first.")))
        elif not self.cameras:
            rows.append(common.empty(_("No cameras yet: add a camera or a DVR.")))
        rows += [self._camera_row(c) for c in self.cameras]
        rows += [self._dvr_row(d) for d in self.dvrs]
        rows += [
            ft.Row(
                [ids.tagged(ids.ADD_CAMERA, self.add_camera), self.add_dvr],
                wrap=True,
                visible=bool(self.stores),
            ),
            self.result,
        ]
        self.control.controls = rows
        common.redraw(self.control)

    def _camera_row(self, camera: CameraPublic) -> ft.Control:
        store = next((s.name for s in self.stores if s.id == camera.store_id), "")
        status = status_words(camera.status)
        if camera.last_error and camera.status in (CameraStatus.offline, CameraStatus.degraded):
            status = _("{status}: {error}").format(status=status, error=camera.last_error)
        switch = ft.Switch(value=camera.enabled, on_change=self._toggle(camera))

        async def edit(event: ft.Event[ft.IconButton]) -> None:
            self._show(CameraForm(self._account, self.stores, camera, self._closed))

        async def delete(event: ft.Event[ft.IconButton]) -> None:
            client = self._account.client
            assert client is not None
            question = _("Delete {camera}?").format(camera=camera.name)
            self._confirm(question, lambda: client.delete_camera(camera.id))

        async def draw(event: ft.Event[ft.TextButton]) -> None:
            editor = LinesZonesEditor(self._account, camera, self._closed)
            self._show(editor)
            await editor.refresh()

        controls = CameraRow(
            switch=switch,
            edit=ft.IconButton(
                ft.Icons.EDIT, tooltip=_("Edit {camera}").format(camera=camera.name), on_click=edit
            ),
            delete=ft.IconButton(
                ft.Icons.DELETE_OUTLINE,
                tooltip=_("Delete {camera}").format(camera=camera.name),
                on_click=delete,
            ),
            lines_zones=ft.TextButton(
                _("Lines and zones ({lines}, {zones})").format(
                    lines=len(camera.lines), zones=len(camera.zones)
                ),
                icon=ft.Icons.POLYLINE_OUTLINED,
                on_click=draw,
            ),
        )
        self.camera_rows[camera.id] = controls
        row = ft.Row(
            [
                ft.Column(
                    [
                        ft.Text(camera.name, weight=ft.FontWeight.W_500),
                        ft.Text(
                            _("{store} · {status}").format(store=store, status=status),
                            size=12,
                            color=common.MUTED,
                        ),
                        ft.Text(threshold_in_force(camera), size=12, color=common.MUTED),
                        ids.tagged(ids.lines_zones_button(camera.id), controls.lines_zones),
                    ],
                    spacing=2,
                    expand=True,
                ),
                switch,
                controls.edit,
                controls.delete,
            ]
        )
        return ids.tagged(ids.admin_camera_row(camera.id), row)

    def _dvr_row(self, dvr: DvrPublic) -> ft.Control:
        async def delete(event: ft.Event[ft.IconButton]) -> None:
            count = len(dvr.camera_ids)
            question = ngettext(
                "Delete {dvr} and its {count} camera?",
                "Delete {dvr} and its {count} cameras?",
                count,
            ).format(dvr=dvr.name, count=count)
            client = self._account.client
            assert client is not None
            self._confirm(question, lambda: client.delete_dvr(dvr.id))

        last = dvr.first_channel + dvr.channels - 1
        remove = ft.IconButton(
            ft.Icons.DELETE_OUTLINE,
            tooltip=_("Delete DVR {dvr}").format(dvr=dvr.name),
            on_click=delete,
        )
        self.dvr_deletes[dvr.id] = remove
        return ft.Row(
            [
                ft.Column(
                    [
                        ft.Text(_("DVR {dvr}").format(dvr=dvr.name), weight=ft.FontWeight.W_500),
                        ft.Text(
                            _("channels {first} to {last} · {template}").format(
                                first=dvr.first_channel, last=last, template=dvr.url_template
                            ),
                            size=12,
                            color=common.MUTED,
                        ),
                    ],
                    spacing=2,
                    expand=True,
                ),
                remove,
            ]
        )

    def _toggle(self, camera: CameraPublic) -> Callable[[ft.Event[ft.Switch]], Awaitable[None]]:
        async def toggled(event: ft.Event[ft.Switch]) -> None:
            assert self._account.client is not None
            wanted = bool(event.control.value)
            try:
                await self._account.client.set_camera_enabled(camera.id, wanted)
            except ApiError as exc:
                event.control.value = not wanted
                forms.say(
                    self.result,
                    _("{camera}: {problem}").format(camera=camera.name, problem=exc.message),
                    ok=False,
                )
                common.redraw(self.control)
                return
            await self.refresh()

        return toggled

    def _confirm(self, question: str, action: Callable[[], Awaitable[None]]) -> None:
        async def yes(event: object) -> None:
            self.control.page.pop_dialog()
            try:
                await action()
            except ApiError as exc:
                forms.say(self.result, exc.message, ok=False)
                common.redraw(self.control)
                return
            await self.refresh()

        async def no(event: object) -> None:
            self.control.page.pop_dialog()

        self.dialog = ft.AlertDialog(
            title=ft.Text(question),
            content=ft.Text(
                _(
                    "A camera with alerts cannot be deleted: disable it, and its alerts and "
                    "evidence stay."
                )
            ),
            actions=[
                ft.TextButton(_("Delete"), on_click=yes),
                ft.TextButton(_("Keep"), on_click=no),
            ],
        )
        self.control.page.show_dialog(self.dialog)

    async def _add_camera(self, event: object) -> None:
        self._show(CameraForm(self._account, self.stores, None, self._closed))

    async def _add_dvr(self, event: object) -> None:
        self._show(DvrForm(self._account, self.stores, self._closed))

    def _show(self, form: CameraForm | DvrForm | LinesZonesEditor) -> None:
        self.form = form
        self._open_form(form.control)

    async def _closed(self) -> None:
        self.form = None
        await self._on_closed()
