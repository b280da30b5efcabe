"""Which language the app speaks on this device: the one chosen in Settings (kept under
LANGUAGE_KEY), else the device's own; Flet's Material widgets (date pickers, tooltips)
follow it through the page's locale configuration."""

from __future__ import annotations

import asyncio
import logging

import flet as ft

from mobile.i18n import LANGUAGES, SOURCE, locale, set_language, supported
from mobile.state.preferences import Preferences

logger = logging.getLogger(__name__)

LANGUAGE_KEY = "shopguard.language"  # "" (the device's), or a key of LANGUAGES
DEVICE_TIMEOUT_S = 3.0  # a client that never answers must not hold up the start


async def choose_language(page: ft.Page, preferences: Preferences) -> str:
    """Speak the chosen language, else the device's; returns the language in force. Dates
    and numbers follow the device's region when it speaks the same language (`es-MX`).
    Run before the screens are built: they take their words when made."""
    chosen = supported(await preferences.get(LANGUAGE_KEY))
    device = await device_locale(page) or SOURCE
    # the device's language, or the chosen one: in the device's region when they agree
    tag = device if chosen is None or supported(device) == chosen else chosen
    language = set_language(tag)
    page.locale_configuration = locale_configuration()
    return language


async def save_language(page: ft.Page, preferences: Preferences, chosen: str) -> str:
    """Keep `chosen` ("" follows the device) and speak it now; returns the language in
    force. Screens already built keep their words until made again."""
    if chosen and chosen not in LANGUAGES:
        raise ValueError(f"no catalogue for {chosen!r}")
    await preferences.set(LANGUAGE_KEY, chosen)
    return await choose_language(page, preferences)


async def device_locale(page: ft.Page) -> str | None:
    """The device's first locale (`es-MX`), or None when the client does not say."""
    try:
        info = await asyncio.wait_for(page.get_device_info(), DEVICE_TIMEOUT_S)
    except (TimeoutError, RuntimeError, TypeError, ValueError, KeyError) as exc:
        # a silent client, or an answer Flet could not read: the app starts in English
        logger.info("the device did not say its locale: %s", exc)
        return None
    if info is None or not info.locales:
        return None
    first = info.locales[0]
    return "-".join(p for p in (first.language_code, first.country_code) if p)


def locale_configuration() -> ft.LocaleConfiguration:
    """Every language the app speaks, the one in force first (with its region, if any)."""
    speaking = locale()
    current = ft.Locale(speaking.language, speaking.territory)
    locales: list[ft.Locale] = []
    for each in (current, ft.Locale(speaking.language), *(ft.Locale(c) for c in LANGUAGES)):
        if each not in locales:
            locales.append(each)
    return ft.LocaleConfiguration(supported_locales=locales, current_locale=current)
