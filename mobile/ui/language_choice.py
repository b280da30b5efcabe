"""Settings → the app's language on this device: the device's own (the default), or one the
app speaks. The screens take their words when made: `on_changed` makes them again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from mobile.i18n import LANGUAGES, _
from mobile.i18n.choice import LANGUAGE_KEY, save_language
from mobile.state.preferences import Preferences
from mobile.ui import common

DEVICE = "device"  # the drop-down's key for "as the device" (a key may not be empty)


class LanguageChoice:
    def __init__(
        self,
        page: ft.Page,
        preferences: Preferences,
        on_changed: Callable[[], Awaitable[None]],
    ) -> None:
        self._page, self._preferences, self._on_changed = page, preferences, on_changed
        options = {DEVICE: _("As the device")} | LANGUAGES  # each language in its own words
        self.control = common.choice(_("Language"), DEVICE, options, self._chosen, width=220)

    async def load(self) -> None:
        """Show the choice kept on this device."""
        kept = await self._preferences.get(LANGUAGE_KEY) or ""
        self.control.value = kept if kept in LANGUAGES else DEVICE
        common.redraw(self.control)

    async def _chosen(self, event: ft.Event[ft.Dropdown]) -> None:
        chosen = event.control.value or DEVICE
        await save_language(self._page, self._preferences, "" if chosen == DEVICE else chosen)
        await self._on_changed()
