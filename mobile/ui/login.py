"""Sign in: the server's address (with Test connection, which says what is wrong), the user
name and the password."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from mobile.api.errors import ApiError
from mobile.api.probe import check_server
from mobile.state.account import Account
from mobile.ui import common, ids


class LoginScreen:
    def __init__(self, account: Account, on_signed_in: Callable[[], Awaitable[None]]) -> None:
        self._account, self._on_signed_in = account, on_signed_in
        self.address = ft.TextField(
            label="Server address",
            hint_text="http://192.168.1.20:8000",
            value=account.address or "",
            keyboard_type=ft.KeyboardType.URL,
            autocorrect=False,
        )
        self.check = ft.Button("Test connection", on_click=self._test)
        self.result = ft.Text("")
        self.username = ft.TextField(label="User name", autocorrect=False)
        self.password = ft.TextField(
            label="Password", password=True, can_reveal_password=True, on_submit=self._sign_in
        )
        self.sign_in = ft.FilledButton("Sign in", on_click=self._sign_in)
        self.error = ft.Text("", color=ft.Colors.ERROR)
        self.control = ft.Column(
            [
                ft.Text("ShopGuard", theme_style=ft.TextThemeStyle.HEADLINE_MEDIUM),
                ids.tagged(ids.SERVER_ADDRESS, self.address),
                ft.Row([ids.tagged(ids.TEST_CONNECTION, self.check)]),
                ids.tagged(ids.CONNECTION_RESULT, self.result),
                ids.tagged(ids.USERNAME, self.username),
                ids.tagged(ids.PASSWORD, self.password),
                ids.tagged(ids.SIGN_IN, self.sign_in),
                ids.tagged(ids.LOGIN_ERROR, self.error),
            ],
            spacing=14,
            scroll=ft.ScrollMode.AUTO,
        )

    async def _test(self, _: ft.Event[ft.Button]) -> None:
        self._busy(True, self.result, "Testing…")
        try:
            health = await check_server(self.address.value or "")
        except ApiError as exc:
            self.result.value, self.result.color = exc.message, ft.Colors.ERROR
        else:
            self.result.value = f"ShopGuard {health.version} answers: sign in below"
            self.result.color = ft.Colors.GREEN
        self._busy(False)

    async def _sign_in(self, _: ft.Event[ft.Button] | ft.Event[ft.TextField]) -> None:
        if not self.username.value or not self.password.value:
            self.error.value = "enter your user name and password"
            return
        self._busy(True, self.error, "Signing in…")
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
