"""Adding or editing a camera (admins): store, name, source with a connection test, the
camera's own alert budget ("at most N alerts a day") or fixed threshold, and the threshold in
force with the alerts a day it gives. An edited URL shown masked keeps its saved password."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from mobile.api.errors import ApiError
from mobile.state.account import Account
from mobile.ui import common, forms, ids
from shared.schemas.cameras import (
    CameraCreate,
    CameraPublic,
    CameraUpdate,
    SourceKind,
    SourceProbe,
    ThresholdSource,
)
from shared.schemas.stores import StorePublic

KINDS = {
    SourceKind.rtsp.value: "RTSP (DVR, NVR, IP camera)",
    SourceKind.http.value: "HTTP MJPEG",
    SourceKind.usb.value: "USB camera on the server",
    SourceKind.file.value: "Video file on the server",
}
URL_HINT = "e.g. rtsp://user:password@192.168.1.64:554/Streaming/Channels/101"

Done = Callable[[], Awaitable[None]]


def threshold_in_force(camera: CameraPublic) -> str:
    """The camera's threshold in force, where it comes from and what it gives, in words."""
    value = camera.effective_threshold
    shown = "the model's" if value is None else f"{round(value, 3):g}"
    per_day = camera.expected_alerts_per_day
    gives = "" if per_day is None else f", about {per_day:.1f} alerts a day"
    source = camera.threshold_source
    if source is ThresholdSource.manual:
        return f"Threshold {shown} (its own){gives}"
    if source is ThresholdSource.model:
        return f"Threshold {shown} (the server's){gives}"
    aimed = camera.aimed_alerts_per_day or 0.0
    budget = f"a budget of {aimed:g} a day"
    if camera.review_factor < 1:
        budget += f" (cut to {camera.review_factor:g} of it by false alarms)"
    if source is ThresholdSource.learning:
        return (
            f"Learning this camera's scores ({camera.scored_days:g} of 1 day): threshold "
            f"{shown} until {budget} sets it"
        )
    return f"Threshold {shown} from {budget}{gives}"


class CameraForm:
    def __init__(
        self,
        account: Account,
        stores: list[StorePublic],
        camera: CameraPublic | None,
        on_done: Done,
    ) -> None:
        self._account, self._camera, self._on_done = account, camera, on_done

        async def nothing(_: ft.Event[ft.Dropdown]) -> None:
            return None

        store_names = {str(s.id): s.name for s in stores}
        first_store = str(camera.store_id if camera else stores[0].id) if stores else ""
        self.store = common.choice("Store", first_store, store_names, nothing, width=300)
        self.store.disabled = camera is not None  # a camera stays in its store
        self.name = ft.TextField(label="Name", value=camera.name if camera else "")
        kind = camera.source_kind.value if camera else SourceKind.rtsp.value
        self.kind = common.choice("Source type", kind, KINDS, nothing, width=300)
        self.source_url = ft.TextField(
            label="Source URL (main stream)",
            value=camera.source_url if camera else "",
            hint_text=URL_HINT,
            helper=ft.Text("*** keeps the saved password") if camera else None,
        )
        self.substream_url = ft.TextField(
            label="Sub-stream URL for analysis (optional)",
            value=(camera.substream_url or "") if camera else "",
        )
        self.location = ft.TextField(label="Location", value=camera.location if camera else "")
        threshold = camera.threshold if camera else None
        self.threshold = ft.TextField(
            label="Alert threshold for this camera (empty: from its budget)",
            value="" if threshold is None else f"{threshold:g}",
        )
        budget = camera.alert_budget_per_day if camera else None
        self.budget = ft.TextField(
            label="At most this many alerts a day (empty: the server's budget)",
            value="" if budget is None else f"{budget:g}",
        )
        self.in_force = ft.Text(
            threshold_in_force(camera) if camera else "", size=12, color=common.MUTED
        )
        self.enabled = ft.Switch(
            label="Analyse this camera", value=camera.enabled if camera else True
        )
        self.test = ft.OutlinedButton("Test connection", on_click=self._test)
        self.test_result = ft.Text("")
        self.save = ft.FilledButton("Save", on_click=self._save)
        self.cancel = ft.TextButton("Cancel", on_click=self._cancel)
        self.result = ft.Text("")
        title = f"Edit {camera.name}" if camera else "Add a camera"
        self.control = ft.Column(
            [
                ft.Text(title, weight=ft.FontWeight.BOLD, size=18),
                self.store,
                ids.tagged(ids.CAMERA_NAME, self.name),
                ids.tagged(ids.CAMERA_KIND, self.kind),
                ids.tagged(ids.CAMERA_SOURCE, self.source_url),
                self.substream_url,
                self.location,
                self.budget,
                self.threshold,
                self.in_force,
                self.enabled,
                ft.Row([ids.tagged(ids.CAMERA_TEST, self.test)]),
                ids.tagged(ids.CAMERA_TEST_RESULT, self.test_result),
                ft.Row([ids.tagged(ids.CAMERA_SAVE, self.save), self.cancel]),
                self.result,
            ],
            scroll=ft.ScrollMode.AUTO,
            expand=True,
        )

    async def _test(self, _: object) -> None:
        assert self._account.client is not None
        try:
            probe = SourceProbe(
                source_kind=SourceKind(self.kind.value or "rtsp"),
                source_url=forms.text(self.source_url),
            )
        except ValueError as exc:
            forms.refuse(self.test_result, self.control, forms.first_problem(exc))
            return
        self.test.disabled = True
        self.test_result.value, self.test_result.color = "Connecting…", None
        common.redraw(self.control)
        try:
            found = await self._account.client.test_source(
                probe, self._camera.id if self._camera else None
            )
        except ApiError as exc:
            forms.say(self.test_result, exc.message, ok=False)
        else:
            words = f"Works: {found.message}" if found.ok else f"Does not work: {found.message}"
            forms.say(self.test_result, words, ok=found.ok)
        self.test.disabled = False
        common.redraw(self.control)

    async def _save(self, _: object) -> None:
        client = self._account.client
        assert client is not None
        try:
            threshold = forms.optional_number(self.threshold, "the threshold")
            budget = forms.optional_number(self.budget, "the alerts a day")
            fields = {
                "name": forms.text(self.name),
                "source_kind": SourceKind(self.kind.value or "rtsp"),
                "source_url": forms.text(self.source_url),
                "substream_url": forms.text(self.substream_url) or None,
                "location": forms.text(self.location),
                "threshold": threshold,
                "alert_budget_per_day": budget,
                "enabled": bool(self.enabled.value),
            }
            if self._camera is None:
                if not self.store.value:
                    raise ValueError("add a store first")
                created = CameraCreate.model_validate(fields | {"store_id": int(self.store.value)})
            else:
                change = CameraUpdate.model_validate(fields)
        except ValueError as exc:
            labels = {
                "name": "Name",
                "source_url": "Source URL",
                "substream_url": "Sub-stream URL",
                "location": "Location",
                "threshold": "Alert threshold",
                "alert_budget_per_day": "Alerts a day",
            }
            forms.refuse(self.result, self.control, forms.first_problem(exc, labels))
            return
        call = (
            client.create_camera(created)
            if self._camera is None
            else client.update_camera(self._camera.id, change)
        )
        await forms.submit(call, self.result, self.control, self._on_done)

    async def _cancel(self, _: object) -> None:
        await self._on_done()
