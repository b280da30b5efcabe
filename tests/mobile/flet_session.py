# mypy: disable-error-code="no-untyped-call"
"""The app in process, without a browser: a real Flet `Session` whose connection records
what would go to the client (msgpack-encoded like the real transport, which Flet needs to
track later changes), and helpers that act as the client does: type into a field (a
property patch), click, select (control events). Uses Flet internals: flet is pinned."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import flet as ft
import msgpack
from flet.controls.base_control import BaseControl
from flet.controls.context import _context_page, context
from flet.messaging.connection import Connection
from flet.messaging.protocol import (
    Message,
    MessageAction,
    configure_encode_object_for_msgpack,
)
from flet.messaging.session import Session
from flet.pubsub.pubsub_hub import PubSubHub

from mobile.app import ShopGuardApp
from mobile.i18n import SOURCE, set_language
from mobile.i18n.choice import choose_language
from mobile.state.preferences import MemoryPreferences
from mobile.state.push import PushTokens

_encode = configure_encode_object_for_msgpack(BaseControl)


class RecordingConnection(Connection):
    def __init__(self, device_locale: str = "en-US") -> None:
        super().__init__()
        self.session: Session | None = None  # set once the session exists
        self.device_locale = device_locale  # what the browser says its language is
        self.loop = asyncio.get_running_loop()
        self.executor = ThreadPoolExecutor(1)
        self.pubsubhub = PubSubHub(loop=self.loop, executor=self.executor)
        self.sent = 0
        self.invoked: list[tuple[int, str]] = []  # (control id, method) asked of the client

    def send_message(self, message: Message) -> None:
        msgpack.packb([message.action, message.body], default=_encode)
        self.sent += 1
        if message.action == MessageAction.INVOKE_METHOD:
            self.invoked.append((message.body.control_id, message.body.name))
            if message.body.name == "get_device_info" and self.session is not None:
                self.loop.call_soon(
                    self.session.handle_invoke_method_results,
                    message.body.control_id,
                    message.body.call_id,
                    self.device_info(),
                    None,
                )

    def device_info(self) -> dict[str, Any]:
        """A web client's answer to `page.get_device_info()` (its locales, mostly)."""
        language, _, country = self.device_locale.partition("-")
        locale = {"language_code": language, "country_code": country or None}
        return {"browser_name": "chrome", "locales": [locale], "language": self.device_locale}


@dataclass
class AppUnderTest:
    session: Session
    app: ShopGuardApp
    preferences: MemoryPreferences
    connection: RecordingConnection

    def invoked(self, control: BaseControl) -> list[str]:
        """The methods the app asked the client to run on `control` (play a sound...)."""
        return [name for i, name in self.connection.invoked if i == control._i]

    @property
    def page(self) -> ft.Page:
        page: ft.Page = self.session.page
        return page

    def type(self, field: ft.TextField, text: str) -> None:
        self.session.apply_patch(field._i, {"value": text})

    async def click(self, control: ft.Control) -> None:
        await self.session.dispatch_event(control._i, "click", None)

    async def select(self, dropdown: ft.Dropdown, key: str) -> None:
        self.session.apply_patch(dropdown._i, {"value": key})
        await self.session.dispatch_event(dropdown._i, "select", key)

    async def resize(self, width: int, height: int) -> None:
        """The window resized, as the client reports it."""
        self.session.apply_page_patch({"width": width, "height": height})
        size = {"width": width, "height": height}
        await self.session.dispatch_event(self.page._i, "resize", size)

    async def toggle(self, control: ft.Switch | ft.Checkbox, value: bool) -> None:
        self.session.apply_patch(control._i, {"value": value})
        await self.session.dispatch_event(control._i, "change", None)

    async def choose(self, group: ft.RadioGroup, value: str) -> None:
        self.session.apply_patch(group._i, {"value": value})
        await self.session.dispatch_event(group._i, "change", value)

    def texts(self) -> list[str]:
        """Every text on the page now, in order (what a user could read)."""
        return list(_texts(self.page))

    def shows(self, fragment: str) -> bool:
        return any(fragment in text for text in self.texts())


def _texts(control: Any) -> Iterator[str]:
    if isinstance(control, ft.Text) and control.value and control.visible is not False:
        yield str(control.value)
    if isinstance(control, (ft.TextField, ft.Switch, ft.Checkbox)) and control.label:
        yield str(control.label)
    if getattr(control, "visible", True) is False:
        return
    if isinstance(getattr(control, "content", None), str):  # a button's words
        yield str(control.content)
    for name in ("controls", "content", "title", "subtitle", "leading", "views"):
        child = getattr(control, name, None)
        if isinstance(child, list):
            for item in child:
                yield from _texts(item)
        elif isinstance(child, BaseControl):
            yield from _texts(child)


@contextlib.asynccontextmanager
async def running_app(
    preferences: MemoryPreferences | None = None,
    route: str = "/",
    size: tuple[int, int] = (360, 800),
    push_tokens: PushTokens | None = None,
    device_locale: str = "en-US",
) -> AsyncIterator[AppUnderTest]:
    """The app started as a web client of `size` (a phone's, by default) would start it, in
    the language chosen in `preferences` or else the device's."""
    connection = RecordingConnection(device_locale)
    session = Session(connection)
    connection.session = session
    session.apply_page_patch(
        {"route": route, "width": size[0], "height": size[1], "web": True, "platform": "android"}
    )
    msgpack.packb(session.get_page_patch(), default=_encode)
    session.start_updates_scheduler()
    _context_page.set(session.page)
    context.reset_auto_update()
    preferences = preferences if preferences is not None else MemoryPreferences()
    await choose_language(session.page, preferences)  # as main() does, before the screens
    app = ShopGuardApp(session.page, preferences, push_tokens)
    await app.start()
    try:
        yield AppUnderTest(session, app, preferences, connection)
    finally:
        await app.close()
        if app.account.client is not None:
            await app.account.client.aclose()
        session.close()
        connection.executor.shutdown(wait=False)
        set_language(SOURCE)  # the next test starts in English
