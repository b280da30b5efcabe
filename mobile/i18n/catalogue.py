"""The translations of one language, read from its `.po` file.

The `.po` files are the only copy in the repository: they are compiled (with Babel) when a
language is first used rather than committed as `.mo`, so a catalogue can never be stale,
and every way the app runs (from the tree, the staged app of `flet build`, the web app)
needs only the `.po` beside the code. A few hundred messages compile in milliseconds.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "shopguard"


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def load(language: str) -> gettext.GNUTranslations:
    """`language`'s catalogue; fuzzy entries are left out (they read as English).

    Raises:
        FileNotFoundError: the app has no catalogue for `language`.
    """
    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
