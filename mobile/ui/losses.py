"""The Losses part of Stats: what the goods' values recorded at review add up to over the
range. Losses prevented (stolen goods recovered, goods at risk in deterred incidents) and
suffered (stolen goods not recovered), per currency (different currencies are never added
up), per month as a chart, and per store."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import flet as ft
from babel.dates import format_skeleton

from mobile.i18n import _, locale, ngettext
from mobile.ui import charts, common, ids, money
from shared.schemas.losses import CurrencyLosses, LossesPublic, MonthLosses, StoreLosses

# identifiers (see mobile.ui.ids)
LOSSES = "stats-losses"
LOSS_TOTALS = "loss-totals"
LOSS_MONTHS = "loss-months"

PREVENTED_COLOR = ft.Colors.GREEN_600
SUFFERED_COLOR = ft.Colors.RED_400


def loss_store(store_id: int) -> str:
    return f"loss-store-{store_id}"


def loss_totals(currency: str) -> str:
    return f"{LOSS_TOTALS}-{currency}"


def loss_months(currency: str) -> str:
    return f"{LOSS_MONTHS}-{currency}"


def part(losses: LossesPublic, width: float) -> list[ft.Control]:
    """The title and what to show under it."""
    shown: list[ft.Control] = [_title(_("Losses"))]
    if not any(_incidents(total) for total in losses.totals):
        shown.append(common.empty(_("No goods' values recorded in this range.")))
        return shown
    for total in losses.totals:
        if not _incidents(total):
            continue
        shown.append(ids.tagged(loss_totals(total.currency), _tiles(total)))
        if total.thefts + total.deterred:  # a chart of values, not of zeros
            shown.append(ids.tagged(loss_months(total.currency), _per_month(total, width)))
    if any(total.thefts + total.deterred for total in losses.totals):
        shown.append(
            charts.legend([(_("Prevented"), PREVENTED_COLOR), (_("Lost"), SUFFERED_COLOR)])
        )
    unvalued = sum(total.unvalued for total in losses.totals)
    if unvalued:
        shown.append(
            ft.Text(
                ngettext(
                    "{n} incident has no value yet: add it in the alert.",
                    "{n} incidents have no value yet: add it in the alert.",
                    unvalued,
                ).format(n=unvalued),
                size=12,
                color=common.MUTED,
            )
        )
    shown.append(
        ft.Column(
            [
                ids.tagged(loss_store(store.store_id), _store_row(store))
                for store in losses.per_store
            ],
            spacing=0,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        )
    )
    return shown


def month_label(month: str) -> str:
    """`2026-03` → `Mar` (`mar` in Spanish)."""
    year, number = (int(part) for part in month.split("-"))
    return format_skeleton("MMM", date(year, number, 1), locale=locale())


def _incidents(total: CurrencyLosses) -> int:
    return total.thefts + total.deterred + total.unvalued


def _whole(value: Decimal) -> int:
    """An amount rounded to whole units, for a bar's height."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _tiles(total: CurrencyLosses) -> ft.Control:
    prevented_note = " · ".join(
        [
            ngettext("{n} deterred", "{n} deterred", total.deterred).format(n=total.deterred),
            ngettext("{n} recovered", "{n} recovered", total.recovered_thefts).format(
                n=total.recovered_thefts
            ),
        ]
    )
    lost = total.thefts - total.recovered_thefts
    lost_note = ngettext("{n} theft not recovered", "{n} thefts not recovered", lost).format(n=lost)
    tiles = [
        _tile(money.amount(total.prevented, total.currency), _("prevented"), prevented_note),
        _tile(money.amount(total.suffered, total.currency), _("lost"), lost_note),
    ]
    return ft.ResponsiveRow(
        [ft.Container(tile, col={"xs": 6, "md": 3}) for tile in tiles], spacing=8, run_spacing=8
    )


def _tile(value: str, caption: str, note: str) -> ft.Control:
    return ft.Container(
        ft.Column(
            [
                ft.Text(value, size=20, weight=ft.FontWeight.BOLD),
                ft.Text(caption, size=12),
                ft.Text(note, size=11, color=common.MUTED),
            ],
            spacing=0,
        ),
        padding=ft.Padding.symmetric(horizontal=12, vertical=8),
        border_radius=8,
        bgcolor=ft.Colors.SURFACE_CONTAINER_HIGHEST,
    )


def _per_month(total: CurrencyLosses, width: float) -> ft.Control:
    bars = [
        charts.Bar(
            label=month_label(month.month),
            segments=[
                charts.Segment(_whole(month.prevented), PREVENTED_COLOR),
                charts.Segment(_whole(month.suffered), SUFFERED_COLOR),
            ],
            tooltip=_month_tooltip(month, total.currency),
        )
        for month in total.per_month
    ]
    return ft.Column(
        [
            ft.Text(
                _("Per month, in {currency}").format(currency=total.currency),
                size=12,
                color=common.MUTED,
            ),
            charts.bar_chart(bars, width_px=width),
        ],
        spacing=2,
    )


def _month_tooltip(month: MonthLosses, currency: str) -> str:
    year, number = (int(part) for part in month.month.split("-"))
    name = format_skeleton("yMMMM", date(year, number, 1), locale=locale())
    return "\n".join(
        [
            name,
            _("Prevented: {value}").format(value=money.amount(month.prevented, currency)),
            _("Lost: {value}").format(value=money.amount(month.suffered, currency)),
        ]
    )


def _store_row(store: StoreLosses) -> ft.Control:
    facts = [
        _("Prevented: {value}").format(value=money.amount(store.prevented, store.currency)),
        _("Lost: {value}").format(value=money.amount(store.suffered, store.currency)),
    ]
    return ft.Container(
        ft.Column(
            [
                ft.Text(store.name, weight=ft.FontWeight.BOLD),
                ft.Row(
                    [ft.Text(fact, size=12, color=common.MUTED) for fact in facts],
                    wrap=True,
                    spacing=12,
                ),
            ],
            spacing=2,
        ),
        padding=ft.Padding.symmetric(vertical=8),
        border=ft.Border(bottom=ft.BorderSide(1, charts.GRID)),
    )


def _title(text: str) -> ft.Control:
    return ft.Text(text, weight=ft.FontWeight.BOLD, size=15)
