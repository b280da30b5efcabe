"""The app's text catalogue: every sentence people read goes through `_` (and `ngettext`).

English is the source language (the msgids); other languages come from the gettext
catalogues in `locales/`, compiled from their `.po` when first used (`catalogue.py`).
`set_language` switches the catalogue and the locale that dates and numbers follow
(`formats.py`). Text made at import time is marked with `N_` and translated where shown.

A new message: write `_("Saved {what}").format(what=...)` (whole sentences, named
placeholders; `ngettext` for counts), run `infra/scripts/i18n.sh`, and translate its empty
or fuzzy entries in `locales/es/LC_MESSAGES/shopguard.po`; tests/mobile/test_i18n.py checks.
"""

from __future__ import annotations

import gettext

from babel import Locale, UnknownLocaleError

from mobile.i18n.catalogue import load

SOURCE = "en"
LANGUAGES = {"en": "English", "es": "Español"}  # each in its own words, for the chooser

_catalogue: gettext.NullTranslations = gettext.NullTranslations()
_language = SOURCE
_locale = Locale.parse(SOURCE)


def _(message: str) -> str:
    """`message` in the app's language."""
    return _catalogue.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of `singular`/`plural` for `count`, in the app's language."""
    return _catalogue.ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks `message` for the catalogue without translating it yet (module constants)."""
    return message


def supported(tag: str | None) -> str | None:
    """The app's language for a locale tag (`es-MX`, `es_ES`, `en`), or None."""
    language = (tag or "").replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGES else None


def set_language(tag: str) -> str:
    """Speak `tag`'s language from now on (English when the app has no catalogue for it);
    dates and numbers follow `tag`'s region when it names one (`es-MX`: 1,234.5).
    Returns the language in force."""
    global _catalogue, _language, _locale
    language = supported(tag) or SOURCE
    _catalogue = gettext.NullTranslations() if language == SOURCE else load(language)
    _language, _locale = language, _babel_locale(tag, language)
    return language


def language() -> str:
    """The language in force: a key of LANGUAGES."""
    return _language


def locale() -> Locale:
    """The locale dates and numbers are formatted for (Babel's)."""
    return _locale


def _babel_locale(tag: str, language: str) -> Locale:
    try:
        found = Locale.parse(tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(language)
    return found if found.language == language else Locale.parse(language)
