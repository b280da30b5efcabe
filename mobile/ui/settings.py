"""Settings: the server's address (tested before it is kept), who is signed in, signing out;
for admins, the detection threshold, the dedup window and the clip lengths."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from mobile.api.errors import ApiError
from mobile.state.account import Account
from mobile.ui import common, ids
from shared.schemas.settings import (
    ClipSettings,
    DetectionSettings,
    RuntimeSettings,
    RuntimeSettingsUpdate,
)


def number(field: ft.TextField, name: str) -> float:
    """The field's value as a number, or a clear error."""
    try:
        return float((field.value or "").strip())
    except ValueError:
        raise ValueError(f"{name} must be a number") from None


class SettingsScreen:
    def __init__(self, account: Account, on_signed_out: Callable[[], Awaitable[None]]) -> None:
        self._account, self._on_signed_out = account, on_signed_out
        self.address = ft.TextField(label="Server address", value=account.address or "")
        self.address_result = ft.Text("")
        self.threshold = ft.TextField(label="Alert threshold, 0 to 1 (empty: the model's)")
        self.dedup = ft.TextField(label="Dedup window (s)")
        self.pre_roll = ft.TextField(label="Clip before (s)")
        self.post_roll = ft.TextField(label="Clip after (s)")
        self.saved = ft.Text("")
        self.save = ft.FilledButton("Save", on_click=self._save)
        self._settings: RuntimeSettings | None = None
        self.control = ft.Column(scroll=ft.ScrollMode.AUTO, expand=True)

    async def refresh(self) -> None:
        me = self._account.me
        self.address.value = self._account.address or ""
        sign_out = ft.Button("Sign out", on_click=self._sign_out)
        rows: list[ft.Control] = [
            ft.Text("Server", weight=ft.FontWeight.BOLD),
            ids.tagged(ids.SERVER_ADDRESS, self.address),
            ft.Button("Test and use this server", on_click=self._change_address),
            self.address_result,
            ft.Text(f"Signed in as {me.username} ({me.role.value})" if me else ""),
            ids.tagged(ids.SIGN_OUT, sign_out),
        ]
        if self._account.is_admin and self._account.client is not None:
            try:
                self._settings = await self._account.client.settings()
            except ApiError as exc:
                rows.append(common.failed(exc, self.refresh))
            else:
                self._fill(self._settings)
                rows += [
                    ft.Text("Detection and clips", weight=ft.FontWeight.BOLD),
                    self.threshold,
                    self.dedup,
                    self.pre_roll,
                    self.post_roll,
                    self.save,
                    self.saved,
                ]
        self.control.controls = rows
        self._update()

    def _fill(self, current: RuntimeSettings) -> None:
        threshold = current.detection.threshold
        self.threshold.value = "" if threshold is None else f"{threshold:g}"
        self.dedup.value = f"{current.detection.dedup_window_s:g}"
        self.pre_roll.value = f"{current.clips.pre_roll_s:g}"
        self.post_roll.value = f"{current.clips.post_roll_s:g}"

    async def _save(self, _: ft.Event[ft.Button]) -> None:
        assert self._settings is not None and self._account.client is not None
        try:
            threshold = (
                None
                if not (self.threshold.value or "").strip()
                else number(self.threshold, "the threshold")
            )
            change = RuntimeSettingsUpdate(
                detection=DetectionSettings(
                    threshold=threshold,
                    dedup_window_s=number(self.dedup, "the dedup window"),
                    analysis_fps=self._settings.detection.analysis_fps,
                ),
                clips=ClipSettings(
                    pre_roll_s=number(self.pre_roll, "the clip's time before"),
                    post_roll_s=number(self.post_roll, "the clip's time after"),
                    max_event_s=self._settings.clips.max_event_s,
                ),
            )
        except ValueError as exc:  # pydantic's ValidationError is one
            self.saved.value, self.saved.color = _first_problem(exc), ft.Colors.ERROR
            self._update()
            return
        try:
            self._settings = await self._account.client.update_settings(change)
        except ApiError as exc:
            self.saved.value, self.saved.color = exc.message, ft.Colors.ERROR
        else:
            self.saved.value, self.saved.color = "Saved", ft.Colors.GREEN
        self._update()

    async def _change_address(self, _: ft.Event[ft.Button]) -> None:
        if (self.address.value or "").strip().rstrip("/") == self._account.address:
            self.address_result.value = "This is the server in use."
            self._update()
            return
        try:
            await self._account.change_address(self.address.value or "")
        except ApiError as exc:
            self.address_result.value, self.address_result.color = exc.message, ft.Colors.ERROR
            self._update()
            return
        await self._on_signed_out()

    async def _sign_out(self, _: ft.Event[ft.Button]) -> None:
        await self._account.sign_out()
        await self._on_signed_out()

    def _update(self) -> None:
        common.redraw(self.control)


def _first_problem(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', '')}".strip(": ")
    return str(exc)
