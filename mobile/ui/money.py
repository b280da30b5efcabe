"""Amounts of money as people of the app's language write and read them (Babel), in a
store's currency: `€1,234.50`, `1234,50 €`; typed as `1234.5` or `1234,5`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    parse_decimal,
)

from mobile.i18n import _, locale
from shared.schemas.money import MAX_GOODS_VALUE


def amount(value: Decimal, currency: str | None) -> str:
    """`€159.99` / `159,99 €`; a plain number without a currency."""
    if currency is None:
        return format_decimal(value, format="#,##0.00", locale=locale())
    return format_currency(value, currency, locale=locale())


def symbol(currency: str | None) -> str:
    """`€`, `US$`, `£` as the language writes it; empty without a currency."""
    return get_currency_symbol(currency, locale=locale()) if currency else ""


def editable(value: Decimal | None) -> str:
    """A value to edit in a field: the language's decimal sign, no grouping."""
    if value is None:
        return ""
    return format_decimal(value, format="0.00", locale=locale())


def read_amount(text: str) -> Decimal | None:
    """An amount as typed (`249,9` or `249.90`); None when the field is empty.

    Raises:
        ValueError: not an amount the server takes, with what to fix in words.
    """
    text = text.strip()
    if not text:
        return None
    sign = get_decimal_symbol(locale())
    try:
        if sign != "." and sign in text:
            value = parse_decimal(text, locale=locale(), strict=True)
        else:
            value = Decimal(text)
    except (NumberFormatError, InvalidOperation):
        raise ValueError(_("Type the value as a number, such as 249.90.")) from None
    if not value.is_finite() or value < 0:
        raise ValueError(_("Type the value as a number, such as 249.90."))
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(_("The value takes at most two decimals."))
    if value > MAX_GOODS_VALUE:
        raise ValueError(_("That value is too large."))
    return value.quantize(Decimal("0.01"))
