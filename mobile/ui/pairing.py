"""Joining a server with an invite: the server's address, the invite's code, a user name and a
new password (twice). The sign-in screen opens it ("I have an invite"), filled in when the
app was opened from an invite's link (`/pair?code=K7PM-Q2XD&server=http://...`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import flet as ft

from mobile.api.errors import ApiError
from mobile.i18n import _
from mobile.state.account import Account
from mobile.ui import common, ids
from shared.schemas.users import USERNAME_PATTERN

MIN_PASSWORD = 10  # the server's rule for every account's password
PAIR_PATH = "/pair"


@dataclass(frozen=True, slots=True)
class Invitation:
    """What an invite's link tells the app: where the server is, and the code."""

    server: str
    code: str


def invitation_in_route(route: str | None) -> Invitation | None:
    """The invite in an app route or a whole link (`/pair?code=...&server=...`), if any."""
    parts = urlsplit(route or "")
    if parts.path.rstrip("/") != PAIR_PATH:
        return None
    query = parse_qs(parts.query)
    code = query.get("code", [""])[0].strip()
    if not code:
        return None
    return Invitation(server=query.get("server", [""])[0].strip(), code=code)


def refusal(error: ApiError) -> str:
    """Why the server did not take the invite, in the app's language (the server's own
    words are English)."""
    refusals = {
        "invite_not_found": _("No invite has this code: check it with whoever invited you."),
        "invite_expired": _("This invite has expired: ask for a new one."),
        "invite_used": _("This invite has been used already: ask for a new one."),
        "invite_revoked": _("This invite was withdrawn: ask for a new one."),
        "too_many_attempts": _("Too many wrong codes: wait a while, then try again."),
        "conflict": _("This user name is taken: choose another."),
    }
    return refusals.get(error.code, error.message)


class PairingForm:
    def __init__(
        self,
        account: Account,
        on_signed_in: Callable[[], Awaitable[None]],
        on_back: Callable[[], Awaitable[None]],
        invitation: Invitation | None = None,
    ) -> None:
        self._account, self._on_signed_in, self._on_back = account, on_signed_in, on_back
        server = invitation.server if invitation and invitation.server else account.address
        self.address = ft.TextField(
            label=_("Server address"),
            hint_text="http://192.168.1.20:8000",
            value=server or "",
            keyboard_type=ft.KeyboardType.URL,
            autocorrect=False,
        )
        self.code = ft.TextField(
            label=_("Invite code"),
            hint_text="K7PM-Q2XD",
            value=invitation.code if invitation else "",
            capitalization=ft.TextCapitalization.CHARACTERS,
            autocorrect=False,
        )
        self.username = ft.TextField(label=_("Choose a user name"), autocorrect=False)
        self.password = ft.TextField(
            label=_("Choose a password"), password=True, can_reveal_password=True
        )
        self.repeat = ft.TextField(
            label=_("Repeat the password"),
            password=True,
            can_reveal_password=True,
            on_submit=self._join,
        )
        self.join = ft.FilledButton(_("Join"), on_click=self._join)
        self.back = ft.TextButton(_("I have an account: sign in"), on_click=self._back)
        self.error = ft.Text("", color=ft.Colors.ERROR)
        self.control = ft.Column(
            [
                ft.Text(_("Join with an invite"), theme_style=ft.TextThemeStyle.HEADLINE_SMALL),
                ft.Text(
                    _(
                        "Type the server's address and the code you were given, or open the "
                        "invite's link. Then choose your own user name and password."
                    ),
                    color=common.MUTED,
                ),
                ids.tagged(ids.PAIRING_SERVER, self.address),
                ids.tagged(ids.INVITE_CODE, self.code),
                ids.tagged(ids.NEW_USERNAME, self.username),
                ids.tagged(ids.NEW_PASSWORD, self.password),
                ids.tagged(ids.REPEAT_PASSWORD, self.repeat),
                ids.tagged(ids.JOIN, self.join),
                ids.tagged(ids.PAIRING_ERROR, self.error),
                ids.tagged(ids.BACK_TO_SIGN_IN, self.back),
            ],
            spacing=14,
        )

    def problem(self) -> str:
        """What is missing or wrong in the form, before asking the server; "" when nothing."""
        if not (self.address.value or "").strip():
            return _("Enter the server's address.")
        if not (self.code.value or "").strip():
            return _("Enter the invite's code.")
        if not re.fullmatch(USERNAME_PATTERN, self.username.value or ""):
            return _("User name: 3 to 64 letters, digits or . _ @ - (no spaces).")
        if len(self.password.value or "") < MIN_PASSWORD:
            return _("The password needs at least {count} characters.").format(count=MIN_PASSWORD)
        if self.password.value != self.repeat.value:
            return _("The two passwords are not the same.")
        return ""

    async def _join(self, _event: ft.Event[ft.Button] | ft.Event[ft.TextField]) -> None:
        problem = self.problem()
        if problem:
            self._say(problem)
            return
        self._busy(True)
        self._say(_("Joining…"), error=False)
        try:
            await self._account.sign_in_with_invite(
                self.address.value or "",
                self.code.value or "",
                self.username.value or "",
                self.password.value or "",
            )
        except ApiError as exc:
            self._busy(False)
            self._say(refusal(exc))
            return
        self.password.value = self.repeat.value = ""
        self._busy(False)
        await self._on_signed_in()

    async def _back(self, _event: ft.Event[ft.TextButton]) -> None:
        await self._on_back()

    def _say(self, message: str, *, error: bool = True) -> None:
        self.error.value, self.error.color = message, ft.Colors.ERROR if error else None
        common.redraw(self.control)

    def _busy(self, busy: bool) -> None:
        self.join.disabled = self.back.disabled = busy
        common.redraw(self.control)
