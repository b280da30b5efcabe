"""The states every screen has: loading, empty, failed (with a way to try again)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import flet as ft

from mobile.api.errors import ApiError, SignedOut, Unreachable
from mobile.i18n import _, formats

MUTED = ft.Colors.ON_SURFACE_VARIANT


def loading(text: str | None = None) -> ft.Control:
    words = _("Loading…") if text is None else text
    return ft.Row([ft.ProgressRing(width=18, height=18), ft.Text(words)], spacing=10)


def empty(text: str) -> ft.Control:
    return ft.Container(ft.Text(text, color=MUTED), padding=20)


def failed(error: ApiError, retry: Callable[[], Awaitable[None]]) -> ft.Control:
    """What went wrong in words, and Try again."""
    if isinstance(error, Unreachable):
        hint = _("Check that the server is on and this device is on the store's network.")
    elif isinstance(error, SignedOut):
        hint = _("Sign in again.")
    else:
        hint = ""

    async def again(event: ft.Event[ft.Button]) -> None:
        await retry()

    return ft.Column(
        [
            ft.Text(error.message, color=ft.Colors.ERROR),
            ft.Text(hint, color=MUTED, visible=bool(hint)),
            ft.Button(_("Try again"), on_click=again),
        ]
    )


def choice(
    label: str,
    value: str,
    options: dict[str, str],
    on_select: Callable[[ft.Event[ft.Dropdown]], Awaitable[None]],
    width: int = 170,
) -> ft.Dropdown:
    """A drop-down of `options` (key: words)."""
    return ft.Dropdown(
        label=label,
        value=value,
        options=[ft.DropdownOption(key=key, text=text) for key, text in options.items()],
        on_select=on_select,
        width=width,
    )


def when(moment: datetime) -> str:
    """Local day and time, short, in the app's language (`Dec 7, 2:05 PM`, `7 dic, 14:05`)."""
    return formats.when(moment)


def redraw(control: ft.Control) -> None:
    """Send `control`'s changes, if it is on the page now (a screen not shown is drawn when
    it is)."""
    try:
        control.update()
    except RuntimeError:  # not added to the page
        pass
