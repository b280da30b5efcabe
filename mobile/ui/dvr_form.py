"""Adding a DVR or NVR (admins): one URL template with `{channel}` becomes a camera per
channel. Test connection tries the first channel."""

from __future__ import annotations

import flet as ft

from mobile.api.errors import ApiError
from mobile.i18n import _
from mobile.state.account import Account
from mobile.ui import common, forms, ids
from mobile.ui.camera_form import Done, kinds
from shared.schemas.cameras import DvrCreate, SourceKind, SourceProbe
from shared.schemas.stores import StorePublic

TEMPLATE_HINT = "rtsp://user:password@192.168.1.20:554/cam/realmonitor?channel={channel}"


class DvrForm:
    def __init__(self, account: Account, stores: list[StorePublic], on_done: Done) -> None:
        self._account, self._on_done = account, on_done

        async def nothing(event: ft.Event[ft.Dropdown]) -> None:
            return None

        store_names = {str(s.id): s.name for s in stores}
        first = str(stores[0].id) if stores else ""
        self.store = common.choice(_("Store"), first, store_names, nothing, width=300)
        self.name = ft.TextField(label=_("Name (cameras become “<name> ch<N>”)"))
        network_kinds = kinds("rtsp", "http")
        self.kind = common.choice(_("Source type"), "rtsp", network_kinds, nothing, width=300)
        self.template = ft.TextField(
            label=_("Main-stream URL with {channel}"),
            hint_text=_("e.g. {example}").format(example=TEMPLATE_HINT),
        )
        self.sub_template = ft.TextField(label=_("Sub-stream URL with {channel} (optional)"))
        self.channels = ft.TextField(label=_("Channels"), value="4")
        self.first_channel = ft.TextField(label=_("First channel number"), value="1")
        self.location = ft.TextField(label=_("Location"))
        self.test = ft.OutlinedButton(_("Test connection"), on_click=self._test)
        self.test_result = ft.Text("")
        self.save = ft.FilledButton(_("Add DVR"), on_click=self._save)
        self.cancel = ft.TextButton(_("Cancel"), on_click=self._cancel)
        self.result = ft.Text("")
        self.control = ft.Column(
            [
                ft.Text(_("Add a DVR"), weight=ft.FontWeight.BOLD, size=18),
                self.store,
                ids.tagged(ids.DVR_NAME, self.name),
                self.kind,
                ids.tagged(ids.DVR_TEMPLATE, self.template),
                self.sub_template,
                ft.Row([self.channels, self.first_channel], wrap=True),
                self.location,
                ft.Row([self.test]),
                self.test_result,
                ft.Row([ids.tagged(ids.DVR_SAVE, self.save), self.cancel]),
                self.result,
            ],
            scroll=ft.ScrollMode.AUTO,
            expand=True,
        )

    def _dvr(self) -> DvrCreate:
        if not self.store.value:
            raise ValueError(_("add a store first"))
        return DvrCreate(
            store_id=int(self.store.value),
            name=forms.text(self.name),
            source_kind=SourceKind(self.kind.value or "rtsp"),
            url_template=forms.text(self.template),
            substream_url_template=forms.text(self.sub_template) or None,
            channels=forms.whole(self.channels, _("the number of channels")),
            first_channel=forms.whole(self.first_channel, _("the first channel")),
            location=forms.text(self.location),
        )

    async def _test(self, event: object) -> None:
        assert self._account.client is not None
        try:
            dvr = self._dvr()
        except ValueError as exc:
            forms.refuse(self.test_result, self.control, forms.first_problem(exc))
            return
        url = dvr.url_template.replace("{channel}", str(dvr.first_channel))
        self.test_result.value, self.test_result.color = _("Connecting…"), None
        common.redraw(self.control)
        try:
            found = await self._account.client.test_source(
                SourceProbe(source_kind=dvr.source_kind, source_url=url)
            )
        except ApiError as exc:
            forms.say(self.test_result, exc.message, ok=False)
        else:
            words = (
                _("Channel {channel} works: {message}")
                if found.ok
                else _("Channel {channel} does not work: {message}")
            ).format(channel=dvr.first_channel, message=found.message)
            forms.say(self.test_result, words, ok=found.ok)
        common.redraw(self.control)

    async def _save(self, event: object) -> None:
        assert self._account.client is not None
        try:
            dvr = self._dvr()
        except ValueError as exc:
            forms.refuse(self.result, self.control, forms.first_problem(exc))
            return
        await forms.submit(
            self._account.client.create_dvr(dvr), self.result, self.control, self._on_done
        )

    async def _cancel(self, event: object) -> None:
        await self._on_done()
