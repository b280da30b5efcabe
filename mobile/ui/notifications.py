"""Settings → Notifications, for everyone: whether alerts push to your phones, for which
stores and cameras, and quiet hours (in each store's local time)."""

from __future__ import annotations

import flet as ft

from mobile.api.errors import ApiError
from mobile.i18n import _
from mobile.state.account import Account
from mobile.ui import common, forms, ids
from shared.schemas.cameras import CameraPublic
from shared.schemas.preferences import PushPreferencesPublic, PushPreferencesUpdate, QuietHours
from shared.schemas.stores import StorePublic


class NotificationSettings:
    def __init__(self, account: Account) -> None:
        self._account = account
        self.enabled = ft.Switch(label=_("Push alerts to my phones"))
        self.all_stores = ft.Checkbox(label=_("All my stores"), on_change=self._scope_changed)
        self.all_cameras = ft.Checkbox(
            label=_("All cameras of these stores"), on_change=self._scope_changed
        )
        self.store_boxes: dict[int, ft.Checkbox] = {}
        self.camera_boxes: dict[int, ft.Checkbox] = {}
        self.quiet = ft.Switch(label=_("Quiet hours (no pushes)"), on_change=self._scope_changed)
        self.quiet_start = ft.TextField(label=_("From (HH:MM)"), width=140)
        self.quiet_end = ft.TextField(label=_("Until (HH:MM)"), width=140)
        self.save = ft.FilledButton(_("Save notifications"), on_click=self._save)
        self.result = ft.Text("")
        self._stores_column = ft.Column(spacing=0)
        self._cameras_column = ft.Column(spacing=0)
        self.control = ft.Column([common.loading()])

    async def refresh(self, stores: list[StorePublic], cameras: list[CameraPublic]) -> None:
        """Your preferences, over the stores and cameras you may see."""
        client = self._account.client
        assert client is not None
        try:
            current = await client.preferences()
        except ApiError as exc:
            self.control.controls = [common.failed(exc, lambda: self.refresh(stores, cameras))]
            common.redraw(self.control)
            return
        self._fill(current, stores, cameras)
        self.control.controls = [
            ft.Text(_("Notifications"), weight=ft.FontWeight.BOLD),
            ids.tagged(ids.PUSH_ENABLED, self.enabled),
            self.all_stores,
            self._stores_column,
            self.all_cameras,
            self._cameras_column,
            self.quiet,
            ft.Row(
                [
                    ids.tagged(ids.QUIET_START, self.quiet_start),
                    ids.tagged(ids.QUIET_END, self.quiet_end),
                ],
                wrap=True,
            ),
            ids.tagged(ids.SAVE_NOTIFICATIONS, self.save),
            self.result,
        ]
        self._scope_shown()
        common.redraw(self.control)

    def _fill(
        self,
        current: PushPreferencesPublic,
        stores: list[StorePublic],
        cameras: list[CameraPublic],
    ) -> None:
        self.enabled.value = current.enabled
        chosen_stores, chosen_cameras = current.store_ids, current.camera_ids
        self.all_stores.value = chosen_stores is None
        self.store_boxes = {
            s.id: ft.Checkbox(label=s.name, value=chosen_stores is None or s.id in chosen_stores)
            for s in stores
        }
        self.all_cameras.value = chosen_cameras is None
        self.camera_boxes = {
            c.id: ft.Checkbox(label=c.name, value=chosen_cameras is None or c.id in chosen_cameras)
            for c in cameras
        }
        self._stores_column.controls = list(self.store_boxes.values())
        self._cameras_column.controls = list(self.camera_boxes.values())
        quiet = current.quiet_hours
        self.quiet.value = quiet is not None
        self.quiet_start.value = quiet.start if quiet else "22:00"
        self.quiet_end.value = quiet.end if quiet else "07:00"

    def _scope_shown(self) -> None:
        self._stores_column.visible = not self.all_stores.value
        self._cameras_column.visible = not self.all_cameras.value
        self.quiet_start.disabled = self.quiet_end.disabled = not self.quiet.value

    async def _scope_changed(self, event: ft.Event[ft.Checkbox] | ft.Event[ft.Switch]) -> None:
        self._scope_shown()
        common.redraw(self.control)

    def _choice(self) -> PushPreferencesUpdate:
        stores = None if self.all_stores.value else _ticked(self.store_boxes)
        cameras = None if self.all_cameras.value else _ticked(self.camera_boxes)
        if stores == [] or cameras == []:
            raise ValueError(
                _("tick at least one store and one camera, or switch pushes off above")
            )
        quiet = (
            QuietHours(start=forms.text(self.quiet_start), end=forms.text(self.quiet_end))
            if self.quiet.value
            else None
        )
        return PushPreferencesUpdate(
            enabled=bool(self.enabled.value),
            store_ids=stores,
            camera_ids=cameras,
            quiet_hours=quiet,
        )

    async def _save(self, event: ft.Event[ft.Button]) -> None:
        assert self._account.client is not None
        try:
            change = self._choice()
        except ValueError as exc:
            forms.refuse(self.result, self.control, forms.first_problem(exc))
            return
        try:
            await self._account.client.set_preferences(change)
        except ApiError as exc:
            forms.say(self.result, exc.message, ok=False)
        else:
            forms.say(self.result, _("Saved"), ok=True)
        common.redraw(self.control)


def _ticked(boxes: dict[int, ft.Checkbox]) -> list[int]:
    return [key for key, box in boxes.items() if box.value]
