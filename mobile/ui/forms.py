"""Reading form fields: numbers and optional values with clear errors, and the first problem
of a schema's refusal in words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import flet as ft
from pydantic import ValidationError

from mobile.api.errors import ApiError, field_problem
from mobile.i18n import _, formats
from mobile.ui import common


def text(field: ft.TextField) -> str:
    return (field.value or "").strip()


def number(field: ft.TextField, name: str) -> float:
    """The field's value as a number, or a clear error."""
    try:
        return formats.read_number(text(field))
    except ValueError:
        raise ValueError(_("{field} must be a number").format(field=name)) from None


def whole(field: ft.TextField, name: str) -> int:
    """The field's value as a whole number, or a clear error."""
    try:
        return int(text(field))
    except ValueError:
        raise ValueError(_("{field} must be a whole number").format(field=name)) from None


def optional_number(field: ft.TextField, name: str) -> float | None:
    return None if not text(field) else number(field, name)


def first_problem(exc: ValueError, labels: Mapping[str, str] | None = None) -> str:
    """`field: problem` of a schema's first complaint, in the app's language (the field by
    its label on screen when `labels` names it), or the error's own words."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        path = [str(p) for p in first.get("loc", ())]
        where = (labels or {}).get(path[-1], ".".join(path)) if path else ""
        limits = first.get("ctx") or {}
        return field_problem(where, first["type"], limits, str(first.get("msg", "")))
    return str(exc)


def say(line: ft.Text, message: str, *, ok: bool) -> None:
    line.value, line.color = message, ft.Colors.GREEN if ok else ft.Colors.ERROR


def refuse(line: ft.Text, form: ft.Control, message: str) -> None:
    """Say what is wrong under the form, in red, now."""
    say(line, message, ok=False)
    common.redraw(form)


async def submit(
    call: Awaitable[object],
    line: ft.Text,
    form: ft.Control,
    on_done: Callable[[], Awaitable[None]],
) -> None:
    """Send the form; close it when the server took it, else say why and keep it open."""
    try:
        await call
    except ApiError as exc:
        refuse(line, form, exc.message)
        return
    await on_done()
