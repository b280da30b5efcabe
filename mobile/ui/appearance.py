"""Light, dark or the system's choice, kept on the device; one colour scheme for both. Text
follows the system's text size (nothing here fixes it)."""

from __future__ import annotations

import flet as ft

from mobile.i18n import _
from mobile.state.preferences import Preferences

THEME_KEY = "shopguard.theme"
SEED = ft.Colors.INDIGO
MODES = {"system": ft.ThemeMode.SYSTEM, "light": ft.ThemeMode.LIGHT, "dark": ft.ThemeMode.DARK}


def mode_words() -> dict[str, str]:
    return {"system": _("As the system"), "light": _("Light"), "dark": _("Dark")}


class Appearance:
    def __init__(self, page: ft.Page, preferences: Preferences) -> None:
        self._page, self._preferences = page, preferences
        self.mode = "system"

    async def load(self) -> None:
        saved = await self._preferences.get(THEME_KEY)
        self.mode = saved if saved in MODES else "system"
        self._page.theme = ft.Theme(color_scheme_seed=SEED)
        self._page.dark_theme = ft.Theme(color_scheme_seed=SEED)
        self._page.theme_mode = MODES[self.mode]

    async def choose(self, mode: str) -> None:
        """`mode`: one of MODES' keys."""
        if mode not in MODES:
            raise ValueError(f"unknown theme mode {mode!r}")
        self.mode = mode
        self._page.theme_mode = MODES[mode]
        await self._preferences.set(THEME_KEY, mode)
        self._page.update()
