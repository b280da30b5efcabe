"""Dates, times, numbers and durations as people of the app's language write them (Babel),
in the device's time zone. Every function follows `mobile.i18n.set_language`."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from babel.dates import format_date, format_skeleton, format_time, format_timedelta
from babel.numbers import (
    NumberFormatError,
    format_decimal,
    format_percent,
    get_decimal_symbol,
    parse_decimal,
)
from babel.units import format_unit

from mobile.i18n import locale

DURATION_UNITS = (  # (seconds, CLDR unit), largest first
    (86_400, "duration-day"),
    (3_600, "duration-hour"),
    (60, "duration-minute"),
    (1, "duration-second"),
)


def _local_zone() -> tzinfo | None:
    return datetime.now().astimezone().tzinfo


def when(moment: datetime) -> str:
    """Day and time, short, local: `Dec 7, 2:05 PM`, `7 dic, 14:05`."""
    zone = _local_zone()
    day = format_skeleton("MMMd", moment, tzinfo=zone, locale=locale())
    clock = format_time(moment, "short", tzinfo=zone, locale=locale())
    pattern = str(locale().datetime_formats["short"])  # "{1}, {0}": the date, the time
    return pattern.replace("{1}", day).replace("{0}", clock)


def clock(moment: datetime) -> str:
    """The time of day, short, local: `2:05 PM`, `14:05`."""
    return format_time(moment, "short", tzinfo=_local_zone(), locale=locale())


def ago(moment: datetime, now: datetime) -> str:
    """How long before `now`: `2 minutes ago`, `hace 2 minutos` (`in 2 minutes` ahead)."""
    return format_timedelta(moment - now, add_direction=True, locale=locale())


def number(value: float, decimals: int | None = None) -> str:
    """`1,234.5` / `1.234,5`; `decimals` fixes the digits after the point."""
    if decimals is None:
        return format_decimal(value, locale=locale())
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=locale())


def plain(value: float) -> str:
    """A number to edit in a field: the language's decimal sign, no grouping (`1500.25`,
    `1500,25`); `read_number` takes it back."""
    return format_decimal(value, format="0.######", locale=locale())


def read_number(text: str) -> float:
    """A number as typed: with the language's decimal sign (`0,8`) or a point (`0.8`).

    Raises:
        ValueError: not a number.
    """
    text = text.strip()
    sign = get_decimal_symbol(locale())
    if sign != "." and sign in text:
        try:
            return float(parse_decimal(text, locale=locale(), strict=True))
        except NumberFormatError as exc:
            raise ValueError(str(exc)) from None
    return float(text)


def percent(fraction: float, decimals: int = 0) -> str:
    """`0.453` → `45%`, `45 %` in Spanish; `decimals` digits after the point."""
    pattern = locale().percent_formats[None].pattern  # "#,##0%", "#,##0 %"
    if decimals > 0:
        last = pattern.rfind("0") + 1
        pattern = pattern[:last] + "." + "0" * decimals + pattern[last:]
    return format_percent(fraction, format=pattern, locale=locale())


def duration(seconds: float) -> str:
    """A span in its two largest units, narrow: `1h 5m`, `45s`; `1h 5min` in Spanish."""
    left = max(round(seconds), 0)
    counts: list[tuple[int, str]] = []
    for size, unit in DURATION_UNITS:
        count, left = divmod(left, size)
        counts.append((count, unit))
    first = next((i for i, (count, _unit) in enumerate(counts) if count), len(counts) - 1)
    shown = [(c, u) for c, u in counts[first : first + 2] if c] or [counts[-1]]
    return " ".join(format_unit(c, u, length="narrow", locale=locale()) for c, u in shown)


def day_label(day: date) -> str:
    """A day in a week's chart: `Mon 7`, `lun 7`."""
    return format_date(day, "EEE d", locale=locale())


def span(length: timedelta) -> str:
    """A length of time, rounded to its largest unit: `3 days`, `3 días`."""
    return format_timedelta(length, locale=locale())
