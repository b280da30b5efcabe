"""Share evidence: a download link for the alert's clip that expires, with the clip's sha256
(so whoever receives it can show it is the original) and an audit entry of who exported it
on the server."""

from __future__ import annotations

import flet as ft

from mobile.api.errors import ApiError
from mobile.api.evidence import share_evidence
from mobile.i18n import _
from mobile.state.account import Account
from mobile.ui import common, ids
from shared.schemas.alerts import AlertPublic


class ShareEvidence:
    def __init__(self, account: Account, alert: AlertPublic) -> None:
        self._account, self.alert = account, alert
        self.button = ft.OutlinedButton(
            _("Share evidence"), icon=ft.Icons.SHARE, on_click=self._share
        )
        self.link = ft.Text("", size=12)  # plain text: screen readers say it; Copy copies it
        self.facts = ft.Text("", size=12, color=common.MUTED)
        self.copy = ft.IconButton(
            ft.Icons.CONTENT_COPY, tooltip=_("Copy the link"), on_click=self._copy, visible=False
        )
        self.control = ft.Column(
            [
                ft.Row([self.button]),
                ft.Row([ids.tagged(ids.SHARE_LINK, self.link), self.copy], wrap=True),
                ids.tagged(ids.SHARE_FACTS, self.facts),
            ],
            spacing=4,
        )

    async def _share(self, _event: ft.Event[ft.OutlinedButton]) -> None:
        client = self._account.client
        assert client is not None
        if not self.alert.has_clip:
            self._say(_("There is no clip to share yet."), error=True)
            return
        self.button.disabled = True
        self._say(_("Making a link…"))
        try:
            shared = await share_evidence(client, self.alert.id)
        except ApiError as exc:
            self._say(exc.message, error=True)
        else:
            self.link.value = shared.clip.url
            self.copy.visible = True
            self.facts.value = _(
                "Anyone with the link can download the clip until {expires}. "
                "Its SHA-256: {sha256}. The export is in the audit log."
            ).format(expires=common.when(shared.expires_at), sha256=shared.clip.sha256)
            self.facts.color = common.MUTED
        self.button.disabled = False
        common.redraw(self.control)

    async def _copy(self, event: ft.Event[ft.IconButton]) -> None:
        await ft.Clipboard().set(self.link.value or "")
        event.control.tooltip = _("Copied")
        common.redraw(self.control)

    def _say(self, words: str, *, error: bool = False) -> None:
        self.facts.value, self.facts.color = words, ft.Colors.ERROR if error else common.MUTED
        common.redraw(self.control)
