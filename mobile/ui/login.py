"""Sign in: the server's address (with Test connection, which says what is wrong), the user
name and the password; or, with "I have an invite", join with an invite's code instead."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from mobile.api.errors import ApiError
from mobile.api.probe import check_server
from mobile.i18n import _
from mobile.state.account import Account
from mobile.ui import common, ids
from mobile.ui.pairing import Invitation, PairingForm


class LoginScreen:
    def __init__(
        self,
        account: Account,
        on_signed_in: Callable[[], Awaitable[None]],
        invitation: Invitation | None = None,
    ) -> None:
        """With `invitation` (from an invite's link), the pairing form opens filled in."""
        self._account, self._on_signed_in = account, on_signed_in
        self.address = ft.TextField(
            label=_("Server address"),
            hint_text="http://192.168.1.20:8000",
            value=account.address or "",
            keyboard_type=ft.KeyboardType.URL,
            autocorrect=False,
        )
        self.check = ft.Button(_("Test connection"), on_click=self._test)
        self.result = ft.Text("")
        self.username = ft.TextField(label=_("User name"), autocorrect=False)
        self.password = ft.TextField(
            label=_("Password"), password=True, can_reveal_password=True, on_submit=self._sign_in
        )
        self.sign_in = ft.FilledButton(_("Sign in"), on_click=self._sign_in)
        self.error = ft.Text("", color=ft.Colors.ERROR)
        self.have_invite = ft.TextButton(_("I have an invite"), on_click=self._pair)
        self.pairing: PairingForm | None = None
        self.title = ft.Text("ShopGuard", theme_style=ft.TextThemeStyle.HEADLINE_MEDIUM)
        self._sign_in_form: list[ft.Control] = [
            self.title,
            ids.tagged(ids.SERVER_ADDRESS, self.address),
            ft.Row([ids.tagged(ids.TEST_CONNECTION, self.check)]),
            ids.tagged(ids.CONNECTION_RESULT, self.result),
            ids.tagged(ids.USERNAME, self.username),
            ids.tagged(ids.PASSWORD, self.password),
            ids.tagged(ids.SIGN_IN, self.sign_in),
            ids.tagged(ids.LOGIN_ERROR, self.error),
            ids.tagged(ids.HAVE_INVITE, self.have_invite),
        ]
        self.control = ft.Column(list(self._sign_in_form), spacing=14, scroll=ft.ScrollMode.AUTO)
        if invitation is not None:
            self.show_pairing(invitation)

    def show_pairing(self, invitation: Invitation | None = None) -> PairingForm:
        """The pairing form in place of the sign-in form (filled in from `invitation`)."""
        self.pairing = PairingForm(
            self._account, self._on_signed_in, self._show_sign_in, invitation
        )
        self.control.controls = [self.title, self.pairing.control]
        common.redraw(self.control)
        return self.pairing

    async def _pair(self, event: ft.Event[ft.TextButton]) -> None:
        self.show_pairing(Invitation(server=self.address.value or "", code=""))

    async def _show_sign_in(self) -> None:
        self.pairing = None
        self.control.controls = list(self._sign_in_form)
        common.redraw(self.control)

    async def _test(self, event: ft.Event[ft.Button]) -> None:
        self._busy(True, self.result, _("Testing…"))
        try:
            health = await check_server(self.address.value or "")
        except ApiError as exc:
            self.result.value, self.result.color = exc.message, ft.Colors.ERROR
        else:
            self.result.value = _("ShopGuard {version} answers: sign in below").format(
                version=health.version
            )
            self.result.color = ft.Colors.GREEN
        self._busy(False)

    async def _sign_in(self, event: ft.Event[ft.Button] | ft.Event[ft.TextField]) -> None:
        if not self.username.value or not self.password.value:
            self.error.value = _("enter your user name and password")
            return
        self._busy(True, self.error, _("Signing in…"))
        try:
            await self._account.sign_in(
                self.address.value or "", self.username.value, self.password.value
            )
        except ApiError as exc:
            self.error.value, self.error.color = exc.message, ft.Colors.ERROR
            self._busy(False)
            return
        self.password.value = ""
        self._busy(False)
        await self._on_signed_in()

    def _busy(self, busy: bool, status: ft.Text | None = None, text: str = "") -> None:
        """Buttons off while waiting (the screen itself never freezes)."""
        self.check.disabled = self.sign_in.disabled = busy
        if status is not None:
            status.value, status.color = text, None
        common.redraw(self.control)
