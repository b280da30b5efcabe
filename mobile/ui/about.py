"""About: the app's and the server's versions, the licences, and the behaviour model's
figures (how many thefts it catches, how many false alerts an hour), as measured."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import flet as ft

from mobile.api.errors import ApiError
from mobile.api.probe import check_server
from mobile.i18n import _, formats
from mobile.state.account import Account
from mobile.ui import common, ids


def licences() -> list[str]:
    return [
        _("ShopGuard: AGPL-3.0-or-later."),
        _("YOLO11 pose model and Ultralytics: AGPL-3.0."),
        _("Behaviour model trained on PoseLift (Apache-2.0)."),
    ]


def app_version() -> str:
    try:
        return metadata.version("shopguard")
    except metadata.PackageNotFoundError:
        return _("unknown")


class AboutSection:
    def __init__(self, account: Account) -> None:
        self._account = account
        self.versions = ft.Text("")
        self.model = ft.Column([], spacing=2)
        self.control = ft.Column(
            [
                ids.tagged(ids.ABOUT_VERSIONS, self.versions),
                ids.tagged(ids.ABOUT_MODEL, self.model),
                ft.Text(_("Licences"), weight=ft.FontWeight.BOLD),
                *(ft.Text(line, size=12, color=common.MUTED) for line in licences()),
            ],
            spacing=6,
        )

    async def refresh(self) -> None:
        server = _("unknown")
        if self._account.address:
            try:
                server = (await check_server(self._account.address)).version
            except ApiError as exc:
                server = exc.message
        self.versions.value = _("App {app} · server {server}").format(
            app=app_version(), server=server
        )
        self.model.controls = await self._model_figures()
        common.redraw(self.control)

    async def _model_figures(self) -> list[ft.Control]:
        client = self._account.client
        if client is None or not self._account.may_review:
            return []
        try:
            active = (await client.models()).active
        except ApiError as exc:
            return [ft.Text(exc.message, color=ft.Colors.ERROR)]
        figures = model_figures(active.info)
        trained = common.when(active.trained_at) if active.trained_at else _("unknown")
        lines = [_("Behaviour model trained {when}").format(when=trained), *figures]
        return [
            ft.Text(_("Model"), weight=ft.FontWeight.BOLD),
            *(ft.Text(line, size=12) for line in lines),
        ]


def model_figures(info: dict[str, Any]) -> list[str]:
    """The held-out figures training stored with the model, in words (none: nothing)."""
    measured = info.get("protocol") or {}
    if not isinstance(measured, dict):
        return []
    shown = []
    caught, false_rate = (
        measured.get("episodes_caught_share"),
        measured.get("false_alerts_per_hour"),
    )
    if isinstance(caught, (int, float)):
        shown.append(
            _("Catches {share} of thefts in held-out video").format(share=formats.percent(caught))
        )
    if isinstance(false_rate, (int, float)):
        shown.append(
            _("{rate} false alerts an hour there").format(rate=formats.number(false_rate, 1))
        )
    auc = measured.get("auc_roc")  # stored in percent
    if isinstance(auc, (int, float)):
        shown.append(_("ROC AUC {auc}").format(auc=formats.number(auc / 100, 2)))
    return shown
