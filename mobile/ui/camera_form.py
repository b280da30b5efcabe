"""Adding or editing a camera (admins): store, name, source with a connection test, the
camera's own alert budget ("at most N alerts a day") or fixed threshold, and the threshold in
force with the alerts a day it gives. An edited URL shown masked keeps its saved password."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from mobile.api.errors import ApiError
from mobile.i18n import N_, _, formats
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

KINDS = {  # translated where shown: kinds()
    SourceKind.rtsp.value: N_("RTSP (DVR, NVR, IP camera)"),
    SourceKind.http.value: N_("HTTP MJPEG"),
    SourceKind.usb.value: N_("USB camera on the server"),
    SourceKind.file.value: N_("Video file on the server"),
}
URL_HINT = "rtsp://user:password@192.168.1.64:554/Streaming/Channels/101"

Done = Callable[[], Awaitable[None]]


def kinds(*keys: str) -> dict[str, str]:
    """The source kinds (those of `keys`, or all) in the app's language."""
    return {key: _(words) for key, words in KINDS.items() if not keys or key in keys}


def threshold_in_force(camera: CameraPublic) -> str:
    """The camera's threshold in force, where it comes from and what it gives, in words."""
    value = camera.effective_threshold
    words = {
        "threshold": _("the model's") if value is None else formats.number(round(value, 3)),
        "per_day": ""
        if camera.expected_alerts_per_day is None
        else formats.number(camera.expected_alerts_per_day, 1),
        "budget": formats.number(camera.aimed_alerts_per_day or 0.0),
        "factor": formats.number(camera.review_factor),
        "days": formats.number(camera.scored_days),
    }
    gives, cut = bool(words["per_day"]), camera.review_factor < 1
    source = camera.threshold_source
    if source is ThresholdSource.manual:
        sentence = (
            _("Threshold {threshold} (its own), about {per_day} alerts a day")
            if gives
            else _("Threshold {threshold} (its own)")
        )
    elif source is ThresholdSource.model:
        sentence = (
            _("Threshold {threshold} (the server's), about {per_day} alerts a day")
            if gives
            else _("Threshold {threshold} (the server's)")
        )
    elif source is ThresholdSource.learning:
        sentence = (
            _(
                "Learning this camera's scores ({days} of 1 day): threshold {threshold} until "
                "a budget of {budget} a day (cut to {factor} of it by false alarms) sets it"
            )
            if cut
            else _(
                "Learning this camera's scores ({days} of 1 day): threshold {threshold} until "
                "a budget of {budget} a day sets it"
            )
        )
    elif cut:
        sentence = (
            _(
                "Threshold {threshold} from a budget of {budget} a day (cut to {factor} of it "
                "by false alarms), about {per_day} alerts a day"
            )
            if gives
            else _(
                "Threshold {threshold} from a budget of {budget} a day (cut to {factor} of it "
                "by false alarms)"
            )
        )
    else:
        sentence = (
            _("Threshold {threshold} from a budget of {budget} a day, about {per_day} alerts a day")
            if gives
            else _("Threshold {threshold} from a budget of {budget} a day")
        )
    return sentence.format(**words)


class CameraForm:
    def __init__(
        self,
        account: Account,
        stores: list[StorePublic],
        camera: CameraPublic | None,
        on_done: Done,
    ) -> None:
        self._account, self._camera, self._on_done = account, camera, on_done

        async def nothing(event: ft.Event[ft.Dropdown]) -> None:
            return None

        store_names = {str(s.id): s.name for s in stores}
        first_store = str(camera.store_id if camera else stores[0].id) if stores else ""
        self.store = common.choice(_("Store"), first_store, store_names, nothing, width=300)
        self.store.disabled = camera is not None  # a camera stays in its store
        self.name = ft.TextField(label=_("Name"), value=camera.name if camera else "")
        kind = camera.source_kind.value if camera else SourceKind.rtsp.value
        self.kind = common.choice(_("Source type"), kind, kinds(), nothing, width=300)
        self.source_url = ft.TextField(
            label=_("Source URL (main stream)"),
            value=camera.source_url if camera else "",
            hint_text=_("e.g. {example}").format(example=URL_HINT),
            helper=ft.Text(_("*** keeps the saved password")) if camera else None,
        )
        self.substream_url = ft.TextField(
            label=_("Sub-stream URL for analysis (optional)"),
            value=(camera.substream_url or "") if camera else "",
        )
        self.location = ft.TextField(label=_("Location"), value=camera.location if camera else "")
        threshold = camera.threshold if camera else None
        self.threshold = ft.TextField(
            label=_("Alert threshold for this camera (empty: from its budget)"),
            value="" if threshold is None else formats.plain(threshold),
        )
        budget = camera.alert_budget_per_day if camera else None
        self.budget = ft.TextField(
            label=_("At most this many alerts a day (empty: the server's budget)"),
            value="" if budget is None else formats.plain(budget),
        )
        self.in_force = ft.Text(
            threshold_in_force(camera) if camera else "", size=12, color=common.MUTED
        )
        self.enabled = ft.Switch(
            label=_("Analyse this camera"), value=camera.enabled if camera else True
        )
        self.test = ft.OutlinedButton(_("Test connection"), on_click=self._test)
        self.test_result = ft.Text("")
        self.save = ft.FilledButton(_("Save"), on_click=self._save)
        self.cancel = ft.TextButton(_("Cancel"), on_click=self._cancel)
        self.result = ft.Text("")
        title = _("Edit {camera}").format(camera=camera.name) if camera else _("Add a camera")
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

    async def _test(self, event: object) -> None:
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
        self.test_result.value, self.test_result.color = _("Connecting…"), None
        common.redraw(self.control)
        try:
            found = await self._account.client.test_source(
                probe, self._camera.id if self._camera else None
            )
        except ApiError as exc:
            forms.say(self.test_result, exc.message, ok=False)
        else:
            words = (_("Works: {message}") if found.ok else _("Does not work: {message}")).format(
                message=found.message
            )
            forms.say(self.test_result, words, ok=found.ok)
        self.test.disabled = False
        common.redraw(self.control)

    async def _save(self, event: object) -> None:
        client = self._account.client
        assert client is not None
        try:
            threshold = forms.optional_number(self.threshold, _("the threshold"))
            budget = forms.optional_number(self.budget, _("the alerts a day"))
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
                    raise ValueError(_("add a store first"))
                created = CameraCreate.model_validate(fields | {"store_id": int(self.store.value)})
            else:
                change = CameraUpdate.model_validate(fields)
        except ValueError as exc:
            labels = {
                "name": _("Name"),
                "source_url": _("Source URL"),
                "substream_url": _("Sub-stream URL"),
                "location": _("Location"),
                "threshold": _("Alert threshold"),
                "alert_budget_per_day": _("Alerts a day"),
            }
            forms.refuse(self.result, self.control, forms.first_problem(exc, labels))
            return
        call = (
            client.create_camera(created)
            if self._camera is None
            else client.update_camera(self._camera.id, change)
        )
        await forms.submit(call, self.result, self.control, self._on_done)

    async def _cancel(self, event: object) -> None:
        await self._on_done()
