"""How an alert reads at a glance, in the feed and in its detail: its title, its score as a
level, its status and outcome as words and colours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import flet as ft

from mobile.i18n import _, formats
from shared.schemas.alerts import AlertOutcome, AlertPublic, AlertStatus, ClipStatus


@dataclass(frozen=True)
class Level:
    """A score as people read it: a word, a colour and how many of `LEVEL_STEPS` bars."""

    words: str
    colour: str
    bars: int


LEVEL_STEPS = 4


def title(alert: AlertPublic) -> str:
    words = {"concealment": _("Concealment"), "test": _("Test alert")}
    return words.get(alert.event_type, alert.event_type.replace("_", " ").capitalize())


def level(score: float) -> Level:
    """The alerting score (0..1) as a level."""
    if score >= 0.9:
        return Level(_("Very likely"), ft.Colors.RED, 4)
    if score >= 0.75:
        return Level(_("Likely"), ft.Colors.DEEP_ORANGE, 3)
    if score >= 0.5:
        return Level(_("Possible"), ft.Colors.AMBER, 2)
    return Level(_("Unlikely"), ft.Colors.BLUE_GREY, 1)


def status_words(status: AlertStatus) -> str:
    return {
        AlertStatus.new: _("New"),
        AlertStatus.acknowledged: _("Seen"),
        AlertStatus.reviewed: _("Reviewed"),
    }[status]


STATUS_COLOURS = {
    AlertStatus.new: ft.Colors.RED,
    AlertStatus.acknowledged: ft.Colors.ORANGE,
    AlertStatus.reviewed: ft.Colors.GREEN,
}


def outcome_words(outcome: AlertOutcome) -> str:
    return {
        AlertOutcome.confirmed_theft: _("Confirmed theft"),
        AlertOutcome.deterred: _("Deterred"),
        AlertOutcome.false_alarm: _("False alarm"),
        AlertOutcome.unclear: _("Unclear"),
    }[outcome]


OUTCOME_COLOURS = {
    AlertOutcome.confirmed_theft: ft.Colors.RED,
    AlertOutcome.deterred: ft.Colors.ORANGE,
    AlertOutcome.false_alarm: ft.Colors.BLUE_GREY,
    AlertOutcome.unclear: ft.Colors.GREY,
}


def clip_words(status: ClipStatus) -> str:
    return {
        ClipStatus.queued: _("The clip is being recorded (it ends a few seconds after the event)…"),
        ClipStatus.running: _("The clip is being written…"),
        ClipStatus.done: _("The clip is ready."),
        ClipStatus.failed: _("The clip could not be made."),
    }[status]


def chip(words: str, colour: str) -> ft.Control:
    """A small coloured label (a status, an outcome): not a button."""
    return ft.Container(
        ft.Text(words, size=12, color=colour, weight=ft.FontWeight.W_600),
        padding=ft.Padding.symmetric(horizontal=8, vertical=2),
        border=ft.Border.all(1, colour),
        border_radius=12,
    )


def level_bars(score: float) -> ft.Control:
    """The level as bars and its word (the word is what screen readers say)."""
    shown = level(score)
    bars: list[ft.Control] = [
        ft.Container(
            width=6,
            height=6 + 3 * step,
            border_radius=2,
            bgcolor=shown.colour if step < shown.bars else ft.Colors.OUTLINE_VARIANT,
        )
        for step in range(LEVEL_STEPS)
    ]
    return ft.Row(
        [
            ft.Row(bars, spacing=2, vertical_alignment=ft.CrossAxisAlignment.END),
            ft.Text(shown.words, size=12, color=shown.colour),
        ],
        spacing=6,
        tight=True,
    )


def ago(moment: datetime, now: datetime | None = None) -> str:
    """How long ago, in words: "just now", "5 minutes ago", "3 hours ago", then the date."""
    now = now or datetime.now(UTC)
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return _("just now")
    if seconds < 86400:
        return formats.ago(moment, now)
    return formats.when(moment)
