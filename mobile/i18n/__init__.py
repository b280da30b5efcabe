"""The app's text catalogue: every sentence people read goes through `_` (and `ngettext`)."""

from __future__ import annotations

import gettext

_catalogue: gettext.NullTranslations = gettext.NullTranslations()


def _(message: str) -> str:
    """`message` in the app's language."""
    return _catalogue.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of `singular`/`plural` for `count`, in the app's language."""
    return _catalogue.ngettext(singular, plural, count)
